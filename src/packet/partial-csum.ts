/**
 * CHECKSUM_PARTIAL frames: a sender that offloads its TCP/UDP checksum (veth with tx
 * checksumming on, the default) leaves in the checksum field only the folded pseudo-header
 * sum, not inverted (tcp_v4_send_check: th->check = ~tcp_v4_check(len, saddr, daddr, 0)); the
 * device, or the kernel before a device that cannot, adds the segment's sum and inverts.
 */
/** The value a partial checksum field holds for the datagram at IP offset l3 (RFC 793 pseudo-header, folded). */
export function partialSeed(b: Uint8Array, l3: number, proto: number, l4len: number): number {
  // Four address words + protocol + length: below 2^19, so two folds are enough.
  let s = ((b[l3 + 12]! << 8) | b[l3 + 13]!) + ((b[l3 + 14]! << 8) | b[l3 + 15]!) +
    ((b[l3 + 16]! << 8) | b[l3 + 17]!) + ((b[l3 + 18]! << 8) | b[l3 + 19]!) + proto + l4len;
  s = (s & 0xffff) + (s >>> 16);
  return (s & 0xffff) + (s >>> 16);
}

/**
 * True when the field at csumAt holds the partial seed. A complete checksum can equal it
 * by chance (1 in 65 536); completing such a frame recomputes the same value, so the
 * caller may always complete what this reports.
 */
export function looksPartial(b: Uint8Array, l3: number, csumAt: number, proto: number, l4len: number): boolean {
  return ((b[csumAt]! << 8) | b[csumAt + 1]!) === partialSeed(b, l3, proto, l4len);
}
