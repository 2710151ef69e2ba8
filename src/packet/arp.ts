/** ARP for IPv4 over Ethernet (RFC 826). Offsets are relative to the ARP header. */
import { copy6, readI32, readU16, writeU16, writeU32 } from './bytes.js';
import { formatIPv4, formatMac } from './addr.js';

export const ARP_LEN = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export const OFF_OP = 6;
export const OFF_SHA = 8;
export const OFF_SPA = 14;
export const OFF_THA = 18;
export const OFF_TPA = 24;

/** htype Ethernet, ptype IPv4, hlen 6, plen 4: the only ARP the engine speaks. */
export function isEthernetIPv4(b: Uint8Array, a: number): boolean {
  return b[a] === 0 && b[a + 1] === 1 && b[a + 2] === 0x08 && b[a + 3] === 0 && b[a + 4] === 6 && b[a + 5] === 4;
}

export function op(b: Uint8Array, a: number): number {
  return readU16(b, a + OFF_OP);
}
export function senderIp(b: Uint8Array, a: number): number {
  return readI32(b, a + OFF_SPA);
}
export function targetIp(b: Uint8Array, a: number): number {
  return readI32(b, a + OFF_TPA);
}

/** Write a complete ARP header (Ethernet/IPv4) at `a`. */
export function write(
  b: Uint8Array, a: number, opcode: number,
  sha: Uint8Array, spa: number, tha: Uint8Array, tpa: number,
): void {
  b[a] = 0; b[a + 1] = 1; b[a + 2] = 0x08; b[a + 3] = 0; b[a + 4] = 6; b[a + 5] = 4;
  writeU16(b, a + OFF_OP, opcode);
  copy6(b, a + OFF_SHA, sha, 0);
  writeU32(b, a + OFF_SPA, spa);
  copy6(b, a + OFF_THA, tha, 0);
  writeU32(b, a + OFF_TPA, tpa);
}

export interface ArpPacket {
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

export function decode(b: Uint8Array, a = 0): ArpPacket {
  if (b.length < a + ARP_LEN || !isEthernetIPv4(b, a)) throw new Error('not an Ethernet/IPv4 ARP packet');
  return {
    op: op(b, a),
    senderMac: formatMac(b, a + OFF_SHA),
    senderIp: formatIPv4(senderIp(b, a)),
    targetMac: formatMac(b, a + OFF_THA),
    targetIp: formatIPv4(targetIp(b, a)),
  };
}
