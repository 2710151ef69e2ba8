/**
 * Connection sync for IPv6 services (docs/ipv6.md step 10), without sockets: client packets
 * through a master engine's IPv6 path, the sync hook (called here by the test, after each
 * client packet, where the IPv6 path will call engine.hooks.sync6) into SyncSource, the
 * datagram applied to a backup engine with the same configuration.
 * Expected bytes are struct ip_vs_sync_v6 as ip_vs_sync.c lays it out (type 1 = IPv6, 72-byte
 * entry, addresses at 24/40/56), written here by hand; expected table state is ip_vs_proc_conn's.
 */
import t from 'tap';
import { Engine } from '../../src/dataplane/engine.js';
import { ServiceRegistry, type DestSpec, type ServiceSpec } from '../../src/control/service-registry.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { DROP, V_DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import { FWD_FNAT, FWD_MASQ } from '../../src/lvs/fwd.js';
import { parseMac } from '../../src/packet/addr.js';
import { formatIPv6, parseIPv6 } from '../../src/packet/addr6.js';
import { SyncSource, applySyncToEngine } from '../../src/ha/sync-codec.js';
import { setClientHop6 } from '../../src/dataplane/conn-sync6.js';
import { CF_SYNCED, CF_TEMPLATE } from '../../src/table/conn-table.js';
import { S_ESTABLISHED } from '../../src/lvs/conn-state.js';
import { CONN_F_FULLNAT, CONN_F_TEMPLATE } from '../../src/sync/constants.js';
import { decode, encodeEntry6, writeHeader } from '../../src/sync/message.js';
import { applySyncDatagram } from '../../src/sync/apply.js';
import { hex, TCP_ACK, TCP_PSH, TCP_SYN, type TcpFields } from '../helpers/frame-ref.js';
import { ip6Bytes, tcp6Frame } from '../helpers/frame-ref6.js';

const MAC = { lb: '02:00:00:00:00:02', router: '02:00:00:00:00:01', rs1: '02:00:00:00:01:85', rs2: '02:00:00:00:00:86' };
const IP6 = {
  net: '2001:db8:0:1::', vip: '2001:db8:0:1::127', rs1: '2001:db8:0:1::185', rs2: '2001:db8:0:1::86',
  router: '2001:db8:0:1::1', client: '2001:db8:ff::10',
};
const TCP = 6;

function w(text: string): Int32Array {
  const a = parseIPv6(text);
  if (a === null) throw new Error(`bad ${text}`);
  return a;
}

function setup(svc: Partial<ServiceSpec> = {}) {
  const engine = new Engine({ ifaces: [{ name: 'eth0', mac: parseMac(MAC.lb)!, mtu: 1500, ip: 0, ll6: Uint8Array.from(ip6Bytes('fe80::2')) }], maxConns: 64 });
  const routing = new RoutingTable([], [
    { dst: w(IP6.net), prefixLen: 64, iface: 0, gateway: null },
    { dst: w('::'), prefixLen: 0, iface: 0, gateway: w(IP6.router) },
  ]);
  const registry = new ServiceRegistry(engine, routing);
  const spec: ServiceSpec = { proto: TCP, addr: 0, addr6: w(IP6.vip), port: 80, scheduler: 'rr', persistent: 0, netmask: 128, ops: false, schedFlags: 0, ...svc };
  registry.addService(spec);
  const dest = (a: string): DestSpec => ({ addr: 0, addr6: w(a), port: 8080, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 });
  registry.addDest(spec, dest(IP6.rs1));
  registry.addDest(spec, dest(IP6.rs2));
  const macs: Record<string, string> = { [IP6.rs1]: MAC.rs1, [IP6.rs2]: MAC.rs2, [IP6.router]: MAC.router };
  for (let n = 0; n < engine.neigh.size; n++) {
    const m = engine.neigh.v6[n] ? macs[formatIPv6(engine.neigh.ip6, n)] : undefined;
    if (m) engine.neigh.set(n, parseMac(m)!, 0);
  }
  return engine;
}

/** The table6 entry of client:cport -> VIP:80 (what the IPv6 path hands hooks.sync6). */
function entryOf(engine: Engine, cport: number): number {
  const k = new Int32Array(8);
  k.set(w(IP6.client), 0);
  k.set(w(IP6.vip), 4);
  return engine.table6.findForward(TCP, k, 0, cport, k, 1, 80, false);
}

/** A client packet through the master, then the sync hook as the IPv6 path will call it. */
function fromClient(engine: Engine, src: SyncSource, f: TcpFields, now: number): number {
  const b = Buffer.from(tcp6Frame({ dst: MAC.lb, src: MAC.router }, { src: IP6.client, dst: IP6.vip, hopLimit: 63 }, f));
  const v = engine.process(b, b.length, 0, now);
  const e = entryOf(engine, f.sport);
  if (e >= 0) src.onEntry6(e, now);
  return v;
}

