/** ICMP for IPv4 (RFC 792). Offsets relative to the ICMP header start `c`. */
import { readU16, writeU16 } from './bytes.js';

export const ICMP_HLEN = 8;
export const OFF_CHECK = 2;

export const ECHO_REPLY = 0;
export const DEST_UNREACH = 3;
export const SOURCE_QUENCH = 4;
export const ECHO_REQUEST = 8;
export const TIME_EXCEEDED = 11;

export const CODE_PORT_UNREACH = 3;
export const CODE_FRAG_NEEDED = 4;

/** Errors IPVS relates to a connection (ip_vs_in_icmp / ip_vs_out_icmp). */
export function isRelatedError(type: number): boolean {
  return type === DEST_UNREACH || type === SOURCE_QUENCH || type === TIME_EXCEEDED;
}

export interface IcmpHeader {
  type: number;
  code: number;
  /** The 4 bytes after the checksum: echo id/seq, or the next-hop MTU for "frag needed". */
  rest: number;
}

/** Write the header with a zero checksum; returns the payload offset. */
export function encode(h: IcmpHeader, b: Uint8Array, c = 0): number {
  b[c] = h.type;
  b[c + 1] = h.code;
  writeU16(b, c + OFF_CHECK, 0);
  writeU16(b, c + 4, h.rest >>> 16);
  writeU16(b, c + 6, h.rest & 0xffff);
  return c + ICMP_HLEN;
}

export function decode(b: Uint8Array, c = 0): IcmpHeader & { checksum: number } {
  return {
    type: b[c]!,
    code: b[c + 1]!,
    checksum: readU16(b, c + OFF_CHECK),
    rest: ((readU16(b, c + 4) << 16) | readU16(b, c + 6)) >>> 0,
  };
}
