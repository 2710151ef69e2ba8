/**
 * The commands that need no running balancer and no root (issue 12 items 5 and 7), run
 * through the real entry point dist/lb.js:
 *  - `lb --config FILE --config-test` (`-t`) and `lb --rules FILE --check`: every error
 *    and warning as FILE:LINE, exit 0 when the balancer would start, 1 when not; as a
 *    non-root user and in an empty network namespace too (no root, no network);
 *  - `lb --version`; `lb ipvsadm -h` / `-v` without a balancer;
 *  - a start-up failure is one line on stderr and exit 1 (bad arguments stay exit 2).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkFiles } from '../../src/cli/config-check.js';
import { parseOptions } from '../../src/cli/options.js';
import { parseIpvsadmArgs } from '../../src/control/ipvsadm/args.js';
import { REPO } from '../helpers/lab.js';

const LB = path.join(REPO, 'dist/lb.js');
const FX = 'fixtures/config-test';
const isRoot = process.getuid?.() === 0;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** dist/lb.js with the project root as working directory (fixture paths as a user types them). */
function runLb(args: string[], wrap: string[] = []): Promise<Run> {
  // Without tap's NODE_OPTIONS hooks (tap puts them back into a child's environment):
  // they write under .tap/, which nobody may not, and print their own errors.
  const argv = [...wrap, 'env', '-u', 'NODE_OPTIONS', process.execPath, LB, ...args];
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { cwd: REPO, timeout: 30_000 }, (err, stdout, stderr) => {
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

const built = existsSync(LB) ? false : 'dist/lb.js not built';

t.test('--config-test on a good file: exit 0, its warning with file:line, a summary', { skip: built }, async (t) => {
  for (const flag of ['--config-test', '-t']) {
    const r = await runLb(['--config', `${FX}/good.conf`, flag]);
    t.equal(r.code, 0, `${flag}: exit 0`);
    t.equal(r.stderr, `${FX}/good.conf:6: warning: keyword 'frobnicate': unknown keyword - ignored\n`);
    t.equal(r.stdout, `lb: ${FX}/good.conf: configuration OK (1 virtual service, 2 real servers, 1 vrrp instance; 1 warning)\n`);
  }
  const seed = await runLb(['--config', 'fixtures/keepalived/seed001/lvs-a/keepalived.conf', '-t']);
  t.equal(seed.code, 0, 'seed 001 (with its include) would start');
  t.match(seed.stdout, /configuration OK \(2 virtual services, 4 real servers, 1 vrrp instance; 0 warnings\)/);
});

t.test('--config-test on a bad file: every error and warning, in line order; exit 1', { skip: built }, async (t) => {
  const r = await runLb(['--config', `${FX}/bad.conf`, '--config-test']);
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.same(r.stderr.split('\n'), [
    `${FX}/bad.conf:7: error: keyword 'weight': expected a weight in [0, 2147483647], got 'lots'`,
    `${FX}/bad.conf:12: error: keyword 'lvs_sched': expected a scheduler (rr|wrr|lc|wlc|lblc|sh|mh|dh|fo|ovf|lblcr|sed|nq|twos), got 'nosuch'`,
    `${FX}/bad.conf:20: error: keyword 'ae00::9-2': expected a range end greater than the start, got 'ae00::9-2'`,
    `${FX}/bad.conf:23: warning: keyword 'virtual_server': virtual_server_group 'v6' is not defined - ignoring the virtual server`,
    `${FX}/bad.conf:32: error: keyword 'lvs_method': TUN type gue is not supported by this balancer (use TUN type ipip) in virtual_server 10.0.0.127:82/TCP`,
    `${FX}/bad.conf:37: warning: keyword 'unknown_block_keyword': unknown keyword - ignored`,
    `lb: ${FX}/bad.conf: 4 errors, 2 warnings: the balancer would not start`,
    '',
  ]);
  const braces = await runLb(['--config', `${FX}/braces.conf`, '-t']);
  t.equal(braces.code, 1);
  t.match(braces.stderr, new RegExp(`^${FX}/braces\\.conf:4: error: keyword 'real_server': expected '\\}' to close this block`));
  const missing = await runLb(['--config', `${FX}/nosuch.conf`, '-t']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, new RegExp(`^${FX}/nosuch\\.conf: error: cannot read the --config file \\(ENOENT\\): check the path\\n`));
});

t.test('--rules FILE --check: each bad line, an empty file, exit codes', { skip: built }, async (t) => {
  const good = await runLb(['--rules', 'fixtures/rules/seed000.rules', '--check']);
  t.equal(good.code, 0);
  t.equal(good.stderr, '');
  t.match(good.stdout, /configuration OK \(1 virtual service, 2 real servers; 0 warnings\)/);
  const bad = await runLb(['--rules', `${FX}/bad.rules`, '--check']);
  t.equal(bad.code, 1);
  t.same(bad.stderr.split('\n'), [
    `${FX}/bad.rules:3: error: Destination already exists`,
    `${FX}/bad.rules:4: error: Service not defined`,
    `${FX}/bad.rules:5: error: Scheduler or persistence engine not found`,
    `lb: ${FX}/bad.rules: 3 errors, 0 warnings: the balancer would not start`,
    '',
  ]);
  const empty = await runLb(['--rules', `${FX}/empty.rules`, '--check']);
  t.equal(empty.code, 1);
  t.match(empty.stderr, new RegExp(`^${FX}/empty\\.rules: error: the file is empty`));
  const both = await runLb(['--config', `${FX}/good.conf`, '--rules', 'fixtures/rules/seed000.rules', '-t']);
  t.equal(both.code, 0, '--config and --rules together');
  const none = await runLb(['--config-test']);
  t.equal(none.code, 2, 'nothing to check is a usage error');
  t.match(none.stderr, /^lb: --config-test needs --config FILE or --rules FILE/);
});

t.test('the config test needs no root and no network', { skip: built || (isRoot ? false : 'needs root to drop to nobody and to unshare') }, async (t) => {
  const asNobody = await runLb(['--config', `${FX}/bad.conf`, '-t'], ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
  t.equal(asNobody.code, 1, 'as nobody: same verdict');
  t.match(asNobody.stderr, /bad\.conf:20: error: keyword 'ae00::9-2'/);
  const noNet = await runLb(['--config', `${FX}/good.conf`, '-t'], ['unshare', '-n']);
  t.equal(noNet.code, 0, 'in an empty network namespace: same verdict');
});

t.test('checkFiles directly: counts and diagnostics', async (t) => {
  const c = checkFiles(parseOptions(['--config', path.join(REPO, FX, 'good.conf'), '-t']));
  t.same(c.counts, { services: 1, servers: 2, vrrp: 1 });
  t.same(c.diagnostics.map((d) => [d.line, d.severity]), [[6, 'warning']]);
  const w = checkFiles(parseOptions(['--config', path.join(REPO, FX, 'vrrp-other-iface.conf'), '--workers', '2', '-t']));
  t.match(w.diagnostics.map((d) => d.message), [/vrrp_instance with --workers is not supported yet/]);
});

t.test('--version prints the version of package.json', { skip: built }, async (t) => {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
  const r = await runLb(['--version']);
  t.equal(r.code, 0);
  t.equal(r.stdout, `tslb ${pkg.version}\n`);
});

t.test('lb ipvsadm -h and -v need no running balancer', { skip: built }, async (t) => {
  const nowhere = '/nonexistent/tslb.sock';
  const h = await runLb(['--socket', nowhere, 'ipvsadm', '-h']);
  t.equal(h.code, 0);
  const want = parseIpvsadmArgs(['-h']);
  t.ok(want.ok && want.command.cmd === 'help');
  t.equal(h.stdout, want.ok && want.command.cmd === 'help' ? want.command.stdout : '', "ipvsadm 1.31's usage text");
  t.match(h.stdout, /^ipvsadm v1\.31 .*\nUsage:\n {2}ipvsadm -A\|E virtual-service/);
  const v = await runLb(['--socket', nowhere, 'ipvsadm', '-v']);
  t.equal(v.code, 0);
  t.match(v.stdout, /^ipvsadm v1\.31/);
  const l = await runLb(['--socket', nowhere, 'ipvsadm', '-L', '-n']);
  t.equal(l.code, 1, 'a listing does need one');
  t.equal(l.stderr, `lb: no balancer is listening on ${nowhere} (is lb running? --socket PATH)\n`);
});

t.test('start-up failures: one line, exit 1, no stack trace; bad arguments exit 2', { skip: built || (isRoot ? false : 'needs root for setpriv / unshare') }, async (t) => {
  // As nobody: refused before any socket is opened (no "socket: Operation not permitted" trace).
  const nobody = await runLb(['--vip', '10.0.0.127'], ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
  t.equal(nobody.code, 1);
  t.equal(nobody.stderr, 'lb: must run as root (or with CAP_NET_RAW and CAP_NET_ADMIN) to capture and send frames: run it with sudo\n');
  t.equal(nobody.stdout, '');
  // Root in an empty namespace: no interface reaches the VIP.
  const empty = await runLb(['--vip', '10.0.0.127'], ['unshare', '-n']);
  t.equal(empty.code, 1);
  t.match(empty.stderr, /^lb: no interface reaches the VIP 10\.0\.0\.127 .*give --iface IF, or add a route\n$/);
  const noIf = await runLb(['--vip', '10.0.0.127', '--iface', 'eth7'], ['unshare', '-n']);
  t.equal(noIf.code, 1);
  t.equal(noIf.stderr, "lb: interface 'eth7' does not exist here (have: none): give another --iface\n");
  const badConf = await runLb(['--config', `${FX}/bad.conf`], ['unshare', '-n']);
  t.equal(badConf.code, 1, 'a bad config is exit 1, before the interfaces are looked at');
  t.match(badConf.stderr, /^lb: fixtures\/config-test\/bad\.conf:7: error: .*\(and 3 more: lb --config fixtures\/config-test\/bad\.conf --config-test lists them all\)\n$/);
  const badArg = await runLb(['--vip', '10.0.0.300']);
  t.equal(badArg.code, 2, 'a bad argument stays exit 2');
});
