/** Test shorthands: an address that must parse (a typo in a test fails loudly, not as null). */
import { parseIPv4 } from '../../src/lvs/addr.js';
import { parseMac } from '../../src/packet/addr.js';

export function ip(text: string): number {
  const a = parseIPv4(text);
  if (a === null) throw new Error(`test address "${text}" is not IPv4`);
  return a;
}

export function mac(text: string): Uint8Array {
  const m = parseMac(text);
  if (m === null) throw new Error(`test MAC "${text}" is not valid`);
  return m;
}
