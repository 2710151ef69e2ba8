// Test-only helpers: fixture loading and an independent RFC 1071 checksum.
import { readFileSync } from 'node:fs';

/** Read a fixtures/vrrp/*.hex file: '#' lines are comments, whitespace is ignored. */
export function loadHexFixture(name: string): Uint8Array {
  const text = readFileSync(new URL(`../../../fixtures/vrrp/${name}`, import.meta.url), 'utf8');
  const hex = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Straightforward RFC 1071 checksum over a list of bytes (big-endian 16-bit words). */
export function refChecksum(bytes: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    const hi = bytes[i] ?? 0;
    const lo = i + 1 < bytes.length ? bytes[i + 1] ?? 0 : 0;
    sum += hi * 256 + lo;
  }
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return 0xffff - sum;
}

export function u32Bytes(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}
