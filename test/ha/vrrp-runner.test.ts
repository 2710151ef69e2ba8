/**
 * The VRRP runner with an injected clock and in-memory ports: two directors on one "wire"
 * elect a master, the backup takes over when the master dies or stops, nopreempt is respected,
 * and the engine's VIP activity (balancing and ARP answers) follows the state.
 * Expected times come from keepalived's formulas (vrrp.h): skew = (256 - prio)/256 s,
 * master_down_interval = 3 * advert_int + skew.
 */
import t from 'tap';
import { MemoryPort } from '../../src/io/memory-port.js';
import { VrrpRunner } from '../../src/ha/vrrp-runner.js';
import type { VrrpRunnerInstance } from '../../src/ha/vrrp-config.js';
import { vrrpInstanceFromConfig } from '../../src/ha/vrrp-config.js';
import { parseAdvertFrame } from '../../src/vrrp/frame.js';
import { passwordToAuthData } from '../../src/vrrp/packet.js';
import { parseIPv4, parseMac } from '../../src/packet/addr.js';
import { arpFrame } from '../../src/packet/builder.js';
import { V_EMIT } from '../../src/dataplane/verdict.js';
import { oneArm, IP, MAC } from '../helpers/lab-engine.js';
import { FakeClock } from './fake-clock.js';
import type { VrrpInstance } from '../../src/config/keepalived/schema.js';

const ip = (s: string): number => parseIPv4(s)!;
const VIP = ip('10.0.0.127');
const skew = (p: number): number => ((256 - p) / 256) * 1000;
const mdi = (p: number, adv = 1000): number => 3 * adv + skew(p);

/** One director on the wire: a MemoryPort whose sends reach the other directors after 0 ms. */
class Node {
  readonly port: MemoryPort;
  readonly vip = new Map<number, boolean>();
  runner!: VrrpRunner;
  connected = true;
  readonly notified: string[] = [];
  readonly syncRoles: string[] = [];
  constructor(readonly name: string, mac: string, readonly wire: Wire) {
    this.port = new MemoryPort('eth0', parseMac(mac)!);
    const send = this.port.send.bind(this.port);
    this.port.send = (frame, len) => {
      const ok = send(frame, len);
      if (this.connected) wire.carry(this, Buffer.from(frame.subarray(0, len)));
      return ok;
    };
  }
}

class Wire {
  readonly nodes: Node[] = [];
  constructor(readonly clock: FakeClock) {}
  carry(from: Node, frame: Buffer): void {
    this.clock.setTimer(() => {
      if (!from.connected) return;
      for (const n of this.nodes) if (n !== from && n.connected && frame[12] === 0x08 && frame[13] === 0x00 && frame[23] === 112) n.runner.receive(0, frame, frame.length);
    }, 0);
  }
}

function spec(name: string, priority: number, selfIp: string, over: Partial<VrrpRunnerInstance['machine']> = {}, notify = {}): VrrpRunnerInstance {
  return {
    name, ifIndex: 0,
    machine: { vrid: 51, priority, advertIntMs: 1000, initialState: 'BACKUP', primaryIp: ip(selfIp), vips: [VIP], ...over },
    checks: { version: 2, vrid: 51, adverInt: 1, vips: [VIP], priority },
    unicastPeers: [],
    notify,
  };
}

function node(wire: Wire, name: string, mac: string, s: VrrpRunnerInstance): Node {
  const n = new Node(name, mac, wire);
  n.runner = new VrrpRunner([s], {
    ports: [n.port],
    setVipActive: (a, on) => n.vip.set(a >>> 0, on),
    clock: wire.clock,
    runNotify: (cmd, args) => n.notified.push([cmd, ...args].join(' ')),
    onSyncRole: (_i, role) => n.syncRoles.push(role),
  });
  wire.nodes.push(n);
  return n;
}

