/**
 * TCP/UDP checksums over the IPv4 pseudo-header, computed in full and verified (tests,
 * and the `--checksum full` mode for senders that leave partial checksums). The RFC 1624
 * incremental updates of NAT rewrites are in checksum.ts (csumReplace16/csumReplace32).
 */
import { readU16, writeU16 } from './bytes.js';
import { checksum, pseudoHeaderSum } from './checksum.js';
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

