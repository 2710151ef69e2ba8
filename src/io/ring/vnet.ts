/**
 * struct virtio_net_hdr (include/uapi/linux/virtio_net.h), in host byte order (little-endian
 * here) as AF_PACKET uses it with PACKET_VNET_HDR: flags u8, gso_type u8, hdr_len u16,
 * gso_size u16, csum_start u16, csum_offset u16. tpacket_rcv writes one in front of each
 * received frame (virtio_net_hdr_from_skb); packet_snd accepts one in front of each frame
 * sent (virtio_net_hdr_to_skb), completes a partial checksum and segments a GSO frame.
 */
import {
  OFL_CSUM_PARTIAL, OFL_GSO_ECN, OFL_GSO_MASK, OFL_GSO_TCPV4, OFL_GSO_TCPV6, OFL_GSO_UDP_L4, OFL_GSO_UNKNOWN, OFL_KNOWN,
  OFL_SIZE_SHIFT,
} from '../../packet/offload.js';
import { FH_FRAG, UL_FLAGS, UL_OFFSET, UL_SLOTS, findUpperLayer } from '../../packet/ipv6-ext.js';
import { VNET_HDR_LEN } from './layout.js';

export const VNET_F_NEEDS_CSUM = 1;
export const VNET_F_DATA_VALID = 2;
export const VNET_GSO_NONE = 0;
export const VNET_GSO_TCPV4 = 1;
export const VNET_GSO_UDP = 3; // UFO: never accepted for TCP and not produced for IPv4 by Linux >= 4.14
export const VNET_GSO_TCPV6 = 4;
export const VNET_GSO_UDP_L4 = 5;
export const VNET_GSO_ECN = 0x80;

/** The offload word (packet/offload.ts) of the frame whose vnet header is at b[o, o+10). */
export function offloadFromVnet(b: Uint8Array, o: number): number {
  let w = OFL_KNOWN;
  if (b[o]! & VNET_F_NEEDS_CSUM) w |= OFL_CSUM_PARTIAL;
  const type = b[o + 1]!;
  const kind = type & ~VNET_GSO_ECN;
  if (kind !== VNET_GSO_NONE) {
    if (kind === VNET_GSO_TCPV4) w |= OFL_GSO_TCPV4;
    else if (kind === VNET_GSO_TCPV6) w |= OFL_GSO_TCPV6;
    else if (kind === VNET_GSO_UDP_L4) w |= OFL_GSO_UDP_L4;
    else w |= OFL_GSO_UNKNOWN; // a type we do not forward (UFO): the engine drops it
    if (type & VNET_GSO_ECN) w |= OFL_GSO_ECN;
    w |= (b[o + 4]! | (b[o + 5]! << 8)) << OFL_SIZE_SHIFT;
  }
  return w;
}

/**
 * Write the vnet header for a frame we send from our own memory (a copy queued while its
 * next hop was resolved, or a frame the engine built). l3 is the IP header offset in the
 * frame and l4 the TCP/UDP header offset (0 when the frame has none).
 */
export function writeVnet(b: Uint8Array, o: number, offload: number, l4: number, isUdp: boolean, l4HdrLen: number): void {
  b.fill(0, o, o + VNET_HDR_LEN);
  if (!(offload & OFL_CSUM_PARTIAL) || l4 === 0) return;
  b[o] = VNET_F_NEEDS_CSUM;
  const gso = offload & OFL_GSO_MASK;
  const type = gso === OFL_GSO_TCPV4 ? VNET_GSO_TCPV4 : gso === OFL_GSO_TCPV6 ? VNET_GSO_TCPV6 : gso === OFL_GSO_UDP_L4 ? VNET_GSO_UDP_L4 : 0;
  if (type !== 0) {
    b[o + 1] = type | (offload & OFL_GSO_ECN ? VNET_GSO_ECN : 0);
    put16(b, o + 2, l4 + l4HdrLen);
    put16(b, o + 4, offload >>> OFL_SIZE_SHIFT);
  }
  put16(b, o + 6, l4);
  put16(b, o + 8, isUdp ? 6 : 16);
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}

/** findUpperLayer's results for vnetFor (one per module: no allocation per frame). */
const ul = new Int32Array(UL_SLOTS);

/**
 * The vnet header at b[o, o+10) for the Ethernet frame at b[f, f+len) with offload word
 * `offload` (< 0: a complete frame, all zero). csum_start is the TCP/UDP header, as the
 * sender's stack set it (skb_transport_offset): behind the IPv4 options, or for IPv6 behind
 * the extension headers (ipv6_find_hdr's walk, packet/ipv6-ext.ts). An IPv6 frame with no
 * TCP/UDP header to point at (ICMPv6, a fragment) gets a zero header.
 */
export function vnetFor(b: Uint8Array, o: number, f: number, len: number, offload: number): void {
  if (offload < 0 || !(offload & OFL_CSUM_PARTIAL) || len < 34) {
    b.fill(0, o, o + VNET_HDR_LEN);
    return;
  }
  let l4: number, isUdp: boolean;
  if (b[f + 12] !== 0x86 || b[f + 13] !== 0xdd) {
    // IPv4 (the common case first: one compare), header at 14.
    const l3 = 14;
    l4 = l3 + ((b[f + l3]! & 0x0f) << 2);
    isUdp = b[f + l3 + 9] === 17;
  } else {
    const proto = findUpperLayer(b, f + 14, f + len, ul);
    if ((proto !== 6 && proto !== 17) || ul[UL_FLAGS]! & FH_FRAG) {
      b.fill(0, o, o + VNET_HDR_LEN);
      return;
    }
    l4 = ul[UL_OFFSET]! - f;
    isUdp = proto === 17;
    if (l4 + (isUdp ? 8 : 20) > len) {
      b.fill(0, o, o + VNET_HDR_LEN);
      return;
    }
  }
  const l4h = isUdp ? 8 : (b[f + l4 + 12]! >>> 4) << 2;
  writeVnet(b, o, offload, l4, isUdp, l4h);
}
