/**
 * Text forms of IPv4 and MAC addresses. Control plane only: these allocate strings.
 * The IPv4 helpers and the sign rule of addresses are in src/lvs/addr.ts.
 */
export { formatIPv4, parseIPv4, prefixToMask } from '../lvs/addr.js';

export function parseMac(text: string): Uint8Array | null {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(text);
  if (!m) return null;
  return Uint8Array.from(m.slice(1).map((h) => parseInt(h, 16)));
}

export function formatMac(b: Uint8Array, off = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(b[off + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}
