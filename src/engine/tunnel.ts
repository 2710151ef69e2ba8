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
import { readU16, writeU16, writeU32 } from '../packet/bytes.js';
import * as ipv4 from '../packet/ipv4.js';
import { OFL_SIZE_SHIFT } from '../packet/offload.js';

export const IPIP_HLEN = 20;
export const IPPROTO_IPIP = 4;
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
  const o = l3;
  out[o] = 0x45;
  out[o + 1] = outerTos(b[l3 + 1]!);
  writeU16(out, o + ipv4.OFF_TOTLEN, total + IPIP_HLEN);
  writeU16(out, o + ipv4.OFF_ID, id);
  writeU16(out, o + ipv4.OFF_FRAG, readU16(b, l3 + ipv4.OFF_FRAG) & ipv4.FLAG_DF);
  out[o + ipv4.OFF_TTL] = b[l3 + ipv4.OFF_TTL]!;
  out[o + ipv4.OFF_PROTO] = IPPROTO_IPIP;
  writeU32(out, o + ipv4.OFF_SRC, src);
  writeU32(out, o + ipv4.OFF_DST, dst);
  ipv4.fillChecksum(out, o);
  const p = o + IPIP_HLEN;
  for (let i = 0; i < total; i++) out[p + i] = b[l3 + i]!;
  return len;
}

/**
 * Whether a frame can leave as one encapsulated packet of at most `mtu` bytes (the egress
 * MTU less the outer header). An ordinary frame can (its size was checked before). A GSO
 * super-frame cannot be handed to the kernel for segmentation: a virtio-net header has no
 * IPIP type, and the kernel's ipip_gso_segment refuses a super-frame without
 * SKB_GSO_IPXIP4, which a packet socket cannot set. It is sent as one packet only when the
 * whole of it fits and, for UDP, it holds a single datagram (TCP segments may be merged,
 * UDP datagrams not). Otherwise the caller drops it (`tunnel_gso`).
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
  /** Packets encapsulated. */
  packets = 0;

  /** writeIpip with the ID rule above. */
  encapsulate(out: Uint8Array, b: Uint8Array, l3: number, total: number, src: number, dst: number): number {
    let id = 0;
    if ((readU16(b, l3 + ipv4.OFF_FRAG) & ipv4.FLAG_DF) === 0) id = this.id = (this.id + 1) & 0xffff;
    const len = writeIpip(out, b, l3, total, src, dst, id);
    if (len > 0) this.packets++;
    return len;
  }
}
