/**
 * The libc address conversions ipvsadm relies on, as pure functions:
 * inet_aton (lenient: "10.1", "0x0a.0.0.1", octal parts), inet_pton (strict
 * IPv4 and IPv6) and inet_ntop (glibc's IPv6 zero-run compression).
 * IPv4 values are unsigned 32-bit numbers in host order.
 */
import { formatGroups6 } from '../../packet/addr6.js';

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isSpace = (c: string | undefined): boolean => c !== undefined && ' \t\n\v\f\r'.includes(c);

/** strtoul(s + i, &end, 0) for a string starting with a digit: value and end index. */
function strtoulBase0(s: string, i: number): { value: number; end: number } {
  let base = 10;
  let j = i;
  if (s[j] === '0') {
    if ((s[j + 1] === 'x' || s[j + 1] === 'X') && /[0-9a-fA-F]/.test(s[j + 2] ?? '')) {
      base = 16;
      j += 2;
    } else {
      base = 8;
    }
  }
  let value = 0;
  for (; j < s.length; j++) {
    const d = parseInt(s[j] as string, 16);
    if (Number.isNaN(d) || d >= base) break;
    // Saturate: anything past 2^32 is rejected by the caller anyway.
    value = Math.min(value * base + d, 2 ** 40);
  }
  return { value, end: j };
}

/** glibc inet_aton (inet_aton_end): 1 to 4 parts, the last one fills the remaining bytes. */
export function inetAton(s: string): number | undefined {
  const parts: number[] = [];
  let i = 0;
  let val = 0;
  for (;;) {
    if (!isDigit(s[i])) return undefined;
    const r = strtoulBase0(s, i);
    if (r.value > 0xffffffff) return undefined;
    val = r.value;
    i = r.end;
    if (s[i] !== '.') break;
    if (parts.length > 2 || val > 0xff) return undefined;
    parts.push(val);
    i++;
  }
  // Trailing text is allowed after white space, as in glibc.
  if (i < s.length && !isSpace(s[i])) return undefined;
  const limits = [0xffffffff, 0xffffff, 0xffff, 0xff];
  if (val > (limits[parts.length] as number)) return undefined;
  let addr = val;
  parts.forEach((p, k) => {
    addr += p * 2 ** (24 - 8 * k);
  });
  return addr >>> 0;
}

/** inet_pton(AF_INET): exactly four decimal parts, no leading zeros. */
export function inetPton4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m === null) return undefined;
  let addr = 0;
  for (let k = 1; k <= 4; k++) {
    const part = m[k] as string;
    if (part.length > 1 && part[0] === '0') return undefined;
    const v = Number(part);
    if (v > 255) return undefined;
    addr = addr * 256 + v;
  }
  return addr;
}

/** inet_pton(AF_INET6): eight 16-bit words, or undefined. */
export function inetPton6(s: string): number[] | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseSide = (side: string, mayEndInV4: boolean): number[] | undefined => {
    if (side === '') return [];
    const groups = side.split(':');
    const words: number[] = [];
    for (let k = 0; k < groups.length; k++) {
      const g = groups[k] as string;
      if (mayEndInV4 && k === groups.length - 1 && g.includes('.')) {
        const v4 = inetPton4(g);
        if (v4 === undefined) return undefined;
        words.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        words.push(parseInt(g, 16));
      }
    }
    return words;
  };
  const [left, right] = halves as [string, string | undefined];
  if (right === undefined) {
    const words = parseSide(left, true);
    return words !== undefined && words.length === 8 ? words : undefined;
  }
  const head = parseSide(left, false);
  const tail = parseSide(right, true);
  // "::" must stand for at least one zero word.
  if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

export function ntop4(addr: number): string {
  return [addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff].join('.');
}

/** glibc inet_ntop6 (the one implementation is packet/addr6.ts formatGroups6). */
export function ntop6(words: readonly number[]): string {
  return formatGroups6(words);
}

export type AddressFamily = 'inet' | 'inet6';

export function familyOf(addr: string): AddressFamily {
  return addr.includes(':') ? 'inet6' : 'inet';
}

/**
 * An address as unsigned 32-bit words in network order (1 word for IPv4, 4 for
 * IPv6), what libipvs compares with ntohl(). Unparsable text gives zeros.
 */
export function addressWords(addr: string): number[] {
  if (familyOf(addr) === 'inet') return [inetPton4(addr) ?? inetAton(addr) ?? 0];
  const w = inetPton6(addr) ?? new Array<number>(8).fill(0);
  return [0, 2, 4, 6].map((k) => ((w[k] as number) * 65536 + (w[k + 1] as number)) >>> 0);
}
