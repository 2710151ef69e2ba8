/**
 * Whole Ethernet frames for VRRP: the advertisement (Ethernet + IPv4 + VRRP) and the
 * gratuitous ARP keepalived sends when it becomes master.
 *
 * Advert IP header as keepalived's vrrp_build_ip4: version 4, IHL 5, TOS 0xC0 (network control),
 * ID 0, no fragment flags, TTL 255 (RFC 3768 §5.2.3), protocol 112, source = primary address
 * (or unicast_src_ip), destination 224.0.0.18 or a unicast peer. keepalived lets the kernel fill
 * the IP header checksum; we compute it here. Ethernet destination for multicast is
 * 01:00:5e + the low 23 bits of the group (RFC 1112 §6.4); for a unicast peer the caller gives the MAC.
 *
 * GARP as keepalived's send_gratuitous_arp_immediate (vrrp_arp.c): Ethernet dst ff:ff:ff:ff:ff:ff,
 * src = interface MAC, type 0x0806; ARP request (op 1), sender = (MAC, VIP),
 * target = (ff:ff:ff:ff:ff:ff, VIP). 42 bytes; the NIC pads to the 60-byte minimum.
 */
import { isIPv4Multicast } from '../lvs/addr.js';
import { formatMac, parseMac } from '../packet/addr.js';
import { readU16, readU32, writeU16, writeU32 } from '../packet/bytes.js';
import { checksum } from '../packet/checksum.js';
import { IPPROTO_VRRP, checksumOk, decode, encode, encodingLength, type VrrpAdvert } from './packet.js';

/** 224.0.0.18, the VRRP group (RFC 3768 §5.2.2). */
export const VRRP_MCAST_GROUP = 0xe0000012;
export const VRRP_IP_TTL = 255;
export const VRRP_IP_TOS = 0xc0;
export const ETH_HLEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_VLAN = 0x8100;
const IPV4_HLEN = 20;
const IPPROTO_AH = 51;
const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export type MacInput = Uint8Array | string;

function macBytes(mac: MacInput): Uint8Array {
  const b = typeof mac === 'string' ? parseMac(mac) : mac;
  if (b === null) throw new Error(`invalid MAC address "${String(mac)}"`);
  if (b.length !== 6) throw new Error(`MAC address must be 6 bytes, got ${b.length}`);
  return b;
}

/** Ethernet multicast address for an IPv4 group: 01:00:5e + low 23 bits (224.0.0.18 -> 01:00:5e:00:00:12). */
export function ipv4MulticastMac(group: number): Uint8Array {
  return new Uint8Array([0x01, 0x00, 0x5e, (group >>> 16) & 0x7f, (group >>> 8) & 0xff, group & 0xff]);
}

export interface AdvertFrameOptions {
  srcMac: MacInput;
  /** Source IPv4: the interface primary address, or unicast_src_ip / mcast_src_ip. */
  srcIp: number;
  /** Defaults to 224.0.0.18. */
  dstIp?: number;
  /** Required when dstIp is unicast (the peer's MAC, resolved by the caller). */
  dstMac?: MacInput;
  /** Defaults to 255. keepalived allows another TTL only for unicast peers. */
  ttl?: number;
}

/** Length of the whole advert frame (no Ethernet padding added). */
export function advertFrameLength(advert: Pick<VrrpAdvert, 'version' | 'addresses'>): number {
  return ETH_HLEN + IPV4_HLEN + encodingLength(advert);
}

/** Build Ethernet + IPv4 + VRRP into a new buffer (or `buf` at `offset`). */
export function buildAdvertFrame(advert: VrrpAdvert, opts: AdvertFrameOptions, buf?: Uint8Array, offset = 0): Uint8Array {
  const dstIp = opts.dstIp ?? VRRP_MCAST_GROUP;
  let dstMac: Uint8Array;
  if (isIPv4Multicast(dstIp)) dstMac = opts.dstMac ? macBytes(opts.dstMac) : ipv4MulticastMac(dstIp);
  else if (opts.dstMac) dstMac = macBytes(opts.dstMac);
  else throw new Error('a unicast VRRP destination needs dstMac');
  const ttl = opts.ttl ?? VRRP_IP_TTL;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw new Error(`TTL must be 1..255, got ${ttl}`);

  const vrrpLen = encodingLength(advert);
  const total = ETH_HLEN + IPV4_HLEN + vrrpLen;
  const out = buf ?? new Uint8Array(offset + total);
  if (offset < 0 || offset + total > out.length) throw new RangeError(`advert frame needs ${total} bytes at offset ${offset}`);

  out.set(dstMac, offset);
  out.set(macBytes(opts.srcMac), offset + 6);
  writeU16(out, offset + 12, ETHERTYPE_IPV4);

  const ip = offset + ETH_HLEN;
  out[ip] = 0x45; // version 4, IHL 5
  out[ip + 1] = VRRP_IP_TOS;
  writeU16(out, ip + 2, IPV4_HLEN + vrrpLen);
  writeU16(out, ip + 4, 0); // ID 0
  writeU16(out, ip + 6, 0); // no DF/MF, offset 0
  out[ip + 8] = ttl;
  out[ip + 9] = IPPROTO_VRRP;
  writeU16(out, ip + 10, 0);
  writeU32(out, ip + 12, opts.srcIp);
  writeU32(out, ip + 16, dstIp);
  writeU16(out, ip + 10, checksum(out, ip, IPV4_HLEN));

  encode(advert, out, ip + IPV4_HLEN, { src: opts.srcIp, dst: dstIp });
  return out;
}

