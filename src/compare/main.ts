/**
 * Command line of the comparison (driven by scripts/ipvs-vm):
 *   node dist/compare/main.js vm-scripts --out DIR SCENARIO.json...   shell scripts for the VM
 *   node dist/compare/main.js report --kernel FILE --out DIR [--vm-seconds N] [--accel A] SCENARIO.json...
 *   node dist/compare/main.js engine [--out DIR] SCENARIO.json...    engine side only (no VM)
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, type Scenario } from './scenario.js';
import { vmFiles } from './vm-script.js';
import { runOnEngine } from './engine-runner.js';
import { parseKernelLog } from './kernel-log.js';
import { compareSides, type Comparison } from './compare.js';
import { indexMarkdown, scenarioMarkdown, terminalSummary, type RunInfo } from './report.js';
import type { SideResult } from './result.js';

interface Args {
  cmd: string;
  opts: Map<string, string>;
  files: string[];
}

function parseArgs(argv: string[]): Args {
  const [cmd = '', ...rest] = argv;
  const opts = new Map<string, string>();
  const files: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a.startsWith('--')) opts.set(a.slice(2), rest[++i] ?? '');
    else files.push(a);
  }
  return { cmd, opts, files };
}

export interface ReportInput {
  scenarios: Scenario[];
  kernelLog: string | null;
  kernelRun: string;
  date: string;
}

export interface ReportOutput {
  comparisons: Comparison[];
  files: Map<string, string>;
  summary: string;
}

/** Runs the engine side, pairs it with the kernel log, and renders every page (no I/O). */
export function buildReport(input: ReportInput): ReportOutput {
  const kernel = input.kernelLog === null ? null : parseKernelLog(input.kernelLog);
  const info: RunInfo = { kernelVersion: kernel?.version ?? '', kernelRun: input.kernelRun, date: input.date };
  const comparisons = input.scenarios.map((s) => compareSides(s, kernel?.results.get(s.name) ?? null, runOnEngine(s)));
  const files = new Map<string, string>();
  files.set('README.md', indexMarkdown(comparisons, info));
  for (const c of comparisons) {
    files.set(`${c.scenario.name}.md`, scenarioMarkdown(c, info));
    const raw: { kernel: SideResult | null; engine: SideResult } = { kernel: c.kernel, engine: c.engine };
    files.set(`raw/${c.scenario.name}.json`, JSON.stringify(raw, null, 1) + '\n');
  }
  if (kernel && kernel.stray.length > 0) files.set('raw/vm-stray-output.txt', kernel.stray.join('\n') + '\n');
  return { comparisons, files, summary: terminalSummary(comparisons, info) };
}

function writeAll(dir: string, files: Map<string, string>): void {
  for (const [name, text] of files) {
    const path = join(dir, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }
}

function main(argv: string[]): number {
  const a = parseArgs(argv);
  const scenarios = a.files.map(loadScenario);
  if (scenarios.length === 0 && a.cmd !== '') {
    process.stderr.write('no scenario files given\n');
    return 2;
  }
  const date = new Date().toISOString().slice(0, 10);
  switch (a.cmd) {
    case 'vm-scripts': {
      const out = a.opts.get('out');
      if (!out) break;
      mkdirSync(out, { recursive: true });
      writeAll(out, vmFiles(scenarios));
      return 0;
    }
    case 'report': {
      const kernelFile = a.opts.get('kernel');
      const out = a.opts.get('out');
      if (!kernelFile || !out) break;
      const secs = a.opts.get('vm-seconds');
      const kernelRun = `QEMU ${a.opts.get('accel') ?? ''}${secs ? `, VM run ${secs} s for ${scenarios.length} scenarios` : ''}`.trim();
      const r = buildReport({ scenarios, kernelLog: readFileSync(kernelFile, 'utf8'), kernelRun, date });
      writeAll(out, r.files);
      mkdirSync(join(out, 'raw'), { recursive: true });
      copyFileSync(kernelFile, join(out, 'raw', 'kernel-serial.txt'));
      process.stdout.write(r.summary + `report: ${join(out, 'README.md')}\n`);
      return 0;
    }
    case 'engine': {
      const r = buildReport({ scenarios, kernelLog: null, kernelRun: 'engine only', date });
      const out = a.opts.get('out');
      if (out) writeAll(out, r.files);
      process.stdout.write(r.summary);
      return 0;
    }
    default:
      break;
  }
  process.stderr.write('usage: main.js vm-scripts --out DIR | report --kernel FILE --out DIR | engine [--out DIR]  SCENARIO.json...\n');
  return 2;
}

// Run only as a program, not when imported by the tests.
if (process.argv[1] && /compare[\\/]main\.js$/.test(process.argv[1])) process.exitCode = main(process.argv.slice(2));