function pair(opts: { aOver?: Partial<VrrpRunnerInstance['machine']> } = {}) {
  const clock = new FakeClock();
  const wire = new Wire(clock);
  const a = node(wire, 'a', '02:00:00:00:00:0a', spec('VI_1', 100, '10.0.0.10', opts.aOver, { master: '/bin/m', backup: '/bin/b', any: '/bin/n' }));
  const b = node(wire, 'b', '02:00:00:00:00:0b', spec('VI_1', 50, '10.0.0.11'));
  return { clock, wire, a, b };
}

const advertsFrom = (n: Node) => n.port.sent.filter((f) => f[23] === 112).map((f) => parseAdvertFrame(f));
const garpsFrom = (n: Node) => n.port.sent.filter((f) => f[12] === 0x08 && f[13] === 0x06);

t.test('election: the higher priority becomes master after its master_down_interval; the other stays backup', (t) => {
  const { clock, a, b } = pair();
  a.runner.start();
  b.runner.start();
  t.equal(a.vip.get(VIP), false, 'VIP passive at start');
  t.equal(b.vip.get(VIP), false);
  clock.advanceTo(mdi(100) - 1);
  t.equal(a.runner.state('VI_1'), 'BACKUP');
  clock.advanceTo(mdi(100));
  t.equal(a.runner.state('VI_1'), 'MASTER', `master at ${mdi(100)} ms (3 s + 156/256 s)`);
  t.equal(a.vip.get(VIP), true, 'master: VIP active in the engine');
  clock.advanceTo(20_000);
  t.equal(b.runner.state('VI_1'), 'BACKUP', 'the lower priority hears the adverts and stays backup');
  t.equal(b.vip.get(VIP), false);
  const adv = advertsFrom(a);
  t.ok(adv.length >= 16, `adverts every second (${adv.length})`);
  t.match(adv[0], { dstIp: 0xe0000012, ttl: 255, tos: 0xc0, srcIp: ip('10.0.0.10'), dstMac: '01:00:5e:00:00:12', srcMac: '02:00:00:00:00:0a', vrrpChecksumOk: true, ipChecksumOk: true, advert: { version: 2, vrid: 51, priority: 100, adverInt: 1, addresses: [VIP] } });
  // garp_master_repeat 5 at once, then 5 more after garp_master_delay 5 s.
  t.equal(garpsFrom(a).length, 10);
  const g = garpsFrom(a)[0]!;
  t.equal(g.subarray(0, 6).toString('hex'), 'ffffffffffff');
  t.equal(g.readUInt16BE(20), 1, 'ARP request');
  t.equal(g.readUInt32BE(28), VIP, 'sender IP = VIP');
  t.equal(g.readUInt32BE(38), VIP, 'target IP = VIP');
  t.same(a.notified, ['/bin/b', '/bin/n INSTANCE VI_1 BACKUP 100', '/bin/m', '/bin/n INSTANCE VI_1 MASTER 100']);
  t.same(a.syncRoles, ['backup', 'master']);
  t.end();
});

t.test('the master dies: the backup owns the VIP master_down_interval after the last advert', (t) => {
  const { clock, a, b } = pair();
  a.runner.start();
  b.runner.start();
  clock.advanceTo(10_000);
  const lastAdvert = mdi(100) + 6000; // adverts at mdi, mdi+1 s, ... the last before 10 s
  a.connected = false; // process killed: nothing more on the wire
  clock.advanceTo(lastAdvert + mdi(50) - 1);
  t.equal(b.runner.state('VI_1'), 'BACKUP');
  clock.advanceTo(lastAdvert + mdi(50));
  t.equal(b.runner.state('VI_1'), 'MASTER', `takeover ${mdi(50)} ms after the last advert (within 3 x advert_int + skew)`);
  t.equal(b.vip.get(VIP), true);
  t.equal(garpsFrom(b).length, 5, 'gratuitous ARPs at once');
  t.end();
});

