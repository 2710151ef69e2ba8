/**
 * Start-up order (issue 12 item 7): every check runs before anything starts. The start
 * runs against a fake host (Probes) with recording effects (captures, nft guard), so each
 * failing check can be seen to leave nothing behind: no capture opened, no nft rule, no
 * health-check or other timer, no exit hook, no control socket; and to fail with one
 * line that names the thing and the fix. A passing start on the fake host shows the
 * order of what does start, a bare --vip owning its VIP with no service, and stop().
 */
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseOptions } from '../../src/cli/options.js';
import { startBalancer, StartError, type Guard, type StartDeps } from '../../src/cli/run.js';
import { CAP_NET_ADMIN, CAP_NET_RAW, preflight, type Probes } from '../../src/cli/preflight.js';
import type { GuardRules } from '../../src/io/host-guard.js';
import { MemoryPort } from '../../src/io/memory-port.js';
import type { IfaceInfo } from '../../src/io/sysinfo.js';
import { parseMac } from '../../src/packet/addr.js';
import { IP, MAC, ip } from '../helpers/lab-engine.js';
import { REPO } from '../helpers/lab.js';

const FX = path.join(REPO, 'fixtures/config-test');
const dir = mkdtempSync(path.join(tmpdir(), 'tslb-startup-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const sock = (name: string) => path.join(dir, `${name}.sock`);

const ALL_CAPS = (1n << BigInt(CAP_NET_RAW)) | (1n << BigInt(CAP_NET_ADMIN));
const ETH0: IfaceInfo = { name: 'eth0', mac: parseMac(MAC.lb)!, mtu: 1500, ip: ip(IP.lb) >>> 0, prefixLen: 24, up: true };

/** A director like seed 000's: eth0 on 10.0.0.0/24, default route via the router. */
function fakeHost(over: Partial<Probes> = {}): Probes {
  return {
    privileges: () => ({ uid: 0, capEff: ALL_CAPS }),
    hasCommand: () => true,
    libpcapError: () => null,
    readInterfaces: () => [ETH0],
    readRoutes: () => [
      { dst: ip('10.0.0.0') >>> 0, prefixLen: 24, dev: 'eth0', gateway: 0 },
      { dst: 0, prefixLen: 0, dev: 'eth0', gateway: ip(IP.router) >>> 0 },
    ],
    deviceFor: () => 'eth0',
    readNeighbours: () => [],
    sysctl: () => '0',
    socketInUse: async () => false,
    socketPathError: () => null,
    ...over,
  };
}

interface Recorder {
  deps: StartDeps;
  events: string[];
  ports: MemoryPort[];
}

function recorder(probes: Probes): Recorder {
  const events: string[] = [];
  const ports: MemoryPort[] = [];
  const guard: Guard = {
    table: 'tslb_test',
    apply: (r: GuardRules) => events.push(`nft apply ${r.devices.join(',')} vips ${r.vips.length}`),
    remove: () => events.push('nft remove'),
  };
  return {
    events,
    ports,
    deps: {
      probes,
      openPorts: (_o, specs) => ({
        ports: specs.map((i) => {
          events.push(`open ${i.name}`);
          const p = new MemoryPort(i.name, i.mac, i.mtu);
          p.filter = i.filter;
          ports.push(p);
          return p;
        }),
        kind: 'pcap',
        why: 'test ports',
      }),
      hostGuard: () => {
        events.push('guard');
        return guard;
      },
    },
  };
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

interface Failure {
  what: string;
  args: string[];
  host?: Partial<Probes>;
  message: RegExp;
}

const failures: Failure[] = [
  { what: 'not root, no capabilities', args: ['--vip', IP.vip], host: { privileges: () => ({ uid: 1000, capEff: 0n }) }, message: /^must run as root \(or with CAP_NET_RAW and CAP_NET_ADMIN\).*run it with sudo$/ },
  { what: 'root without CAP_NET_ADMIN', args: ['--vip', IP.vip], host: { privileges: () => ({ uid: 0, capEff: 1n << BigInt(CAP_NET_RAW) }) }, message: /without CAP_NET_ADMIN.*grant CAP_NET_ADMIN/ },
  { what: 'no ip command', args: ['--vip', IP.vip], host: { hasCommand: (c) => c !== 'ip' }, message: /'ip' command is not on PATH.*apt-get install iproute2/ },
  { what: 'no nft', args: ['--vip', IP.vip], host: { hasCommand: (c) => c !== 'nft' }, message: /'nft' command is not on PATH.*apt-get install nftables.*--no-host-guard/ },
  {
    what: 'no libpcap', args: ['--vip', IP.vip],
    host: { libpcapError: () => 'libpcap.so.0.8: cannot open shared object file: No such file or directory' },
    message: /^libpcap cannot be loaded \(libpcap\.so\.0\.8: cannot open shared object file.*\): install libpcap \(apt-get install libpcap0\.8\)$/,
  },
  { what: 'interface missing', args: ['--vip', IP.vip, '--iface', 'eth9'], message: /^interface 'eth9' does not exist here \(have: eth0\)/ },
  { what: 'interface down', args: ['--vip', IP.vip], host: { readInterfaces: () => [{ ...ETH0, up: false }] }, message: /^interface 'eth0' is down: ip link set eth0 up$/ },
  { what: 'no interface reaches the VIP', args: ['--vip', IP.vip], host: { deviceFor: () => 'lo' }, message: /^no interface reaches the VIP 10\.0\.0\.127.*give --iface/ },
  {
    what: 'a local VIP without the host guard', args: ['--vip', IP.vip, '--no-host-guard'],
    host: { readInterfaces: () => [{ ...ETH0, ip: ip(IP.vip) >>> 0 }] },
    message: /^the VIP 10\.0\.0\.127 is an address of this host and --no-host-guard is given: .*Drop --no-host-guard/,
  },
  { what: 'socket in use', args: ['--vip', IP.vip], host: { socketInUse: async () => true }, message: /control socket .* is in use by another balancer: .*--socket PATH$/ },
  { what: 'socket directory missing', args: ['--vip', IP.vip], host: { socketPathError: () => '/nonexistent does not exist' }, message: /^cannot create the control socket .*\/nonexistent does not exist\): give --socket PATH$/ },
  { what: 'bad keepalived.conf', args: ['--config', path.join(FX, 'bad.conf')], message: /bad\.conf:7: error: keyword 'weight'.*\(and 3 more: lb --config .*bad\.conf --config-test lists them all\)$/ },
  { what: 'bad --rules', args: ['--rules', path.join(FX, 'bad.rules')], message: /bad\.rules:3: error: Destination already exists \(and 2 more/ },
  { what: 'empty --rules', args: ['--rules', path.join(FX, 'empty.rules')], message: /empty\.rules: error: the file is empty/ },
  {
    what: 'vrrp_instance on an interface not used (config with TCP_CHECKs)', args: ['--config', path.join(FX, 'vrrp-other-iface.conf')],
    message: /vrrp-other-iface\.conf:3: vrrp_instance VI_1: interface eth1 is not one of the balancer's interfaces/,
  },
  { what: 'no route to a --rs server', args: ['--vip', IP.vip, '--rs', '192.168.7.7'], host: { readRoutes: () => [{ dst: ip('10.0.0.0') >>> 0, prefixLen: 24, dev: 'eth0', gateway: 0 }] }, message: /^--rs 192\.168\.7\.7: no route to real server 192\.168\.7\.7.*give --iface/ },
];

t.test('each failing check: one line, a StartError, nothing started', async (t) => {
  for (const f of failures) {
    const socket = sock(`fail-${failures.indexOf(f)}`);
    const o = parseOptions([...f.args, '--socket', socket, '--no-doctor']);
    const rec = recorder(fakeHost(f.host));
    const timersBefore = timers();
    const exitHooks = process.listeners('exit').length;
    let err: unknown = null;
    try {
      const lb = await startBalancer(o, () => undefined, rec.deps);
      lb.stop();
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof StartError, `${f.what}: a StartError`);
    const msg = (err as Error)?.message ?? '';
    t.match(msg, f.message, `${f.what}: ${msg}`);
    t.notOk(msg.includes('\n'), `${f.what}: one line`);
    t.same(rec.events, [], `${f.what}: no capture, no nft guard`);
    t.equal(timers(), timersBefore, `${f.what}: no timer (health checks, estimator, runtime)`);
    t.ok(process.listeners('exit').length <= exitHooks, `${f.what}: no exit hook (cleanup of a start)`);
    t.notOk(existsSync(socket), `${f.what}: no control socket`);
  }
});

t.test('the checks alone (preflight) with a fake host', async (t) => {
  const ok = await preflight(parseOptions(['--vip', IP.vip, '--socket', sock('pf')]), fakeHost());
  t.same(ok.ifaces.map((i) => i.name), ['eth0'], 'the interface that reaches the VIP');
  t.equal(ok.files.diagnostics.length, 0);
  // --no-host-guard needs no nft and no CAP_NET_ADMIN.
  const bare = fakeHost({ hasCommand: (c) => c !== 'nft', privileges: () => ({ uid: 1000, capEff: 1n << BigInt(CAP_NET_RAW) }) });
  await t.resolves(preflight(parseOptions(['--vip', IP.vip, '--socket', sock('pf2'), '--no-host-guard']), bare));
});

t.test('a start on the fake host: captures, then nft guard; stop undoes both', async (t) => {
  const rec = recorder(fakeHost());
  const socket = sock('ok');
  const log: string[] = [];
  const lb = await startBalancer(parseOptions(['--rules', path.join(REPO, 'fixtures/rules/seed000.rules'), '--socket', socket, '--no-doctor']), (s) => log.push(s), rec.deps);
  t.same(rec.events, ['open eth0', 'guard', 'nft apply eth0 vips 1'], 'the capture first, then the guard once the packet path starts');
  t.ok(existsSync(socket), 'control socket open');
  t.match(log.join('\n'), /service TCP 10\.0\.0\.127:80 rr/);
  lb.stop();
  t.same(rec.events.slice(3), ['nft remove'], 'stop removes the guard');
  t.ok(rec.ports.every((p) => p.closed), 'captures closed');
  t.notOk(existsSync(socket), 'socket removed');
});

t.test('bare --vip: no service, the VIP owned (ARP, gratuitous ARP), how to add services', async (t) => {
  const rec = recorder(fakeHost());
  const socket = sock('bare');
  const log: string[] = [];
  const lb = await startBalancer(parseOptions(['--vip', IP.vip, '--socket', socket, '--no-doctor']), (s) => log.push(s), rec.deps);
  t.teardown(() => lb.stop());
  const e = lb.runtime.engine;
  t.equal(e.services.length, 0, 'no service, as a fresh IPVS');
  t.same(e.vipList().map((v) => v.addr), [ip(IP.vip) >>> 0], 'the VIP is in the table');
  const text = log.join('\n');
  t.match(text, /VIP 10\.0\.0\.127: not a local address: ARP answered on eth0, gratuitous ARP sent/);
  t.match(text, /VIP 10\.0\.0\.127: no services yet/);
  t.match(text, new RegExp(`ipvsadm -A -t 10\\.0\\.0\\.127:80 -s rr`));
  t.match(text, new RegExp(`--socket ${socket.replace(/[.]/g, '\\.')} ipvsadm -a -t 10\\.0\\.0\\.127:80 -r REAL_SERVER:80 -m`), 'the hint names the non-default socket');
  const garp = rec.ports[0]!.sent.filter((f) => f.readUInt16BE(12) === 0x0806);
  t.ok(garp.length >= 1, 'gratuitous ARP sent at start');
  const run = (...argv: string[]) => lb.plane.session.run(argv);
  t.equal(run('-A', '-t', `${IP.vip}:80`, '-s', 'rr').status, 0);
  t.equal(run('-a', '-t', `${IP.vip}:80`, '-r', `${IP.rs1}:80`, '-m').status, 0);
  t.equal(e.services.length, 1);
  t.same(e.vipList().map((v) => v.addr), [ip(IP.vip) >>> 0], 'one VIP entry for the service and the --vip');
  t.match(rec.ports[0]!.filter, /10\.0\.0\.127/, 'the capture filter now takes the VIP traffic');
  t.equal(run('-D', '-t', `${IP.vip}:80`).status, 0);
  t.same(e.vipList().map((v) => v.addr), [ip(IP.vip) >>> 0], 'still owned once the last service is gone');
});

t.test('--vip with --port but no --rs: that service, with no server yet', async (t) => {
  const rec = recorder(fakeHost());
  const log: string[] = [];
  const lb = await startBalancer(parseOptions(['--vip', IP.vip, '--port', '443', '--socket', sock('port'), '--no-doctor']), (s) => log.push(s), rec.deps);
  t.teardown(() => lb.stop());
  t.same(lb.runtime.engine.services.map((s) => s.port), [443]);
  t.match(log.join('\n'), /service TCP 10\.0\.0\.127:443 has no real server yet: .* -a -t 10\.0\.0\.127:443 -r REAL_SERVER:443 -m/);
});
