/** UDP header (RFC 768). Offsets relative to the UDP header start `u`. */
import { readU16, writeU16 } from './bytes.js';

export const UDP_HLEN = 8;
export const OFF_SPORT = 0;
export const OFF_DPORT = 2;
export const OFF_LEN = 4;
export const OFF_CHECK = 6;

export interface UdpHeader {
  sport: number;
  dport: number;
  length: number;
}

/** Write the header with a zero checksum; returns the payload offset. */
export function encode(h: UdpHeader, b: Uint8Array, u = 0): number {
  writeU16(b, u + OFF_SPORT, h.sport);
  writeU16(b, u + OFF_DPORT, h.dport);
  writeU16(b, u + OFF_LEN, h.length);
  writeU16(b, u + OFF_CHECK, 0);
  return u + UDP_HLEN;
}

export function decode(b: Uint8Array, u = 0): UdpHeader & { checksum: number } {
  return {
    sport: readU16(b, u + OFF_SPORT),
    dport: readU16(b, u + OFF_DPORT),
    length: readU16(b, u + OFF_LEN),
    checksum: readU16(b, u + OFF_CHECK),
  };
}
