/**
 * The kernel side for real: boots Debian's kernel in QEMU (scripts/ipvs-vm) and runs
 * one scenario on both sides. Minutes under software emulation, needs root and the
 * Debian package mirror, so it runs only with RUN_VM_TESTS=1 (see docs/compare.md).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../../src/compare/scenario.js';
import { buildReport } from '../../src/compare/main.js';

const enabled = process.env['RUN_VM_TESTS'] === '1';

t.test('kernel IPVS in the VM and the engine pick the same servers (rr-basic)', { skip: enabled ? false : 'set RUN_VM_TESTS=1 to boot the IPVS VM (takes minutes)' }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'tslb-vm-smoke-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const scenario = join(process.cwd(), 'fixtures', 'scenarios', 'rr-basic.json');
  // The compiled runner of this build, so the test does not depend on dist/.
  const compareJs = join(process.cwd(), 'build', 'src', 'compare', 'main.js');
  const r = spawnSync('bash', ['scripts/ipvs-vm', 'compare', scenario], {
    encoding: 'utf8', timeout: 1_200_000,
    env: { ...process.env, TSLB_VM_NO_BUILD: '1', TSLB_COMPARE_JS: process.env['TSLB_COMPARE_JS'] ?? compareJs, TSLB_COMPARE_OUT: out },
  });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /kernel: Linux \S+, ipvsadm v1\.31/);
  const log = readFileSync(join(out, 'raw', 'kernel-serial.txt'), 'utf8');
  const report = buildReport({ scenarios: [loadScenario(scenario)], kernelLog: log, kernelRun: 'smoke', date: '' });
  const c = report.comparisons[0]!;
  t.equal(c.picks.length, 7);
  t.equal(c.pickDiffs, 0, 'identical picks');
  t.equal(c.listingDiffs, 0, 'identical listings');
});
