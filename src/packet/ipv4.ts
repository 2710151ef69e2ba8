/**
 * IPv4 header (RFC 791). Offsets are relative to the IP header start `o`.
 * Addresses are signed 32-bit numbers (int32) in the data plane: the sign rule is in src/lvs/addr.ts.
 */
import { readI32, readU16, writeU16, writeU32 } from './bytes.js';
import { checksum, csumReplace16, csumReplace32 } from './checksum.js';
import { formatIPv4, parseIPv4 } from './addr.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../lvs/proto.js';

export const IPV4_MIN_HLEN = 20;
/** The protocol numbers of src/lvs/proto.ts under the names the packet code uses. */
export const PROTO_ICMP = IPPROTO_ICMP;
export const PROTO_TCP = IPPROTO_TCP;
export const PROTO_UDP = IPPROTO_UDP;

export const OFF_TOTLEN = 2;
export const OFF_ID = 4;
export const OFF_FRAG = 6;
export const OFF_TTL = 8;
export const OFF_PROTO = 9;
export const OFF_CHECK = 10;
export const OFF_SRC = 12;
export const OFF_DST = 16;

export const FLAG_DF = 0x4000;
export const FLAG_MF = 0x2000;
export const FRAG_OFFSET_MASK = 0x1fff;

export function version(b: Uint8Array, o: number): number {
  return b[o]! >>> 4;
}
/** Header length in bytes (IHL * 4). */
export function headerLength(b: Uint8Array, o: number): number {
  return (b[o]! & 0x0f) << 2;
}
export function totalLength(b: Uint8Array, o: number): number {
  return readU16(b, o + OFF_TOTLEN);
}
export function fragField(b: Uint8Array, o: number): number {
  return readU16(b, o + OFF_FRAG);
}
/** True for any fragment: MF set or a non-zero offset. */
export function isFragment(b: Uint8Array, o: number): boolean {
  return (readU16(b, o + OFF_FRAG) & (FLAG_MF | FRAG_OFFSET_MASK)) !== 0;
}
export function protocol(b: Uint8Array, o: number): number {
  return b[o + OFF_PROTO]!;
}
export function ttl(b: Uint8Array, o: number): number {
  return b[o + OFF_TTL]!;
}
export function src(b: Uint8Array, o: number): number {
  return readI32(b, o + OFF_SRC);
}
export function dst(b: Uint8Array, o: number): number {
  return readI32(b, o + OFF_DST);
}

/** Header checksum over IHL*4 bytes; 0 when a received header is intact. */
export function verifyHeader(b: Uint8Array, o: number, hlen: number): boolean {
  return checksum(b, o, hlen) === 0;
}

/** verifyHeader for the usual 20-byte header, unrolled (ip_fast_csum): the per-packet check. */
export function verifyHeader20(b: Uint8Array, o: number): boolean {
  let s =
    ((b[o]! << 8) | b[o + 1]!) + ((b[o + 2]! << 8) | b[o + 3]!) + ((b[o + 4]! << 8) | b[o + 5]!) +
    ((b[o + 6]! << 8) | b[o + 7]!) + ((b[o + 8]! << 8) | b[o + 9]!) + ((b[o + 10]! << 8) | b[o + 11]!) +
    ((b[o + 12]! << 8) | b[o + 13]!) + ((b[o + 14]! << 8) | b[o + 15]!) + ((b[o + 16]! << 8) | b[o + 17]!) +
    ((b[o + 18]! << 8) | b[o + 19]!);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

/** Recompute the header checksum in full (ip_send_check). */
export function fillChecksum(b: Uint8Array, o: number): void {
  b[o + OFF_CHECK] = 0;
  b[o + OFF_CHECK + 1] = 0;
  writeU16(b, o + OFF_CHECK, checksum(b, o, headerLength(b, o)));
}

/** Decrement the TTL and patch the header checksum (RFC 1624; TTL is the high byte of word 4). */
export function decrementTtl(b: Uint8Array, o: number): void {
  const old = readU16(b, o + OFF_TTL);
  b[o + OFF_TTL] = b[o + OFF_TTL]! - 1;
  writeU16(b, o + OFF_CHECK, csumReplace16(readU16(b, o + OFF_CHECK), old, old - 0x100));
}

/** Replace the source address and patch the header checksum. */
export function setSrc(b: Uint8Array, o: number, addr: number): void {
  const old = readI32(b, o + OFF_SRC);
  writeU32(b, o + OFF_SRC, addr);
  writeU16(b, o + OFF_CHECK, csumReplace32(readU16(b, o + OFF_CHECK), old, addr));
}

/** Replace the destination address and patch the header checksum. */
export function setDst(b: Uint8Array, o: number, addr: number): void {
  const old = readI32(b, o + OFF_DST);
  writeU32(b, o + OFF_DST, addr);
  writeU16(b, o + OFF_CHECK, csumReplace32(readU16(b, o + OFF_CHECK), old, addr));
}

export interface IPv4Header {
  tos?: number;
  id?: number;
  /** Flags and fragment offset word, e.g. FLAG_DF. */
  frag?: number;
  ttl?: number;
  protocol: number;
  src: string;
  dst: string;
  /** Raw option bytes, padded by encode to a multiple of 4. */
  options?: Uint8Array;
  /** Payload length; total length = header + payloadLength. */
  payloadLength: number;
}

export function encodingLength(h: IPv4Header): number {
  return IPV4_MIN_HLEN + (((h.options?.length ?? 0) + 3) & ~3);
}

/** Write the header with a correct checksum; returns the payload offset. */
export function encode(h: IPv4Header, b: Uint8Array, o = 0): number {
  const hlen = encodingLength(h);
  const s = parseIPv4(h.src);
  const d = parseIPv4(h.dst);
  if (s === null || d === null) throw new Error(`bad IPv4 address in ${h.src} -> ${h.dst}`);
  b[o] = 0x40 | (hlen >>> 2);
  b[o + 1] = h.tos ?? 0;
  writeU16(b, o + OFF_TOTLEN, hlen + h.payloadLength);
  writeU16(b, o + OFF_ID, h.id ?? 0);
  writeU16(b, o + OFF_FRAG, h.frag ?? FLAG_DF);
  b[o + OFF_TTL] = h.ttl ?? 64;
  b[o + OFF_PROTO] = h.protocol;
  writeU32(b, o + OFF_SRC, s);
  writeU32(b, o + OFF_DST, d);
  b.fill(0, o + IPV4_MIN_HLEN, o + hlen);
  if (h.options) b.set(h.options, o + IPV4_MIN_HLEN);
  fillChecksum(b, o);
  return o + hlen;
}

export interface DecodedIPv4 {
  version: number;
  headerLength: number;
  tos: number;
  totalLength: number;
  id: number;
  df: boolean;
  mf: boolean;
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: string;
  dst: string;
}

export function decode(b: Uint8Array, o = 0): DecodedIPv4 {
  if (b.length < o + IPV4_MIN_HLEN) throw new Error('IPv4 header truncated');
  const frag = fragField(b, o);
  return {
    version: version(b, o),
    headerLength: headerLength(b, o),
    tos: b[o + 1]!,
    totalLength: totalLength(b, o),
    id: readU16(b, o + OFF_ID),
    df: (frag & FLAG_DF) !== 0,
    mf: (frag & FLAG_MF) !== 0,
    fragmentOffset: (frag & FRAG_OFFSET_MASK) * 8,
    ttl: ttl(b, o),
    protocol: protocol(b, o),
    checksum: readU16(b, o + OFF_CHECK),
    src: formatIPv4(src(b, o)),
    dst: formatIPv4(dst(b, o)),
  };
}
