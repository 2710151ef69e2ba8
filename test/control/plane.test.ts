/**
 * ControlPlane without root or network: --rules loading (errors name the file and the
 * line, never a silent empty configuration), --save-on-exit (ipvsadm -S -n text, written
 * atomically: no temp file left), and a restart from the saved file keeping the rules
 * (seed 003's pain). Also reload of a keepalived.conf whose real servers have no checker
 * (keepalived: such a server is simply up), so no probe leaves the machine.
 */
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/dataplane/engine.js';
import { ServiceRegistry } from '../../src/control/service-registry.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { parseMac } from '../../src/packet/addr.js';
import { tcpFrame } from '../../src/packet/builder.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import { V_EMIT } from '../../src/dataplane/verdict.js';
import { ControlPlane, StartupError, type PlaneOptions } from '../../src/control/plane.js';
import { IP, MAC, ip } from '../helpers/lab-engine.js';
import { FIXTURES } from '../config/paths.js';

const GOLDEN_LIST = [
  'IP Virtual Server version 1.2.1 (size=4096)',
  'Prot LocalAddress:Port Scheduler Flags',
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  'TCP  10.0.0.127:80 rr',
  '  -> 10.0.0.86:80                 Masq    1      0          0         ',
  '  -> 10.0.0.185:80                Masq    1      0          0         ',
  '',
].join('\n');
const GOLDEN_SAVE = ['-A -t 10.0.0.127:80 -s rr', '-a -t 10.0.0.127:80 -r 10.0.0.86:80 -m -w 1', '-a -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w 1', ''].join('\n');

function engineAndRegistry(): { engine: Engine; registry: ServiceRegistry } {
  const engine = new Engine({ ifaces: [{ name: 'eth0', mac: parseMac(MAC.lb)!, mtu: 1500, ip: ip(IP.lb) }], maxConns: 1024 });
  const routing = new RoutingTable([
    { dst: ip('10.0.0.0'), prefixLen: 24, iface: 0, gateway: 0 },
    { dst: 0, prefixLen: 0, iface: 0, gateway: ip(IP.router) },
  ]);
  return { engine, registry: new ServiceRegistry(engine, routing) };
}

function plane(opts: Partial<PlaneOptions>): { engine: Engine; plane: ControlPlane; log: string[] } {
  const { engine, registry } = engineAndRegistry();
  const log: string[] = [];
  const p = new ControlPlane(registry, { rulesFile: null, saveOnExit: null, config: null, socket: null, ...opts }, () => undefined, (s) => log.push(s));
  return { engine, plane: p, log };
}

