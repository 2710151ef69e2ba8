/**
 * IPv6 header (RFC 8200 section 3). Offsets are relative to the IPv6 header start `o`.
 * There is no header checksum: a rewrite of an address or the hop limit touches only the
 * upper-layer checksum (RFC 8200 section 8.1, see l4v6.ts).
 */
import { readU16, writeU16 } from './bytes.js';
import { formatIPv6Bytes, parseIPv6, writeAddr6 } from './addr6.js';

export const IPV6_HLEN = 40;
export const OFF_PLEN = 4;
export const OFF_NEXT = 6;
export const OFF_HOPLIMIT = 7;
export const OFF_SRC = 8;
export const OFF_DST = 24;

/** Next Header values (IANA protocol numbers) that matter here. */
export const NEXTHDR_HOP = 0;
export const NEXTHDR_TCP = 6;
export const NEXTHDR_UDP = 17;
export const NEXTHDR_IPV6 = 41;
export const NEXTHDR_ROUTING = 43;
export const NEXTHDR_FRAGMENT = 44;
export const NEXTHDR_ESP = 50;
export const NEXTHDR_AUTH = 51;
export const NEXTHDR_ICMPV6 = 58;
export const NEXTHDR_NONE = 59;
export const NEXTHDR_DEST = 60;

/** RFC 8200 section 5: every link carries at least 1280-byte packets. */
export const IPV6_MIN_MTU = 1280;

export function version(b: Uint8Array, o: number): number {
  return b[o]! >>> 4;
}
/** Traffic class (8 bits across bytes 0 and 1). */
export function trafficClass(b: Uint8Array, o: number): number {
  return ((b[o]! & 0x0f) << 4) | (b[o + 1]! >>> 4);
}
export function flowLabel(b: Uint8Array, o: number): number {
  return ((b[o + 1]! & 0x0f) << 16) | readU16(b, o + 2);
}
/** Bytes after the fixed header (extension headers included). */
export function payloadLength(b: Uint8Array, o: number): number {
  return readU16(b, o + OFF_PLEN);
}
export function nextHeader(b: Uint8Array, o: number): number {
  return b[o + OFF_NEXT]!;
}
export function hopLimit(b: Uint8Array, o: number): number {
  return b[o + OFF_HOPLIMIT]!;
}
/** The hop limit of a forwarded packet (RFC 8200 section 3); the caller drops it at 0 or 1. */
export function decrementHopLimit(b: Uint8Array, o: number): void {
  b[o + OFF_HOPLIMIT] = b[o + OFF_HOPLIMIT]! - 1;
}

/**
 * Offset just past the packet: o + 40 + payload length, or -1 when the frame (`len` bytes
 * from 0) is shorter than that or than the fixed header. Frames may carry Ethernet padding
 * after it, so the end comes from the header, not from `len`.
 */
export function packetEnd(b: Uint8Array, o: number, len: number): number {
  if (len < o + IPV6_HLEN) return -1;
  const end = o + IPV6_HLEN + readU16(b, o + OFF_PLEN);
  return end > len ? -1 : end;
}

export interface IPv6Header {
  trafficClass?: number;
  flowLabel?: number;
  nextHeader: number;
  hopLimit?: number;
  src: string;
  dst: string;
  /** Bytes after the 40-byte header (extension headers included). */
  payloadLength: number;
}

export function encodingLength(_h?: IPv6Header): number {
  return IPV6_HLEN;
}

/** Write the fixed header; returns the offset after it. */
export function encode(h: IPv6Header, b: Uint8Array, o = 0): number {
  const s = parseIPv6(h.src);
  const d = parseIPv6(h.dst);
  if (s === null || d === null) throw new Error(`bad IPv6 address in ${h.src} -> ${h.dst}`);
  const tc = h.trafficClass ?? 0;
  const fl = h.flowLabel ?? 0;
  b[o] = 0x60 | (tc >>> 4);
  b[o + 1] = ((tc & 0x0f) << 4) | ((fl >>> 16) & 0x0f);
  writeU16(b, o + 2, fl & 0xffff);
  writeU16(b, o + OFF_PLEN, h.payloadLength);
  b[o + OFF_NEXT] = h.nextHeader;
  b[o + OFF_HOPLIMIT] = h.hopLimit ?? 64;
  writeAddr6(b, o + OFF_SRC, s, 0);
  writeAddr6(b, o + OFF_DST, d, 0);
  return o + IPV6_HLEN;
}

export interface DecodedIPv6 {
  version: number;
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: string;
  dst: string;
}

export function decode(b: Uint8Array, o = 0): DecodedIPv6 {
  if (b.length < o + IPV6_HLEN) throw new Error('IPv6 header truncated');
  return {
    version: version(b, o),
    trafficClass: trafficClass(b, o),
    flowLabel: flowLabel(b, o),
    payloadLength: payloadLength(b, o),
    nextHeader: nextHeader(b, o),
    hopLimit: hopLimit(b, o),
    src: formatIPv6Bytes(b, o + OFF_SRC),
    dst: formatIPv6Bytes(b, o + OFF_DST),
  };
}
