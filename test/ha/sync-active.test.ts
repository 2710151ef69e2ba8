/**
 * Connection sync among N active directors (role 'active', docs/scale-out.md): every director
 * sends the connections it forwards and applies those of the others, so a flow that the routers
 * move reaches the same real server even under rr, which would pick again (issue 14 item 3).
 * Two SyncRunners on two engines, datagrams handed over by hand instead of a socket.
 */
import t from 'tap';
import { oneArm, MAC, IP, ip } from '../helpers/lab-engine.js';
import { tcpFrame } from '../../src/packet/builder.js';
import * as tcp from '../../src/packet/tcp.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import { V_EMIT } from '../../src/dataplane/verdict.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { SyncRunner } from '../../src/ha/sync-runner.js';
import type { Engine } from '../../src/dataplane/engine.js';
import { FakeClock } from './fake-clock.js';

const routing = new RoutingTable([
  { dst: ip('10.0.0.0'), prefixLen: 24, iface: 0, gateway: 0 },
  { dst: 0, prefixLen: 0, iface: 0, gateway: ip(IP.router) },
]);

const fromClient = (sport: number, flags: number, seq: number) =>
  tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport, dport: 80, flags, seq, ack: 1, ttl: 63 });

/** SYN, then `n` ACK segments (DR-like: the director sees the client side only); the server picked. */
function flow(engine: Engine, sport: number, n: number, now: number): string {
  let f = fromClient(sport, tcp.SYN, 100);
  if (engine.process(f, f.length, 0, now) !== V_EMIT) throw new Error('SYN not forwarded');
  const rs = ipv4.decode(engine.verdict.buf, 14).dst;
  for (let i = 0; i < n; i++) {
    f = fromClient(sport, tcp.ACK | tcp.PSH, 101 + i);
    engine.process(f, f.length, 0, now);
  }
  return rs;
}

/** A runner whose socket only collects what it would send. */
function director(clock: FakeClock, local: string) {
  const { engine } = oneArm();
  const runner = new SyncRunner(engine, routing, { syncid: 9, localIp: ip(local) >>> 0 }, clock, () => undefined);
  const sent: Uint8Array[] = [];
  (runner as unknown as { sock: unknown }).sock = { send: (dg: Uint8Array, _p: number, _d: string, cb: (e: Error | null) => void) => { sent.push(Buffer.from(dg)); cb(null); }, close: () => undefined };
  const tick = () => (runner as unknown as { tick(): void }).tick();
  return { engine, runner, sent, tick };
}

const serverOf = (e: Engine, sport: number): string | null => {
  const t = e.table;
  for (let i = 0; i < t.capacity; i++) {
    if (t.live[i] && t.cport[i] === sport) {
      const d = t.daddr[i]! >>> 0;
      return `${d >>> 24}.${(d >>> 16) & 255}.${(d >>> 8) & 255}.${d & 255}`;
    }
  }
  return null;
};

t.test('two active directors: each sends its own connections and applies the other\'s', (t) => {
  const clock = new FakeClock();
  clock.t = 1000;
  const a = director(clock, '10.0.0.11');
  const b = director(clock, '10.0.0.12');
  a.runner.setRole('active');
  b.runner.setRole('active');
  t.equal(a.runner.stats.role, 'active');
  // rr on both: A's first pick is rs1 for 41000; B's first pick is rs1 for 42000, its second rs2 for 42001.
  const rsA = flow(a.engine, 41000, 4, clock.t);
  const rsB0 = flow(b.engine, 42000, 4, clock.t);
  const rsB1 = flow(b.engine, 42001, 4, clock.t);
  t.not(rsB0, rsB1, 'rr alternates');
  clock.t += 2100;
  a.tick();
  b.tick();
  t.ok(a.sent.length >= 1 && b.sent.length >= 1, 'both send');
  for (const dg of a.sent) b.runner.onMessage(dg, '10.0.0.11');
  for (const dg of b.sent) a.runner.onMessage(dg, '10.0.0.12');
  t.equal(serverOf(b.engine, 41000), rsA, "B holds A's connection, on A's server");
  t.equal(serverOf(a.engine, 42000), rsB0, "A holds B's connections, on B's servers");
  t.equal(serverOf(a.engine, 42001), rsB1);
  t.ok(a.runner.stats.connsApplied >= 2 && b.runner.stats.connsApplied >= 1, 'counted as applied');
  t.equal(a.runner.stats.notBackup + b.runner.stats.notBackup, 0, 'an active director listens');

  // Nothing echoes: applied updates are not sent on, only forwarded packets feed the batcher.
  const before = b.sent.length;
  clock.t += 2100;
  b.tick();
  t.equal(b.sent.length, before, 'B sends nothing for connections it only received');

  // The routers move A's flow to B: B forwards it to A's server (rr alone would pick again; no sloppy TCP).
  const f = fromClient(41000, tcp.ACK | tcp.PSH, 200);
  t.equal(b.engine.process(f, f.length, 0, clock.t), V_EMIT, 'B forwards the moved flow');
  t.equal(ipv4.decode(b.engine.verdict.buf, 14).dst, rsA, 'to the server A had picked');

  // Our own datagrams (multicast loopback, or unicast to ourselves) change nothing.
  const own = a.runner.stats.foreign;
  for (const dg of a.sent) a.runner.onMessage(dg, '10.0.0.11');
  t.equal(a.runner.stats.foreign, own + a.sent.length, 'own datagrams counted as foreign');
  a.runner.stop();
  b.runner.stop();
  t.end();
});

t.test('a master still ignores what it receives; leaving active stops sending', (t) => {
  const clock = new FakeClock();
  clock.t = 1000;
  const a = director(clock, '10.0.0.11');
  const b = director(clock, '10.0.0.12');
  a.runner.setRole('active');
  flow(a.engine, 41000, 4, clock.t);
  clock.t += 2100;
  a.tick();
  b.runner.setRole('master');
  for (const dg of a.sent) b.runner.onMessage(dg, '10.0.0.11');
  t.equal(b.runner.stats.notBackup, a.sent.length, 'master: not applied (sync_thread_master)');
  t.equal(serverOf(b.engine, 41000), null);
  a.runner.setRole('backup');
  t.equal(a.engine.hooks.sync, null, 'backup: the packet path no longer feeds the batcher');
  a.runner.stop();
  b.runner.stop();
  t.end();
});

t.test('haSettings: sync without VRRP runs active with --bgp, and stays off (with the warning) without it', async (t) => {
  const { haSettings } = await import('../../src/ha/ha-settings.js');
  const n = haSettings(null, { sync: 'on', nActive: true }, () => 0, () => 1);
  t.same(n.sync, { instance: null, ifIndex: 0, daemon: undefined, group: null }, 'N active: no instance to follow, first interface');
  t.equal(n.syncWithoutVrrp, false);
  const v = haSettings(null, { sync: 'on' }, () => 0, () => 1);
  t.equal(v.sync, null);
  t.equal(v.syncWithoutVrrp, true, 'active/backup: sync needs a vrrp_instance');
  t.equal(haSettings(null, { sync: 'auto', nActive: true }, () => 0, () => 1).sync, null, 'auto without lvs_sync_daemon: off');
});
