/**
 * IP-in-IP encapsulation for the tunnel method (ipvsadm -i, keepalived lb_kind TUN), as
 * ip_vs_tunnel_xmit does it for an IPv4 service with the default ipip tunnel type
 * (docs/ipvs-behaviour.md §4.5). The packet itself, TTL already decremented and its header
 * checksum fixed (decrement_ttl in __ip_vs_get_out_rt, ip_send_check in
 * ip_vs_prepare_tunneled_skb), is carried unchanged behind a 20-byte outer IPv4 header
 * (RFC 2003 §3.1):
 *
 *   version 4, IHL 5;
 *   TOS the inner TOS, its ECN field per RFC 6040 normal mode (INET_ECN_encapsulate: CE
 *     becomes ECT(0), anything else is copied);
 *   total length inner + 20;
 *   ID 0 when DF is set (ip_select_ident on a packet that has no socket), otherwise a counter
 *     (the kernel's __ip_select_ident is a hashed per-destination counter: values differ);
 *   flags DF copied from the inner header (sysctl pmtu_disc=1, the default), offset 0;
 *   TTL the inner TTL (ip_vs_prepare_tunneled_skb copies it, after the decrement);
 *   protocol 4 (IPPROTO_IPIP);
 *   source the director's address on the egress interface (the route's source,
 *     IP_VS_RT_MODE_CONNECT), destination the real server.
 *
 * Byte writes into a preallocated buffer only: no allocation per packet.
 */
import { readU16, readU32, writeU16, writeU32 } from '../packet/bytes.js';
import * as ipv4 from '../packet/ipv4.js';
import { fillChecksum } from '../packet/l4.js';
import { OFL_SIZE_SHIFT } from '../packet/offload.js';
import { IPPROTO_IPIP } from '../lvs/proto.js';

export const IPIP_HLEN = 20;
export { IPPROTO_IPIP };
/** __ip_vs_get_out_rt gives up on a tunnel whose inner MTU would be below 68 (RFC 791's minimum). */
export const MIN_TUNNEL_MTU = 68;

/** INET_ECN_encapsulate(tos, tos): the outer TOS (RFC 6040 §4.1, normal mode). */
export function outerTos(tos: number): number {
  const ecn = tos & 3;
  return (tos & 0xfc) | (ecn === 3 ? 2 : ecn);
}

/**
 * Write the frame b[0, l3 + total) into out with an outer IPv4 header from src to dst in
 * front of its IP packet: out[0, l3) is b's L2 header (the caller sets the MACs), the outer
 * header is at out[l3], the packet at out[l3 + 20]. Returns the frame length, -1 when out is
 * too small.
 */
export function writeIpip(out: Uint8Array, b: Uint8Array, l3: number, total: number, src: number, dst: number, id: number): number {
  const len = l3 + IPIP_HLEN + total;
  if (len > out.length) return -1;
  for (let i = 0; i < l3; i++) out[i] = b[i]!;
  const p = l3 + IPIP_HLEN;
  for (let i = 0; i < total; i++) out[p + i] = b[l3 + i]!;
  writeOuter(out, l3, src, dst, id);
  return len;
}

/** The outer header at out[o] for the packet already at out[o + 20]. */
function writeOuter(out: Uint8Array, o: number, src: number, dst: number, id: number): void {
  const p = o + IPIP_HLEN;
  out[o] = 0x45;
  out[o + 1] = outerTos(out[p + 1]!);
  writeU16(out, o + ipv4.OFF_TOTLEN, readU16(out, p + ipv4.OFF_TOTLEN) + IPIP_HLEN);
  writeU16(out, o + ipv4.OFF_ID, id);
  writeU16(out, o + ipv4.OFF_FRAG, readU16(out, p + ipv4.OFF_FRAG) & ipv4.FLAG_DF);
  out[o + ipv4.OFF_TTL] = out[p + ipv4.OFF_TTL]!;
  out[o + ipv4.OFF_PROTO] = IPPROTO_IPIP;
  writeU16(out, o + ipv4.OFF_CHECK, 0);
  writeU32(out, o + ipv4.OFF_SRC, src);
  writeU32(out, o + ipv4.OFF_DST, dst);
  ipv4.fillChecksum(out, o);
}

/** Header length of the TCP (data offset) or UDP (8) header at l4. */
function l4HeaderLength(b: Uint8Array, l4: number, isUdp: boolean): number {
  return isUdp ? 8 : (b[l4 + 12]! >>> 4) << 2;
}

/** How many packets the super-frame at b[l3] makes with `gso` payload bytes each. */
export function segmentCount(b: Uint8Array, l3: number, total: number, gso: number, isUdp: boolean): number {
  const hl = (b[l3]! & 0x0f) << 2;
  const payload = total - hl - l4HeaderLength(b, l3 + hl, isUdp);
  return payload <= 0 ? 1 : Math.ceil(payload / gso);
}