/** SYN, the server's SYN-ACK, ACK, one data segment: ESTABLISHED at the 3rd client packet. */
function flow(engine: Engine, src: SyncSource, sport: number, now: number): string {
  const syn: TcpFields = { sport, dport: 80, seq: 1000, ack: 0, flags: TCP_SYN, window: 64240 };
  if (fromClient(engine, src, syn, now) !== V_EMIT) throw new Error('SYN not forwarded');
  const e = entryOf(engine, sport);
  const rs = formatIPv6(engine.table6.daddr, e);
  const synAck = tcp6Frame({ dst: MAC.lb, src: rs === IP6.rs1 ? MAC.rs1 : MAC.rs2 }, { src: rs, dst: IP6.client, hopLimit: 64 },
    { sport: 8080, dport: sport, seq: 5000, ack: 1001, flags: TCP_SYN | TCP_ACK, window: 65160 });
  engine.process(Buffer.from(synAck), synAck.length, 0, now);
  fromClient(engine, src, { ...syn, flags: TCP_ACK, seq: 1001, ack: 5001 }, now);
  fromClient(engine, src, { ...syn, flags: TCP_ACK | TCP_PSH, seq: 1001, ack: 5001 }, now);
  return rs;
}

const u16 = (v: number) => [v >> 8, v & 255];
const u32 = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

t.test('master: an ESTABLISHED IPv6 connection goes out as one ip_vs_sync_v6 entry', (t) => {
  const master = setup();
  const src = new SyncSource(master, { syncid: 7 });
  const rs = flow(master, src, 40000, 1000);
  t.equal(rs, IP6.rs2, 'rr starts at the head of the kernel list (the last added)');
  const dgs = src.take(3000);
  t.equal(dgs.length, 1, 'flushed 2 s after the first entry');
  const entry = [
    1, TCP, ...u16(72), // type IPv6, protocol, ver_size: version 0, size 72
    ...u32(0), // flags: Masq, active (no INACTIVE), HASHED never sent
    ...u16(S_ESTABLISHED), ...u16(40000), ...u16(80), ...u16(8080),
    ...u32(0), ...u32(900), // fwmark, timeout: the ESTABLISHED timeout, 15 min
    ...ip6Bytes(IP6.client), ...ip6Bytes(IP6.vip), ...ip6Bytes(IP6.rs2),
  ];
  const header = [0, 7, ...u16(8 + 72), 1, 1, 0, 0]; // reserved, syncid, size, nr_conns, version 1, spare
  t.equal(hex([...dgs[0]!]), hex([...header, ...entry]));
  t.end();
});

t.test('backup: the entry is installed CF_SYNCED on the same server, counted active; the client MAC comes later', (t) => {
  const master = setup();
  const backup = setup();
  const src = new SyncSource(master, { syncid: 7 });
  flow(master, src, 40000, 1000);
  const dg = src.take(3000)[0]!;
  const r = applySyncToEngine(backup, dg, 0, 3000);
  t.match(r, { status: 'ok', applied: 1, unbound: 0, skipped: [] });
  const e = entryOf(backup, 40000);
  t.ok(e >= 0, 'found by the forward key');
  const tb = backup.table6;
  t.equal(formatIPv6(tb.daddr, e), IP6.rs2);
  t.equal(tb.dport[e], 8080);
  t.equal(tb.state[e], S_ESTABLISHED);
  t.equal(tb.timeoutMs[e], 900_000);
  t.ok(tb.flags[e]! & CF_SYNCED, 'client MAC unknown until the client sends');
  const d = backup.services[0]!.dests.find((x) => formatIPv6(x.addr6) === IP6.rs2)!;
  t.equal(d.activeConns, 1, 'ESTABLISHED counts active (INACTIVE cleared by the state move)');
  t.equal(d.inactConns, 0);
  // The same update again (the master re-sends every 50 packets): nothing doubles.
  applySyncToEngine(backup, dg, 0, 3100);
  t.equal(tb.count, 1);
  t.equal(d.activeConns, 1);

  // A reply from the server before the client has sent through the backup: no client MAC yet.
  const reply = tcp6Frame({ dst: MAC.lb, src: MAC.rs2 }, { src: IP6.rs2, dst: IP6.client, hopLimit: 64 },
    { sport: 8080, dport: 40000, seq: 5001, ack: 1001, flags: TCP_ACK, window: 65160 });
  t.equal(backup.process(Buffer.from(reply), reply.length, 0, 3200), V_DROP);
  t.equal(backup.verdict.reason, DROP.client_mac_unknown);
  // Once the client's next hop is known (its first packet, or HA priming): un-NATed to it.
  setClientHop6(tb, e, parseMac(MAC.router)!, 0, 0);
  t.notOk(tb.flags[e]! & CF_SYNCED);
  t.equal(backup.process(Buffer.from(reply), reply.length, 0, 3300), V_EMIT);
  t.equal(hex([...backup.verdict.buf.subarray(0, 6)]), hex([2, 0, 0, 0, 0, 1]), 'to the router MAC');
  t.end();
});

