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

/**
 * The IPv6 form (tcp_v6_send_check / udp6 with CHECKSUM_PARTIAL: ~csum_ipv6_magic(saddr,
 * daddr, len, proto, 0)): the folded sum of the RFC 8200 8.1 pseudo-header of the packet
 * whose fixed header is at l3, for the upper layer `proto` of l4len bytes.
 */
export function partialSeed6(b: Uint8Array, l3: number, proto: number, l4len: number): number {
  // Sixteen address words + length + protocol: below 2^21, two folds are enough.
  let s = proto + (l4len >>> 16) + (l4len & 0xffff);
  for (let k = l3 + 8; k < l3 + 40; k += 2) s += (b[k]! << 8) | b[k + 1]!;
  s = (s & 0xffff) + (s >>> 16);
  return (s & 0xffff) + (s >>> 16);
}

/** looksPartial for an IPv6 packet at l3. */
export function looksPartial6(b: Uint8Array, l3: number, csumAt: number, proto: number, l4len: number): boolean {
  return ((b[csumAt]! << 8) | b[csumAt + 1]!) === partialSeed6(b, l3, proto, l4len);
}
