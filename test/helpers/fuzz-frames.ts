/**
 * Frames for the engine fuzz test: a corpus of valid frames that reach every branch of
 * the engine (new and established TCP/UDP flows to the VIP, NAT replies, ICMP errors
 * quoting flows, echo, ARP; VLAN-tagged and with IP options), and mutators that break
 * them the ways a wire or a bad peer would (issue 2 item 10). Deterministic: every
 * choice comes from the PRNG passed in.
 */
import { arpFrame, icmpFrame, quote, tcpFrame, udpFrame, type L2L3 } from '../../src/packet/builder.js';
import { ETH_HLEN } from '../../src/packet/ethernet.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import * as icmp from '../../src/packet/icmp.js';
import { checksum } from '../../src/packet/checksum.js';
import { MAC, IP } from './lab-engine.js';

export type Rand = () => number;

/** Ports of the services the fuzz engine carries (see fuzz.test.ts). */
export const PORT_NAT = 80;
export const PORT_DR = 443;
export const PORT_UDP = 53;
/** A service whose only server is quiesced (weight 0): the scheduler finds no destination. */
export const PORT_EMPTY = 8080;

/** Client tuples: few enough that flows recur (and get established), more than the table holds. */
export const CLIENT_ADDRS = ['198.51.100.10', '198.51.100.11', '198.51.100.12', '198.51.100.13', '203.0.113.7', '203.0.113.200'];
export const CLIENT_PORTS = [1024, 40000, 40001, 40002, 51000, 61000, 65535, 33333];

function pick<T>(rand: Rand, a: readonly T[]): T {
  return a[Math.floor(rand() * a.length)]!;
}

