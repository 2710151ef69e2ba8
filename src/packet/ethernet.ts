/**
 * Ethernet II, with at most one IEEE 802.1Q tag (the tag is kept as received).
 * Hot-path accessors take the frame and offsets; decode/encode are for tests and tools.
 */
import { copy6, readU16, writeU16 } from './bytes.js';
import { formatMac, parseMac } from './addr.js';

export const ETH_HLEN = 14;
export const ETH_ALEN = 6;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;

export const OFF_DST = 0;
export const OFF_SRC = 6;

/**
 * Offset of the L3 header: 14, or 18 behind one 802.1Q tag.
 * Returns -1 for a frame too short to hold the header(s).
 */
export function l3Offset(b: Uint8Array, len: number): number {
  if (len < ETH_HLEN) return -1;
  if (b[12] === 0x81 && b[13] === 0x00) return len < ETH_HLEN + 4 ? -1 : ETH_HLEN + 4;
  return ETH_HLEN;
}

/** EtherType of the payload that starts at l3 (after any tag). */
export function etherType(b: Uint8Array, l3: number): number {
  return readU16(b, l3 - 2);
}

/** Set source and destination MACs for a frame leaving on an interface. */
export function setMacs(b: Uint8Array, dst: Uint8Array, dstOff: number, src: Uint8Array): void {
  copy6(b, OFF_DST, dst, dstOff);
  copy6(b, OFF_SRC, src, 0);
}

export interface EthernetHeader {
  dst: string;
  src: string;
  /** 802.1Q VLAN id when tagged. */
  vlan?: number;
  etherType: number;
}

export function decode(b: Uint8Array, len = b.length): EthernetHeader {
  const l3 = l3Offset(b, len);
  if (l3 < 0) throw new Error(`Ethernet frame too short: ${len} bytes`);
  const h: EthernetHeader = { dst: formatMac(b, 0), src: formatMac(b, 6), etherType: etherType(b, l3) };
  if (l3 === 18) h.vlan = readU16(b, 14) & 0x0fff;
  return h;
}

export function encodingLength(h: EthernetHeader): number {
  return h.vlan === undefined ? ETH_HLEN : ETH_HLEN + 4;
}

/** Write the header at `off`; returns the offset of the L3 header. */
export function encode(h: EthernetHeader, b: Uint8Array, off = 0): number {
  const dst = parseMac(h.dst);
  const src = parseMac(h.src);
  if (!dst || !src) throw new Error(`bad MAC address in ${JSON.stringify(h)}`);
  copy6(b, off, dst, 0);
  copy6(b, off + 6, src, 0);
  let o = off + 12;
  if (h.vlan !== undefined) {
    writeU16(b, o, ETHERTYPE_VLAN);
    writeU16(b, o + 2, h.vlan & 0x0fff);
    o += 4;
  }
  writeU16(b, o, h.etherType);
  return o + 2;
}
