/**
 * Frames the engine writes itself, into its scratch buffer: ARP replies and requests,
 * gratuitous ARP, ICMP errors (ip_vs_leave's port unreachable, time exceeded, frag
 * needed) and echo replies for the VIP. Byte writes only, no allocation.
 */
import { copy6, writeU16, writeU32 } from '../packet/bytes.js';
import * as arp from '../packet/arp.js';
import * as ipv4 from '../packet/ipv4.js';
import * as icmp from '../packet/icmp.js';
import { checksum } from '../packet/checksum.js';
import { ETH_HLEN, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../packet/ethernet.js';

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ZERO_MAC = new Uint8Array(6);

function ethHeader(out: Uint8Array, dst: Uint8Array, dstOff: number, src: Uint8Array, type: number): void {
  copy6(out, 0, dst, dstOff);
  copy6(out, 6, src, 0);
  writeU16(out, 12, type);
}

/** ARP request "who-has tpa tell spa" (broadcast). Returns the frame length. */
export function arpRequest(out: Uint8Array, mac: Uint8Array, spa: number, tpa: number): number {
  ethHeader(out, BROADCAST, 0, mac, ETHERTYPE_ARP);
  arp.write(out, ETH_HLEN, arp.ARP_REQUEST, mac, spa, ZERO_MAC, tpa);
  return ETH_HLEN + arp.ARP_LEN;
}

/**
 * Gratuitous ARP as keepalived sends it (send_gratuitous_arp_immediate): broadcast
 * request with sender = target = VIP and target MAC ff:ff:ff:ff:ff:ff.
 */
export function gratuitousArp(out: Uint8Array, mac: Uint8Array, vip: number): number {
  ethHeader(out, BROADCAST, 0, mac, ETHERTYPE_ARP);
  arp.write(out, ETH_HLEN, arp.ARP_REQUEST, mac, vip, BROADCAST, vip);
  return ETH_HLEN + arp.ARP_LEN;
}

/** Turn the ARP request at `a` in frame b into our reply, in place. Returns the length. */
export function arpReplyInPlace(b: Uint8Array, a: number, mac: Uint8Array): number {
  const spa = arp.senderIp(b, a);
  const tpa = arp.targetIp(b, a);
  copy6(b, 0, b, a + arp.OFF_SHA); // Ethernet dst = requester
  copy6(b, 6, mac, 0);
  writeU16(b, a + arp.OFF_OP, arp.ARP_REPLY);
  copy6(b, a + arp.OFF_THA, b, a + arp.OFF_SHA);
  writeU32(b, a + arp.OFF_TPA, spa);
  copy6(b, a + arp.OFF_SHA, mac, 0);
  writeU32(b, a + arp.OFF_SPA, tpa);
  return a + arp.ARP_LEN;
}

/**
 * ICMP error about the IPv4 packet at b[l3..] from `src`, sent back to the packet's
 * source MAC. Quotes the IP header and 8 bytes of payload (RFC 792).
 */
export function icmpError(
  out: Uint8Array, b: Uint8Array, l3: number, mac: Uint8Array, src: number,
  type: number, code: number, rest: number,
): number {
  const hlen = ipv4.headerLength(b, l3);
  const total = ipv4.totalLength(b, l3);
  const quoted = Math.min(total, hlen + 8);
  ethHeader(out, b, 6, mac, ETHERTYPE_IPV4);
  const o = ETH_HLEN;
  out[o] = 0x45;
  out[o + 1] = 0xc0; // internetwork control, as the kernel's icmp_send uses
  writeU16(out, o + 2, 20 + 8 + quoted);
  writeU16(out, o + 4, 0);
  writeU16(out, o + 6, 0);
  out[o + 8] = 64;
  out[o + 9] = ipv4.PROTO_ICMP;
  writeU32(out, o + 12, src);
  writeU32(out, o + 16, ipv4.src(b, l3));
  ipv4.fillChecksum(out, o);
  const c = o + 20;
  out[c] = type;
  out[c + 1] = code;
  writeU16(out, c + 2, 0);
  writeU32(out, c + 4, rest);
  for (let i = 0; i < quoted; i++) out[c + 8 + i] = b[l3 + i]!;
  writeU16(out, c + 2, checksum(out, c, 8 + quoted));
  return c + 8 + quoted;
}

/** Answer an echo request to the VIP in place (swap addresses and MACs, type 0). */
export function echoReplyInPlace(b: Uint8Array, l3: number, l4: number, mac: Uint8Array): number {
  const total = ipv4.totalLength(b, l3);
  copy6(b, 0, b, 6);
  copy6(b, 6, mac, 0);
  const s = ipv4.src(b, l3);
  writeU32(b, l3 + ipv4.OFF_SRC, ipv4.dst(b, l3));
  writeU32(b, l3 + ipv4.OFF_DST, s);
  b[l3 + ipv4.OFF_TTL] = 64;
  ipv4.fillChecksum(b, l3);
  b[l4] = icmp.ECHO_REPLY;
  writeU16(b, l4 + 2, 0);
  writeU16(b, l4 + 2, checksum(b, l4, total - (l4 - l3)));
  return l3 + total;
}