function int(rand: Rand, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

function payload(rand: Rand, max: number): Buffer {
  const n = int(rand, 0, max);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(rand, 0, 255);
  return b;
}

/** NOP-padded IP options (1..40 bytes: up to IHL 15), sometimes with a record-route header. */
function ipOptions(rand: Rand): Uint8Array {
  const n = int(rand, 1, 40);
  const o = new Uint8Array(n).fill(1);
  if (n >= 3 && rand() < 0.5) {
    o[0] = 7; // record route: type, length, pointer
    o[1] = n;
    o[2] = 4;
  }
  return o;
}

const TCP_FLAGS_IN = [tcp.SYN, tcp.SYN, tcp.ACK, tcp.ACK | tcp.PSH, tcp.FIN | tcp.ACK, tcp.RST, tcp.SYN | tcp.ACK, 0];
const TCP_FLAGS_OUT = [tcp.SYN | tcp.ACK, tcp.ACK, tcp.ACK | tcp.PSH, tcp.FIN | tcp.ACK, tcp.RST | tcp.ACK];

/** Ethernet/IP framing shared by one corpus frame: sometimes tagged, sometimes with IP options. */
function l2l3(rand: Rand, srcMac: string, src: string, dst: string): L2L3 {
  const h: L2L3 = { srcMac, dstMac: MAC.lb, src, dst, ttl: int(rand, 2, 64), id: int(rand, 0, 0xffff) };
  if (rand() < 0.15) h.vlan = int(rand, 1, 4094);
  if (rand() < 0.12) h.ipOptions = ipOptions(rand);
  return h;
}

const RS_MAC: Record<string, string> = { [IP.rs1]: MAC.rs1, [IP.rs2]: MAC.rs2 };

/** One valid frame of a random family. */
export function validFrame(rand: Rand): Buffer {
  const caddr = pick(rand, CLIENT_ADDRS);
  const cport = pick(rand, CLIENT_PORTS);
  const rs = rand() < 0.5 ? IP.rs1 : IP.rs2;
  const r = rand();
  if (r < 0.34) {
    // client -> VIP: NAT (80), DR (443) or server-less (8080) service; now and then from the
    // MAC of a DR real server, as another director on that host would send it (seed 004).
    const dport = pick(rand, [PORT_NAT, PORT_NAT, PORT_NAT, PORT_NAT, PORT_NAT, PORT_DR, PORT_DR, PORT_DR, PORT_EMPTY]);
    const flags = pick(rand, TCP_FLAGS_IN);
    const srcMac = rand() < 0.04 ? MAC.rs1 : MAC.router;
    return tcpFrame({ ...l2l3(rand, srcMac, caddr, IP.vip), sport: cport, dport, flags, seq: int(rand, 0, 0xffffffff), payload: payload(rand, 40) });
  }
  if (r < 0.56) {
    // real server -> client (NAT reply)
    return tcpFrame({ ...l2l3(rand, RS_MAC[rs]!, rs, caddr), sport: PORT_NAT, dport: cport, flags: pick(rand, TCP_FLAGS_OUT), payload: payload(rand, 40) });
  }
  if (r < 0.66) {
    const noChecksum = rand() < 0.2;
    if (rand() < 0.55) return udpFrame({ ...l2l3(rand, MAC.router, caddr, IP.vip), sport: cport, dport: PORT_UDP, payload: payload(rand, 64), noChecksum });
    return udpFrame({ ...l2l3(rand, RS_MAC[rs]!, rs, caddr), sport: PORT_UDP, dport: cport, payload: payload(rand, 64), noChecksum });
  }
  if (r < 0.8) return icmpError(rand, caddr, cport, rs);
  if (r < 0.84) {
    return icmpFrame({ ...l2l3(rand, MAC.router, caddr, IP.vip), type: icmp.ECHO_REQUEST, code: 0, rest: int(rand, 0, 0xffffffff), payload: payload(rand, 32) });
  }
  return arp(rand, rs);
}

/** ICMP errors quoting a flow in either direction (ip_vs_in_icmp / ip_vs_out_icmp). */
function icmpError(rand: Rand, caddr: string, cport: number, rs: string): Buffer {
  const udp = rand() < 0.3;
  const svcPort = udp ? PORT_UDP : PORT_NAT;
  const type = pick(rand, [icmp.DEST_UNREACH, icmp.DEST_UNREACH, icmp.TIME_EXCEEDED, icmp.SOURCE_QUENCH, icmp.ECHO_REPLY]);
  const code = type === icmp.DEST_UNREACH ? pick(rand, [icmp.CODE_PORT_UNREACH, icmp.CODE_FRAG_NEEDED, 1]) : 0;
  const rest = code === icmp.CODE_FRAG_NEEDED ? int(rand, 68, 1500) : 0;
  if (rand() < 0.5) {
    // A real server reports on a packet client -> RIP it received.
    const inner = udp
      ? udpFrame({ srcMac: MAC.lb, dstMac: MAC.rs1, src: caddr, dst: rs, sport: cport, dport: svcPort })
      : tcpFrame({ srcMac: MAC.lb, dstMac: MAC.rs1, src: caddr, dst: rs, sport: cport, dport: svcPort, flags: tcp.ACK });
    return icmpFrame({ ...l2l3(rand, RS_MAC[rs]!, rs, caddr), type, code, rest, payload: quote(inner) });
  }
  // A router on the client side reports on our reply VIP:vport -> client.
  const inner = udp
    ? udpFrame({ srcMac: MAC.lb, dstMac: MAC.router, src: IP.vip, dst: caddr, sport: svcPort, dport: cport })
    : tcpFrame({ srcMac: MAC.lb, dstMac: MAC.router, src: IP.vip, dst: caddr, sport: svcPort, dport: cport, flags: tcp.ACK, payload: payload(rand, 8) });
  return icmpFrame({ ...l2l3(rand, MAC.router, IP.router, IP.vip), type, code, rest, payload: quote(inner) });
}

function arp(rand: Rand, rs: string): Buffer {
  const r = rand();
  const zero = '00:00:00:00:00:00';
  const bcast = 'ff:ff:ff:ff:ff:ff';
  if (r < 0.5) return arpFrame({ srcMac: MAC.router, dstMac: bcast, op: 1, senderMac: MAC.router, senderIp: IP.router, targetMac: zero, targetIp: IP.vip });
  if (r < 0.75) return arpFrame({ srcMac: RS_MAC[rs]!, dstMac: MAC.lb, op: 2, senderMac: RS_MAC[rs]!, senderIp: rs, targetMac: MAC.lb, targetIp: IP.lb });
  if (r < 0.9) return arpFrame({ srcMac: MAC.router, dstMac: bcast, op: 1, senderMac: MAC.router, senderIp: IP.router, targetMac: zero, targetIp: '10.0.0.99' });
  // Someone else claims the VIP (counted as a conflict, never answered).
  return arpFrame({ srcMac: '02:00:00:00:09:09', dstMac: bcast, op: 1, senderMac: '02:00:00:00:09:09', senderIp: IP.vip, targetMac: zero, targetIp: IP.vip });
}

// ---------------------------------------------------------------- mutations

/** L3 offset as the engine computes it, or -1. */
function l3Of(b: Uint8Array, len: number): number {
  if (len < ETH_HLEN) return -1;
  return b[12] === 0x81 && b[13] === 0x00 ? (len < 18 ? -1 : 18) : 14;
}

function setU16(b: Uint8Array, o: number, len: number, v: number): void {
  if (o + 1 < len) {
    b[o] = v >>> 8;
    b[o + 1] = v & 0xff;
  }
}

/**
 * Apply one random mutation to frame b[0, len) in place (b has room up to b.length);
 * returns the new length. `noise` supplies garbage bytes for growth.
 */
export function mutate(rand: Rand, b: Uint8Array, len: number, noise: Uint8Array): number {
  const l3 = l3Of(b, len);
  const hl = l3 >= 0 && l3 < len ? (b[l3]! & 0x0f) << 2 : 20;
  const l4 = l3 + hl;
  switch (int(rand, 0, 11)) {
    case 0: // flip bits anywhere, mostly in the headers
    case 1: {
      const n = int(rand, 1, 4);
      for (let k = 0; k < n && len > 0; k++) {
        const at = rand() < 0.8 ? int(rand, 0, Math.min(len, 80) - 1) : int(rand, 0, len - 1);
        b[at] = rand() < 0.5 ? b[at]! ^ (1 << int(rand, 0, 7)) : int(rand, 0, 255);
      }
      return len;
    }
    case 2: // truncation
      return int(rand, 0, len);
    case 3: { // trailing garbage (padding, or a longer capture than the IP length says)
      const extra = Math.min(int(rand, 1, 64), b.length - len);
      const from = int(rand, 0, noise.length - extra);
      b.set(noise.subarray(from, from + extra), len);
      return len + extra;
    }
    case 4: { // IP total length: random, or off by a little
      if (l3 < 0) return len;
      const cur = (b[l3 + 2]! << 8) | b[l3 + 3]!;
      setU16(b, l3 + 2, len, rand() < 0.5 ? int(rand, 0, 0xffff) : (cur + int(rand, -24, 24)) & 0xffff);
      return len;
    }
    case 5: // bad IHL or version
      if (l3 >= 0 && l3 < len) b[l3] = rand() < 0.8 ? (b[l3]! & 0xf0) | int(rand, 0, 15) : (int(rand, 0, 15) << 4) | (b[l3]! & 0x0f);
      return len;
    case 6: // TCP data offset / UDP length / ICMP type
      if (l4 + 12 < len) {
        const proto = b[l3 + 9];
        if (proto === ipv4.PROTO_TCP) b[l4 + 12] = (int(rand, 0, 15) << 4) | (b[l4 + 12]! & 0x0f);
        else if (proto === ipv4.PROTO_UDP) setU16(b, l4 + 4, len, rand() < 0.5 ? int(rand, 0, 0xffff) : int(rand, 0, 16));
        else b[l4] = int(rand, 0, 18);
      }
      return len;
    case 7: // fragments: MF and/or an offset
      if (l3 >= 0) setU16(b, l3 + 6, len, (rand() < 0.5 ? ipv4.FLAG_MF : 0) | (rand() < 0.6 ? int(rand, 1, 0x1fff) : 0) | (rand() < 0.5 ? ipv4.FLAG_DF : 0));
      return len;
    case 8: // TTL about to expire (ICMP time exceeded, rate limited)
      if (l3 >= 0 && l3 + 8 < len) b[l3 + 8] = int(rand, 0, 2);
      return len;
    case 9: { // quoted header of an ICMP error: bad IHL, protocol or ports
      const inner = l4 + 8;
      if (inner + 10 < len) {
        const what = int(rand, 0, 2);
        if (what === 0) b[inner] = (b[inner]! & 0xf0) | int(rand, 0, 15);
        else if (what === 1) b[inner + 9] = pick(rand, [1, 6, 17, 47, int(rand, 0, 255)]);
        else b[inner + 20 + int(rand, 0, 3)] = int(rand, 0, 255);
      }
      return len;
    }
    case 10: // EtherType: another protocol, or a VLAN tag in front of the frame's own type
      if (len >= 14) {
        if (rand() < 0.5) setU16(b, 12, len, pick(rand, [0x86dd, 0x8100, 0x88a8, 0x0806, 0x0800, int(rand, 0, 0xffff)]));
        else if (len + 4 <= b.length) {
          b.copyWithin(16, 12, len);
          b[12] = 0x81; b[13] = 0; b[14] = int(rand, 0, 15); b[15] = int(rand, 0, 255);
          return len + 4;
        }
      }
      return len;
    default: { // oversized frames: a GRO/GSO super-frame cut by the capture, or an MTU overflow
      if (l3 < 0) return len;
      const grow = Math.min(int(rand, 1, 1600), b.length - len);
      const from = int(rand, 0, noise.length - grow);
      b.set(noise.subarray(from, from + grow), len);
      const nlen = len + grow;
      const total = nlen - l3;
      setU16(b, l3 + 2, nlen, total);
      return nlen;
    }
  }
}

/**
 * Re-validate what a mutation broke on purpose only some of the time, so that deeper
 * checks are reached too: the IP header checksum (when the header fits) and the ICMP
 * checksum (when the message fits).
 */
export function fixChecksums(rand: Rand, b: Uint8Array, len: number): void {
  const l3 = l3Of(b, len);
  if (l3 < 0 || l3 + 20 > len) return;
  const hl = (b[l3]! & 0x0f) << 2;
  if (hl >= 20 && l3 + hl <= len && rand() < 0.7) {
    b[l3 + 10] = 0;
    b[l3 + 11] = 0;
    const c = checksum(b, l3, hl);
    b[l3 + 10] = c >>> 8;
    b[l3 + 11] = c & 0xff;
  }
  const total = (b[l3 + 2]! << 8) | b[l3 + 3]!;
  if (b[l3 + 9] === ipv4.PROTO_ICMP && hl >= 20 && total >= hl + 4 && l3 + total <= len && rand() < 0.7) {
    const c0 = l3 + hl;
    b[c0 + 2] = 0;
    b[c0 + 3] = 0;
    const c = checksum(b, c0, total - hl);
    b[c0 + 2] = c >>> 8;
    b[c0 + 3] = c & 0xff;
  }
}
