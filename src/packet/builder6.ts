/**
 * IPv6 frame builder for tests, fixtures and tools (allocates; never used per packet):
 * Ethernet + IPv6 + extension headers + TCP/UDP/ICMPv6 with correct checksums, the
 * IPv6 counterpart of builder.ts.
 */
import * as eth from './ethernet.js';
import * as ipv6 from './ipv6.js';
import * as tcp from './tcp.js';
import * as udp from './udp.js';
import * as icmpv6 from './icmpv6.js';
import { fillChecksum6 } from './l4v6.js';
import { writeU16, writeU32 } from './bytes.js';

/** One extension header: its type and all its bytes (byte 0, the next header, is set by the builder). */
export interface Ext6 {
  type: number;
  bytes: Uint8Array;
}

export interface L2L3v6 {
  srcMac: string;
  dstMac: string;
  vlan?: number;
  src: string;
  dst: string;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  ext?: Ext6[];
}

/** Hop-by-hop (0) or destination options (60) header padded with PadN to 8 * (1 + units) bytes. */
export function optionsHeader(type: typeof ipv6.NEXTHDR_HOP | typeof ipv6.NEXTHDR_DEST, units = 0): Ext6 {
  const bytes = new Uint8Array(8 * (1 + units));
  bytes[1] = units;
  bytes[2] = 1; // PadN (RFC 8200 4.2) over the rest
  bytes[3] = bytes.length - 4;
  return { type, bytes };
}

/** Routing header type 0-style shell with `segmentsLeft` (RFC 8200 4.4); 8 * (1 + units) bytes. */
export function routingHeader(segmentsLeft: number, units = 0): Ext6 {
  const bytes = new Uint8Array(8 * (1 + units));
  bytes[1] = units;
  bytes[2] = 4; // routing type (segment routing); the walk does not read it
  bytes[3] = segmentsLeft;
  return { type: ipv6.NEXTHDR_ROUTING, bytes };
}

/** Fragment header (RFC 8200 4.5): offset in bytes (a multiple of 8), M flag, identification. */
export function fragmentHeader(offset: number, more: boolean, id: number): Ext6 {
  const bytes = new Uint8Array(8);
  writeU16(bytes, 2, (offset & ~7) | (more ? 1 : 0));
  writeU32(bytes, 4, id);
  return { type: ipv6.NEXTHDR_FRAGMENT, bytes };
}

/** Authentication header (RFC 4302 2.2): (payloadLen + 2) * 4 bytes, with SPI and sequence. */
export function authHeader(payloadLen = 4, spi = 0x100): Ext6 {
  const bytes = new Uint8Array((payloadLen + 2) * 4);
  bytes[1] = payloadLen;
  writeU32(bytes, 4, spi);
  writeU32(bytes, 8, 1);
  return { type: ipv6.NEXTHDR_AUTH, bytes };
}

/** Frame with `upper` as the upper-layer protocol and l4len bytes written by writeL4 at its offset. */
function frame6(h: L2L3v6, upper: number, l4len: number, writeL4: (b: Buffer, at: number) => void): { b: Buffer; l3: number; l4: number } {
  const e: eth.EthernetHeader = { dst: h.dstMac, src: h.srcMac, etherType: eth.ETHERTYPE_IPV6 };
  if (h.vlan !== undefined) e.vlan = h.vlan;
  const exts = h.ext ?? [];
  const extLen = exts.reduce((n, x) => n + x.bytes.length, 0);
  const first = exts.length > 0 ? exts[0]!.type : upper;
  const ip: ipv6.IPv6Header = { nextHeader: first, src: h.src, dst: h.dst, payloadLength: extLen + l4len };
  if (h.hopLimit !== undefined) ip.hopLimit = h.hopLimit;
  if (h.trafficClass !== undefined) ip.trafficClass = h.trafficClass;
  if (h.flowLabel !== undefined) ip.flowLabel = h.flowLabel;
  const b = Buffer.alloc(eth.encodingLength(e) + ipv6.IPV6_HLEN + extLen + l4len);
  const l3 = eth.encode(e, b, 0);
  let at = ipv6.encode(ip, b, l3);
  exts.forEach((x, i) => {
    b.set(x.bytes, at);
    b[at] = i + 1 < exts.length ? exts[i + 1]!.type : upper;
    at += x.bytes.length;
  });
  writeL4(b, at);
  return { b, l3, l4: at };
}

export function tcp6Frame(h: L2L3v6 & tcp.TcpHeader & { payload?: Uint8Array }): Buffer {
  const payload = h.payload ?? new Uint8Array(0);
  const len = tcp.encodingLength(h) + payload.length;
  const f = frame6(h, ipv6.NEXTHDR_TCP, len, (b, at) => b.set(payload, tcp.encode(h, b, at)));
  fillChecksum6(f.b, f.l3, f.l4, len, ipv6.NEXTHDR_TCP);
  return f.b;
}

export function udp6Frame(h: L2L3v6 & { sport: number; dport: number; payload?: Uint8Array }): Buffer {
  const payload = h.payload ?? new Uint8Array(0);
  const len = udp.UDP_HLEN + payload.length;
  const f = frame6(h, ipv6.NEXTHDR_UDP, len, (b, at) => b.set(payload, udp.encode({ sport: h.sport, dport: h.dport, length: len }, b, at)));
  fillChecksum6(f.b, f.l3, f.l4, len, ipv6.NEXTHDR_UDP);
  return f.b;
}

/** An ICMPv6 message; for errors pass the quoted invoking packet (from its IPv6 header) as payload. */
export function icmp6Frame(h: L2L3v6 & icmpv6.Icmpv6Header & { payload: Uint8Array }): Buffer {
  const len = icmpv6.ICMPV6_HLEN + h.payload.length;
  const f = frame6(h, ipv6.NEXTHDR_ICMPV6, len, (b, at) => b.set(h.payload, icmpv6.encode(h, b, at)));
  fillChecksum6(f.b, f.l3, f.l4, len, ipv6.NEXTHDR_ICMPV6);
  return f.b;
}

/** The IPv6 packet of an Ethernet frame (what an ICMPv6 error quotes), cut to `max` bytes. */
export function quote6(inner: Uint8Array, max = Infinity): Uint8Array {
  const o = eth.l3Offset(inner, inner.length);
  const end = o + ipv6.IPV6_HLEN + ipv6.payloadLength(inner, o);
  return inner.slice(o, Math.min(end, o + max));
}
