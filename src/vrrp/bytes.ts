/**
 * Minimal byte helpers for the VRRP codecs: the Internet checksum (RFC 1071),
 * IPv4 and MAC address conversions. Local on purpose: this area must not depend
 * on src/packet/ (owned by the data plane).
 *
 * IPv4 addresses are unsigned 32-bit numbers in host byte order (10.0.0.1 = 0x0a000001),
 * as everywhere else in the project (see src/sched/types.ts).
 */

/**
 * One's-complement sum of 16-bit big-endian words of buf[start, end), added to `initial`,
 * folded to 16 bits but NOT complemented, so partial sums (pseudo-header + body) can chain.
 * An odd trailing byte is padded with a zero byte (RFC 1071 §4.1).
 */
export function onesComplementSum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The Internet checksum of buf[start, end) (RFC 1071): the complemented one's-complement sum. */
export function internetChecksum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  return ~onesComplementSum(buf, start, end, initial) & 0xffff;
}

/** Sum of the IPv4 pseudo-header {src, dst, 0, proto, len} used by VRRPv3 (RFC 5798 §5.2.8). */
export function ipv4PseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  let sum = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function readU16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

export function writeU16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** "192.168.0.141" -> 0xc0a8008d. Throws on anything that is not a dotted quad. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`invalid IPv4 address "${text}"`);
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`invalid IPv4 address "${text}"`);
    v = v * 256 + Number(p);
  }
  return v >>> 0;
}

export function formatIpv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** True for 224.0.0.0/4 (IN_MULTICAST). */
export function isIpv4Multicast(addr: number): boolean {
  return addr >>> 28 === 0xe;
}

/** "00:11:22:aa:bb:cc" (or with '-') -> 6 bytes. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new Error(`invalid MAC address "${text}"`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(buf: Uint8Array, off = 0): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(buf[off + i]!.toString(16).padStart(2, '0'));
  return out.join(':');
}
