/**
 * VRRPv3 advertisements over IPv6 (RFC 9568 §5), the codec and the whole frame, for IPv6
 * VIPs (issue 16; not wired into the VRRP runner yet). The message is packet.ts's v3
 * layout with 16-byte addresses:
 *
 *   byte 0 version 3 << 4 | type 1, VRID, priority, count of IPv6 addresses,
 *   4 reserved bits + 12-bit max advert interval (centiseconds), checksum,
 *   count x 16 bytes of addresses (RFC 9568 §5.2.9: the first is the link-local one)
 *
 * Checksum over the message and the IPv6 pseudo-header with next header 112 (RFC 9568
 * §5.2.8, RFC 8200 §8.1). IPv6 header (§5.1.2): hop limit 255, next header 112, source
 * the interface's link-local address, destination ff02::12; Ethernet destination
 * 33:33:00:00:00:12 (RFC 2464 §7). The virtual router MAC is 00:00:5e:00:02:{VRID} (§7.3).
 * Contract as packet.ts (dns-packet): encode(obj, buf?, offset?), decode(buf, offset?, len?).
 */
import { formatIPv6Bytes, ipv6Bytes } from '../packet/addr6.js';
import { checksum } from '../packet/checksum.js';
import { IPV6_HLEN, OFF_DST, OFF_SRC } from '../packet/ipv6.js';
import { pseudoHeaderSum6 } from '../packet/l4v6.js';
import { readU16, writeU16 } from '../packet/bytes.js';
import { IPPROTO_VRRP, VRRP_TYPE_ADVERTISEMENT } from './packet.js';

export const VRRP6_MCAST_GROUP = 'ff02::12';
export const VRRP6_HOP_LIMIT = 255;
const HEADER_LEN = 8;
const ETH_HLEN = 14;
const ETHERTYPE_IPV6 = 0x86dd;

export interface Vrrp6Advert {
  vrid: number;
  priority: number;
  /** Max advert interval in centiseconds (1..4095). */
  adverInt: number;
  /** IPv6 VIPs as text; decode gives inet_ntop's canonical form. */
  addresses: string[];
  type?: number;
  /** As decoded; ignored on encode (always computed). */
  checksum?: number;
}

/** The IPv6 source and destination the checksum's pseudo-header covers (text). */
export interface Ipv6Pair {
  src: string;
  dst: string;
}

export function encodingLength(obj: Pick<Vrrp6Advert, 'addresses'>): number {
  return HEADER_LEN + 16 * obj.addresses.length;
}

/** 00:00:5e:00:02:{VRID}, the IPv6 virtual router MAC (RFC 9568 §7.3). */
export function ipv6VirtualRouterMac(vrid: number): Uint8Array {
  return Uint8Array.from([0, 0, 0x5e, 0, 2, vrid & 0xff]);
}

function addrOrThrow(text: string): Uint8Array {
  const b = ipv6Bytes(text);
  if (b === null) throw new Error(`not an IPv6 address: '${text}'`);
  return b;
}

/** Checksum of the message at buf[offset, offset+length) with a pseudo-header from the 32 bytes at pseudo[at]. */
function sumWith(buf: Uint8Array, offset: number, length: number, pseudo: Uint8Array, at: number): number {
  // pseudoHeaderSum6 reads the two addresses at at+8 .. at+40 (an IPv6 header's layout).
  return checksum(buf, offset, length, pseudoHeaderSum6(pseudo, at, IPPROTO_VRRP, length));
}

function pairHeader(ip: Ipv6Pair): Uint8Array {
  const h = new Uint8Array(IPV6_HLEN);
  h.set(addrOrThrow(ip.src), OFF_SRC);
  h.set(addrOrThrow(ip.dst), OFF_DST);
  return h;
}

function encodeImpl(obj: Vrrp6Advert, ip: Ipv6Pair, buf?: Uint8Array, offset = 0): Uint8Array {
  if (!Number.isInteger(obj.vrid) || obj.vrid < 1 || obj.vrid > 255) throw new Error(`VRID must be 1..255, got ${obj.vrid}`);
  if (!Number.isInteger(obj.priority) || obj.priority < 0 || obj.priority > 255) throw new Error(`priority must be 0..255, got ${obj.priority}`);
  if (!Number.isInteger(obj.adverInt) || obj.adverInt < 1 || obj.adverInt > 4095) throw new Error(`v3 advert interval must be 1..4095, got ${obj.adverInt}`);
  if (obj.addresses.length > 255) throw new Error(`at most 255 addresses fit the count byte, got ${obj.addresses.length}`);
  const len = encodingLength(obj);
  const out = buf ?? new Uint8Array(offset + len);
  if (offset < 0 || offset + len > out.length) throw new RangeError(`VRRP encode needs ${len} bytes at offset ${offset}, buffer has ${out.length}`);
  out[offset] = (3 << 4) | (obj.type ?? VRRP_TYPE_ADVERTISEMENT);
  out[offset + 1] = obj.vrid;
  out[offset + 2] = obj.priority;
  out[offset + 3] = obj.addresses.length;
  writeU16(out, offset + 4, obj.adverInt & 0x0fff);
  writeU16(out, offset + 6, 0);
  obj.addresses.forEach((a, i) => out.set(addrOrThrow(a), offset + HEADER_LEN + 16 * i));
  writeU16(out, offset + 6, sumWith(out, offset, len, pairHeader(ip), 0));
  encode.bytes = len;
  return out;
}

