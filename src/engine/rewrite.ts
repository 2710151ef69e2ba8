/**
 * In-place header rewrites for the forwarding methods, as IPVS's transmitters do them
 * (ip_vs_xmit.c: ip_vs_nat_xmit, ip_vs_dr_xmit; ip_vs_proto_tcp/udp.c *_dnat_handler,
 * *_snat_handler). Checksums: RFC 1624 incremental updates, or a full recomputation in
 * `full` mode (for senders whose frames carry partial checksums, e.g. veth offload).
 */
import { readI32, readU16, writeU16, writeU32 } from '../packet/bytes.js';
import * as ipv4 from '../packet/ipv4.js';
import * as l4 from '../packet/l4.js';

/**
 * Rewrite one end of a TCP/UDP flow: the address at IP offset addrOff (OFF_SRC or
 * OFF_DST) and the port at L4 offset portOff (0 = source, 2 = destination).
 */
export function rewriteEnd(
  b: Uint8Array, l3: number, l4o: number, isUdp: boolean,
  addrOff: number, newAddr: number, portOff: number, newPort: number, fullChecksum: boolean,
): void {
  const oldAddr = readI32(b, l3 + addrOff);
  const oldPort = readU16(b, l4o + portOff);
  if (addrOff === ipv4.OFF_SRC) ipv4.setSrc(b, l3, newAddr);
  else ipv4.setDst(b, l3, newAddr);
  writeU16(b, l4o + portOff, newPort);
  const csumAt = l4o + (isUdp ? 6 : 16);
  // A UDP datagram sent without checksum gets a full one, as udp_dnat_handler does.
  if (fullChecksum || (isUdp && readU16(b, csumAt) === 0)) l4.fillChecksum(b, l3);
  else l4.patchAddrPort(b, csumAt, isUdp, oldAddr, newAddr, oldPort, newPort);
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
