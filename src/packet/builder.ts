/**
 * Frame builder for tests, fixtures and tools (allocates; never used per packet).
 * In the spirit of Katran's PacketBuilder: eth + IPv4 + TCP/UDP/ICMP with correct checksums.
 */
import * as eth from './ethernet.js';
import * as ipv4 from './ipv4.js';
import * as tcp from './tcp.js';
import * as udp from './udp.js';
import * as icmp from './icmp.js';
import * as arp from './arp.js';
import * as l4 from './l4.js';
import { checksum } from './checksum.js';
import { writeU16 } from './bytes.js';
import { parseIPv4, parseMac } from './addr.js';

export interface L2L3 {
  srcMac: string;
  dstMac: string;
  vlan?: number;
  src: string;
  dst: string;
  ttl?: number;
  id?: number;
  frag?: number;
  ipOptions?: Uint8Array;
}

function frame(h: L2L3, protocol: number, l4len: number, writeL4: (b: Buffer, at: number) => void): Buffer {
  const e: eth.EthernetHeader = { dst: h.dstMac, src: h.srcMac, etherType: eth.ETHERTYPE_IPV4 };
  if (h.vlan !== undefined) e.vlan = h.vlan;
  const ip: ipv4.IPv4Header = { protocol, src: h.src, dst: h.dst, payloadLength: l4len };
  if (h.ttl !== undefined) ip.ttl = h.ttl;
  if (h.id !== undefined) ip.id = h.id;
  if (h.frag !== undefined) ip.frag = h.frag;
  if (h.ipOptions) ip.options = h.ipOptions;
  const b = Buffer.alloc(eth.encodingLength(e) + ipv4.encodingLength(ip) + l4len);
  const o = eth.encode(e, b, 0);
  const p = ipv4.encode(ip, b, o);
  writeL4(b, p);
  return b;
}

export function tcpFrame(h: L2L3 & tcp.TcpHeader & { payload?: Uint8Array }): Buffer {
  const payload = h.payload ?? new Uint8Array(0);
  const thlen = tcp.encodingLength(h);
  const b = frame(h, ipv4.PROTO_TCP, thlen + payload.length, (b, at) => {
    b.set(payload, tcp.encode(h, b, at));
  });
  l4.fillChecksum(b, eth.l3Offset(b, b.length));
  return b;
}

export function udpFrame(h: L2L3 & { sport: number; dport: number; payload?: Uint8Array; noChecksum?: boolean }): Buffer {
  const payload = h.payload ?? new Uint8Array(0);
  const b = frame(h, ipv4.PROTO_UDP, udp.UDP_HLEN + payload.length, (b, at) => {
    b.set(payload, udp.encode({ sport: h.sport, dport: h.dport, length: udp.UDP_HLEN + payload.length }, b, at));
  });
  if (!h.noChecksum) l4.fillChecksum(b, eth.l3Offset(b, b.length));
  return b;
}

/** An ICMP message; for errors pass the quoted bytes (IP header + at least 8 bytes of L4) as payload. */
export function icmpFrame(h: L2L3 & icmp.IcmpHeader & { payload: Uint8Array }): Buffer {
  const b = frame(h, ipv4.PROTO_ICMP, icmp.ICMP_HLEN + h.payload.length, (b, at) => {
    b.set(h.payload, icmp.encode(h, b, at));
    writeU16(b, at + icmp.OFF_CHECK, checksum(b, at, icmp.ICMP_HLEN + h.payload.length));
  });
  return b;
}

export function arpFrame(h: {
  srcMac: string; dstMac: string; op: number;
  senderMac: string; senderIp: string; targetMac: string; targetIp: string;
}): Buffer {
  const b = Buffer.alloc(eth.ETH_HLEN + arp.ARP_LEN);
  eth.encode({ dst: h.dstMac, src: h.srcMac, etherType: eth.ETHERTYPE_ARP }, b, 0);
  const sha = parseMac(h.senderMac), tha = parseMac(h.targetMac);
  const spa = parseIPv4(h.senderIp), tpa = parseIPv4(h.targetIp);
  if (!sha || !tha || spa === null || tpa === null) throw new Error('bad ARP address');
  arp.write(b, eth.ETH_HLEN, h.op, sha, spa, tha, tpa);
  return b;
}

/** The IP header + first 8 L4 bytes of `inner` (an Ethernet frame), as an ICMP error quotes them. */
export function quote(inner: Uint8Array): Uint8Array {
  const o = eth.l3Offset(inner, inner.length);
  const hlen = ipv4.headerLength(inner, o);
  return inner.slice(o, o + hlen + 8);
}