/**
 * Segment k of the super-frame at b[l3, l3 + total), encapsulated, into out (software GSO, as
 * skb_gso_segment would cut it before a device without the offload): the same IP header with
 * ID + k and its own total length, then for TCP (tcp_gso_segment) the header with sequence
 * number + k * gso, FIN and PSH only on the last segment and CWR only on the first; for UDP
 * (__udp_gso_segment, UDP_L4) a datagram of its own with its length. Both checksums are
 * computed in full, then the outer header goes in front. Returns the frame length, -1 when
 * out is too small.
 */
export function writeSegment(
  out: Uint8Array, b: Uint8Array, l3: number, total: number, k: number, gso: number, isUdp: boolean,
  src: number, dst: number, outerId: number,
): number {
  const hl = (b[l3]! & 0x0f) << 2;
  const l4 = l3 + hl;
  const l4h = l4HeaderLength(b, l4, isUdp);
  const payload = total - hl - l4h;
  const from = k * gso;
  const n = Math.min(gso, payload - from);
  const inner = hl + l4h + n;
  const len = l3 + IPIP_HLEN + inner;
  if (n < 0 || len > out.length) return -1;
  const p = l3 + IPIP_HLEN;
  for (let i = 0; i < l3; i++) out[i] = b[i]!;
  for (let i = 0; i < hl + l4h; i++) out[p + i] = b[l3 + i]!;
  const data = l4 + l4h + from;
  const at = p + hl + l4h;
  for (let i = 0; i < n; i++) out[at + i] = b[data + i]!;
  writeU16(out, p + ipv4.OFF_TOTLEN, inner);
  writeU16(out, p + ipv4.OFF_ID, (readU16(b, l3 + ipv4.OFF_ID) + k) & 0xffff);
  ipv4.fillChecksum(out, p);
  const o4 = p + hl;
  if (isUdp) {
    writeU16(out, o4 + 4, l4h + n);
  } else {
    writeTcpSegmentHeader(out, o4, b, l4, k, from, n, payload);
  }
  fillChecksum(out, p);
  writeOuter(out, l3, src, dst, outerId);
  return len;
}

/**
 * The TCP header of segment k (payload bytes from `from`, n of them, of `payload`) as
 * tcp_gso_segment writes it: sequence + from, FIN and PSH only on the last segment, CWR
 * only on the first. The header is already copied to out[o4].
 */
export function writeTcpSegmentHeader(out: Uint8Array, o4: number, b: Uint8Array, l4: number, k: number, from: number, n: number, payload: number): void {
  writeU32(out, o4 + 4, (readU32(b, l4 + 4) + from) >>> 0);
  let flags = b[l4 + 13]!;
  if (from + n < payload) flags &= ~(0x01 | 0x08);
  if (k > 0) flags &= ~0x80;
  out[o4 + 13] = flags;
}

/**
 * Whether a frame can leave as one encapsulated packet of at most `mtu` bytes (the egress
 * MTU less the outer header). An ordinary frame can (its size was checked before). A GSO
 * super-frame cannot be handed to the kernel for segmentation: a virtio-net header has no
 * IPIP type, and the kernel's ipip_gso_segment refuses a super-frame without
 * SKB_GSO_IPXIP4, which a packet socket cannot set. It is sent as one packet only when the
 * whole of it fits and, for UDP, it holds a single datagram (TCP segments may be merged,
 * UDP datagrams not). Otherwise the caller segments it (writeSegment).
 */
export function sendableWhole(offload: number, l4len: number, total: number, isUdp: boolean, mtu: number): boolean {
  const gso = offload >>> OFL_SIZE_SHIFT;
  if (gso === 0) return true;
  if (total > mtu) return false;
  return !isUdp || l4len - 8 <= gso;
}

/** The encapsulation with its ID counter (one per engine). */
export class IpipTunnel {
  private id = 0;
  /** Packets encapsulated (segments included), and super-frames segmented here. */
  packets = 0;
  segmented = 0;

  /** The outer ID: 0 with DF, else the counter. */
  private outerId(b: Uint8Array, l3: number): number {
    if ((readU16(b, l3 + ipv4.OFF_FRAG) & ipv4.FLAG_DF) !== 0) return 0;
    return (this.id = (this.id + 1) & 0xffff);
  }

  /** writeIpip with the ID rule above. */
  encapsulate(out: Uint8Array, b: Uint8Array, l3: number, total: number, src: number, dst: number): number {
    const len = writeIpip(out, b, l3, total, src, dst, this.outerId(b, l3));
    if (len > 0) this.packets++;
    return len;
  }

  /** writeSegment with the ID rule above. */
  segment(out: Uint8Array, b: Uint8Array, l3: number, total: number, k: number, gso: number, isUdp: boolean, src: number, dst: number): number {
    const len = writeSegment(out, b, l3, total, k, gso, isUdp, src, dst, this.outerId(b, l3));
    if (len > 0) this.packets++;
    return len;
  }
}
