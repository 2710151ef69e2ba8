/**
 * IPv6 addresses for the rest of the system.
 *
 * Representation: four signed 32-bit words in network order (word 0 = bytes 0..3), kept
 * in an Int32Array slot (`words[i*4 .. i*4+3]` for entry i). The same int32 convention as
 * IPv4 (bytes.readI32): V8 keeps the words unboxed, so comparing or copying an address
 * per packet allocates nothing, and the IPv4 path (one int32) is left as it is.
 *
 * Hot-path helpers (read/write/equal against a frame) take the frame offset and the
 * slot; the text helpers (parse/format) allocate and are for the control plane only.
 */
import { Address6 } from 'ip-address';

export const IPV6_ALEN = 16;
/** Int32 words per address. */
export const ADDR6_WORDS = 4;

/** Copy the 16 bytes at b[off] into words[slot*4 ..]. */
export function readAddr6(b: Uint8Array, off: number, words: Int32Array, slot: number): void {
  const w = slot << 2;
  words[w] = (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
  words[w + 1] = (b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!;
  words[w + 2] = (b[off + 8]! << 24) | (b[off + 9]! << 16) | (b[off + 10]! << 8) | b[off + 11]!;
  words[w + 3] = (b[off + 12]! << 24) | (b[off + 13]! << 16) | (b[off + 14]! << 8) | b[off + 15]!;
}

/** Write the address in words[slot*4 ..] as 16 bytes at b[off]. */
export function writeAddr6(b: Uint8Array, off: number, words: Int32Array, slot: number): void {
  const w = slot << 2;
  for (let k = 0; k < 4; k++) {
    const v = words[w + k]!;
    const o = off + (k << 2);
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
  }
}

/** True when the 16 bytes at b[off] are the address in words[slot*4 ..]. */
export function equalAddr6(b: Uint8Array, off: number, words: Int32Array, slot: number): boolean {
  const w = slot << 2;
  return (
    ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) === words[w] &&
    ((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) === words[w + 1] &&
    ((b[off + 8]! << 24) | (b[off + 9]! << 16) | (b[off + 10]! << 8) | b[off + 11]!) === words[w + 2] &&
    ((b[off + 12]! << 24) | (b[off + 13]! << 16) | (b[off + 14]! << 8) | b[off + 15]!) === words[w + 3]
  );
}

/** Two slots hold the same address. */
export function sameAddr6(a: Int32Array, aSlot: number, b: Int32Array, bSlot: number): boolean {
  const i = aSlot << 2;
  const j = bSlot << 2;
  return a[i] === b[j] && a[i + 1] === b[j + 1] && a[i + 2] === b[j + 2] && a[i + 3] === b[j + 3];
}

/**
 * The 32-bit fold IPVS hashes an IPv6 address by (ip6[0] ^ ip6[1] ^ ip6[2] ^ ip6[3] in
 * ip_vs_svc_hashkey, ip_vs_sh_hashkey, ip_vs_mh_hashkey; XOR commutes with ntohl): what
 * the sh and mh schedulers take as `caddr` for an IPv6 client, so picks match the kernel's.
 */
export function foldAddr6(words: Int32Array, slot: number): number {
  const w = slot << 2;
  return words[w]! ^ words[w + 1]! ^ words[w + 2]! ^ words[w + 3]!;
}

/** Copy 16 bytes frame to frame (an address moved between headers) without Buffer.copy. */
export function copy16(dst: Uint8Array, dOff: number, src: Uint8Array, sOff: number): void {
  for (let k = 0; k < 16; k++) dst[dOff + k] = src[sOff + k]!;
}

/** ff00::/8 (RFC 4291 2.7). */
export function isMulticast6(b: Uint8Array, off: number): boolean {
  return b[off] === 0xff;
}

/** :: (RFC 4291 2.5.2), the source of a DAD probe. */
export function isUnspecified6(b: Uint8Array, off: number): boolean {
  for (let k = 0; k < 16; k++) if (b[off + k] !== 0) return false;
  return true;
}

/** fe80::/10 (RFC 4291 2.5.6). */
export function isLinkLocal6(b: Uint8Array, off: number): boolean {
  return b[off] === 0xfe && (b[off + 1]! & 0xc0) === 0x80;
}

/*
 * Text (control plane only).
 */

/**
 * "2001:db8::1" -> the four words, or null. Plain addresses only: no zone ("%eth0"), no
 * prefix ("/64"), no brackets. Dotted IPv4 tails ("::ffff:10.0.0.1") are accepted, as
 * inet_pton(AF_INET6) accepts them.
 */
export function parseIPv6(text: string): Int32Array | null {
  if (!text.includes(':') || /[%/[\]\s]/.test(text) || !Address6.isValid(text)) return null;
  const groups = new Address6(text).parsedAddress;
  if (groups.length !== 8) return null;
  const out = new Int32Array(4);
  for (let k = 0; k < 4; k++) out[k] = (parseInt(groups[2 * k]!, 16) << 16) | parseInt(groups[2 * k + 1]!, 16);
  return out;
}

/** The 16 bytes of an address text (tests, tools), or null. */
export function ipv6Bytes(text: string): Uint8Array | null {
  const w = parseIPv6(text);
  if (w === null) return null;
  const b = new Uint8Array(16);
  writeAddr6(b, 0, w, 0);
  return b;
}

/** The eight 16-bit groups of words[slot*4 ..]. */
export function groupsOf(words: ArrayLike<number>, slot = 0): number[] {
  const g: number[] = [];
  for (let k = 0; k < 4; k++) {
    const v = words[(slot << 2) + k]!;
    g.push((v >>> 16) & 0xffff, v & 0xffff);
  }
  return g;
}

/**
 * Text form of eight 16-bit groups as glibc inet_ntop prints it (what ipvsadm shows): the
 * RFC 5952 canonical form (lower-case hex, no leading zeros, the longest run of two or
 * more zero groups, the first on a tie, as "::"), except that inet_ntop writes the last
 * 32 bits of IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d, not ::1 or ::)
 * addresses in dotted form.
 */
export function formatGroups6(groups: readonly number[]): string {
  let bestBase = -1, bestLen = 0, curBase = -1, curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (groups[i] === 0) {
      if (curBase < 0) [curBase, curLen] = [i, 1];
      else curLen++;
    } else if (curBase >= 0) {
      if (bestBase < 0 || curLen > bestLen) [bestBase, bestLen] = [curBase, curLen];
      curBase = -1;
    }
  }
  if (curBase >= 0 && (bestBase < 0 || curLen > bestLen)) [bestBase, bestLen] = [curBase, curLen];
  if (bestLen < 2) bestBase = -1; // RFC 5952 4.2.2: one zero group is not shortened
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && groups[5] === 0xffff))) {
      const hi = groups[6]!, lo = groups[7]!;
      out += `${hi >>> 8}.${hi & 255}.${lo >>> 8}.${lo & 255}`;
      return out;
    }
    out += groups[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** Text of the address in words[slot*4 ..] (inet_ntop form, see formatGroups6). */
export function formatIPv6(words: ArrayLike<number>, slot = 0): string {
  return formatGroups6(groupsOf(words, slot));
}

/** Text of the 16 bytes at b[off]. */
export function formatIPv6Bytes(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let k = 0; k < 16; k += 2) g.push((b[off + k]! << 8) | b[off + k + 1]!);
  return formatGroups6(g);
}

/** The canonical text of an IPv6 address text, or null when it is not one. */
export function canonicalIPv6(text: string): string | null {
  const w = parseIPv6(text);
  return w === null ? null : formatIPv6(w);
}

/** Parse a prefix length (0..128) into four mask words (for persistence granularity). */
export function prefixToMask6(prefix: number): Int32Array {
  const m = new Int32Array(4);
  for (let k = 0; k < 4; k++) {
    const bits = Math.max(0, Math.min(32, prefix - 32 * k));
    m[k] = bits === 0 ? 0 : bits === 32 ? -1 : (0xffffffff << (32 - bits)) | 0;
  }
  return m;
}
