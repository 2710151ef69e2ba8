/**
 * A frame's offload state, as one small integer passed with the frame (no object per packet).
 * The kernel keeps it in the skb (ip_summed, csum_start/offset, gso_size, gso_type); an
 * AF_PACKET socket with PACKET_VNET_HDR reports it in a virtio_net_hdr (src/io/ring/vnet.ts),
 * libpcap does not report it at all.
 *
 *   bit 0     KNOWN: the port reported the state (ring backend); otherwise the engine detects
 *             partial checksums itself (pcap backend) and cannot forward super-frames
 *   bit 1     CSUM_PARTIAL: the TCP/UDP checksum field holds only the folded pseudo-header sum
 *             (CHECKSUM_PARTIAL); the kernel completes it when the frame goes out
 *   bits 2-4  GSO type: 0 none, 1 TCPv4, 2 UDP (UDP_L4 segmentation), 3 TCPv6,
 *             7 a type we do not forward (UFO, anything newer); SKB_GSO_* of the skb
 *   bit 5     GSO with ECN (TCP CWR handling when the kernel segments)
 *   bits 8-   gso_size: payload bytes per segment (0 = not a super-frame)
 */
export const OFL_KNOWN = 1;
export const OFL_CSUM_PARTIAL = 2;
export const OFL_GSO_SHIFT = 2;
/** The whole 3-bit type field; also the value of a type we do not forward. */
export const OFL_GSO_MASK = 7 << OFL_GSO_SHIFT;
export const OFL_GSO_TCPV4 = 1 << OFL_GSO_SHIFT;
export const OFL_GSO_UDP_L4 = 2 << OFL_GSO_SHIFT;
export const OFL_GSO_TCPV6 = 3 << OFL_GSO_SHIFT;
export const OFL_GSO_UNKNOWN = OFL_GSO_MASK;
export const OFL_GSO_ECN = 32;
export const OFL_SIZE_SHIFT = 8;

/** Segment payload size of a super-frame, 0 for an ordinary frame. */
export function gsoSize(offload: number): number {
  return offload >>> OFL_SIZE_SHIFT;
}

/**
 * Bytes on the wire of one packet: the packet's own length (ipLen, from its IP header), or
 * for a super-frame one segment's (headers + gso_size), as skb_gso_validate_network_len
 * checks a GSO packet against the MTU. l4 is the TCP/UDP header offset.
 */
export function wireSize(offload: number, b: Uint8Array, l3: number, l4: number, ipLen: number, isTcp: boolean): number {
  const gso = offload >>> OFL_SIZE_SHIFT;
  if (gso === 0) return ipLen;
  const l4h = isTcp ? (b[l4 + 12]! >>> 4) << 2 : 8;
  const seg = l4 - l3 + l4h + gso;
  return seg < ipLen ? seg : ipLen;
}
