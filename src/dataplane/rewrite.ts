/**
 * In-place header rewrites for the forwarding methods, as IPVS's transmitters do them
 * (ip_vs_xmit.c: ip_vs_nat_xmit, ip_vs_dr_xmit; ip_vs_proto_tcp/udp.c *_dnat_handler,
 * *_snat_handler). Checksums: RFC 1624 incremental updates, a full recomputation in
 * `full` mode, or, for a frame whose checksum is still partial (CHECKSUM_PARTIAL: the field
 * holds the pseudo-header sum, see packet/partial-csum.ts), an update of the pseudo-header
 * part only, as tcp_partial_csum_update / udp_partial_csum_update do.
 */
import { readU16, writeU16, writeU32 } from '../packet/bytes.js';
import * as ipv4 from '../packet/ipv4.js';
import * as l4 from '../packet/l4.js';

/** How rewriteEnd fixes the L4 checksum. */
export const CSUM_INCREMENTAL = 0;
export const CSUM_FULL = 1;
export const CSUM_PARTIAL = 2;

/**
 * Rewrite one end of a TCP/UDP flow: the address at IP offset addrOff (OFF_SRC or
 * OFF_DST) and the port at L4 offset portOff (0 = source, 2 = destination).
 * The RFC 1624 delta of the address is computed once and applied to both the IP
 * header checksum and the L4 checksum (whose pseudo-header holds the address).
 */
export function rewriteEnd(
  b: Uint8Array, l3: number, l4o: number, isUdp: boolean,
  addrOff: number, newAddr: number, portOff: number, newPort: number, csumMode: number,
): void {
  const a = l3 + addrOff;
  const o0 = (b[a]! << 8) | b[a + 1]!;
  const o1 = (b[a + 2]! << 8) | b[a + 3]!;
  const n0 = (newAddr >>> 16) & 0xffff;
  const n1 = newAddr & 0xffff;
  const p = l4o + portOff;
  const oldPort = (b[p]! << 8) | b[p + 1]!;
  b[a] = n0 >>> 8;
  b[a + 1] = n0;
  b[a + 2] = n1 >>> 8;
  b[a + 3] = n1;
  b[p] = newPort >>> 8;
  b[p + 1] = newPort;
  // HC' = ~(~HC + ~m + m') for the two address words (RFC 1624 eqn. 3).
  const delta = (~o0 & 0xffff) + (~o1 & 0xffff) + n0 + n1;
  const ic = l3 + ipv4.OFF_CHECK;
  writeU16(b, ic, foldNot((~readU16(b, ic) & 0xffff) + delta));
  const csumAt = l4o + (isUdp ? 6 : 16);
  const old = readU16(b, csumAt);
  if (csumMode === CSUM_PARTIAL) {
    // The field is the non-inverted pseudo-header sum: add the address change, no inversion.
    // The ports lie in the part the kernel sums when it completes the checksum: no fix-up.
    writeU16(b, csumAt, fold2(old + delta));
    return;
  }
  // A UDP datagram sent without checksum gets a full one, as udp_dnat_handler does.
  if (csumMode === CSUM_FULL || (isUdp && old === 0)) {
    l4.fillChecksum(b, l3);
    return;
  }
  let c = foldNot((~old & 0xffff) + delta + (~oldPort & 0xffff) + newPort);
  if (isUdp && c === 0) c = 0xffff; // CSUM_MANGLED_0
  writeU16(b, csumAt, c);
}

/** fold(s) with end-around carry for a sum below 2^31. */
function fold2(s: number): number {
  s = (s & 0xffff) + (s >>> 16);
  return (s & 0xffff) + (s >>> 16);
}

/** ~fold(s) for a sum below 2^31 (a handful of 16-bit words). */
function foldNot(s: number): number {
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * Rewrite an address/port pair inside the IP header quoted by an ICMP error.
 * The quoted L4 checksum is left stale, as the kernel does (ip_vs_nat_icmp).
 */
export function rewriteQuoted(
  b: Uint8Array, inner: number, addrOff: number, newAddr: number, portOff: number, newPort: number,
): void {
  writeU32(b, inner + addrOff, newAddr);
  writeU16(b, inner + ipv4.headerLength(b, inner) + portOff, newPort);
  ipv4.fillChecksum(b, inner);
}