t.test('a master that stops sends priority 0: the backup takes over after its skew only', (t) => {
  const { clock, a, b } = pair();
  a.runner.start();
  b.runner.start();
  clock.advanceTo(10_000);
  a.runner.stop();
  t.equal(a.vip.get(VIP), false, 'stopping master releases the VIP');
  t.equal(advertsFrom(a).at(-1)!.advert.priority, 0);
  clock.advanceTo(10_000 + skew(50) - 1);
  t.equal(b.runner.state('VI_1'), 'BACKUP');
  clock.advanceTo(10_000 + skew(50));
  t.equal(b.runner.state('VI_1'), 'MASTER');
  t.end();
});

t.test('the old master comes back: nopreempt keeps it backup; without nopreempt it takes the VIP back', async (t) => {
  for (const nopreempt of [true, false]) {
    const { clock, a, b } = pair({ aOver: { nopreempt } });
    a.runner.start();
    b.runner.start();
    clock.advanceTo(10_000);
    a.connected = false;
    clock.advanceTo(20_000);
    t.equal(b.runner.state('VI_1'), 'MASTER');
    a.runner.stop();
    a.connected = true;
    a.port.sent.length = 0;
    a.runner.start();
    clock.advanceTo(40_000);
    if (nopreempt) {
      t.equal(a.runner.state('VI_1'), 'BACKUP', 'nopreempt: stays backup');
      t.equal(b.runner.state('VI_1'), 'MASTER');
      t.equal(a.vip.get(VIP), false);
    } else {
      t.equal(a.runner.state('VI_1'), 'MASTER', 'preempts the lower priority');
      t.equal(b.runner.state('VI_1'), 'BACKUP');
      t.equal(b.vip.get(VIP), false, 'the old backup releases the VIP');
    }
  }
});

t.test('adverts failing the checks do not reach the state machine (wrong password)', (t) => {
  const clock = new FakeClock();
  const wire = new Wire(clock);
  const pass = { authType: 1, authData: passwordToAuthData('secret') };
  const sa = spec('VI_1', 100, '10.0.0.10', pass);
  sa.checks = { ...sa.checks, authType: 1, authData: passwordToAuthData('secret') };
  const sb = spec('VI_1', 50, '10.0.0.11', { authType: 1, authData: passwordToAuthData('other') });
  sb.checks = { ...sb.checks, authType: 1, authData: passwordToAuthData('other') };
  const a = node(wire, 'a', '02:00:00:00:00:0a', sa);
  const b = node(wire, 'b', '02:00:00:00:00:0b', sb);
  a.runner.start();
  b.runner.start();
  clock.advanceTo(10_000);
  t.equal(a.runner.state('VI_1'), 'MASTER');
  t.equal(b.runner.state('VI_1'), 'MASTER', 'wrong password: both think they are master (as keepalived)');
  t.ok((b.runner.status()[0]!.stats.rejected['auth-password'] ?? 0) > 0, 'rejections counted by reason');
  t.end();
});

t.test('the engine answers ARP for the VIP only while master, and balances only while master', (t) => {
  const { engine } = oneArm();
  const port = new MemoryPort('eth0', parseMac(MAC.lb)!);
  const clock = new FakeClock();
  const r = new VrrpRunner([spec('VI_1', 255, IP.lb, { initialState: 'MASTER' })], { ports: [port], setVipActive: (a, on) => engine.setVipActive(a, on), clock });
  const who = arpFrame({ srcMac: MAC.router, dstMac: 'ff:ff:ff:ff:ff:ff', op: 1, senderMac: MAC.router, senderIp: IP.router, targetMac: '00:00:00:00:00:00', targetIp: IP.vip });
  r.start();
  t.equal(r.state('VI_1'), 'MASTER', 'address owner with state MASTER: master at once');
  t.equal(engine.process(Buffer.from(who), who.length, 0, 1), V_EMIT, 'ARP reply for the VIP');
  r.stop();
  t.not(engine.process(Buffer.from(who), who.length, 0, 2), V_EMIT, 'no ARP reply once released');
  t.same(engine.vipList().map((v) => v.active), [false]);
  t.end();
});

