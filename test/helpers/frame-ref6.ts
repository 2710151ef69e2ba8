/**
 * The IPv6 part of the reference frame writer (frame-ref.ts): headers laid out field by
 * field from RFC 8200 / RFC 4443 / RFC 4861, checksums as the full RFC 1071 sum over the
 * RFC 8200 8.1 pseudo-header, never incremental, and no code from src/packet/. Expected
 * IPv6 output frames in the engine tests are written with it.
 */
import { internetChecksum, macBytes, type TcpFields } from './frame-ref.js';

const u16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

/** RFC 4291 2.2 text (hex groups, one "::"), no dotted tail: 16 bytes. */
export function ip6Bytes(text: string): number[] {
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, null];
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const t = tail === null ? [] : groups(tail);
  const all = tail === null ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`bad IPv6 ${text}`);
  return all.flatMap(u16);
}

export interface Ipv6Fields {
  src: string;
  dst: string;
  /** Next header of the first header after the fixed one. */
  next: number;
  hopLimit: number;
  trafficClass?: number;
  flowLabel?: number;
}

/** RFC 8200 3: the fixed header in front of `payload` (which may start with extension headers). */
export function ipv6(f: Ipv6Fields, payload: readonly number[]): number[] {
  const tc = f.trafficClass ?? 0;
  const fl = f.flowLabel ?? 0;
  return [
    0x60 | (tc >>> 4), ((tc & 0x0f) << 4) | ((fl >>> 16) & 0x0f), (fl >>> 8) & 0xff, fl & 0xff,
    ...u16(payload.length), f.next, f.hopLimit, ...ip6Bytes(f.src), ...ip6Bytes(f.dst), ...payload,
  ];
}

/** RFC 8200 8.1 pseudo-header: source, destination, upper-layer length (32 bits), 3 zero bytes, next header. */
function pseudo(src: string, dst: string, next: number, len: number): number[] {
  return [...ip6Bytes(src), ...ip6Bytes(dst), ...u32(len), 0, 0, 0, next];
}

export function tcp6(src: string, dst: string, f: TcpFields): number[] {
  const data = f.payload ?? [];
  const seg = [...u16(f.sport), ...u16(f.dport), ...u32(f.seq), ...u32(f.ack), 0x50, f.flags, ...u16(f.window), 0, 0, 0, 0, ...data];
  const c = internetChecksum([...pseudo(src, dst, 6, seg.length), ...seg]);
  seg[16] = c >>> 8;
  seg[17] = c & 0xff;
  return seg;
}

/** UDP over IPv6: the checksum is mandatory, a computed 0 is sent as 0xffff (RFC 8200 8.1). */
export function udp6(src: string, dst: string, sport: number, dport: number, payload: readonly number[]): number[] {
  const d = [...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0, ...payload];
  const c = internetChecksum([...pseudo(src, dst, 17, d.length), ...d]) || 0xffff;
  d[6] = c >>> 8;
  d[7] = c & 0xff;
  return d;
}

/** RFC 4443 2.1 message: type, code, checksum over the pseudo-header (next header 58) and the message, then body. */
export function icmp6(src: string, dst: string, type: number, code: number, body: readonly number[]): number[] {
  const m = [type, code, 0, 0, ...body];
  const c = internetChecksum([...pseudo(src, dst, 58, m.length), ...m]);
  m[2] = c >>> 8;
  m[3] = c & 0xff;
  return m;
}

/** Ethernet (EtherType 0x86dd) + IPv6 + TCP. */
export function tcp6Frame(eth: { dst: string; src: string }, ip: Omit<Ipv6Fields, 'next'>, t: TcpFields): number[] {
  return [...macBytes(eth.dst), ...macBytes(eth.src), 0x86, 0xdd, ...ipv6({ ...ip, next: 6 }, tcp6(ip.src, ip.dst, t))];
}

export function udp6Frame(eth: { dst: string; src: string }, ip: Omit<Ipv6Fields, 'next'>, sport: number, dport: number, payload: readonly number[]): number[] {
  return [...macBytes(eth.dst), ...macBytes(eth.src), 0x86, 0xdd, ...ipv6({ ...ip, next: 17 }, udp6(ip.src, ip.dst, sport, dport, payload))];
}

export function icmp6Frame(eth: { dst: string; src: string }, ip: Omit<Ipv6Fields, 'next'>, type: number, code: number, body: readonly number[]): number[] {
  return [...macBytes(eth.dst), ...macBytes(eth.src), 0x86, 0xdd, ...ipv6({ ...ip, next: 58 }, icmp6(ip.src, ip.dst, type, code, body))];
}

/** RFC 4861 4.3 / 4.4 body after the ICMPv6 header's first 4 bytes: flags+reserved, target, one link-layer option (type 1 source, 2 target). */
export function ndBody(flags: number, target: string, optType: number, mac: string): number[] {
  return [flags, 0, 0, 0, ...ip6Bytes(target), optType, 1, ...macBytes(mac)];
}

/** RFC 4291 2.7.1 solicited-node group of an address: ff02::1:ffXX:XXXX; its MAC 33:33:ff:XX:XX:XX (RFC 2464 7). */
export function solicitedNode(addr: string): { group: string; mac: string } {
  const b = ip6Bytes(addr);
  const h = (x: number) => x.toString(16).padStart(2, '0');
  return { group: `ff02::1:ff${h(b[13]!)}:${h(b[14]!)}${h(b[15]!)}`, mac: `33:33:ff:${h(b[13]!)}:${h(b[14]!)}:${h(b[15]!)}` };
}
