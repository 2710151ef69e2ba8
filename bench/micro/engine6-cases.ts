/**
 * The IPv6 data path in the microbench (issue 16): an engine with one IPv6 NAT service
 * (2001:db8:0:1::127:80 -> ::185:8080) and one DR service (:443 -> ::86), flows established
 * through it, then per op one frame of an established flow, through the same op as the
 * IPv4 cases (engine-cases.ts engineOp: the bytes the engine changes are restored, the
 * clock advances 0.75 µs a packet); the allocation child measures bytes per op.
 */
import { Engine } from '../../src/dataplane/engine.js';
import { ServiceRegistry } from '../../src/control/service-registry.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { V_EMIT } from '../../src/dataplane/verdict.js';
import { FWD_DR, FWD_MASQ } from '../../src/lvs/fwd.js';
import { parseMac } from '../../src/packet/addr.js';
import { parseIPv6 } from '../../src/packet/addr6.js';
import { tcp6Frame } from '../../src/packet/builder6.js';
import { OFL_KNOWN } from '../../src/packet/offload.js';
import * as tcp from '../../src/packet/tcp.js';
import { engineOp, verdictCheck, type Clock, type MicroCase } from './engine-cases.js';
import { changedBytes } from './engine-setup.js';

const MAC = { lb: '02:00:00:00:00:02', router: '02:00:00:00:00:01', rs: '02:00:00:00:01:85' };
const A = { vip: '2001:db8:0:1::127', rs1: '2001:db8:0:1::185', rs2: '2001:db8:0:1::86', client: '2001:db8:ff::10', router: '2001:db8:0:1::1' };
const PAYLOAD = Buffer.from('abcdef');

function words(t: string): Int32Array {
  const w = parseIPv6(t);
  if (w === null) throw new Error(t);
  return w;
}

export function engine6Cases(): MicroCase[] {
  const engine = new Engine({ ifaces: [{ name: 'eth0', mac: parseMac(MAC.lb)!, mtu: 1500, ip: 0 }], maxConns: 1 << 16 });
  const registry = new ServiceRegistry(engine, new RoutingTable([], [
    { dst: words('2001:db8:0:1::'), prefixLen: 64, iface: 0, gateway: null },
    { dst: words('::'), prefixLen: 0, iface: 0, gateway: words(A.router) },
  ]));
  const nat = { proto: 6, addr: 0, addr6: words(A.vip), port: 80, scheduler: 'rr', persistent: 0, netmask: 128, ops: false, schedFlags: 0 };
  const dr = { ...nat, port: 443 };
  registry.addService(nat);
  registry.addDest(nat, { addr: 0, addr6: words(A.rs1), port: 8080, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 });
  registry.addService(dr);
  registry.addDest(dr, { addr: 0, addr6: words(A.rs2), port: 443, weight: 1, fwd: FWD_DR, uThreshold: 0, lThreshold: 0 });
  for (let n = 0; n < engine.neigh.size; n++) engine.neigh.set(n, parseMac(MAC.rs)!, 0);
  const inbound = (dport: number, flags: number) =>
    tcp6Frame({ srcMac: MAC.router, dstMac: MAC.lb, src: A.client, dst: A.vip, hopLimit: 63, sport: 40000, dport, flags, seq: 1000, ack: 1, payload: PAYLOAD });
  const reply = (flags: number) =>
    tcp6Frame({ srcMac: MAC.rs, dstMac: MAC.lb, src: A.rs1, dst: A.client, hopLimit: 64, sport: 8080, dport: 40000, flags, seq: 1, ack: 1000, payload: PAYLOAD });
  let now = 1000;
  const must = (f: Buffer) => {
    if (engine.process(f, f.length, 0, now++, OFL_KNOWN) !== V_EMIT) throw new Error('engine6 bench: a set-up frame was not forwarded');
  };
  // Three-way handshakes: NAT (both directions), DR (client side only).
  must(inbound(80, tcp.SYN));
  must(reply(tcp.SYN | tcp.ACK));
  must(inbound(80, tcp.ACK));
  must(inbound(443, tcp.SYN));
  must(inbound(443, tcp.ACK));
  const clock: Clock = { mode: 'fraction', ms: new Float64Array([now]), ticks: new Int32Array([0, now]) };
  const cases: MicroCase[] = [];
  const add = (name: string, frame: Buffer, note: string) => {
    const bad = new Uint32Array(1);
    const offs = changedBytes(frame, () => engine.process(frame, frame.length, 0, clock.ms[0]!, OFL_KNOWN));
    cases.push({ group: 'engine6', name, fn: engineOp(engine, frame, offs, V_EMIT, clock, bad, OFL_KNOWN), note, check: verdictCheck(bad, V_EMIT) });
  };
  add('IPv6 NAT established, client->server', inbound(80, tcp.PSH | tcp.ACK), '80-byte PSH|ACK to [VIP]:80: 128-bit lookup, state, stats, timer, DNAT (RFC 1624 over 8 words + port), hop limit, MACs');
  add('IPv6 NAT established, server->client', reply(tcp.PSH | tcp.ACK), 'the reply: reverse lookup, SNAT back to [VIP]:80');
  add('IPv6 DR established', inbound(443, tcp.PSH | tcp.ACK), 'DR flow to [VIP]:443: lookup, state, hop limit, MACs only');
  return cases;
}
