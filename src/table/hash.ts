/** The finaliser both key hashes end with: every input bit reaches the low bits the index uses. */
function finalMix(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return h | 0;
}

/** 32-bit hash of a connection key (a murmur3-style finaliser over the mixed fields). */
export function hashTuple(seed: number, proto: number, a1: number, p1: number, a2: number, p2: number): number {
  const h = seed ^ Math.imul(a1, 0x9e3779b1) ^ Math.imul(a2 ^ ((p1 << 16) | p2), 0x85ebca77) ^ proto;
  return finalMix(h);
}

/**
 * The IPv6 key's hash: all eight address words (four per address, slot = address index in
 * its Int32Array) mixed one by one, so two addresses that fold to the same xor
 * (ip6[0]^ip6[1]^ip6[2]^ip6[3], what the schedulers hash) still spread over the index.
 */
export function hashTuple6(
  seed: number, proto: number, a1: Int32Array, s1: number, p1: number, a2: Int32Array, s2: number, p2: number,
): number {
  const i = s1 * 4, j = s2 * 4;
  let h = seed ^ proto ^ ((p1 << 16) | p2);
  h = Math.imul(h ^ a1[i]!, 0x9e3779b1);
  h = Math.imul(h ^ a1[i + 1]!, 0x85ebca77);
  h = Math.imul(h ^ a1[i + 2]!, 0xc2b2ae3d);
  h = Math.imul(h ^ a1[i + 3]!, 0x27d4eb2f);
  h = Math.imul(h ^ a2[j]!, 0x9e3779b1);
  h = Math.imul(h ^ a2[j + 1]!, 0x85ebca77);
  h = Math.imul(h ^ a2[j + 2]!, 0xc2b2ae3d);
  h = Math.imul(h ^ a2[j + 3]!, 0x27d4eb2f);
  return finalMix(h);
}
