/**
 * Connection sync end to end without sockets: client packets through a master engine, its
 * syncHook into SyncSource (ip_vs_sync_conn's rule), the datagrams applied to a backup engine
 * with the same configuration. The backup must hold the same connections bound to the same real
 * servers; after takeover the NAT replies must reach the client.
 */
import t from 'tap';
import { oneArm, MAC, IP, ip } from '../helpers/lab-engine.js';
import { tcpFrame, udpFrame } from '../../src/packet/builder.js';
import * as tcp from '../../src/packet/tcp.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as eth from '../../src/packet/ethernet.js';
import { V_DROP, V_EMIT, DROP } from '../../src/dataplane/verdict.js';
import { parseMac } from '../../src/packet/addr.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { SyncSource, applySyncToEngine } from '../../src/ha/sync-codec.js';
import { primeSyncedClients } from '../../src/ha/synced-clients.js';
import { CF_SYNCED, CF_TEMPLATE } from '../../src/table/conn-table.js';
import { S_ESTABLISHED, S_UDP } from '../../src/lvs/conn-state.js';
import { decode } from '../../src/sync/message.js';
import type { Engine } from '../../src/dataplane/engine.js';

const routing = new RoutingTable([
  { dst: ip('10.0.0.0'), prefixLen: 24, iface: 0, gateway: 0 },
  { dst: 0, prefixLen: 0, iface: 0, gateway: ip(IP.router) },
]);

function fromClient(sport: number, flags: number, seq: number) {
  return tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport, dport: 80, flags, seq, ack: 1, ttl: 63 });
}

/** SYN, SYN-ACK from the server, ACK, then `data` more client segments. Returns the server chosen. */
function tcpFlow(engine: Engine, sport: number, data: number, now: number): string {
  let f = fromClient(sport, tcp.SYN, 100);
  if (engine.process(f, f.length, 0, now) !== V_EMIT) throw new Error('SYN not forwarded');
  const rs = ipv4.decode(engine.verdict.buf, 14).dst;
  const synack = tcpFrame({ srcMac: rs === IP.rs1 ? MAC.rs1 : MAC.rs2, dstMac: MAC.lb, src: rs, dst: IP.client, sport: 80, dport: sport, flags: tcp.SYN | tcp.ACK, seq: 500, ack: 101, ttl: 64 });
  engine.process(synack, synack.length, 0, now);
  f = fromClient(sport, tcp.ACK, 101);
  engine.process(f, f.length, 0, now);
  for (let i = 0; i < data; i++) {
    f = fromClient(sport, tcp.ACK | tcp.PSH, 101 + i);
    engine.process(f, f.length, 0, now);
  }
  return rs;
}