export interface ParsedAdvertFrame {
  dstMac: string;
  srcMac: string;
  /** 802.1Q VLAN id when the frame was tagged. */
  vlan?: number;
  srcIp: number;
  dstIp: number;
  ttl: number;
  tos: number;
  ipChecksumOk: boolean;
  /** VRRP checksum (with the pseudo-header for v3) verified. */
  vrrpChecksumOk: boolean;
  /** Byte offset of the VRRP message inside the frame. */
  vrrpOffset: number;
  /** VRRP message length from the IP total length. */
  vrrpLength: number;
  advert: VrrpAdvert;
}

/**
 * Parse an Ethernet frame carrying a VRRP advert. Throws with a reason when the frame is not
 * one (wrong ethertype or protocol, truncated, fragmented, IP options claiming too much, AH).
 * Semantic checks (TTL, VRID, interval, addresses, auth) are in checks.ts.
 */
export function parseAdvertFrame(frame: Uint8Array, len = frame.length): ParsedAdvertFrame {
  if (len > frame.length) throw new RangeError('frame length exceeds the buffer');
  if (len < ETH_HLEN + IPV4_HLEN) throw new Error(`frame truncated: ${len} bytes`);
  let ethType = readU16(frame, 12);
  let ip = ETH_HLEN;
  let vlan: number | undefined;
  if (ethType === ETHERTYPE_VLAN) {
    vlan = readU16(frame, 14) & 0x0fff;
    ethType = readU16(frame, 16);
    ip += 4;
  }
  if (ethType !== ETHERTYPE_IPV4) throw new Error(`not IPv4: ethertype 0x${ethType.toString(16)}`);
  if (len < ip + IPV4_HLEN) throw new Error(`frame truncated: ${len} bytes`);
  if (frame[ip]! >> 4 !== 4) throw new Error(`IP version ${frame[ip]! >> 4}, expected 4`);
  const ihl = (frame[ip]! & 0x0f) * 4;
  if (ihl < IPV4_HLEN) throw new Error(`bad IPv4 header length ${ihl}`);
  const totLen = readU16(frame, ip + 2);
  if (totLen < ihl || ip + totLen > len) throw new Error(`IPv4 total length ${totLen} does not fit the frame`);
  if ((readU16(frame, ip + 6) & 0x3fff) !== 0) throw new Error('fragmented VRRP packet');
  const proto = frame[ip + 9]!;
  if (proto === IPPROTO_AH) throw new Error('IPsec AH authentication is not supported');
  if (proto !== IPPROTO_VRRP) throw new Error(`IP protocol ${proto}, expected ${IPPROTO_VRRP}`);
  const srcIp = readU32(frame, ip + 12);
  const dstIp = readU32(frame, ip + 16);
  const vrrpOffset = ip + ihl;
  const vrrpLength = totLen - ihl;
  const advert = decode(frame, vrrpOffset, vrrpLength);
  const msgLen = decode.bytes;
  const parsed: ParsedAdvertFrame = {
    dstMac: formatMac(frame, 0),
    srcMac: formatMac(frame, 6),
    srcIp,
    dstIp,
    ttl: frame[ip + 8]!,
    tos: frame[ip + 1]!,
    ipChecksumOk: checksum(frame, ip, ihl) === 0,
    vrrpChecksumOk: checksumOk(frame, vrrpOffset, msgLen, { src: srcIp, dst: dstIp }),
    vrrpOffset,
    vrrpLength,
    advert,
  };
  if (vlan !== undefined) parsed.vlan = vlan;
  return parsed;
}

export const GARP_FRAME_LENGTH = ETH_HLEN + 28;

/** Gratuitous ARP request for `vip` from `srcMac` (send_gratuitous_arp_immediate). */
export function buildGarpFrame(vip: number, srcMac: MacInput, buf?: Uint8Array, offset = 0): Uint8Array {
  const mac = macBytes(srcMac);
  const out = buf ?? new Uint8Array(offset + GARP_FRAME_LENGTH);
  if (offset < 0 || offset + GARP_FRAME_LENGTH > out.length) throw new RangeError(`GARP frame needs ${GARP_FRAME_LENGTH} bytes`);
  out.set(BROADCAST_MAC, offset);
  out.set(mac, offset + 6);
  writeU16(out, offset + 12, ETHERTYPE_ARP);
  const a = offset + ETH_HLEN;
  writeU16(out, a, 1); // hardware type Ethernet
  writeU16(out, a + 2, ETHERTYPE_IPV4);
  out[a + 4] = 6;
  out[a + 5] = 4;
  writeU16(out, a + 6, 1); // op: request
  out.set(mac, a + 8);
  writeU32(out, a + 14, vip);
  out.set(BROADCAST_MAC, a + 18);
  writeU32(out, a + 24, vip);
  return out;
}
