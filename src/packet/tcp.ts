/** TCP header (RFC 793). Offsets relative to the TCP header start `t`. */
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';

export const TCP_MIN_HLEN = 20;
export const OFF_SPORT = 0;
export const OFF_DPORT = 2;
export const OFF_SEQ = 4;
export const OFF_ACK = 8;
export const OFF_FLAGS = 13;
export const OFF_CHECK = 16;

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export function dataOffset(b: Uint8Array, t: number): number {
  return (b[t + 12]! >>> 4) << 2;
}
export function flags(b: Uint8Array, t: number): number {
  return b[t + OFF_FLAGS]!;
}

export interface TcpHeader {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags: number;
  window?: number;
  /** Raw option bytes (padded to 4 by encode). */
  options?: Uint8Array;
}

export function encodingLength(h: TcpHeader): number {
  return TCP_MIN_HLEN + (((h.options?.length ?? 0) + 3) & ~3);
}

/** Write the header with a zero checksum (fill it with l4.fillChecksum); returns the payload offset. */
export function encode(h: TcpHeader, b: Uint8Array, t = 0): number {
  const hlen = encodingLength(h);
  writeU16(b, t + OFF_SPORT, h.sport);
  writeU16(b, t + OFF_DPORT, h.dport);
  writeU32(b, t + OFF_SEQ, h.seq ?? 0);
  writeU32(b, t + OFF_ACK, h.ack ?? 0);
  b[t + 12] = (hlen >>> 2) << 4;
  b[t + OFF_FLAGS] = h.flags;
  writeU16(b, t + 14, h.window ?? 65535);
  writeU16(b, t + OFF_CHECK, 0);
  writeU16(b, t + 18, 0);
  b.fill(0, t + TCP_MIN_HLEN, t + hlen);
  if (h.options) b.set(h.options, t + TCP_MIN_HLEN);
  return t + hlen;
}

export function decode(b: Uint8Array, t = 0): Required<Omit<TcpHeader, 'options'>> & { checksum: number; dataOffset: number } {
  return {
    sport: readU16(b, t + OFF_SPORT),
    dport: readU16(b, t + OFF_DPORT),
    seq: readU32(b, t + OFF_SEQ),
    ack: readU32(b, t + OFF_ACK),
    flags: flags(b, t),
    window: readU16(b, t + 14),
    checksum: readU16(b, t + OFF_CHECK),
    dataOffset: dataOffset(b, t),
  };
}
