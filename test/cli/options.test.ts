/**
 * `lb` command line (issue 3 item 4): scheduler, persistence and weight options parse
 * as documented; bad names or values raise UsageError naming the value, and the
 * real entry point exits 2 with that message on stderr. No root needed.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseOptions, UsageError } from '../../src/cli/options.js';
import { SCHEDULER_NAMES } from '../../src/sched/index.js';
import { REPO } from '../helpers/lab.js';

const BASE = ['--vip', '10.0.0.127', '--rs', '10.0.0.185'];

t.test('scheduler, persistence and weights', async (t) => {
  const o = parseOptions(['--vip', '10.0.0.127', '--sched', 'wrr', '--rs', '10.0.0.185:80@3', '--rs', '10.0.0.86@2', '--rs', '10.0.0.50:8080@1/dr',
    '--persist', '15', '--persist-mask', '255.255.255.0', '--trace-sched']);
  t.equal(o.sched, 'wrr');
  t.same(o.rs.map((r) => [r.addr >>> 0, r.port, r.weight]), [[0x0a0000b9, 80, 3], [0x0a000056, 0, 2], [0x0a000032, 8080, 1]], '--rs kept in the order given');
  t.equal(o.persist, 15);
  t.equal(o.persistMask >>> 0, 0xffffff00);
  t.equal(o.traceSched, true);
  t.equal(parseOptions([...BASE, '--sched=sh']).sched, 'sh', '--name=value form');
});

t.test('defaults as in ipvsadm', async (t) => {
  const o = parseOptions(BASE);
  t.equal(o.sched, 'wlc', 'default scheduler wlc');
  t.equal(o.persist, 0, 'not persistent');
  t.equal(o.persistMask >>> 0, 0xffffffff, 'mask /32');
  t.equal(o.rs[0]!.weight, 1, 'weight 1');
  t.equal(o.traceSched, false);
});

t.test('every scheduler name is accepted; the edges of the ranges', async (t) => {
  for (const s of SCHEDULER_NAMES) t.equal(parseOptions([...BASE, '--sched', s]).sched, s);
  t.same(SCHEDULER_NAMES.slice().sort(), ['lc', 'mh', 'nq', 'rr', 'sed', 'sh', 'wlc', 'wrr']);
  t.equal(parseOptions(['--vip', '10.0.0.127', '--rs', '10.0.0.1@0']).rs[0]!.weight, 0, 'weight 0 (quiescent) allowed');
  t.equal(parseOptions(['--vip', '10.0.0.127', '--rs', '10.0.0.1@65535']).rs[0]!.weight, 65535);
  t.equal(parseOptions([...BASE, '--persist', '1']).persist, 1);
  t.equal(parseOptions([...BASE, '--persist', '2678400']).persist, 2678400, 'ipvsadm maximum, 31 days');
  t.equal(parseOptions([...BASE, '--persist-mask', '0.0.0.0']).persistMask >>> 0, 0, 'any dotted mask is ANDed');
});

const bad: [string, string[], string][] = [
  ['--port abc', ['--port', 'abc'], 'abc'],
  ['--sched foo', ['--sched', 'foo'], 'foo'],
  ['--rs port out of range', ['--rs', '1.2.3.4:99999'], '99999'],
  ['--rs bad weight', ['--rs', 'bad@x'], 'bad@x'],
  ['--rs weight not a number', ['--rs', '1.2.3.4@x'], "'x'"],
  ['--rs weight too big', ['--rs', '1.2.3.4@65536'], '65536'],
  ['--rs bad address', ['--rs', '300.1.1.1'], '300.1.1.1'],
  ['--rs bad method', ['--rs', '1.2.3.4/ipip'], 'ipip'],
  ['--mode xx', ['--mode', 'xx'], 'xx'],
  ['--persist 0', ['--persist', '0'], "'0'"],
  ['--persist too long', ['--persist', '2678401'], '2678401'],
  ['--persist negative', ['--persist', '-5'], '-5'],
  ['--persist-mask 300.1.1.1', ['--persist-mask', '300.1.1.1'], '300.1.1.1'],
  ['--checksum maybe', ['--checksum', 'maybe'], 'maybe'],
  ['unknown option', ['--frobnicate'], '--frobnicate'],
  ['missing value', ['--sched'], '--sched'],
];

t.test('bad values raise UsageError naming the value', async (t) => {
  for (const [what, args, named] of bad) {
    try {
      parseOptions([...BASE, ...args]);
      t.fail(`${what}: accepted`);
    } catch (err) {
      t.ok(err instanceof UsageError, `${what}: UsageError`);
      t.ok((err as Error).message.includes(named), `${what}: message names ${named}: ${(err as Error).message}`);
    }
  }
});

t.test('missing service or servers', async (t) => {
  const usage = (args: string[]): string => {
    try {
      parseOptions(args);
    } catch (err) {
      return err instanceof UsageError ? err.message : `not a UsageError: ${err}`;
    }
    return 'accepted';
  };
  t.match(usage(['--rs', '10.0.0.1']), /^missing --vip/);
  t.match(usage(['--config-test']), /^--config-test needs --config FILE or --rules FILE/);
});

t.test('a bare --vip is a balancer for that VIP with no service yet (issue 12 item 6)', async (t) => {
  const o = parseOptions(['--vip', '10.0.0.127']);
  t.equal(o.vip, 0x0a00007f);
  t.same(o.rs, []);
  t.same(o.ports, [], 'no --port 80 service without --rs: services come from lb ipvsadm -A');
  t.same(parseOptions(['--vip', '10.0.0.127', '--port', '443']).ports, [443], 'an explicit --port is a service without servers');
  t.same(parseOptions(BASE).ports, [80], '--rs servers: --port defaults to 80');
});

t.test('--config-test, -t, --check, --version; the default socket can be given', async (t) => {
  for (const flag of ['--config-test', '-t', '--check']) t.equal(parseOptions(['--config', 'x.conf', flag]).configTest, true, flag);
  t.equal(parseOptions(['--rules', 'r', '--check']).configTest, true);
  t.equal(parseOptions(['--version']).version, true);
  t.equal(parseOptions(['--vip', '10.0.0.127'], { socket: '/run/tslb.ns1.sock' }).socket, '/run/tslb.ns1.sock');
  t.equal(parseOptions(['--vip', '10.0.0.127', '--socket', '/tmp/x.sock'], { socket: '/run/tslb.ns1.sock' }).socket, '/tmp/x.sock');
});

const LB = path.join(REPO, 'dist/lb.js');

function runLb(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LB, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

t.test('node dist/lb.js with a bad value exits 2 and names it on stderr', { skip: existsSync(LB) ? false : 'dist/lb.js not built' }, async (t) => {
  const r = await runLb(['--sched', 'foo']);
  t.equal(r.code, 2, 'exit code 2');
  t.match(r.stderr, /^lb: invalid value for --sched: 'foo' \(expected one of rr, wrr, lc, wlc, sh, sed, nq, mh\)\n$/);
  t.equal(r.stdout, '', 'nothing on stdout');
  const w = await runLb(['--vip', '10.0.0.127', '--rs', '10.0.0.1@x']);
  t.equal(w.code, 2);
  t.match(w.stderr, /'x'/);
  const p = await runLb(['--vip', '10.0.0.127', '--rs', '10.0.0.1', '--persist', '0']);
  t.equal(p.code, 2);
  t.match(p.stderr, /--persist: '0'/);
});

t.test('--sloppy-tcp / --no-sloppy-tcp (default auto: on for mh with --bgp)', async (t) => {
  t.equal(parseOptions([]).sloppyTcp, 'auto');
  t.equal(parseOptions(['--sloppy-tcp']).sloppyTcp, 'on');
  t.equal(parseOptions(['--no-sloppy-tcp']).sloppyTcp, 'off');
});

t.test('--vip is IPv4; an IPv6 one is refused saying where IPv6 services come from; --fnat-addr takes both families', async (t) => {
  t.throws(() => parseOptions(['--vip', '2001:db8::1']), { message: "invalid value for --vip: '2001:db8::1' (--vip takes an IPv4 address; add IPv6 services with lb ipvsadm -A -t [ADDR]:PORT, a --rules file or --config)" });
  const o = parseOptions([...BASE, '--fnat-addr', '10.0.0.200', '--fnat-addr', '2001:db8::200']);
  t.same(o.fnatAddrs, [0x0a0000c8]);
  t.same(o.fnatAddrs6.map((a) => [...a]), [[0x20010db8, 0, 0, 0x200]]);
  t.throws(() => parseOptions([...BASE, '--fnat-addr', '2001:db8::zz']), /invalid value for --fnat-addr: '2001:db8::zz'/);
});
