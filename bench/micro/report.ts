/**
 * Results of one microbench run: the machine it ran on, a console table, and the
 * JSON + Markdown files under bench/results/.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AllocResult } from './alloc.js';
import type { ExpiryResult } from './expiry.js';

export interface CaseResult {
  group: string;
  name: string;
  note: string;
  nsPerOp: number;
  opsPerSec: number;
  /** Relative margin of error (%), as benchmark.js reports it. */
  rme: number;
  samples: number;
  /** nsPerOp / baseline nsPerOp, measured in the same run. */
  ratio: number;
  /** nsPerOp minus the matching restore-only case (engine cases only). */
  netNsPerOp?: number;
  error?: string;
}

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  v8: string;
  kernel: string;
  memGiB: number;
  loadAvg: number[];
}

export interface RunResults {
  date: string;
  machine: Machine;
  options: { maxTime: number; clock: string };
  cases: CaseResult[];
  expiry: ExpiryResult & { ratio: number; opsPerSec: number };
  alloc: { clock: string; results: AllocResult[] }[];
  problems: string[];
}

export function describeMachine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  return {
    cpu,
    cores: os.cpus().length,
    node: process.version,
    v8: process.versions.v8,
    kernel: `${os.type()} ${os.release()}`,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAvg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return '-';
  return n.toFixed(digits);
}

function fmtOps(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

function rows(r: RunResults): string[][] {
  const out = r.cases.map((c) => [
    c.name, fmt(c.nsPerOp), c.netNsPerOp === undefined ? '' : fmt(c.netNsPerOp), fmtOps(c.opsPerSec), `±${fmt(c.rme)}%`, `${fmt(c.ratio, 2)}x`,
  ]);
  const e = r.expiry;
  out.push([`connection expiry, per entry (${e.entries} per tick)`, fmt(e.nsPerEntry), '', fmtOps(e.opsPerSec), 'median', `${fmt(e.ratio, 2)}x`]);
  return out;
}

const HEAD = ['case', 'ns/op', 'net ns/op', 'ops/s', 'rme', 'x baseline'];

export function consoleTable(r: RunResults): string {
  const all = [HEAD, ...rows(r)];
  const w = HEAD.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  const lines = [line(HEAD), w.map((n) => '-'.repeat(n)).join('  '), ...rows(r).map(line)];
  for (const a of r.alloc) {
    lines.push('', `bytes allocated per packet (clock: ${a.clock})`);
    for (const x of a.results) lines.push(`  ${x.name.padEnd(40)} ${fmt(x.bytesPerOp, 2).padStart(7)} B/op  (raw ${fmt(x.rawBytesPerOp, 2)}, ${x.gcs} GCs in ${x.ops} ops, ${x.cleanChunks}/${x.chunks} GC-free chunks)`);
  }
  if (r.problems.length > 0) lines.push('', 'PROBLEMS:', ...r.problems.map((p) => `  ${p}`));
  return lines.join('\n');
}

export function markdown(r: RunResults): string {
  const m = r.machine;
  const md: string[] = [
    `# Microbench ${r.date}`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB; ${m.kernel}; Node ${m.node} (V8 ${m.v8}); load average at start ${m.loadAvg.join(' ')}.`,
    `benchmark.js maxTime ${r.options.maxTime} s per case; engine clock: ${r.options.clock}.`,
    '"net ns/op" subtracts the matching "restore only" case (writing back the bytes the engine changed in the re-used frame).',
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows(r).map((row) => `| ${row.join(' | ')} |`),
    '',
  ];
  for (const a of r.alloc) {
    md.push(`## Bytes allocated per packet (clock: ${a.clock})`, '', '| case | bytes/op | raw bytes/op | GCs | ops | GC-free chunks |', '|---|---:|---:|---:|---:|---:|');
    for (const x of a.results) md.push(`| ${x.name} | ${fmt(x.bytesPerOp, 2)} | ${fmt(x.rawBytesPerOp, 2)} | ${x.gcs} | ${x.ops} | ${x.cleanChunks}/${x.chunks} |`);
    md.push('');
  }
  md.push('## What each case measures', '');
  for (const c of r.cases) md.push(`- **${c.name}**: ${c.note}`);
  md.push(`- **connection expiry**: ${r.expiry.entries} SYN_RECV entries expired by one Engine.tick(); per-round ns/entry ${r.expiry.perRound.map((x) => fmt(x)).join(', ')}`);
  if (r.problems.length > 0) md.push('', '## Problems', '', ...r.problems.map((p) => `- ${p}`));
  return md.join('\n') + '\n';
}

/** Write micro-<date>.json and .md; returns the paths. */
export function writeResults(r: RunResults, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = r.date.replace(/:/g, '').replace(/\.\d+Z$/, 'Z');
  const json = path.join(dir, `micro-${stamp}.json`);
  const md = path.join(dir, `micro-${stamp}.md`);
  writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(md, markdown(r));
  return [json, md];
}
