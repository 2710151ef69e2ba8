/**
 * The open-addressing index both connection tables use: a power-of-two array of entry
 * numbers plus one (0 = empty slot), linear probing from the key's hash, and backward-shift
 * deletion so there are no tombstones and lookups stay short under churn.
 */

/** The index size for a table of n entries: a power of two of at least 2n slots (and 16), so the index is at most half full. */
export function indexSizeFor(n: number): number {
  let p = 16;
  while (p < n * 2) p *= 2;
  return p;
}

/** Put entry e in the first empty slot from its hash's home slot. */
export function probeLink(idx: Int32Array, mask: number, h: number, e: number): void {
  let i = h & mask;
  while (idx[i] !== 0) i = (i + 1) & mask;
  idx[i] = e + 1;
}

/**
 * Take entry e (hash h) out of the index: backward-shift deletion for linear probing
 * (Knuth 6.4, algorithm R). `hashes[x]` is the stored hash of entry x.
 */
export function probeUnlink(idx: Int32Array, hashes: Int32Array, mask: number, h: number, e: number): void {
  let i = h & mask;
  while (idx[i] !== e + 1) {
    if (idx[i] === 0) return;
    i = (i + 1) & mask;
  }
  let j = i;
  for (;;) {
    j = (j + 1) & mask;
    const x = idx[j]!;
    if (x === 0) break;
    const k = hashes[x - 1]! & mask;
    // Move x into the hole at i unless its home slot k lies cyclically in (i, j].
    const stays = i <= j ? i < k && k <= j : i < k || k <= j;
    if (!stays) {
      idx[i] = x;
      i = j;
    }
  }
  idx[i] = 0;
}
