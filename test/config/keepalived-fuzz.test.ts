/**
 * Fuzz test (issue 15 item 3): mutations of real keepalived.conf files (the seed and lab
 * fixtures with their includes, and the feature configs in keepalived's sample shapes) through
 * the parser and what the balancer does next with the
 * result (the ipvsadm plan, the VRRP instances). Whatever the text, the outcome must be a
 * configuration (with warnings naming FILE:LINE) or a ConfigError naming FILE:LINE of a file
 * that was read; never another exception, never a hang. Deterministic (seeded PRNG); the
 * first failures are reported with the mutated text. Hostile inputs that once crashed the
 * parser (stack overflows, an include bomb, a glob that was not a valid RegExp) are kept
 * below as regression cases.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigError, parseKeepalivedText, type ConfigWarning, type LoadResult } from '../../src/config/keepalived/index.js';
import { planFromKeepalived } from '../../src/control/keepalived-plan.js';
import { VrrpConfigError, vrrpInstanceFromConfig } from '../../src/ha/vrrp-config.js';
import { VrrpStateMachine } from '../../src/vrrp/state-machine.js';
import { prng } from '../helpers/prng.js';
import { int, mutateText, pick, type Rand } from '../helpers/fuzz-text.js';
import { FIXTURES } from './paths.js';

const MUTATIONS = Number(process.env.TSLB_FUZZ_CONFIGS ?? 20_000);
const SEED = Number(process.env.TSLB_FUZZ_SEED ?? 0x5eed3);
const MAX_REPORTED = Number(process.env.TSLB_FUZZ_REPORT ?? 10);
/** Far above a parse of these few-kilobyte files (well under a millisecond): only a hang gets there. */
const SLOW_MS = 2000;

