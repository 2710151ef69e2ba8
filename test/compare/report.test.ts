/**
 * Comparison and report on the engine side only (no VM): a kernel result is built by
 * hand from the engine's (identical, then with one pick changed), and the pages must
 * say so. The line diff and listing normalisations are checked on small texts.
 */
import t from 'tap';
import { validateScenario } from '../../src/compare/scenario.js';
import { runOnEngine } from '../../src/compare/engine-runner.js';
import { compareSides, statsConns } from '../../src/compare/compare.js';
import { indexMarkdown, scenarioMarkdown, terminalSummary } from '../../src/compare/report.js';
import { lineDiff } from '../../src/compare/text-diff.js';
import { maskExpiry, sortConnRows } from '../../src/compare/result.js';
import type { SideResult } from '../../src/compare/result.js';
import { buildReport } from '../../src/compare/main.js';

const VS = '10.0.0.127:80';
const scenario = validateScenario({
  name: 'demo', title: 'demo', topology: { vip: '10.0.0.127', servers: [{ name: 'rs1', addr: '10.0.0.11' }, { name: 'rs2', addr: '10.0.0.12' }], clients: ['198.51.100.10'] },
  steps: [{ ipvsadm: `-A -t ${VS} -s rr` }, { ipvsadm: `-a -t ${VS} -r 10.0.0.11:80 -m` }, { ipvsadm: `-a -t ${VS} -r 10.0.0.12:80 -m` }, { connect: { from: '198.51.100.10', to: VS, count: 3 } }],
});
const info = { kernelVersion: 'Linux 6.1.0-56-amd64', kernelRun: 'QEMU tcg', date: '2026-01-01' };

function asKernel(e: SideResult): SideResult {
  return JSON.parse(JSON.stringify({ ...e, side: 'kernel', version: info.kernelVersion })) as SideResult;
}

t.test('identical sides: no differences anywhere', async (t) => {
  const engine = runOnEngine(scenario);
  const c = compareSides(scenario, asKernel(engine), engine);
  t.equal(c.pickDiffs, 0);
  t.equal(c.commandDiffs, 0);
  t.equal(c.listingDiffs, 0);
  t.equal(c.picks.length, 3);
  const md = scenarioMarkdown(c, info);
  t.match(md, /\*\*Picks:\*\* 3\/3 identical/);
  t.notMatch(md, /✗/);
  t.match(md, /`ipvsadm -L -n` \(end\) — identical/);
  t.match(terminalSummary([c], info), /demo\s+3\/3\s+same\s+same/);
});

t.test('one different pick is marked in every view', async (t) => {
  const engine = runOnEngine(scenario);
  const kernel = asKernel(engine);
  kernel.conns[1]!.dest = '10.0.0.99:80';
  kernel.listings[0]!.list = kernel.listings[0]!.list.replace('10.0.0.11:80', '10.0.0.99:80');
  const c = compareSides(scenario, kernel, engine);
  t.equal(c.pickDiffs, 1);
  t.equal(c.listingDiffs, 1);
  const md = scenarioMarkdown(c, info);
  t.match(md, /\| 2 \| 3 \| short TCP \| 198\.51\.100\.10:20001 \| `10\.0\.0\.99:80` \| `10\.0\.0\.\d+:80` \| .* \| ✗ \|/);
  t.match(md, /```diff\n[^`]*\n- +-> 10\.0\.0\.99:80 /);
  t.match(indexMarkdown([c], info), /\| demo \| 3 \| 198\.51\.100\.10:20001 \| `10\.0\.0\.99:80` \| `10\.0\.0\.\d+:80` \|/);
  t.match(terminalSummary([c], info), /DIFF demo step 3 198\.51\.100\.10:20001: kernel 10\.0\.0\.99:80, tslb 10\.0\.0\.\d+:80/);
});

t.test('a scenario missing from the kernel log counts every pick as different', async (t) => {
  const c = compareSides(scenario, null, runOnEngine(scenario));
  t.equal(c.pickDiffs, 3);
  t.match(scenarioMarkdown(c, info), /Kernel: not run/);
});

t.test('buildReport without a kernel log renders the engine side only', async (t) => {
  const r = buildReport({ scenarios: [scenario], kernelLog: null, kernelRun: 'engine only', date: '2026-01-01' });
  t.ok(r.files.has('README.md') && r.files.has('demo.md') && r.files.has('raw/demo.json'));
  t.match(r.summary, /demo\s+3\s+0/);
});

t.test('line diff: "-" kernel only, "+" engine only, in order', async (t) => {
  t.same(lineDiff('a\nb\nc\n', 'a\nx\nc\n'), ['  a', '- b', '+ x', '  c']);
  t.same(lineDiff('a\n', 'a\nb\n'), ['  a', '+ b']);
});

t.test('listing normalisation: expiry masked, rows sorted; the Conns column of --stats', async (t) => {
  const conns = 'IPVS connection entries\npro expire state       source             virtual            destination\n'
    + 'TCP 01:55  TIME_WAIT   198.51.100.10:20002 10.0.0.127:80      10.0.0.11:80\n'
    + 'TCP 01:54  TIME_WAIT   198.51.100.10:20001 10.0.0.127:80      10.0.0.12:80\n';
  const out = sortConnRows(maskExpiry(conns));
  t.equal(out.split('\n')[2], 'TCP --:--  TIME_WAIT   198.51.100.10:20001 10.0.0.127:80      10.0.0.12:80');
  const stats = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n'
    + 'TCP  10.0.0.127:80                       7       42       28     2261     1540\n  -> 10.0.0.11:80                        2       12        8      646      440\n';
  t.equal(statsConns(stats), 'TCP 10.0.0.127:80 7\n  -> 10.0.0.11:80 2\n');
});
