/**
 * Upper-layer checksums over IPv6 (RFC 8200 section 8.1): TCP, UDP and ICMPv6 all cover
 * a pseudo-header of source and destination address, the 32-bit upper-layer length and
 * the next-header value of the upper layer (not of the first extension header). UDP's
 * checksum is mandatory over IPv6: a computed 0 is sent as 0xffff, and a received 0 is
 * invalid (RFC 8200 8.1, RFC 768).
 *
 * Full computation (tests, builders, `--checksum full`) and the RFC 1624 incremental
 * update for a NAT rewrite of a 128-bit address, the IPv6 form of csumReplace32
 * (IPVS's tcp_fast_csum_update / udp_fast_csum_update / ip_vs_nat_icmp_v6 with
 * csum_ipv6_magic deltas).
 */
import { readU16, writeU16 } from './bytes.js';
import { checksum, sum16 } from './checksum.js';
import { NEXTHDR_ICMPV6, NEXTHDR_TCP, NEXTHDR_UDP, OFF_DST, OFF_SRC } from './ipv6.js';

/** `which` for setAddr6: the source or destination address field of the IPv6 header. */
export const ADDR_SRC = OFF_SRC;
export const ADDR_DST = OFF_DST;

/** Offset of the checksum field inside the upper-layer header, or -1 for other protocols. */
export function checksumOffset6(proto: number): number {
  return proto === NEXTHDR_TCP ? 16 : proto === NEXTHDR_UDP ? 6 : proto === NEXTHDR_ICMPV6 ? 2 : -1;
}

/** Unfolded sum of the IPv6 pseudo-header of the packet whose fixed header is at `o`. */
export function pseudoHeaderSum6(b: Uint8Array, o: number, proto: number, l4len: number): number {
  return sum16(b, o + OFF_SRC, 32, 0) + (l4len >>> 16) + (l4len & 0xffff) + proto;
}

/**
 * Compute and store the checksum of the upper-layer segment at l4 (l4len bytes, protocol
 * `proto`) of the IPv6 packet at `o`. Returns false for a protocol without one here.
 */
export function fillChecksum6(b: Uint8Array, o: number, l4: number, l4len: number, proto: number): boolean {
  const co = checksumOffset6(proto);
  if (co < 0) return false;
  writeU16(b, l4 + co, 0);
  let c = checksum(b, l4, l4len, pseudoHeaderSum6(b, o, proto, l4len));
  if (proto === NEXTHDR_UDP && c === 0) c = 0xffff;
  writeU16(b, l4 + co, c);
  return true;
}

/** True when the upper-layer checksum is correct (a zero UDP checksum is not, over IPv6). */
export function verifyChecksum6(b: Uint8Array, o: number, l4: number, l4len: number, proto: number): boolean {
  const co = checksumOffset6(proto);
  if (co < 0 || l4len < co + 2) return false;
  if (proto === NEXTHDR_UDP && readU16(b, l4 + co) === 0) return false;
  return checksum(b, l4, l4len, pseudoHeaderSum6(b, o, proto, l4len)) === 0;
}

/**
 * RFC 1624 eqn. 3 for a 128-bit field: the checksum `check` after the 16 bytes at
 * b[at] are replaced by the address in words[slot*4 ..]. Call before writing the new
 * address (it reads the old one from the frame). All eight words go into one sum, folded
 * once: ~check + sum(~m_i) + sum(m'_i) stays below 2^21.
 */
export function csumReplace128(check: number, b: Uint8Array, at: number, words: Int32Array, slot: number): number {
  let s = ~check & 0xffff;
  for (let k = 0; k < 16; k += 2) s += ~((b[at + k]! << 8) | b[at + k + 1]!) & 0xffff;
  const w = slot << 2;
  for (let k = 0; k < 4; k++) {
    const v = words[w + k]!;
    s += ((v >>> 16) & 0xffff) + (v & 0xffff);
  }
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * Replace the source (which = OFF_SRC) or destination (OFF_DST) address of the IPv6 packet
 * at `o` with words[slot*4 ..] and patch the upper-layer checksum at csumAt (-1: none, as
 * for a non-first fragment). A UDP checksum that comes out 0 is sent as 0xffff (RFC 8200
 * 8.1: 0 is not allowed over IPv6); pass isUdp for it.
 */
export function setAddr6(
  b: Uint8Array, o: number, which: number, words: Int32Array, slot: number, csumAt: number, isUdp: boolean,
): void {
  const at = o + which;
  if (csumAt >= 0) {
    let c = csumReplace128(readU16(b, csumAt), b, at, words, slot);
    if (isUdp && c === 0) c = 0xffff;
    writeU16(b, csumAt, c);
  }
  const w = slot << 2;
  for (let k = 0; k < 4; k++) {
    const v = words[w + k]!;
    const p = at + (k << 2);
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
  }
}