t.test('reapply: a VIP re-created by a rules change gets the instance state back', (t) => {
  const { clock, a } = pair();
  a.runner.start();
  a.vip.set(VIP, true); // e.g. engine.setVips made the VIP active again
  a.runner.reapply();
  t.equal(a.vip.get(VIP), false);
  clock.advanceTo(mdi(100));
  a.vip.set(VIP, false);
  a.runner.reapply();
  t.equal(a.vip.get(VIP), true);
  t.end();
});

t.test('vrrp_instance from keepalived.conf (seed 004 style)', (t) => {
  const vi: VrrpInstance = {
    name: 'LVS_SETTINGS', state: 'BACKUP', interface: 'eth0', virtualRouterId: 50, priority: 100, advertInt: 1, nopreempt: false, preemptDelay: 0,
    virtualIpAddresses: [{ address: '10.0.0.5', family: 'inet', options: [], source: { file: 'k', line: 1 } }],
    virtualIpAddressesExcluded: [], unicastPeers: [], garpMasterDelay: 5, garpMasterRepeat: 5, trackInterfaces: [], trackScripts: [], extra: [],
    authentication: { type: 'PASS', pass: 'pw' },
    notifyMaster: { command: '/etc/keepalived/notify_master.sh' }, source: { file: 'k', line: 1 },
  };
  const r = vrrpInstanceFromConfig(vi, (n) => (n === 'eth0' ? 0 : undefined), () => ip('10.0.0.12'));
  t.match(r.machine, { vrid: 50, priority: 100, advertIntMs: 1000, initialState: 'BACKUP', primaryIp: ip('10.0.0.12'), vips: [ip('10.0.0.5')], authType: 1, garpMasterDelayMs: 5000 });
  t.match(r.checks, { version: 2, vrid: 50, adverInt: 1, authType: 1, unicast: false });
  t.same(r.notify, { master: '/etc/keepalived/notify_master.sh' });
  t.throws(() => vrrpInstanceFromConfig({ ...vi, interface: 'eth9' }, () => undefined, () => 0), /eth9/);
  t.end();
});

t.test('unicast_peer: one advert per peer, to the MAC learnt from its adverts (broadcast before)', (t) => {
  const clock = new FakeClock();
  const port = new MemoryPort('eth0', parseMac('02:00:00:00:00:0a')!);
  const s = spec('VI_1', 255, '10.0.0.10', { initialState: 'MASTER' });
  s.unicastPeers = [ip('10.0.0.11'), ip('10.0.0.12')];
  s.checks = { ...s.checks, unicast: true, unicastPeers: s.unicastPeers };
  const r = new VrrpRunner([s], { ports: [port], setVipActive: () => undefined, clock });
  r.start();
  const first = port.sent.filter((f) => f[23] === 112).map((f) => parseAdvertFrame(f));
  t.same(first.map((a) => [a.dstIp, a.dstMac]), [[ip('10.0.0.11'), 'ff:ff:ff:ff:ff:ff'], [ip('10.0.0.12'), 'ff:ff:ff:ff:ff:ff']]);
  // A lower-priority advert from peer .11 (unicast to us): its MAC is learnt.
  const peer = new MemoryPort('eth0', parseMac('02:00:00:00:00:0b')!);
  const pr = new VrrpRunner([{ ...spec('VI_1', 50, '10.0.0.11'), unicastPeers: [ip('10.0.0.10')], checks: { ...s.checks, unicastPeers: [ip('10.0.0.10')] } }], { ports: [peer], setVipActive: () => undefined, clock });
  pr.start();
  clock.advanceTo(mdi(50));
  const adv = peer.sent.find((f) => f[23] === 112)!;
  port.sent.length = 0;
  r.receive(0, adv, adv.length);
  const next = port.sent.filter((f) => f[23] === 112).map((f) => parseAdvertFrame(f));
  t.equal(next[0]?.dstMac, '02:00:00:00:00:0b', 'answered at once to the learnt MAC (lower priority heard)');
  t.equal(next[0]?.ttl, 255);
  t.end();
});