/** Encode an IPv6 advert; the checksum covers the pseudo-header of `ip`. */
export const encode = Object.assign(encodeImpl, { bytes: 0 });

function decodeImpl(buf: Uint8Array, offset = 0, len?: number): Vrrp6Advert {
  const end = len === undefined ? buf.length : offset + len;
  if (offset < 0 || end > buf.length) throw new RangeError('VRRP decode range is outside the buffer');
  if (end - offset < HEADER_LEN) throw new Error(`VRRP packet truncated: ${end - offset} bytes, header needs ${HEADER_LEN}`);
  const version = buf[offset]! >> 4;
  if (version !== 3) throw new Error(`VRRP over IPv6 is version 3 only, got ${version}`);
  const count = buf[offset + 3]!;
  const need = HEADER_LEN + 16 * count;
  if (end - offset < need) throw new Error(`VRRP packet truncated: ${end - offset} bytes, ${count} IPv6 addresses need ${need}`);
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) addresses.push(formatIPv6Bytes(buf, offset + HEADER_LEN + 16 * i));
  decode.bytes = need;
  return {
    type: buf[offset]! & 0x0f, vrid: buf[offset + 1]!, priority: buf[offset + 2]!,
    adverInt: readU16(buf, offset + 4) & 0x0fff, addresses, checksum: readU16(buf, offset + 6),
  };
}

/** Decode; does not verify the checksum (checksumOk does, with the addresses of the IPv6 header). */
export const decode = Object.assign(decodeImpl, { bytes: 0 });

/** True when the message at buf[offset, offset+length) has a correct checksum for the IPv6 header at buf[ip]. */
export function checksumOk(buf: Uint8Array, offset: number, length: number, ip: number): boolean {
  if (length < HEADER_LEN || offset + length > buf.length) return false;
  return sumWith(buf, offset, length, buf, ip) === 0;
}

export interface Advert6FrameOptions {
  /** The interface MAC, or ipv6VirtualRouterMac(vrid) with use_vmac. */
  srcMac: Uint8Array;
  /** The interface's link-local address (RFC 9568 §5.1.2.1). */
  srcIp: string;
}

/** Ethernet + IPv6 + VRRPv3 to ff02::12 (33:33:00:00:00:12), hop limit 255. */
export function buildAdvert6Frame(advert: Vrrp6Advert, opts: Advert6FrameOptions): Uint8Array {
  const vlen = encodingLength(advert);
  const f = new Uint8Array(ETH_HLEN + IPV6_HLEN + vlen);
  f.set([0x33, 0x33, 0, 0, 0, 0x12], 0);
  f.set(opts.srcMac.subarray(0, 6), 6);
  writeU16(f, 12, ETHERTYPE_IPV6);
  const o = ETH_HLEN;
  f[o] = 0x60;
  writeU16(f, o + 4, vlen);
  f[o + 6] = IPPROTO_VRRP;
  f[o + 7] = VRRP6_HOP_LIMIT;
  f.set(addrOrThrow(opts.srcIp), o + OFF_SRC);
  f.set(addrOrThrow(VRRP6_MCAST_GROUP), o + OFF_DST);
  encode(advert, { src: opts.srcIp, dst: VRRP6_MCAST_GROUP }, f, o + IPV6_HLEN);
  return f;
}

/**
 * The advert in an Ethernet frame, with what RFC 9568 §7.1 has a receiver check first:
 * next header 112, hop limit 255, a correct checksum. Throws a one-line reason otherwise.
 */
export function parseAdvert6Frame(f: Uint8Array, len = f.length): { advert: Vrrp6Advert; srcIp: string; dstIp: string } {
  if (len < ETH_HLEN + IPV6_HLEN + HEADER_LEN || readU16(f, 12) !== ETHERTYPE_IPV6) throw new Error('not an IPv6 frame long enough for VRRP');
  const o = ETH_HLEN;
  if (f[o]! >>> 4 !== 6 || f[o + 6] !== IPPROTO_VRRP) throw new Error('not a VRRP packet (next header 112, no extension headers)');
  if (f[o + 7] !== VRRP6_HOP_LIMIT) throw new Error(`VRRP hop limit ${f[o + 7]} is not 255`);
  const plen = readU16(f, o + 4);
  if (o + IPV6_HLEN + plen > len) throw new Error('IPv6 payload length beyond the frame');
  if (!checksumOk(f, o + IPV6_HLEN, plen, o)) throw new Error('bad VRRP checksum');
  const advert = decode(f, o + IPV6_HLEN, plen);
  return { advert, srcIp: formatIPv6Bytes(f, o + OFF_SRC), dstIp: formatIPv6Bytes(f, o + OFF_DST) };
}