t.test('persistence: the IPv6 template (client /64, port 0) is synced with its connection and installed', (t) => {
  const master = setup({ persistent: 300, netmask: 64 });
  const backup = setup({ persistent: 300, netmask: 64 });
  const src = new SyncSource(master, { syncid: 0 });
  flow(master, src, 40000, 1000);
  const dg = src.take(3000)[0]!;
  const m = decode(dg, 0, dg.length);
  t.equal(m.conns.length, 0);
  const tpl = m.conns6.filter((c) => c.flags & CONN_F_TEMPLATE);
  t.ok(tpl.length >= 1, 'the template goes with each packet of its connection (refresh period 0)');
  t.match(tpl[0], { caddr: '2001:db8:ff::', cport: 0, vaddr: IP6.vip, vport: 80, daddr: IP6.rs2, dport: 8080, state: 0, timeout: 300 });
  t.equal(m.conns6.filter((c) => !(c.flags & CONN_F_TEMPLATE)).length, 1, 'the connection once, at its 3rd packet');
  const r = applySyncToEngine(backup, dg, 0, 3000);
  t.equal(r.unbound, 0);
  const tb = backup.table6;
  let templates = 0;
  for (let e = 0; e < tb.capacity; e++) if (tb.live[e] && tb.flags[e]! & CF_TEMPLATE) templates++;
  t.equal(templates, 1, 'one template, refreshed in place');
  const d = backup.services[0]!.dests.find((x) => formatIPv6(x.addr6) === IP6.rs2)!;
  t.equal(d.persistConns, 1);
  t.equal(d.activeConns, 1);
  t.end();
});

t.test('full-NAT IPv6: not sent by the master (counted), skipped with a reason by the backup', (t) => {
  const master = setup();
  const src = new SyncSource(master, { syncid: 0 });
  const syn: TcpFields = { sport: 40000, dport: 80, seq: 1000, ack: 0, flags: TCP_SYN, window: 64240 };
  fromClient(master, src, syn, 1000);
  const e = entryOf(master, 40000);
  master.table6.fwd[e] = FWD_FNAT; // as a full-NAT server's entry would be
  master.table6.state[e] = S_ESTABLISHED;
  master.table6.inPkts[e] = 3;
  src.onEntry6(e, 1000);
  t.same(src.flushAll(), [], 'nothing on the wire');
  t.equal(src.notSent6.fullnat, 1);

  // A datagram from another sender with a full-NAT IPv6 entry.
  const buf = new Uint8Array(80);
  encodeEntry6({ protocol: TCP, flags: CONN_F_FULLNAT, state: S_ESTABLISHED, cport: 40000, vport: 80, dport: 8080, fwmark: 0, timeout: 900, caddr: IP6.client, vaddr: IP6.vip, daddr: IP6.rs1 }, buf, 8);
  writeHeader(buf, 0, 0, 80, 1);
  const r = applySyncDatagram(buf, { upsert: () => t.fail('no IPv4 entry'), upsert6: () => t.fail('must be skipped') }, { syncid: 0 });
  t.match(r, { status: 'ok', applied: 0, skipped: [{ index: 0, ipv6: true, reason: /full-NAT IPv6/ }] });
  const r4 = applySyncDatagram(buf, { upsert: () => t.fail('no IPv4 entry') }, { syncid: 0 });
  t.match(r4.skipped, [{ index: 0, ipv6: true, reason: /IPv4 only/ }], 'a target without upsert6 says why it skipped');
  t.end();
});

t.test('no such IPv6 service or server on the backup: counted unbound, nothing installed', (t) => {
  const master = setup();
  const backup = setup({ port: 443 });
  const src = new SyncSource(master, { syncid: 0 });
  flow(master, src, 40000, 1000);
  const r = applySyncToEngine(backup, src.take(3000)[0]!, 0, 3000);
  t.match(r, { applied: 1, unbound: 1 });
  t.equal(backup.table6.count, 0);
  t.end();
});

t.test('wired: the IPv6 path calls hooks.sync6, and a synced entry learns its client MAC from the first client packet', (t) => {
  const master = setup();
  const backup = setup();
  const src = new SyncSource(master, { syncid: 7 });
  let now = 1000;
  master.hooks.sync6 = (e) => src.onEntry6(e, now);
  const none = new SyncSource(master, { syncid: 7 }); // fed by nobody: flow() calls it by hand
  flow(master, none, 40000, now);
  now = 3000;
  const dgs = src.take(now);
  t.equal(dgs.length, 1, 'the hook fed the batcher');
  t.equal(decode(dgs[0]!, 0, dgs[0]!.length).conns6.length, 1);
  applySyncToEngine(backup, dgs[0]!, 0, now);
  const e = entryOf(backup, 40000);
  t.ok(backup.table6.flags[e]! & CF_SYNCED);
  const b = Buffer.from(tcp6Frame({ dst: MAC.lb, src: MAC.router }, { src: IP6.client, dst: IP6.vip, hopLimit: 63 },
    { sport: 40000, dport: 80, seq: 1001, ack: 5001, flags: TCP_ACK, window: 64240 }));
  t.equal(backup.process(b, b.length, 0, now + 1), V_EMIT, 'the backup (now master) forwards the flow');
  t.notOk(backup.table6.flags[e]! & CF_SYNCED, 'client next hop learnt');
  t.end();
});
