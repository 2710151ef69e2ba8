/**
 * Microbench of the hot path (issue 6 item 1), one command, everything side by side in
 * one run: a baseline loop (measured first and last), the engine's per-packet paths,
 * connection table lookups at 1K/100K/1M entries, every scheduler's pick, connection
 * expiry; then, in a child process started with --expose-gc, the bytes allocated per
 * packet. Prints a table and writes bench/results/micro-<date>.{json,md}.
 *
 *   node build/bench/micro/run.js [--quick] [--max-time=S] [--filter=TEXT] [--clock=fraction|int]
 *                                 [--no-alloc] [--alloc-ops=N] [--no-write] [--out=DIR]
 */
import Benchmark from 'benchmark';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { schedulerPickCases } from './sched-picks.js';
import { baselineCase, engineCases, type ClockMode, type MicroCase } from './engine-cases.js';
import { tableCases } from './table-cases.js';
import { packet6Cases } from './packet6-cases.js';
import { engine6Cases } from './engine6-cases.js';
import { measureExpiry } from './expiry.js';
import { measureAllocations, type AllocResult } from './alloc.js';
import { consoleTable, describeMachine, writeResults, type CaseResult, type RunResults } from './report.js';

const ALLOC_MARK = 'ALLOC_JSON ';
const HERE = path.dirname(fileURLToPath(import.meta.url));

function arg(name: string): string | undefined {
  const pre = `--${name}=`;
  return process.argv.find((a) => a.startsWith(pre))?.slice(pre.length);
}
const flag = (name: string) => process.argv.includes(`--${name}`);

/** The repository root: the nearest ancestor of this file with a package.json. */
function repoRoot(): string {
  for (let d = HERE; d !== path.dirname(d); d = path.dirname(d)) if (existsSync(path.join(d, 'package.json'))) return d;
  return process.cwd();
}

function runCase(c: MicroCase, maxTime: number): CaseResult {
  const b = new Benchmark(c.name, c.fn, { maxTime, minSamples: 10 });
  b.run({ async: false });
  const problem = b.error ? String(b.error) : c.check?.() ?? undefined;
  const ns = 1e9 / b.hz;
  process.stderr.write(`  ${c.name}: ${ns.toFixed(1)} ns/op ±${b.stats.rme.toFixed(1)}%${problem ? `  PROBLEM: ${problem}` : ''}\n`);
  const r: CaseResult = { group: c.group, name: c.name, note: c.note, nsPerOp: ns, opsPerSec: b.hz, rme: b.stats.rme, samples: b.stats.sample.length, ratio: NaN };
  if (problem) r.error = problem;
  return r;
}

/** Child mode: allocation per packet for each clock, printed as one JSON line. */
async function allocChild(): Promise<void> {
  const ops = Number(arg('alloc-ops') ?? 5_000_000);
  const out: { clock: string; results: AllocResult[] }[] = [];
  for (const clock of ['fraction', 'int'] as ClockMode[]) {
    const cases = [...engineCases(clock).filter((c) => c.group === 'engine'), ...(clock === 'fraction' ? [...engine6Cases(), ...packet6Cases()] : [])];
    const results = await measureAllocations([baselineCase(), ...cases], ops);
    for (const c of cases) {
      const problem = c.check?.();
      if (problem) throw new Error(`${c.name}: ${problem}`);
    }
    out.push({ clock, results });
  }
  process.stdout.write(`${ALLOC_MARK}${JSON.stringify(out)}\n`);
}

function allocInChild(): { data: { clock: string; results: AllocResult[] }[]; problem?: string } {
  const extra = arg('alloc-ops') ? [`--alloc-ops=${arg('alloc-ops')}`] : [];
  process.stderr.write('allocation per packet (child process with --expose-gc) ...\n');
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--alloc-child', ...extra], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith(ALLOC_MARK));
  if (r.status !== 0 || !line) return { data: [], problem: `allocation child failed (exit ${r.status})` };
  return { data: JSON.parse(line.slice(ALLOC_MARK.length)) as { clock: string; results: AllocResult[] }[] };
}

async function main(): Promise<void> {
  if (flag('alloc-child')) return allocChild();
  const maxTime = Number(arg('max-time') ?? (flag('quick') ? 0.25 : 1));
  const clock = (arg('clock') ?? 'fraction') as ClockMode;
  if (clock !== 'fraction' && clock !== 'int') throw new Error(`--clock must be fraction or int, not ${clock}`);
  const filter = arg('filter');
  const machine = describeMachine();
  process.stderr.write(`microbench on ${machine.cpu} (${machine.cores} cores), node ${machine.node}; building cases ...\n`);

  const first = { ...baselineCase(), name: 'baseline: read dst address (start)' };
  const last = { ...baselineCase(), name: 'baseline: read dst address (end)' };
  let cases: MicroCase[] = [...engineCases(clock), ...engine6Cases(), ...packet6Cases(), ...tableCases(), ...schedulerPickCases().map((s): MicroCase => ({ group: 'sched', name: s.name, fn: s.fn, note: 'one scheduler pick (sched-picks.ts)' }))];
  if (filter) cases = cases.filter((c) => c.name.includes(filter) || c.group === filter);
  const problems: string[] = [];
  const results = [first, ...cases, last].map((c) => runCase(c, maxTime));
  const baseNs = (results[0]!.nsPerOp + results[results.length - 1]!.nsPerOp) / 2;
  const byName = new Map(results.map((r) => [r.name, r]));
  for (const [i, r] of results.entries()) {
    r.ratio = r.nsPerOp / baseNs;
    const restore = [first, ...cases, last][i]!.restoreCase;
    if (restore && byName.has(restore)) r.netNsPerOp = r.nsPerOp - byName.get(restore)!.nsPerOp;
    if (r.error) problems.push(`${r.name}: ${r.error}`);
  }

  process.stderr.write('connection expiry ...\n');
  const ex = measureExpiry();
  const expiry = { ...ex, ratio: ex.nsPerEntry / baseNs, opsPerSec: 1e9 / ex.nsPerEntry };

  let alloc: { clock: string; results: AllocResult[] }[] = [];
  if (!flag('no-alloc')) {
    const a = allocInChild();
    alloc = a.data;
    if (a.problem) problems.push(a.problem);
  }

  const run: RunResults = { date: new Date().toISOString(), machine, options: { maxTime, clock }, cases: results, expiry, alloc, problems };
  process.stdout.write(`\n${consoleTable(run)}\n`);
  if (!flag('no-write')) {
    const files = writeResults(run, arg('out') ?? path.join(repoRoot(), 'bench', 'results'));
    process.stdout.write(`\nwrote ${files.join(' and ')}\n`);
  }
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
