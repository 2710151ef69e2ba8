/**
 * TCP/UDP checksums over the IPv4 pseudo-header: full computation (tests, and the
 * `--checksum full` mode for senders that leave partial checksums) and RFC 1624
 * incremental updates for NAT rewrites (IPVS tcp_fast_csum_update / udp_fast_csum_update).
 */
import { readU16, writeU16 } from './bytes.js';
import { checksum, csumReplace16, csumReplace32, pseudoHeaderSum } from './checksum.js';
import * as ipv4 from './ipv4.js';

/** Offset of the checksum field inside the L4 header, or -1 for other protocols. */
export function checksumOffset(proto: number): number {
  return proto === ipv4.PROTO_TCP ? 16 : proto === ipv4.PROTO_UDP ? 6 : -1;
}

/** Compute the L4 checksum of the datagram at IP offset `o` in full and store it. */
export function fillChecksum(b: Uint8Array, o: number): void {
  const hlen = ipv4.headerLength(b, o);
  const l4 = o + hlen;
  const l4len = ipv4.totalLength(b, o) - hlen;
  const proto = ipv4.protocol(b, o);
  const co = checksumOffset(proto);
  if (co < 0) return;
  writeU16(b, l4 + co, 0);
  let c = checksum(b, l4, l4len, pseudoHeaderSum(ipv4.src(b, o), ipv4.dst(b, o), proto, l4len));
  if (proto === ipv4.PROTO_UDP && c === 0) c = 0xffff; // RFC 768: 0 means "no checksum"
  writeU16(b, l4 + co, c);
}

/** True when the L4 checksum of the datagram at IP offset `o` is correct. */
export function verifyChecksum(b: Uint8Array, o: number): boolean {
  const hlen = ipv4.headerLength(b, o);
  const l4 = o + hlen;
  const l4len = ipv4.totalLength(b, o) - hlen;
  const proto = ipv4.protocol(b, o);
  if (proto === ipv4.PROTO_UDP && readU16(b, l4 + 6) === 0) return true;
  return checksum(b, l4, l4len, pseudoHeaderSum(ipv4.src(b, o), ipv4.dst(b, o), proto, l4len)) === 0;
}

/**
 * Patch the L4 checksum at b[l4+co] after an address change old->new (pseudo-header)
 * and a port change. UDP checksum 0 ("none") stays 0 here; callers that mirror IPVS
 * compute it in full instead (udp_dnat_handler), see engine/nat.ts.
 */
export function patchAddrPort(
  b: Uint8Array, csumAt: number, isUdp: boolean,
  oldAddr: number, newAddr: number, oldPort: number, newPort: number,
): void {
  let c = readU16(b, csumAt);
  c = csumReplace32(c, oldAddr, newAddr);
  c = csumReplace16(c, oldPort, newPort);
  if (isUdp && c === 0) c = 0xffff; // CSUM_MANGLED_0
  writeU16(b, csumAt, c);
}