type Files = Record<string, string>;
/** A configuration as the balancer would load it: the main file and every file it may include. */
interface Corpus {
  readonly root: string;
  readonly files: Files;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function loadCorpus(): Corpus[] {
  const corpora: Corpus[] = [];
  const conf = walk(FIXTURES).filter((p) => p.endsWith('.conf')).map((p) => relative(FIXTURES, p));
  const read = (names: string[], base = FIXTURES): Files => Object.fromEntries(names.map((n) => [n, readFileSync(join(base, n), 'utf8')]));
  // Each director directory of a seed: keepalived.conf and the files it includes.
  for (const root of conf.filter((p) => p.endsWith('/keepalived.conf'))) {
    const dir = root.slice(0, -'keepalived.conf'.length);
    corpora.push({ root, files: read(conf.filter((p) => p.startsWith(dir))) });
  }
  for (const root of conf.filter((p) => p.startsWith('lab/') || p.startsWith('features/'))) corpora.push({ root, files: read([root]) });
  return corpora;
}

/** Keywords of the corpus (first words of lines) and those the parser knows by name. */
function vocabulary(corpora: readonly Corpus[]): string[] {
  const words = new Set<string>([
    'include', 'includer', 'includem', 'includew', 'includeb', 'includea', 'global_defs', 'virtual_server', 'virtual_server_group',
    'real_server', 'TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'DNS_CHECK', 'MISC_CHECK', 'SMTP_CHECK', 'url', 'path', 'digest', 'status_code',
    'vrrp_instance', 'vrrp_sync_group', 'vrrp_script', 'virtual_ipaddress', 'authentication', 'auth_type', 'auth_pass', 'unicast_peer',
    'track_interface', 'track_script', 'group', 'fwmark', 'sorry_server', 'lvs_sync_daemon', 'persistence_granularity', 'version',
    'lb_kind', 'lvs_method', 'lb_algo', 'lvs_sched', 'quorum', 'hysteresis', 'weight', 'type', 'name', 'misc_path', 'user', 'sh-port',
  ]);
  for (const c of corpora) {
    for (const text of Object.values(c.files)) {
      for (const line of text.split('\n')) {
        const w = /^\s*([A-Za-z_][\w-]*)/.exec(line)?.[1];
        if (w) words.add(w);
      }
    }
  }
  return [...words];
}

/** Mutations that only make sense for keepalived.conf: braces, blocks, include patterns. */
function mutateKeepalived(rand: Rand, text: string, c: Corpus): string {
  const braces = [...text.matchAll(/[{}]/g)].map((m) => m.index);
  const lines = text.split('\n');
  const at = int(rand, 0, Math.max(0, lines.length - 1));
  switch (int(rand, 0, 6)) {
    case 0: // delete a brace
    case 1: {
      if (braces.length === 0) return text;
      const i = pick(rand, braces);
      return text.slice(0, i) + text.slice(i + 1);
    }
    case 2: { // insert a brace
      const i = int(rand, 0, text.length);
      return text.slice(0, i) + (rand() < 0.5 ? '{' : '}') + text.slice(i);
    }
    case 3: { // a line's statement gets a block (or a block keyword loses it)
      lines[at] = rand() < 0.5 ? `${lines[at] ?? ''} {` : (lines[at] ?? '').replace(/\{\s*$/, '');
      if (rand() < 0.5) lines.splice(at + 1, 0, '}');
      return lines.join('\n');
    }
    case 4: { // an include line, with a pattern that matches one file, many, itself, or nothing
      const names = Object.keys(c.files);
      const self = c.root.split('/').pop()!;
      const pattern = pick(rand, [
        '*', '*.conf', '*/*.conf', '../*', '../../*/*', self, `./${self}`, '{a,b}', '{*,*}', '[a-z]*', '[z-a]*', '[!a]*', '\\*', '**',
        'virtualservers/*.conf', 'virtualserver-master.conf', 'missing.conf', '/nonexistent/*', '', '{', '}', '[', pick(rand, names),
      ]);
      lines.splice(at, 0, `${pick(rand, ['include', 'includer', 'includem', 'includew', 'includeb', 'includea'])} ${pattern}`);
      return lines.join('\n');
    }
    case 5: { // duplicate a block (or any slice of lines)
      const n = int(rand, 1, 12);
      lines.splice(at, 0, ...lines.slice(at, at + n));
      return lines.join('\n');
    }
    default: { // quotes and continuations
      lines[at] = (lines[at] ?? '') + pick(rand, [' "', '"', ' \\', '\\', ' "a b" "', ' \\"', ' # "', ' ! {']);
      return lines.join('\n');
    }
  }
}

/** Where a diagnostic may point: a file that was read, a line that file has. */
function badLocation(what: string, file: string, line: number, files: Files): string | null {
  const text = files[file];
  if (text === undefined) return `${what} names '${file}', which is not a file of this configuration`;
  const count = text.split('\n').length;
  if (!Number.isInteger(line) || line < 1 || line > count) return `${what} names line ${line} of ${file} (${count} lines)`;
  return null;
}

function checkWarnings(warnings: readonly ConfigWarning[], files: Files): string | null {
  for (const w of warnings) {
    const bad = badLocation(`warning '${w.message}'`, w.file, w.line, files);
    if (bad) return bad;
    if (typeof w.message !== 'string' || w.message === '') return 'a warning without a message';
  }
  return null;
}

type Outcome = 'loaded' | 'config-error' | 'plan-error' | 'vrrp-error';

/**
 * Load as the balancer does: parse, plan the ipvsadm rules, build the VRRP instances. Returns
 * the outcome, or a problem (a text) when the input was not handled cleanly.
 */
function load(root: string, files: Files): { outcome: Outcome } | { problem: string } {
  let result: LoadResult;
  try {
    result = parseKeepalivedText(files[root]!, root, files);
  } catch (err) {
    if (!(err instanceof ConfigError)) return { problem: `parse threw ${(err as Error)?.stack ?? String(err)}` };
    const bad = badLocation('ConfigError', err.file, err.line, files);
    if (bad) return { problem: `${bad}: ${err.message}` };
    if (!err.message.startsWith(`${err.file}:${err.line}: `)) return { problem: `ConfigError text does not start with FILE:LINE: ${err.message}` };
    return { outcome: 'config-error' };
  }
  const bad = checkWarnings(result.warnings, files);
  if (bad) return { problem: bad };
  try {
    const plan = planFromKeepalived(result.config);
    for (const w of plan.warnings) if (!/^[^:]+:\d+: /.test(w)) return { problem: `plan warning without FILE:LINE: ${w}` };
  } catch (err) {
    if (!(err instanceof ConfigError)) return { problem: `planFromKeepalived threw ${(err as Error)?.stack ?? String(err)}` };
    const where = badLocation('plan ConfigError', err.file, err.line, files);
    return where ? { problem: `${where}: ${err.message}` } : { outcome: 'plan-error' };
  }
  for (const vi of result.config.vrrpInstances) {
    try {
      const spec = vrrpInstanceFromConfig(vi, () => 0, () => 0x0a000002);
      void new VrrpStateMachine(spec.machine);
    } catch (err) {
      if (err instanceof VrrpConfigError) {
        const m = /^(.+?):(\d+): vrrp_instance /.exec(err.message);
        const where = m ? badLocation('VrrpConfigError', m[1]!, Number(m[2]), files) : `VrrpConfigError without FILE:LINE: ${err.message}`;
        return where ? { problem: where } : { outcome: 'vrrp-error' };
      }
      return { problem: `VRRP instance ${vi.name}: threw ${(err as Error)?.stack ?? String(err)}` };
    }
  }
  return { outcome: 'loaded' };
}

const corpora = loadCorpus();

t.test('the corpus: seed, lab and feature fixtures', async (t) => {
  t.ok(corpora.length >= 10, `${corpora.length} configurations: ${corpora.map((c) => c.root).join(', ')}`);
  t.ok(corpora.some((c) => c.root.startsWith('features/')), 'the feature configs are in it');
  for (const c of corpora) {
    const r = load(c.root, c.files);
    const want = 'loaded';
    t.ok('outcome' in r && r.outcome === want, `${c.root} unmutated: ${want}`, { r });
  }
});

t.test(`fuzz: ${MUTATIONS} mutated keepalived.conf inputs`, async (t) => {
  const started = performance.now();
  const rand = prng(SEED);
  const vocab = vocabulary(corpora);
  const outcomes: Record<Outcome, number> = { loaded: 0, 'config-error': 0, 'plan-error': 0, 'vrrp-error': 0 };
  const failures: string[] = [];
  let failureCount = 0;
  let slowest = { ms: 0, i: -1 };
  for (let i = 0; i < MUTATIONS; i++) {
    const c = pick(rand, corpora);
    const files: Files = { ...c.files };
    const names = Object.keys(files);
    const target = rand() < 0.7 ? c.root : pick(rand, names);
    let text = files[target]!;
    for (let k = int(rand, 1, 3); k > 0; k--) text = rand() < 0.6 ? mutateText(rand, text, vocab) : mutateKeepalived(rand, text, c);
    files[target] = text;
    const t0 = performance.now();
    const r = load(c.root, files);
    const ms = performance.now() - t0;
    if (ms > slowest.ms) slowest = { ms, i };
    const problem = 'problem' in r ? r.problem : ms > SLOW_MS ? `took ${ms.toFixed(0)} ms` : null;
    if (problem !== null) {
      failureCount++;
      if (failures.length < MAX_REPORTED) failures.push(`mutation #${i} (seed ${SEED}) of ${c.root}, ${target} mutated: ${problem}\n--- ${target}\n${text.slice(0, 3000)}`);
      continue;
    }
    outcomes[(r as { outcome: Outcome }).outcome]++;
  }
  const elapsed = (performance.now() - started) / 1000;
  t.comment(`${MUTATIONS} mutations of ${corpora.length} configurations in ${elapsed.toFixed(1)} s: ${JSON.stringify(outcomes)}; slowest #${slowest.i} ${slowest.ms.toFixed(1)} ms`);
  t.equal(failureCount, 0, 'every mutation loads or fails with a ConfigError naming FILE:LINE, in bounded time', { failures });
  t.ok(outcomes.loaded > 0 && outcomes['config-error'] > 0, 'both outcomes happen');
});

/** Inputs built to hurt: each must end in a configuration or a ConfigError, quickly. */
const HOSTILE: Array<{ name: string; text: string; files?: Files }> = [
  // Once a RangeError (stack overflow) in toRaw / the block tree.
  { name: 'global_defs nested 100000 deep', text: `global_defs ${'{ a '.repeat(100_000)}${'}'.repeat(100_000)}\n` },
  { name: 'vrrp_instance with a deeply nested unmodelled block', text: `vrrp_instance X { track_file ${'{ a '.repeat(100_000)}${'}'.repeat(100_000)} }\n` },
  { name: '5000 nested global_defs, one per line', text: `${Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i % 80)}global_defs {`).join('\n')}\n${'}\n'.repeat(5000)}` },
  // Once a RangeError (spread of a huge array / recursion) in expandBraces, and exponential.
  { name: 'include brace bomb {a,b} x 40', text: `include ${'{a,b}'.repeat(40)}\n` },
  { name: 'include braces nested 20000 deep', text: `include ${'{'.repeat(20_000)}x${'}'.repeat(20_000)}\n` },
  // Once a SyntaxError: the character class became an invalid RegExp.
  { name: 'include [z-a].conf', text: 'include [z-a].conf\n', files: { 'a.conf': 'global_defs {\n}\n' } },
  { name: 'include [az-b]*', text: 'include [az-b]*\n', files: { 'a.conf': 'global_defs {\n}\n' } },
  // Once a RangeError (stack overflow): the include expansion recursed 4000 deep.
  {
    name: 'a chain of 4000 files, each including the next',
    text: 'include c0.conf\n',
    files: Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`c${i}.conf`, i < 3999 ? `include c${i + 1}.conf\n` : 'global_defs {\n}\n'])),
  },
  // Once out of memory after minutes: every file includes the next one twice (2^25 reads).
  {
    name: 'include bomb: 25 files, each including the next twice',
    text: 'include f0.conf\n',
    files: Object.fromEntries([
      ...Array.from({ length: 25 }, (_, i) => [`f${i}.conf`, `include f${i + 1}.conf\ninclude f${i + 1}.conf\n`]),
      ['f25.conf', 'global_defs {\n router_id x\n}\n'],
    ]),
  },
  { name: 'include pattern longer than PATH_MAX', text: `include ${'a/'.repeat(3000)}*\n` },
  { name: 'a file including itself through a glob', text: 'include *.conf\n', files: { 'a.conf': 'include *.conf\n' } },
  { name: 'a 1 MB word', text: `global_defs {\n router_id ${'x'.repeat(1_000_000)}\n}\n` },
  { name: '100000 stray closing braces', text: '}\n'.repeat(100_000) },
  { name: '100000 unclosed blocks', text: 'global_defs {\n'.repeat(100_000) },
  { name: 'an unterminated quote on a continued line', text: 'global_defs {\n router_id "a \\\n b\n}\n' },
  { name: 'NUL bytes and a BOM', text: '\ufeffglobal_defs {\u0000\n router_id\u0000 x\n}\n' },
];

t.test('hostile inputs: a configuration or a ConfigError, in bounded time', async (t) => {
  for (const h of HOSTILE) {
    const files: Files = { 'x.conf': h.text, ...h.files };
    const t0 = performance.now();
    const r = load('x.conf', files);
    const ms = performance.now() - t0;
    t.ok('outcome' in r, `${h.name}: ${'outcome' in r ? r.outcome : r.problem.slice(0, 400)}`);
    t.ok(ms < SLOW_MS, `${h.name}: ${ms.toFixed(0)} ms`);
  }
});
