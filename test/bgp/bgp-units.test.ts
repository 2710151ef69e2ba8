/**
 * src/bgp without a network: the --bgp options, the generated bird.conf (and BIRD's own parser
 * on it when bird is installed), the BIRD settings derived from the routes, and the announcer's
 * quorum (announce while every service of the VIP has a real server up, withdraw otherwise).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseOptions, UsageError } from '../../src/cli/options.js';
import { birdConfig } from '../../src/bgp/bird-conf.js';
import { birdSettings, bgpDir } from '../../src/bgp/bgp.js';
import { Announcer, vipReadiness } from '../../src/bgp/announcer.js';
import type { VipRoutes } from '../../src/bgp/vip-route.js';
import { Bird, type Exec } from '../../src/bgp/bird.js';
import { oneArm, destSpec, svcSpec, ip, IP } from '../helpers/lab-engine.js';
import { formatIPv4 } from '../../src/packet/addr.js';

const hasBird = (() => {
  try {
    execFileSync('bird', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

t.test('options: --bgp-peer implies --bgp, defaults, errors', async (t) => {
  t.equal(parseOptions([]).bgp, null, 'off by default');
  const o = parseOptions(['--vip', '10.2.0.100', '--bgp-peer', '10.1.0.1', '--bgp-peer', '10.1.0.2@65100']).bgp!;
  t.same(o.peers, [{ addr: ip('10.1.0.1') >>> 0, as: 0 }, { addr: ip('10.1.0.2') >>> 0, as: 65100 }]);
  t.same([o.localAs, o.peerAs, o.holdS, o.bfdMs, o.bfdMultiplier, o.table, o.ifname, o.dir, o.routerId], [65010, 65000, 3, 100, 3, 200, 'tslbvip0', null, null]);
  const p = parseOptions(['--bgp', '--bgp-peer=10.1.0.1', '--bgp-as', '4200000001', '--bgp-hold', '9', '--bgp-bfd', 'off', '--bgp-table', '77', '--bgp-dir', '/x']).bgp!;
  t.same([p.localAs, p.holdS, p.bfdMs, p.table, p.dir], [4200000001, 9, 0, 77, '/x']);
  t.throws(() => parseOptions(['--bgp']), new UsageError('--bgp needs at least one --bgp-peer ADDR (the router to announce the VIPs to)'));
  t.throws(() => parseOptions(['--bgp-peer', 'router']), /invalid value for --bgp-peer: 'router'/);
  t.throws(() => parseOptions(['--bgp-peer', '10.1.0.1', '--bgp-hold', '2']), /expected an integer 3\.\.65535/);
  t.throws(() => parseOptions(['--bgp-peer', '10.1.0.1', '--bgp-table', '254']), /main or local table/);
  t.throws(() => parseOptions(['--bgp-peer', '10.1.0.1', '--workers', '2']), /not supported/);
  t.throws(() => parseOptions(['--bgp-peer', '10.1.0.1', '--bgp-ifname', 'a-very-long-ifname']), /1-15 characters/);
  t.equal(bgpDir(o, '/run/tslb.ns1.sock'), '/run/tslb.ns1.bgp', 'default dir beside the socket');
});

const ifaces = [{ name: 'eth0', ip: ip('10.1.0.11') >>> 0 }];
const routes = [
  { dst: ip('10.1.0.0') >>> 0, prefixLen: 24, iface: 0, gateway: 0 },
  { dst: 0, prefixLen: 0, iface: 0, gateway: ip('10.1.0.1') >>> 0 },
];

t.test('bird.conf: router id and source from the interface that reaches the peer; BFD; the export filter', async (t) => {
  const o = parseOptions(['--bgp-peer', '10.1.0.1', '--bgp-peer', '10.1.0.2@65001']).bgp!;
  const s = birdSettings(o, ifaces, routes, '/run/x.bgp');
  t.equal(formatIPv4(s.routerId), '10.1.0.11');
  t.equal(formatIPv4(s.localAddr), '10.1.0.11');
  t.same(s.peers.map((p) => [p.name, formatIPv4(p.addr), p.as]), [['peer1', '10.1.0.1', 65000], ['peer2', '10.1.0.2', 65001]]);
  const conf = birdConfig(s);
  t.match(conf, /router id 10\.1\.0\.11;/);
  t.match(conf, /protocol kernel tslb_vips \{\n  kernel table 200;\n  learn;/);
  t.match(conf, /protocol bfd \{\n  interface "\*" \{\n    min rx interval 100 ms;\n    min tx interval 100 ms;\n    multiplier 3;/);
  t.match(conf, /protocol bgp peer1 \{\n  local 10\.1\.0\.11 as 65010;\n  neighbor 10\.1\.0\.1 as 65000;\n  hold time 3;\n  keepalive time 1;/);
  t.match(conf, /neighbor 10\.1\.0\.2 as 65001;/);
  t.match(conf, /graceful restart off;\n  bfd on;/);
  t.match(conf, /export where proto = "tslb_vips" && ifname = "tslbvip0" && net\.len = 32;/);
  t.match(conf, /log "\/run\/x\.bgp\/bird\.log"/);
  const nobfd = birdConfig(birdSettings(parseOptions(['--bgp-peer', '10.1.0.1', '--bgp-bfd', 'off', '--bgp-router-id', '1.2.3.4']).bgp!, ifaces, routes, '/d'));
  t.notMatch(nobfd, /bfd/);
  t.match(nobfd, /router id 1\.2\.3\.4;/);
  t.throws(() => birdSettings(parseOptions(['--bgp-peer', '10.1.0.1']).bgp!, [{ name: 'eth0', ip: 0 }], routes, '/d'), /has no IPv4 address/);
  t.throws(() => birdSettings(parseOptions(['--bgp-peer', '10.1.0.1']).bgp!, ifaces, [], '/d'), /no route to it/);
});

t.test('bird -p accepts the generated file', { skip: hasBird ? false : 'bird (Debian bird2) is not installed' }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tslb-bird-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const args of [['--bgp-peer', '10.1.0.1'], ['--bgp-peer', '10.1.0.1', '--bgp-peer', '10.1.0.9@4200000000', '--bgp-bfd', 'off', '--bgp-hold', '30']]) {
    writeFileSync(path.join(dir, 'bird.conf'), birdConfig(birdSettings(parseOptions(args).bgp!, ifaces, routes, dir)));
    t.doesNotThrow(() => new Bird(dir).check(), args.join(' '));
  }
  writeFileSync(path.join(dir, 'bird.conf'), 'protocol nonsense {');
  t.throws(() => new Bird(dir).check(), /bird rejects the generated/);
});

t.test('Bird: configure when one answers on the socket, start otherwise', async (t) => {
  const calls: string[] = [];
  let up = true;
  const exec: Exec = (cmd, args) => {
    calls.push(`${cmd} ${args.join(' ')}`);
    if (cmd === 'birdc' && args[2] === 'show') {
      if (!up) throw new Error('Unable to connect');
      return 'BIRD 2.0.12 ready.\nDaemon is up and running\n';
    }
    if (cmd === 'birdc' && args[2] === 'configure') return 'Reading configuration from /d/bird.conf\nReconfigured\n';
    if (cmd === 'bird') up = true;
    return '';
  };
  t.equal(await new Bird('/d', exec).start(), 'reconfigured');
  t.same(calls.slice(-1), ['birdc -s /d/bird.ctl configure "/d/bird.conf"']);
  up = false;
  calls.length = 0;
  t.equal(await new Bird('/d', exec).start(), 'started');
  t.same(calls.slice(0, 2), ['birdc -s /d/bird.ctl show status', 'bird -c /d/bird.conf -s /d/bird.ctl -P /d/bird.pid']);
});

class FakeRoutes implements VipRoutes {
  readonly up = new Set<string>();
  closed = false;
  add(v: number) { this.up.add(formatIPv4(v)); }
  del(v: number) { this.up.delete(formatIPv4(v)); }
  close() { this.up.clear(); this.closed = true; }
}

t.test('announcer: every service of the VIP needs a real server up; withdraw on loss, announce on return', async (t) => {
  const { engine, registry } = oneArm({}, {}, [destSpec(IP.rs1), destSpec(IP.rs2)]);
  const s443 = svcSpec({ port: 443 });
  registry.addService(s443);
  const routes = new FakeRoutes();
  const log: string[] = [];
  const a = new Announcer(engine, routes, (s) => log.push(s));
  a.evaluate();
  t.same([...routes.up], [], 'port 443 has no server: not announced');
  t.match(log.join('\n'), /not announcing 10\.0\.0\.127\/32 \(TCP 10\.0\.0\.127:443 has no real server up \(0 of 0\)\)/);
  registry.addDest(s443, destSpec(IP.rs1, { port: 443 }));
  a.evaluate();
  t.same([...routes.up], [IP.vip], 'both services served: announced');
  t.match(log.at(-1), /announce 10\.0\.0\.127\/32 \(2 services, 3\/3 real servers up\)/);
  // A failed health check with inhibit_on_failure: weight 0.
  registry.editDest(s443, destSpec(IP.rs1, { port: 443, weight: 0 }));
  a.evaluate();
  t.same([...routes.up], [], 'withdrawn when 443 loses its only server');
  t.match(log.at(-1), /withdraw 10\.0\.0\.127\/32 \(TCP 10\.0\.0\.127:443 has no real server up \(0 of 1\)\)/);
  registry.editDest(s443, destSpec(IP.rs1, { port: 443, weight: 1 }));
  a.evaluate();
  t.same([...routes.up], [IP.vip], 'back');
  engine.setVipActive(ip(IP.vip), false);
  a.evaluate();
  t.same([...routes.up], [], 'VRRP backup: passive VIP withdrawn');
  engine.setVipActive(ip(IP.vip), true);
  a.evaluate();
  registry.delService(s443);
  registry.delService(svcSpec());
  a.evaluate();
  t.same([...routes.up], [], 'no service left: withdrawn');
  t.match(log.at(-1), /no service left on it/);
  t.equal(a.announcements, 3);
  t.equal(a.withdrawals, 3);
  a.stop();
  t.ok(routes.closed, 'stop closes the device');
  t.same(vipReadiness(engine), []);
});

t.test('Bird.alivePid: the pid file names a live process, or not', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tslb-bird-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const b = new Bird(dir, () => '');
  t.equal(b.alivePid(), null, 'no pid file');
  writeFileSync(b.pidFile, `${process.pid}\n`);
  t.equal(b.alivePid(), process.pid, 'a live process');
  const dead = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(b.pidFile, dead);
  t.equal(b.alivePid(), null, 'a process that has exited');
  writeFileSync(b.pidFile, 'garbage');
  t.equal(b.alivePid(), null, 'not a pid');
});
