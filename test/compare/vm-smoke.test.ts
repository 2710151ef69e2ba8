/**
 * The kernel side for real: boots Debian's kernel in QEMU (scripts/ipvs-vm) and runs
 * two scenarios on both sides (picks, and a tunnel-mode rewrite). A few minutes under
 * software emulation; needs root and the Debian package mirror, so it runs with
 * RUN_VM_TESTS=1, which `bash scripts/test` sets as root (see docs/compare.md).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../../src/compare/scenario.js';
import { buildReport } from '../../src/compare/main.js';

const enabled = process.env['RUN_VM_TESTS'] === '1';
if (enabled) t.setTimeout(1_500_000); // one VM boot under software emulation: minutes

// rr-basic: picks and listings; tun-capture: tunnel mode (ipvsadm -i), the outer and inner
// headers each side wrote (issue 12); nat-v6: an IPv6 service (issue 16), picks read from
// the kernel's /proc/net/ip_vs_conn rows (%pI6), listings and the NAT rewrite. One VM boot runs all three.
t.test('kernel IPVS in the VM and the engine agree (rr-basic picks, tun-capture IPIP rewrite, nat-v6 over IPv6)', { skip: enabled ? false : 'set RUN_VM_TESTS=1 to boot the IPVS VM (takes minutes)' }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'tslb-vm-smoke-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const scenarios = ['rr-basic.json', 'tun-capture.json', 'nat-v6.json'].map((f) => join(process.cwd(), 'fixtures', 'scenarios', f));
  // The compiled runner of this build, so the test does not depend on dist/.
  const compareJs = join(process.cwd(), 'build', 'src', 'compare', 'main.js');
  const r = spawnSync('bash', ['scripts/ipvs-vm', 'compare', ...scenarios], {
    encoding: 'utf8', timeout: 1_200_000,
    env: { ...process.env, TSLB_VM_NO_BUILD: '1', TSLB_COMPARE_JS: process.env['TSLB_COMPARE_JS'] ?? compareJs, TSLB_COMPARE_OUT: out },
  });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /kernel: Linux \S+, ipvsadm v1\.31/);
  const log = readFileSync(join(out, 'raw', 'kernel-serial.txt'), 'utf8');
  const report = buildReport({ scenarios: scenarios.map((s) => loadScenario(s)), kernelLog: log, kernelRun: 'smoke', date: '' });
  const [rr, tun, v6] = report.comparisons;
  t.equal(rr!.picks.length, 7);
  t.equal(rr!.pickDiffs, 0, 'rr-basic: identical picks');
  t.equal(rr!.listingDiffs, 0, 'rr-basic: identical listings');
  t.ok(tun!.rewrites.length > 0, 'tun-capture: the kernel and the engine both captured encapsulated frames');
  t.equal(tun!.rewriteDiffs, 0, 'tun-capture: same outer and inner header fields');
  t.equal(tun!.pickDiffs, 0, 'tun-capture: identical picks');
  t.equal(tun!.listingDiffs, 0, 'tun-capture: identical listings (Tunnel forwarding)');
  t.equal(v6!.picks.length, 16);
  t.equal(v6!.pickDiffs, 0, 'nat-v6: identical picks');
  t.equal(v6!.listingDiffs, 0, 'nat-v6: identical listings ([addr]:port)');
  t.equal(v6!.rewrites.length, 2, 'nat-v6: both directions of the NAT rewrite captured');
  t.equal(v6!.rewriteDiffs, 0, 'nat-v6: same fields changed');
  t.match(log, /^@@P TCP 2001:0db8:0051:0000:0000:0000:0000:0010 4E20 /m, 'the kernel prints IPv6 rows with %pI6');
});