const dir = mkdtempSync(path.join(tmpdir(), 'tslb-plane-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function startError(opts: Partial<PlaneOptions>): Promise<Error> {
  const { plane: p } = plane(opts);
  try {
    await p.start();
  } catch (err) {
    return err as Error;
  } finally {
    p.stop();
  }
  throw new Error('start() succeeded');
}

t.test('--rules: an empty file is an error naming it', async (t) => {
  const f = path.join(dir, 'empty.rules');
  writeFileSync(f, '');
  const err = await startError({ rulesFile: f });
  t.ok(err instanceof StartupError, 'a start-up error, not a crash');
  t.match(err.message, f, 'names the file');
  t.match(err.message, /empty/);
  const blank = path.join(dir, 'blank.rules');
  writeFileSync(blank, '\n   \n\n');
  t.match((await startError({ rulesFile: blank })).message, blank, 'only blank lines is empty too');
});

t.test('--rules: a missing file is an error naming it', async (t) => {
  const f = path.join(dir, 'does-not-exist.rules');
  const err = await startError({ rulesFile: f });
  t.ok(err instanceof StartupError);
  t.match(err.message, f);
  t.match(err.message, /ENOENT|no such file|cannot read/i);
});

t.test('--rules: a bad line is an error naming the file and the line', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    // ipvsadm's own argument check: illegal weight (popt/parse error).
    ['-A -t 10.0.0.127:80 -s rr\n-a -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w lots\n', 'line 2', /weight/i],
    // A kernel error: -a on a service that was never added.
    ['-A -t 10.0.0.127:80 -s rr\n\n-a -t 10.0.0.127:81 -r 10.0.0.185:80 -m -w 1\n', 'line 3', /Service not defined/],
    // Not an ipvsadm line at all.
    ['-A -t 10.0.0.127:80 -s rr\nthis is not a rule\n', 'line 2', /Try `ipvsadm -h'/],
  ];
  let n = 0;
  for (const [text, where, what] of cases) {
    const f = path.join(dir, `bad${n++}.rules`);
    writeFileSync(f, text);
    const err = await startError({ rulesFile: f });
    t.ok(err instanceof StartupError, `${where}: start-up error`);
    t.match(err.message, f, `${where}: names the file`);
    t.match(err.message, what, `${where}: says what is wrong`);
    t.ok(err.message.includes(where) || err.message.includes(`${f}:${where.slice(5)}`), `${where}: names the line (got: ${err.message})`);
  }
});

t.test('--save-on-exit writes ipvsadm -S -n atomically; a restart with --rules of it keeps the rules', async (t) => {
  // The seed-000 commands in the order a user typed them (not sorted).
  const rulesIn = path.resolve(FIXTURES, '../rules/seed000.rules');
  t.equal(readFileSync(rulesIn, 'utf8'), '-A -t 10.0.0.127:80 -s rr\n-a -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w 1\n-a -t 10.0.0.127:80 -r 10.0.0.86:80 -m -w 1\n');
  const saveDir = mkdtempSync(path.join(dir, 'save-'));
  const saved = path.join(saveDir, 'saved.rules');
  const first = plane({ rulesFile: rulesIn, saveOnExit: saved });
  await first.plane.start();
  t.equal(first.plane.session.run(['-L', '-n']).stdout, GOLDEN_LIST, 'loaded from --rules');
  // A change made at run time must be in the saved file.
  t.equal(first.plane.session.run(['-e', '-t', '10.0.0.127:80', '-r', '10.0.0.86:80', '-m', '-w', '3']).status, 0);
  first.plane.stop();
  const expectedSave = GOLDEN_SAVE.replace('-r 10.0.0.86:80 -m -w 1', '-r 10.0.0.86:80 -m -w 3');
  t.equal(readFileSync(saved, 'utf8'), expectedSave, 'the file is ipvsadm -S -n output');
  t.same(readdirSync(saveDir), ['saved.rules'], 'no temp file left beside it');

  const second = plane({ rulesFile: saved, saveOnExit: saved });
  await second.plane.start();
  t.equal(second.plane.session.run(['-S', '-n']).stdout, expectedSave, 'restart restores the same rules');
  t.equal(
    second.plane.session.run(['-L', '-n']).stdout,
    GOLDEN_LIST.replace('10.0.0.86:80                 Masq    1 ', '10.0.0.86:80                 Masq    3 '),
    'and the same listing',
  );
  second.plane.stop();
  t.equal(readFileSync(saved, 'utf8'), expectedSave, 'saving again over the file gives the same text');
  t.same(readdirSync(saveDir), ['saved.rules']);
});

t.test('--save-on-exit with no rules at all writes an empty file (what ipvsadm -S prints)', async (t) => {
  const saveDir = mkdtempSync(path.join(dir, 'save-empty-'));
  const saved = path.join(saveDir, 'x.rules');
  const p = plane({ saveOnExit: saved });
  await p.plane.start();
  p.plane.stop();
  t.equal(readFileSync(saved, 'utf8'), '');
  t.same(readdirSync(saveDir), ['x.rules']);
});

/** A keepalived.conf with real servers that have no checker (always up in keepalived). */
function kaConf(servers: string[]): string {
  return [
    'virtual_server 10.0.0.127 80 {',
    '    delay_loop 1',
    '    lb_algo rr',
    '    lb_kind NAT',
    '    protocol TCP',
    ...servers.flatMap((s) => [`    real_server ${s} 80 {`, '        weight 1', '    }']),
    '}',
    '',
  ].join('\n');
}

function primeNeighbours(engine: Engine): void {
  const known: Record<string, string> = { [IP.rs1]: MAC.rs1, [IP.rs2]: MAC.rs2, [IP.router]: MAC.router };
  for (let n = 0; n < engine.neigh.size; n++) {
    const a = engine.neigh.ip[n]!;
    const mac = known[`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`];
    if (mac) engine.neigh.set(n, parseMac(mac)!, 0);
  }
}

function syn(sport: number) {
  return tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport, dport: 80, flags: tcp.SYN, seq: 1, ttl: 63 });
}

t.test('reload of --config: a removed server gets weight 0 at once, keeps its connection, and is deleted when it has none', async (t) => {
  const conf = path.join(dir, 'keepalived.conf');
  writeFileSync(conf, kaConf(['10.0.0.185', '10.0.0.86']));
  const { engine, plane: p, log } = plane({ config: conf });
  t.teardown(() => p.stop());
  await p.start();
  const listed = () => p.session.run(['-L', '-n']).stdout;
  // keepalived adds real servers at start-up before any check (init_service_rs).
  t.equal(listed(), GOLDEN_LIST, 'both servers in, as keepalived would add them');
  primeNeighbours(engine);
  // One connection to each (rr).
  const conns: Record<string, number> = {};
  for (const sport of [50000, 50001]) {
    const f = syn(sport);
    t.equal(engine.process(f, f.length, 0, 1000), V_EMIT);
    conns[ipv4.decode(engine.verdict.buf, 14).dst] = sport;
  }
  t.same(Object.keys(conns).sort(), [IP.rs2, IP.rs1].sort());

  writeFileSync(conf, kaConf(['10.0.0.86']));
  const out = p.reload();
  t.equal(out.status, 0, out.stderr);
  t.match(listed(), /^ {2}-> 10\.0\.0\.185:80 +Masq +0 +1 +0 +$/m, 'removed server: weight 0, its connection still counted');
  // The existing connection still flows to .185 (its packets are forwarded, not dropped).
  const more = tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport: conns[IP.rs1]!, dport: 80, flags: tcp.ACK, seq: 2, ack: 1, ttl: 63 });
  t.equal(engine.process(more, more.length, 0, 1100), V_EMIT, 'established connection keeps flowing');
  t.equal(ipv4.decode(engine.verdict.buf, 14).dst, IP.rs1);
  // New connections only go to .86.
  for (let i = 0; i < 4; i++) {
    const f = syn(50100 + i);
    t.equal(engine.process(f, f.length, 0, 1200), V_EMIT);
    t.equal(ipv4.decode(engine.verdict.buf, 14).dst, IP.rs2, `new connection ${i} to the remaining server`);
  }
  // End every connection (expire the table), then the 2 s periodic pass deletes the drained server.
  engine.tick(1_000_000_000);
  const deadline = Date.now() + 8000;
  while (/10\.0\.0\.185/.test(listed()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  t.notMatch(listed(), /10\.0\.0\.185/, 'deleted once its connections ended');
  t.ok(log.some((l) => /drain/i.test(l)), 'the log says it is draining');

  // Adding it back: a new server in the config is added with its weight.
  writeFileSync(conf, kaConf(['10.0.0.185', '10.0.0.86']));
  t.equal(p.reload().status, 0);
  t.equal(listed(), GOLDEN_LIST, 'back, weight 1');
});

t.test('reload: a server removed then re-added before it drained comes back with its weight', async (t) => {
  const conf = path.join(dir, 'keepalived2.conf');
  writeFileSync(conf, kaConf(['10.0.0.185', '10.0.0.86']));
  const { engine, plane: p } = plane({ config: conf });
  t.teardown(() => p.stop());
  await p.start();
  primeNeighbours(engine);
  for (const sport of [51000, 51001]) {
    const f = syn(sport);
    engine.process(f, f.length, 0, 1000);
  }
  writeFileSync(conf, kaConf(['10.0.0.86']));
  t.equal(p.reload().status, 0);
  t.match(p.session.run(['-L', '-n']).stdout, /10\.0\.0\.185:80 +Masq +0 /);
  writeFileSync(conf, kaConf(['10.0.0.185', '10.0.0.86']));
  t.equal(p.reload().status, 0);
  t.match(p.session.run(['-L', '-n']).stdout, /10\.0\.0\.185:80 +Masq +1 +1 /, 'weight 1 again, connection kept');
  // And it is not deleted by a later periodic pass.
  await new Promise((r) => setTimeout(r, 2500));
  t.match(p.session.run(['-L', '-n']).stdout, /10\.0\.0\.185:80 +Masq +1 /);
});

t.test('reload with a broken config keeps the running rules and says why', async (t) => {
  const conf = path.join(dir, 'keepalived3.conf');
  writeFileSync(conf, kaConf(['10.0.0.185', '10.0.0.86']));
  const { plane: p } = plane({ config: conf });
  t.teardown(() => p.stop());
  await p.start();
  writeFileSync(conf, 'virtual_server 10.0.0.127 80 {\n    lb_algo rr\n    real_server 10.0.0.185 80 {\n');
  const out = p.reload();
  t.not(out.status, 0);
  t.match(out.stderr, conf, 'names the file');
  t.equal(p.session.run(['-L', '-n']).stdout, GOLDEN_LIST, 'rules unchanged');
});

t.test('reload keeps the state of checkers whose real server stays (keepalived migrate_checkers): a failed server stays out', async (t) => {
  const conf = path.join(dir, 'keepalived-misc.conf');
  // MISC_CHECK /bin/false: a local script that always fails, no network involved.
  writeFileSync(conf, [
    'virtual_server 10.0.0.127 80 {',
    '    delay_loop 1',
    '    lb_algo rr',
    '    lb_kind NAT',
    '    protocol TCP',
    '    real_server 10.0.0.185 80 {',
    '        weight 1',
    '        inhibit_on_failure',
    '        MISC_CHECK {',
    '            misc_path "/bin/false"',
    '        }',
    '    }',
    '    real_server 10.0.0.86 80 {',
    '        weight 1',
    '    }',
    '}',
    '',
  ].join('\n'));
  const { plane: p } = plane({ config: conf });
  t.teardown(() => p.stop());
  await p.start();
  const quiesced = /^ {2}-> 10\.0\.0\.185:80 +Masq +0 /m;
  const deadline = Date.now() + 6000;
  while (!quiesced.test(p.session.run(['-L', '-n']).stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.match(p.session.run(['-L', '-n']).stdout, quiesced, 'the failing server is quiesced (inhibit_on_failure: weight 0)');
  t.equal(p.reload().status, 0);
  t.match(p.session.run(['-L', '-n']).stdout, quiesced, 'right after a reload of the same config it is still at weight 0');
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 100));
    t.match(p.session.run(['-L', '-n']).stdout, quiesced, `and stays there (${(i + 1) * 100} ms later)`);
  }
});
