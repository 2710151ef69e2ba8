/**
 * Internet checksum (RFC 1071) and incremental update (RFC 1624).
 *
 * Sums are kept as plain numbers: a JS double holds the carries of any frame
 * (2^53 / 0xffff words) so folding happens once at the end.
 */

/** One's-complement sum of the 16-bit big-endian words of b[off, off+len), unfolded. */
export function sum16(b: Uint8Array, off: number, len: number, initial: number): number {
  let s = initial;
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (len & 1) s += b[off + len - 1]! << 8;
  return s;
}

/** Fold a sum to 16 bits with end-around carry. */
export function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

/** Checksum field value for b[off, off+len) (the field itself must be zero or be skipped). */
export function checksum(b: Uint8Array, off: number, len: number, initial = 0): number {
  return ~fold(sum16(b, off, len, initial)) & 0xffff;
}

/** Unfolded sum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768). */
export function pseudoHeaderSum(src: number, dst: number, proto: number, l4len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4len;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word m -> m'.
 * The same form IPVS uses in tcp_fast_csum_update / udp_fast_csum_update.
 */
export function csumReplace16(check: number, oldWord: number, newWord: number): number {
  let s = (~check & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** RFC 1624 eqn. 3 for a 32-bit field (an IPv4 address in the pseudo-header or header). */
export function csumReplace32(check: number, oldU32: number, newU32: number): number {
  let s =
    (~check & 0xffff) +
    (~(oldU32 >>> 16) & 0xffff) +
    (~oldU32 & 0xffff) +
    (newU32 >>> 16) +
    (newU32 & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
