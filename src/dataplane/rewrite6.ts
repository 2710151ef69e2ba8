/**
 * In-place rewrites of an IPv6 TCP/UDP packet for NAT, the IPv6 side of rewrite.ts
 * (ip_vs_proto_tcp/udp.c *_dnat_handler / *_snat_handler with an IPv6 header, which has
 * no header checksum). The L4 checksum is fixed as rewrite.ts does: RFC 1624 over the
 * eight address words and the port, a full recomputation in `full` mode, or for a partial
 * checksum (the field holds the non-inverted pseudo-header sum) the address change only.
 */
import { readU16, writeU16 } from '../packet/bytes.js';
import { writeAddr6 } from '../packet/addr6.js';
import { csumReplace128, fillChecksum6 } from '../packet/l4v6.js';
import { NEXTHDR_UDP } from '../packet/ipv6.js';
import { CSUM_FULL, CSUM_PARTIAL } from './rewrite.js';

/**
 * Rewrite one end of the flow: the address at IPv6 offset `which` (OFF_SRC or OFF_DST)
 * to words[slot*4..] and the port at L4 offset portOff (0 source, 2 destination).
 */
export function rewriteEnd6(
  b: Uint8Array, l3: number, l4: number, end: number, proto: number,
  which: number, words: Int32Array, slot: number, portOff: number, newPort: number, csumMode: number,
): void {
  const isUdp = proto === NEXTHDR_UDP;
  const csumAt = l4 + (isUdp ? 6 : 16);
  const a = l3 + which;
  const p = l4 + portOff;
  if (csumMode === CSUM_FULL) {
    writeAddr6(b, a, words, slot);
    writeU16(b, p, newPort);
    fillChecksum6(b, l3, l4, end - l4, proto);
    return;
  }
  const old = readU16(b, csumAt);
  if (csumMode === CSUM_PARTIAL) {
    // P' = P + ~m + m' (not inverted); the ports are in the part the device sums.
    writeU16(b, csumAt, ~csumReplace128(~old & 0xffff, b, a, words, slot) & 0xffff);
  } else {
    const c = csumReplace128(old, b, a, words, slot);
    const oldPort = readU16(b, p);
    let s = (~c & 0xffff) + (~oldPort & 0xffff) + newPort;
    s = (s & 0xffff) + (s >>> 16);
    s = (s & 0xffff) + (s >>> 16);
    let n = ~s & 0xffff;
    if (isUdp && n === 0) n = 0xffff; // RFC 8200 8.1: a zero UDP checksum is sent as 0xffff
    writeU16(b, csumAt, n);
  }
  writeAddr6(b, a, words, slot);
  writeU16(b, p, newPort);
}