function conns(e: Engine) {
  const out: string[] = [];
  const t = e.table;
  for (let i = 0; i < t.capacity; i++) {
    if (!t.live[i]) continue;
    const a = (x: number) => `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
    out.push(`${t.proto[i]} ${t.flags[i]! & CF_TEMPLATE ? 'T ' : ''}${a(t.caddr[i]!)}:${t.cport[i]} ${a(t.vaddr[i]!)}:${t.vport[i]} -> ${a(t.daddr[i]!)}:${t.dport[i]} st ${t.state[i]}`);
  }
  return out.sort();
}

t.test('master -> datagram -> backup: same connections on the same real servers', (t) => {
  const master = oneArm().engine;
  const backup = oneArm().engine;
  const src = new SyncSource(master, { syncid: 7 });
  let now = 1000;
  master.hooks.sync = (e) => src.onEntry(e, now);
  // sync_threshold "3 50": a TCP connection is synced at its 3rd client packet once ESTABLISHED.
  const chosen = new Map<number, string>();
  for (let i = 0; i < 4; i++) chosen.set(41000 + i, tcpFlow(master, 41000 + i, 1, now));
  tcpFlow(master, 42000, 0, now); // only 2 client packets: not synced yet
  const u = udpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport: 5353, dport: 80, payload: new Uint8Array(4) });
  for (let i = 0; i < 3; i++) master.process(Buffer.from(u), u.length, 0, now);
  t.same(src.take(now), [], 'nothing sent before the 2 s flush time');
  now += 2000;
  const dgs = src.take(now);
  t.equal(dgs.length, 1, 'one datagram after 2 s');
  const msg = decode(dgs[0]!, 0, dgs[0]!.length);
  t.equal(msg.syncid, 7);
  t.equal(msg.conns.length, 4, 'the 4 established connections; not the 2-packet one; UDP has no service here');
  t.ok(msg.conns.every((c) => c.state === S_ESTABLISHED && c.timeout === 900 && (c.flags & 7) === 0), 'ESTABLISHED, 900 s, Masq');

  const r = applySyncToEngine(backup, dgs[0]!, 0, now);
  t.equal(r.status, 'ok');
  t.equal(r.applied, 4);
  t.equal(r.unbound, 0);
  const want = conns(master).filter((c) => !c.includes(':42000 '));
  t.same(conns(backup), want, 'same tuples, same real servers, same state');
  for (const [port, rs] of chosen) t.ok(conns(backup).some((c) => c.includes(`:${port} `) && c.includes(`-> ${rs}:80`)), `port ${port} bound to ${rs}`);
  // Active (ESTABLISHED) per server = the synced connections bound to it; none inactive.
  for (const x of backup.services[0]!.dests) {
    const n = [...chosen.values()].filter((rs) => ip(rs) === x.addr).length;
    t.equal(`${x.activeConns}/${x.inactConns}`, `${n}/0`, `ActiveConn/InActConn of ${x.addr >>> 0}`);
  }
  t.end();
});

t.test('after takeover: a synced NAT reply is dropped until the client hop is known, then forwarded', (t) => {
  const master = oneArm().engine;
  const backup = oneArm().engine;
  const src = new SyncSource(master, { syncid: 0, flushMs: 0 });
  master.hooks.sync = (e) => src.onEntry(e, 1);
  const rs = tcpFlow(master, 43000, 1, 1);
  for (const dg of src.take(1)) applySyncToEngine(backup, dg, 0, 2);
  const reply = () => tcpFrame({ srcMac: rs === IP.rs1 ? MAC.rs1 : MAC.rs2, dstMac: MAC.lb, src: rs, dst: IP.client, sport: 80, dport: 43000, flags: tcp.ACK | tcp.PSH, seq: 501, ack: 102, ttl: 64 });
  let f = reply();
  t.equal(backup.process(f, f.length, 0, 3), V_DROP);
  t.equal(backup.verdict.reason, DROP.client_mac_unknown, 'engine refuses: client next hop unknown');
  t.same(primeSyncedClients(backup, routing), { primed: 0, pending: 1 }, 'client next hop (the router) not resolved yet');
  const slot = backup.neigh.find(ip(IP.router), 0);
  t.ok(slot >= 0, 'a neighbour slot was created, so the runtime ARPs for it');
  backup.neigh.set(slot, parseMac(MAC.router)!, 3); // the ARP reply
  t.same(primeSyncedClients(backup, routing), { primed: 1, pending: 0 });
  f = reply();
  t.equal(backup.process(f, f.length, 0, 4), V_EMIT);
  const out = backup.verdict.buf.subarray(0, backup.verdict.len);
  t.equal(ipv4.decode(out, 14).src, IP.vip, 'rewritten to the VIP');
  t.equal(eth.decode(out).dst, MAC.router, 'to the client next hop');
  t.equal(backup.table.flags.some((x, i) => backup.table.live[i] === 1 && (x & CF_SYNCED) !== 0), false);
  t.end();
});

t.test('persistence templates travel with their connection', (t) => {
  const master = oneArm({}, { persistent: 300 }).engine;
  const backup = oneArm({}, { persistent: 300 }).engine;
  const src = new SyncSource(master, { syncid: 0 });
  master.hooks.sync = (e) => src.onEntry(e, 1);
  tcpFlow(master, 44000, 1, 1);
  const dgs = src.flushAll();
  const msg = decode(dgs[0]!, 0, dgs[0]!.length);
  t.ok(msg.conns.some((c) => (c.flags & 0x1000) !== 0 && c.cport === 0 && c.timeout === 300), 'template entry, client port 0, 300 s');
  for (const dg of dgs) applySyncToEngine(backup, dg, 0, 2);
  t.same(conns(backup), conns(master));
  t.end();
});

t.test('a malformed or foreign datagram changes nothing', (t) => {
  const backup = oneArm().engine;
  const r = applySyncToEngine(backup, new Uint8Array([0, 1, 0, 44, 1, 1, 0, 0]), 0, 1);
  t.equal(r.status, 'malformed');
  t.equal(backup.table.count, 0);
  const master = oneArm().engine;
  const src = new SyncSource(master, { syncid: 9 });
  master.hooks.sync = (e) => src.onEntry(e, 1);
  tcpFlow(master, 45000, 1, 1);
  const dg = src.flushAll()[0]!;
  t.equal(applySyncToEngine(backup, dg, 8, 1).status, 'ignored', 'other syncid');
  t.equal(backup.table.count, 0);
  const cut = dg.slice(0, dg.length - 4);
  t.equal(applySyncToEngine(backup, cut, 0, 1).status, 'malformed', 'truncated');
  t.equal(backup.table.count, 0);
  t.equal(S_UDP, 11);
  t.end();
});
