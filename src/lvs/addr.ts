/**
 * IPv4 addresses as numbers, and the one sign rule.
 *
 * An address is the 32-bit value of its four bytes in host order (10.0.0.1 = 0x0a000001).
 * - Data plane (src/dataplane/, src/table/, src/packet/ readers): int32, `addr | 0`. V8 keeps int32
 *   values unboxed (Smi) while an unsigned value >= 2^31 (every address from 128.0.0.0 up) is a
 *   heap number, an allocation per packet (packet/bytes.ts readI32).
 * - Everything else (control plane, config, health, VRRP, sync wire codecs, diagnostics): unsigned,
 *   `addr >>> 0`, so addresses compare and sort as the kernel's host-order values do.
 * Convert at the boundary with u32()/i32(); compare values of unknown sign with sameAddr().
 * formatIPv4 accepts either sign. Dependency-free.
 */

/** The unsigned form (control plane). */
export function u32(addr: number): number {
  return addr >>> 0;
}

/** The int32 form (data plane). */
export function i32(addr: number): number {
  return addr | 0;
}

/** True when a and b are the same address, whatever sign each is in. */
export function sameAddr(a: number, b: number): boolean {
  return (a | 0) === (b | 0);
}

const DOTTED = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** "10.0.0.1" -> 0x0a000001 (unsigned), or null when the text is not a dotted quad (no leading zeros). */
export function parseIPv4(text: string): number | null {
  const m = DOTTED.exec(text);
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const p = Number(m[i]);
    if (p > 255) return null;
    v = v * 256 + p;
  }
  return v;
}

/** Dotted-quad text of an address of either sign. */
export function formatIPv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** Netmask (unsigned) of a prefix length 0..32. */
export function prefixToMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** True for 224.0.0.0/4 (the kernel's ipv4_is_multicast). */
export function isIPv4Multicast(addr: number): boolean {
  return addr >>> 28 === 0xe;
}
