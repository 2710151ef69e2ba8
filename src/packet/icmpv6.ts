/**
 * ICMPv6 (RFC 4443). Offsets relative to the ICMPv6 header start `c`; the IPv6 header of
 * the message at `o`. The checksum covers the IPv6 pseudo-header (RFC 4443 2.3), see
 * l4v6.ts. An error message quotes the invoking packet from its IPv6 header on, right
 * after the 8-byte ICMPv6 header (RFC 4443 2.1, 3.x).
 */
import { readU16, writeU16, writeU32 } from './bytes.js';
import { copy16 } from './addr6.js';
import { checksum } from './checksum.js';
import { IPV6_HLEN, IPV6_MIN_MTU, NEXTHDR_ICMPV6, OFF_DST, OFF_HOPLIMIT, OFF_NEXT, OFF_PLEN, OFF_SRC } from './ipv6.js';
import { pseudoHeaderSum6 } from './l4v6.js';

export const ICMPV6_HLEN = 8;
export const OFF_CHECK = 2;
/** The 4 bytes after the checksum: MTU (Packet Too Big), pointer (Parameter Problem), echo id/seq. */
export const OFF_REST = 4;

export const DEST_UNREACH = 1;
export const PKT_TOOBIG = 2;
export const TIME_EXCEED = 3;
export const PARAMPROB = 4;
export const ECHO_REQUEST = 128;
export const ECHO_REPLY = 129;
export const ROUTER_SOLICIT = 133;
export const ROUTER_ADVERT = 134;
export const NEIGHBOUR_SOLICIT = 135;
export const NEIGHBOUR_ADVERT = 136;
export const REDIRECT = 137;

/** Destination Unreachable codes (RFC 4443 3.1). */
export const CODE_NOROUTE = 0;
export const CODE_ADM_PROHIBITED = 1;
export const CODE_ADDR_UNREACH = 3;
export const CODE_PORT_UNREACH = 4;

/** RFC 4443 2.1: types 0..127 are errors, 128..255 informational (ICMPV6_INFOMSG_MASK). */
export const INFOMSG_MASK = 0x80;

export function type(b: Uint8Array, c: number): number {
  return b[c]!;
}
export function code(b: Uint8Array, c: number): number {
  return b[c + 1]!;
}
export function isError(t: number): boolean {
  return (t & INFOMSG_MASK) === 0;
}

/**
 * Errors IPVS relates to a connection: ip_vs_in_icmp_v6 / ip_vs_out_icmp_v6 take every
 * error type (anything without ICMPV6_INFOMSG_MASK), where the IPv4 path takes only
 * unreachable, source quench and time exceeded.
 */
export function isRelatedError6(t: number): boolean {
  return isError(t);
}

/** The MTU field of a Packet Too Big message (RFC 4443 3.2). */
export function mtu(b: Uint8Array, c: number): number {
  return ((b[c + 4]! << 24) | (b[c + 5]! << 16) | (b[c + 6]! << 8) | b[c + 7]!) >>> 0;
}
/** Rewrite the MTU of a Packet Too Big message (the caller patches the checksum). */
export function setMtu(b: Uint8Array, c: number, value: number): void {
  writeU32(b, c + OFF_REST, value);
}

/**
 * Offset of the quoted invoking packet's IPv6 header in an error message, or -1 when the
 * message (ending at `end`) cannot hold a fixed IPv6 header there. The quote may be cut
 * short after it; find its upper layer with ipv6-ext.findUpperLayer(b, inner, end, ...).
 */
export function innerOffset(b: Uint8Array, c: number, end: number): number {
  const inner = c + ICMPV6_HLEN;
  if (inner + IPV6_HLEN > end || b[inner]! >>> 4 !== 6) return -1;
  return inner;
}

/** Store the checksum of the ICMPv6 message at c (l4len bytes) of the IPv6 packet at o. */
export function fillChecksum(b: Uint8Array, o: number, c: number, l4len: number): void {
  writeU16(b, c + OFF_CHECK, 0);
  writeU16(b, c + OFF_CHECK, checksum(b, c, l4len, pseudoHeaderSum6(b, o, NEXTHDR_ICMPV6, l4len)));
}

export function verifyChecksum(b: Uint8Array, o: number, c: number, l4len: number): boolean {
  return checksum(b, c, l4len, pseudoHeaderSum6(b, o, NEXTHDR_ICMPV6, l4len)) === 0;
}

/**
 * Write an ICMPv6 error about the invoking packet b[inv, inv + invLen) (from its IPv6
 * header) into out[o ..]: IPv6 header from `src` (16 bytes at srcBuf[srcOff]) to the
 * invoking packet's source, the ICMPv6 header with `rest` (the MTU for Packet Too Big),
 * and as much of the invoking packet as keeps the whole message within 1280 bytes (RFC
 * 4443 2.4 (c)). Returns the offset just past the message. `out` must be another buffer
 * than `b` (a transmit scratch frame). No allocation: the director's own Packet Too Big
 * (ip_vs_xmit's icmpv6_send(ICMPV6_PKT_TOOBIG)) comes from the hot path.
 */
export function writeError(
  out: Uint8Array, o: number, srcBuf: Uint8Array, srcOff: number,
  t: number, cd: number, rest: number, b: Uint8Array, inv: number, invLen: number, hopLimit = 64,
): number {
  const quoted = Math.min(invLen, IPV6_MIN_MTU - IPV6_HLEN - ICMPV6_HLEN);
  const l4len = ICMPV6_HLEN + quoted;
  out[o] = 0x60;
  out[o + 1] = 0;
  out[o + 2] = 0;
  out[o + 3] = 0;
  writeU16(out, o + OFF_PLEN, l4len);
  out[o + OFF_NEXT] = NEXTHDR_ICMPV6;
  out[o + OFF_HOPLIMIT] = hopLimit;
  copy16(out, o + OFF_SRC, srcBuf, srcOff);
  copy16(out, o + OFF_DST, b, inv + OFF_SRC);
  const c = o + IPV6_HLEN;
  out[c] = t;
  out[c + 1] = cd;
  writeU32(out, c + OFF_REST, rest);
  const q = c + ICMPV6_HLEN;
  for (let k = 0; k < quoted; k++) out[q + k] = b[inv + k]!;
  fillChecksum(out, o, c, l4len);
  return c + l4len;
}

export interface Icmpv6Header {
  type: number;
  code: number;
  /** The 4 bytes after the checksum. */
  rest: number;
}

export function encodingLength(_h?: Icmpv6Header): number {
  return ICMPV6_HLEN;
}

/** Write the header with a zero checksum; returns the body offset. */
export function encode(h: Icmpv6Header, b: Uint8Array, c = 0): number {
  b[c] = h.type;
  b[c + 1] = h.code;
  writeU16(b, c + OFF_CHECK, 0);
  writeU32(b, c + OFF_REST, h.rest);
  return c + ICMPV6_HLEN;
}

export function decode(b: Uint8Array, c = 0): Icmpv6Header & { checksum: number } {
  return {
    type: b[c]!,
    code: b[c + 1]!,
    checksum: readU16(b, c + OFF_CHECK),
    rest: mtu(b, c),
  };
}
