/**
 * The vrrp_instance blocks of seeds 001 and 004, loaded from keepalived.conf as a user brings
 * them, run by two VrrpRunners on a fake wire: seed 001 (advert_int 3, lvs-a priority 100,
 * lvs-b priority 50, nopreempt) and its failover tests with keepalived's timers.
 */
import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKeepalivedConfig } from '../../src/config/keepalived/index.js';
import { planFromKeepalived } from '../../src/control/keepalived-plan.js';
import { vrrpInstanceFromConfig } from '../../src/ha/vrrp-config.js';
import { VrrpRunner } from '../../src/ha/vrrp-runner.js';
import { MemoryPort } from '../../src/io/memory-port.js';
import { parseIPv4, parseMac } from '../../src/packet/addr.js';
import { FakeClock } from './fake-clock.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = (p: string) => path.join(REPO, 'fixtures/keepalived', p);
const ip = (s: string) => parseIPv4(s)!;

function instanceOf(file: string, selfIp: string) {
  const plan = planFromKeepalived(loadKeepalivedConfig(fixture(file)).config);
  t.equal(plan.vrrp.length, 1);
  return vrrpInstanceFromConfig(plan.vrrp[0]!, (n) => (n === 'eth0' ? 0 : undefined), () => ip(selfIp));
}

t.test('seed 001: lvs-a and lvs-b from their keepalived.conf', (t) => {
  const a = instanceOf('seed001/lvs-a/keepalived.conf', '192.168.0.139');
  const b = instanceOf('seed001/lvs-b/keepalived.conf', '192.168.0.140');
  t.match(a.machine, { vrid: 51, priority: 100, advertIntMs: 3000, nopreempt: true, initialState: 'BACKUP', vips: [ip('192.168.0.141')] });
  t.match(b.machine, { vrid: 51, priority: 50, advertIntMs: 3000, nopreempt: true });

  const clock = new FakeClock();
  const nodes: { r: VrrpRunner; port: MemoryPort; up: boolean; vip: boolean }[] = [];
  for (const [spec, mac] of [[a, '02:00:c0:a8:00:8b'], [b, '02:00:c0:a8:00:8c']] as const) {
    const port = new MemoryPort('eth0', parseMac(mac)!);
    const n = { r: null as unknown as VrrpRunner, port, up: true, vip: false };
    const send = port.send.bind(port);
    port.send = (f, len) => {
      const copy = Buffer.from(f.subarray(0, len));
      if (n.up && copy[23] === 112) clock.setTimer(() => { for (const o of nodes) if (o !== n && o.up && n.up) o.r.receive(0, copy, copy.length); }, 0);
      return send(f, len);
    };
    n.r = new VrrpRunner([spec], { ports: [port], setVipActive: (_a, on) => (n.vip = on), clock });
    nodes.push(n);
  }
  const [lvsA, lvsB] = nodes as [typeof nodes[0], typeof nodes[0]];
  lvsA.r.start();
  lvsB.r.start();
  // 3 x 3 s + (256 - 100)/256 s (v2 skew does not scale with advert_int).
  clock.advanceTo(9609.375);
  t.equal(lvsA.r.state('VRRP_1'), 'MASTER', 'initially lvs-a owns the VIP (9.61 s after start)');
  t.ok(lvsA.vip && !lvsB.vip);
  // "lvs-a network cut": its link goes down (FAULT, VIP released); lvs-b takes over
  // 3 x 3 + 206/256 s after the last advert it heard.
  clock.advanceTo(20_000);
  const last = 9609.375 + 3 * 3000; // adverts every 3 s from 9.61 s: the last before 20 s is 18.61 s
  lvsA.up = false;
  lvsA.r.setLink(0, false);
  t.equal(lvsA.r.state('VRRP_1'), 'FAULT');
  t.notOk(lvsA.vip, 'lvs-a released the VIP');
  clock.advanceTo(last + 9804.6875 - 1);
  t.equal(lvsB.r.state('VRRP_1'), 'BACKUP');
  clock.advanceTo(last + 9804.6875);
  t.equal(lvsB.r.state('VRRP_1'), 'MASTER', 'VIP moves to lvs-b');
  // "lvs-a network restored": lvs-a comes back as BACKUP and, nopreempt, leaves the VIP on lvs-b.
  lvsA.up = true;
  lvsA.r.setLink(0, true);
  clock.advanceTo(60_000);
  t.equal(lvsA.r.state('VRRP_1'), 'BACKUP', 'lvs-a stays backup (nopreempt)');
  t.equal(lvsB.r.state('VRRP_1'), 'MASTER', 'the VIP stays on lvs-b');
  t.ok(lvsB.vip && !lvsA.vip);
  // "lvs-b shut down" (keepalived stopped cleanly: priority 0): lvs-a takes over after its skew.
  lvsB.r.stop();
  clock.advanceTo(60_000 + 609.375);
  t.equal(lvsA.r.state('VRRP_1'), 'MASTER', 'lvs-a master 156/256 s after the priority-0 advert');
  t.end();
});

t.test('seed 004: notify scripts and VIP from the master host config', (t) => {
  const s = instanceOf('seed004/master/keepalived.conf', '10.0.0.12');
  t.match(s.machine, { vrid: 50, priority: 100, advertIntMs: 1000, vips: [ip('10.0.0.5')] });
  t.same(s.notify, { master: '/etc/keepalived/notify_master.sh', backup: '/etc/keepalived/notify_backup.sh' });
  t.end();
});
