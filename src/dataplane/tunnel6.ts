/**
 * IPv6-in-IPv6 encapsulation for the tunnel method of an IPv6 service to an IPv6 server,
 * as ip_vs_tunnel_xmit_v6 builds it (ip_vs_prepare_tunneled_skb for an IPv6 packet; RFC
 * 2473): the packet, hop limit already decremented, unchanged behind a 40-byte outer header
 *
 *   version 6, traffic class the inner one with ECN as tunnel.ts's outer TOS (RFC 6040
 *     normal mode), flow label 0;
 *   payload length the whole inner packet (its 40-byte header included); next header 41;
 *   hop limit the inner's; source the director's address on the egress interface,
 *     destination the real server.
 *
 * A TCPv6 / UDP_L4 super-frame cannot go to the kernel for segmentation inside a tunnel (no
 * virtio-net type for it), so writeSegment6 cuts it as tcp_gso_segment / __udp_gso_segment
 * would, then encapsulates each segment. Byte writes into caller buffers only.
 */
import { writeU16, writeU32 } from '../packet/bytes.js';
import { copy16 } from '../packet/addr6.js';
import { IPV6_HLEN, NEXTHDR_IPV6, OFF_DST, OFF_HOPLIMIT, OFF_NEXT, OFF_PLEN, OFF_SRC } from '../packet/ipv6.js';
import { fillChecksum6 } from '../packet/l4v6.js';
import { outerTos, writeTcpSegmentHeader } from './tunnel.js';

export const IP6IP6_HLEN = IPV6_HLEN;

/** The outer header at out[o] for the inner packet already at out[o + 40] (inner bytes long). */
function writeOuter6(out: Uint8Array, o: number, inner: number, src: Uint8Array, dst: Int32Array, dslot: number): void {
  const p = o + IPV6_HLEN;
  const tc = outerTos(((out[p]! & 0x0f) << 4) | (out[p + 1]! >>> 4));
  out[o] = 0x60 | (tc >>> 4);
  out[o + 1] = (tc & 0x0f) << 4;
  out[o + 2] = 0;
  out[o + 3] = 0;
  writeU16(out, o + OFF_PLEN, inner);
  out[o + OFF_NEXT] = NEXTHDR_IPV6;
  out[o + OFF_HOPLIMIT] = out[p + OFF_HOPLIMIT]!;
  copy16(out, o + OFF_SRC, src, 0);
  const w = dslot << 2;
  for (let k = 0; k < 4; k++) writeU32(out, o + OFF_DST + (k << 2), dst[w + k]! >>> 0);
}

/**
 * The frame b[0, end) with an outer IPv6 header from src (16 bytes) to dst[dslot] in front
 * of its packet at l3: out[0, l3) is b's L2 header (the caller sets the MACs). Returns the
 * frame length, -1 when out is too small.
 */
export function writeIp6ip6(out: Uint8Array, b: Uint8Array, l3: number, end: number, src: Uint8Array, dst: Int32Array, dslot: number): number {
  const inner = end - l3;
  const len = end + IPV6_HLEN;
  if (len > out.length) return -1;
  for (let i = 0; i < l3; i++) out[i] = b[i]!;
  const p = l3 + IPV6_HLEN;
  for (let i = 0; i < inner; i++) out[p + i] = b[l3 + i]!;
  writeOuter6(out, l3, inner, src, dst, dslot);
  return len;
}

function l4HeaderLength(b: Uint8Array, l4: number, isUdp: boolean): number {
  return isUdp ? 8 : (b[l4 + 12]! >>> 4) << 2;
}

/** How many packets the super-frame (IPv6 at l3, upper layer at l4, ending at end) makes. */
export function segmentCount6(b: Uint8Array, l4: number, end: number, gso: number, isUdp: boolean): number {
  const payload = end - l4 - l4HeaderLength(b, l4, isUdp);
  return payload <= 0 ? 1 : Math.ceil(payload / gso);
}

/**
 * Segment k of the super-frame, encapsulated, into out: the IPv6 header and any extension
 * headers copied with the payload length of the segment, then for TCP the header with
 * sequence + k * gso, FIN and PSH on the last segment only, CWR on the first only; for UDP
 * a datagram of its own. The upper-layer checksum is computed in full. Returns the frame
 * length, -1 when out is too small.
 */
export function writeSegment6(
  out: Uint8Array, b: Uint8Array, l3: number, l4: number, end: number, proto: number, k: number, gso: number,
  src: Uint8Array, dst: Int32Array, dslot: number,
): number {
  const isUdp = proto === 17;
  const l4h = l4HeaderLength(b, l4, isUdp);
  const payload = end - l4 - l4h;
  const from = k * gso;
  const n = Math.min(gso, payload - from);
  const head = l4 + l4h - l3;
  const inner = head + n;
  const len = l3 + IPV6_HLEN + inner;
  if (n < 0 || len > out.length) return -1;
  const p = l3 + IPV6_HLEN;
  for (let i = 0; i < l3; i++) out[i] = b[i]!;
  for (let i = 0; i < head; i++) out[p + i] = b[l3 + i]!;
  const data = l4 + l4h + from;
  const at = p + head;
  for (let i = 0; i < n; i++) out[at + i] = b[data + i]!;
  writeU16(out, p + OFF_PLEN, inner - IPV6_HLEN);
  const o4 = p + (l4 - l3);
  if (isUdp) {
    writeU16(out, o4 + 4, l4h + n);
  } else {
    writeTcpSegmentHeader(out, o4, b, l4, k, from, n, payload);
  }
  fillChecksum6(out, p, o4, l4h + n, proto);
  writeOuter6(out, l3, inner, src, dst, dslot);
  return len;
}

/** Packets and segmented super-frames of the ip6ip6 path, for the counters. */
export class Ip6ip6Tunnel {
  packets = 0;
  segmented = 0;

  encapsulate(out: Uint8Array, b: Uint8Array, l3: number, end: number, src: Uint8Array, dst: Int32Array, dslot: number): number {
    const len = writeIp6ip6(out, b, l3, end, src, dst, dslot);
    if (len > 0) this.packets++;
    return len;
  }

  segment(out: Uint8Array, b: Uint8Array, l3: number, l4: number, end: number, proto: number, k: number, gso: number, src: Uint8Array, dst: Int32Array, dslot: number): number {
    const len = writeSegment6(out, b, l3, l4, end, proto, k, gso, src, dst, dslot);
    if (len > 0) this.packets++;
    return len;
  }
}

