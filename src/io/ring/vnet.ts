/**
 * struct virtio_net_hdr (include/uapi/linux/virtio_net.h), in host byte order (little-endian
 * here) as AF_PACKET uses it with PACKET_VNET_HDR: flags u8, gso_type u8, hdr_len u16,
 * gso_size u16, csum_start u16, csum_offset u16. tpacket_rcv writes one in front of each
 * received frame (virtio_net_hdr_from_skb); packet_snd accepts one in front of each frame
 * sent (virtio_net_hdr_to_skb), completes a partial checksum and segments a GSO frame.
 */
import {
  OFL_CSUM_PARTIAL, OFL_GSO_ECN, OFL_GSO_MASK, OFL_GSO_TCPV4, OFL_GSO_UDP_L4, OFL_KNOWN, OFL_SIZE_SHIFT,
} from '../../packet/offload.js';
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
    else if (kind === VNET_GSO_UDP_L4) w |= OFL_GSO_UDP_L4;
    else w |= OFL_GSO_MASK; // a type we do not forward (TCPv6, UFO): the engine drops it
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
  if (gso === OFL_GSO_TCPV4 || gso === OFL_GSO_UDP_L4) {
    b[o + 1] = (gso === OFL_GSO_TCPV4 ? VNET_GSO_TCPV4 : VNET_GSO_UDP_L4) | (offload & OFL_GSO_ECN ? VNET_GSO_ECN : 0);
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
