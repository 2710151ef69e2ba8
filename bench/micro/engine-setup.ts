/**
 * The engine the microbench drives: seed-000 one-arm addresses, a NAT service
 * VIP:80 (rs1, rs2, rr), a DR service VIP:443 (rs1), next-hop MACs known, and the
 * frames of one established NAT flow (both directions), one established DR flow, a new
 * connection, an ARP who-has for the VIP and a malformed frame. All 60-byte frames.
 */
import { Engine } from '../../src/dataplane/engine.js';
import { ServiceRegistry, type DestSpec, type ServiceSpec } from '../../src/control/service-registry.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { FWD_DR, FWD_MASQ } from '../../src/dataplane/model.js';
import { V_CONSUMED, V_DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import { parseIPv4, parseMac } from '../../src/packet/addr.js';
import { arpFrame, tcpFrame } from '../../src/packet/builder.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';

export const MAC = { lb: '02:00:00:00:00:02', router: '02:00:00:00:00:01', rs1: '02:00:00:00:01:85', rs2: '02:00:00:00:00:86' };
export const IP = { vip: '10.0.0.127', lb: '10.0.0.2', router: '10.0.0.1', rs1: '10.0.0.185', rs2: '10.0.0.86', client: '198.51.100.10' };
export const VERDICT_NAMES = ['V_DROP', 'V_EMIT', 'V_CONSUMED'];
export { V_CONSUMED, V_DROP, V_EMIT };

export function ip(s: string): number {
  const n = parseIPv4(s);
  if (n === null) throw new Error(`bad address ${s}`);
  return n | 0;
}

function svc(port: number): ServiceSpec {
  return { proto: ipv4.PROTO_TCP, addr: ip(IP.vip), port, scheduler: 'rr', persistent: 0, netmask: -1, ops: false, schedFlags: 0 };
}

function dest(addr: string, port: number, fwd: number): DestSpec {
  return { addr: ip(addr), port, weight: 1, fwd, uThreshold: 0, lThreshold: 0 };
}

/** An engine with the NAT and DR services; capacity as given (the engine default is 2^20). */
export function benchEngine(maxConns = 1 << 20): Engine {
  const engine = new Engine({ ifaces: [{ name: 'eth0', mac: parseMac(MAC.lb)!, mtu: 1500, ip: ip(IP.lb) }], maxConns });
  const rules = new ServiceRegistry(engine, new RoutingTable([
    { dst: ip('10.0.0.0'), prefixLen: 24, iface: 0, gateway: 0 },
    { dst: 0, prefixLen: 0, iface: 0, gateway: ip(IP.router) },
  ]));
  rules.addService(svc(80));
  rules.addDest(svc(80), dest(IP.rs1, 80, FWD_MASQ));
  rules.addDest(svc(80), dest(IP.rs2, 80, FWD_MASQ));
  rules.addService(svc(443));
  rules.addDest(svc(443), dest(IP.rs1, 443, FWD_DR));
  const macs: Record<number, string> = { [ip(IP.rs1)]: MAC.rs1, [ip(IP.rs2)]: MAC.rs2, [ip(IP.router)]: MAC.router };
  for (let n = 0; n < engine.neigh.size; n++) {
    const m = macs[engine.neigh.ip[n]!];
    if (m) engine.neigh.set(n, parseMac(m)!, 0);
  }
  return engine;
}

const PAYLOAD = Buffer.from('abcdef'); // 14 + 20 + 20 + 6 = 60-byte frames

export function clientSegment(sport: number, dport: number, flags: number, client = IP.client): Buffer {
  return tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: client, dst: IP.vip, sport, dport, flags, seq: 1000, ack: 1, ttl: 64, payload: PAYLOAD });
}

function serverSegment(rs: string, sport: number, dport: number, flags: number): Buffer {
  return tcpFrame({ srcMac: rs === IP.rs1 ? MAC.rs1 : MAC.rs2, dstMac: MAC.lb, src: rs, dst: IP.client, sport, dport, flags, seq: 5000, ack: 1001, ttl: 64, payload: PAYLOAD });
}

function mustProcess(engine: Engine, f: Buffer, want: number, what: string): void {
  const v = engine.process(f, f.length, 0, 1);
  if (v !== want) throw new Error(`bench setup: ${what} gave ${VERDICT_NAMES[v]}, expected ${VERDICT_NAMES[want]}`);
}

export interface BenchFrames {
  /** client -> VIP:80, ESTABLISHED NAT flow (PSH|ACK). */
  natIn: Buffer;
  /** real server -> client, the same flow's return traffic. */
  natOut: Buffer;
  /** client -> VIP:443, ESTABLISHED DR flow. */
  drIn: Buffer;
  /** SYN client -> VIP:80 of a tuple with no entry (the case frees the entry after each op). */
  syn: Buffer;
  /** ARP who-has VIP from the router. */
  arpWhoHas: Buffer;
  /** client -> VIP:80 with a corrupt IP header checksum. */
  malformed: Buffer;
}

/** Establish the flows (three-way handshakes through the engine) and build the frames. */
export function establishFlows(engine: Engine): BenchFrames {
  mustProcess(engine, clientSegment(40000, 80, tcp.SYN), V_EMIT, 'NAT SYN');
  const rs = ipv4.decode(engine.verdict.buf, 14).dst;
  mustProcess(engine, serverSegment(rs, 80, 40000, tcp.SYN | tcp.ACK), V_EMIT, 'NAT SYN-ACK');
  mustProcess(engine, clientSegment(40000, 80, tcp.ACK), V_EMIT, 'NAT ACK');
  mustProcess(engine, clientSegment(40001, 443, tcp.SYN), V_EMIT, 'DR SYN');
  mustProcess(engine, clientSegment(40001, 443, tcp.ACK), V_EMIT, 'DR ACK');
  const malformed = clientSegment(40000, 80, tcp.ACK | tcp.PSH);
  malformed[14 + ipv4.OFF_CHECK]! ^= 0x5a;
  return {
    natIn: clientSegment(40000, 80, tcp.ACK | tcp.PSH),
    natOut: serverSegment(rs, 80, 40000, tcp.ACK | tcp.PSH),
    drIn: clientSegment(40001, 443, tcp.ACK | tcp.PSH),
    syn: clientSegment(50000, 80, tcp.SYN, '198.51.100.20'),
    arpWhoHas: arpFrame({ srcMac: MAC.router, dstMac: 'ff:ff:ff:ff:ff:ff', op: 1, senderMac: MAC.router, senderIp: IP.router, targetMac: '00:00:00:00:00:00', targetIp: IP.vip }),
    malformed,
  };
}

/**
 * Offsets of the bytes the engine changes in `frame` when it runs `op` (the union over
 * `rounds` runs, so every server rr picks is covered). The frame is left pristine.
 */
export function changedBytes(frame: Buffer, op: () => void, rounds = 8): Uint16Array {
  const pristine = Buffer.from(frame);
  const changed = new Set<number>();
  for (let r = 0; r < rounds; r++) {
    op();
    for (let i = 0; i < frame.length; i++) if (frame[i] !== pristine[i]) changed.add(i);
    frame.set(pristine);
  }
  return Uint16Array.from([...changed].sort((a, b) => a - b));
}
