/**
 * Fuzz test (issue 15 item 3): random and mutated ipvsadm argument vectors and `ipvsadm -R`
 * rules texts, through the parser and through a ControlSession on a real Engine + Rules (what
 * the control socket runs). Whatever the input, the parser returns a command or an
 * ipvsadm-style error (text on stderr, status 2 or 255) and never throws; a command parsed
 * from argv turns back into an argv that parses to the same command; the session answers
 * every invocation with an Output and never throws; and whatever table the random commands
 * built, `ipvsadm -S -n` of it restores without an error. Deterministic (seeded PRNG).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { Engine } from '../../src/dataplane/engine.js';
import { ServiceRegistry } from '../../src/control/service-registry.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { parseMac } from '../../src/packet/addr.js';
import { ControlSession, type SessionEnv } from '../../src/control/session.js';
import { RateEstimator } from '../../src/control/estimator.js';
import { parseIpvsadmArgs } from '../../src/control/ipvsadm/args.js';
import { commandToArgv } from '../../src/control/ipvsadm/argv.js';
import type { Command, ParseResult } from '../../src/control/ipvsadm/command.js';
import { IPVSADM_OPTIONS } from '../../src/control/ipvsadm/options-table.js';
import { planRestore } from '../../src/control/ipvsadm/restore.js';
import { parseServices } from '../../src/control/ipvsadm/services-file.js';
import type { Output } from '../../src/control/ipvsadm/format-other.js';
import { IP, MAC, ip } from '../helpers/lab-engine.js';
import { prng } from '../helpers/prng.js';
import { BAD_NUMBERS, BAD_WORDS, int, mutateText, pick, randomWord, type Rand } from '../helpers/fuzz-text.js';

const ARGVS = Number(process.env.TSLB_FUZZ_ARGVS ?? 20_000);
const RESTORES = Number(process.env.TSLB_FUZZ_RESTORES ?? 4_000);
const SEED = Number(process.env.TSLB_FUZZ_SEED ?? 0x5eed4);
const MAX_REPORTED = 10;
/** A fresh table now and then, so the random commands do not pile up services without end. */
const RESET_EVERY = 2_000;

const ENV: SessionEnv = {
  services: parseServices('http 80/tcp www\nhttps 443/tcp\ndomain 53/tcp\ndomain 53/udp\n'),
  lookupHost: (n) => ({ 'vip.example': '10.0.0.127', 'rs1.example': '10.0.0.86', localhost: '127.0.0.1' } as Record<string, string>)[n],
  hostByAddr: (a) => ({ '10.0.0.127': 'vip.example', '10.0.0.86': 'rs1.example' } as Record<string, string>)[a],
};

/** Valid invocations covering every command and option of ipvsadm 1.31 (and --fnat). */
const VALID = [
  '-A -t 10.0.0.127:80 -s rr', '-A -t 10.0.0.127:80 -s wrr -p 300', '-A -u 10.0.0.127:53 -s wlc -o', '-A -t 10.0.0.127:443 -s sh -b sh-port,sh-fallback',
  '-A -t 10.0.0.127:8080 -s mh -b mh-port -p -M 255.255.255.0', '-A -f 7 -s rr', '-A -f 7 -6 -s rr', '-A --sctp-service 10.0.0.127:9 -s lc',
  '-A -t vip.example:http -s nq --pe sip', '-A -t [2001:db8::1]:80 -s sed', '-A -t 10.0.0.1:0 -p', '-A -t 10.0.0.127:81 -s rr -b flag-1,flag-3',
  '-E -t 10.0.0.127:80 -s wrr', '-E -u 10.0.0.127:53 -s rr -p 60', '-D -t 10.0.0.127:443', '-C',
  '-a -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w 1', '-a -t 10.0.0.127:80 -r 10.0.0.86:80 -m -w 3 -x 100 -y 50', '-a -t 10.0.0.127:80 -r 10.0.0.11 -g',
  '-a -t 10.0.0.127:80 -r 10.0.0.12:8080 --fnat', '-a -u 10.0.0.127:53 -r 10.0.0.185:53 -m', '-a -t 10.0.0.127:80 -r rs1.example:8080 -m',
  '-a -f 7 -r 10.0.0.8:0 -i --tun-type gue --tun-port 6080 --tun-csum', '-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gre --tun-nocsum',
  '-e -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w 0', '-d -t 10.0.0.127:80 -r 10.0.0.86:80', '-L', '-L -n', '-Ln', '-l --stats --exact --sort',
  '-L -n --rate', '-L -n --thresholds', '-L -n --persistent-conn', '-L -n --tun-info', '-L -n --nosort', '-L -n -c', '-L -c --persistent-conn',
  '-L --timeout', '-L --daemon', '-L -u 10.0.0.127:53 --rate', '-L -t 10.0.0.127:80 -n --stats', '-Z', '-Z -t 10.0.0.127:80', '-S', '-S -n',
  '--set 900 120 300', '--start-daemon master --mcast-interface eth0 --syncid 3 --mcast-group 224.0.0.81 --mcast-port 8848 --mcast-ttl 1 --sync-maxlen 1472',
  '--stop-daemon backup --syncid 3', '-R', '-h', '-v', '--add-service --tcp-service=10.0.0.127:80 --scheduler=rr', '-At 10.0.0.127:82 -p60',
].map((l) => l.split(' '));

const WORDS = [...new Set(VALID.flat())];
const OPTION_WORDS = IPVSADM_OPTIONS.flatMap((o) => [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])]);

/** One mutation of an argument vector. */
function mutateArgv(rand: Rand, argv: string[]): string[] {
  const a = [...argv];
  const at = int(rand, 0, Math.max(0, a.length - 1));
  switch (int(rand, 0, 9)) {
    case 0: a.splice(at, 1); break; // drop a word
    case 1: a.splice(at, 0, a[at] ?? '-L'); break; // repeat a word (duplicate options)
    case 2: { // swap two words (an option away from its value)
      const b = int(rand, 0, Math.max(0, a.length - 1));
      [a[at], a[b]] = [a[b] ?? '', a[at] ?? ''];
      break;
    }
    case 3: a.splice(at, 0, pick(rand, OPTION_WORDS)); break; // insert any option
    case 4: { // an option with a glued or =value
      const o = pick(rand, IPVSADM_OPTIONS);
      const v = pick(rand, [...BAD_WORDS, ...BAD_NUMBERS, ...WORDS]);
      a.splice(at, 0, rand() < 0.5 || !o.short ? `--${o.long}=${v}` : `-${o.short}${v}`);
      break;
    }
    case 5: a[at] = pick(rand, BAD_NUMBERS); break; // a value becomes a bad number
    case 6: a[at] = pick(rand, BAD_WORDS); break; // or a word of the wrong type
    case 7: a[at] = mutateText(rand, a[at] ?? '', WORDS); break; // characters of a word
    case 8: { // two words glued, or a cluster of short options
      if (at + 1 < a.length) a.splice(at, 2, `${a[at]}${rand() < 0.5 ? '' : pick(rand, [':', '=', ',', ' '])}${(a[at + 1] ?? '').replace(/^-/, '')}`);
      break;
    }
    default: a.splice(at, 0, pick(rand, ['', '-', '--', 'ipvsadm', '-R', '-h', randomWord(rand)])); break;
  }
  return a;
}

function randomArgv(rand: Rand): string[] {
  const n = int(rand, 0, 8);
  const a: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    a.push(r < 0.35 ? pick(rand, OPTION_WORDS) : r < 0.6 ? pick(rand, WORDS) : r < 0.75 ? pick(rand, BAD_WORDS) : r < 0.9 ? pick(rand, BAD_NUMBERS) : randomWord(rand));
  }
  return a;
}

/** A parse result that is what ipvsadm could have done, or a problem. */
function checkParse(r: ParseResult): string | null {
  if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean') return `not a ParseResult: ${JSON.stringify(r)}`;
  if (!r.ok) {
    const e = r.error;
    if (typeof e.message !== 'string' || typeof e.stderr !== 'string' || e.stderr === '' || !e.stderr.endsWith('\n')) return `error texts: ${JSON.stringify(e)}`;
    if (e.status !== 2 && e.status !== 255) return `error status ${e.status}`;
    if (typeof e.exits !== 'boolean') return 'error without exits';
    return null;
  }
  return null;
}

/** The command without the trace of which options were given (a re-parse may name defaults). */
const semantic = (c: Command): string => JSON.stringify({ ...c, given: [] });

function checkOutput(o: Output): string | null {
  if (typeof o !== 'object' || o === null || typeof o.stdout !== 'string' || typeof o.stderr !== 'string' || !Number.isInteger(o.status)) {
    return `not an Output: ${JSON.stringify(o)}`;
  }
  if (o.status < 0 || o.status > 255) return `exit status ${o.status}`;
  return null;
}

function freshSession(): ControlSession {
  const engine = new Engine({ ifaces: [{ name: 'eth0', mac: parseMac(MAC.lb)!, mtu: 1500, ip: ip(IP.lb) }], maxConns: 256 });
  const routing = new RoutingTable([
    { dst: ip('10.0.0.0'), prefixLen: 24, iface: 0, gateway: 0 },
    { dst: 0, prefixLen: 0, iface: 0, gateway: ip(IP.router) },
  ]);
  let now = 1000;
  return new ControlSession(new ServiceRegistry(engine, routing), new RateEstimator(), ENV, () => undefined, () => (now += 10));
}

/** -S -n of the session's table, restored into a fresh session: must apply without a word on stderr. */
function saveRestores(s: ControlSession): string | null {
  const saved = s.run(['-S', '-n']);
  if (saved.status !== 0) return `-S -n failed: ${saved.stderr}`;
  const plan = planRestore(saved.stdout, ENV);
  if (plan.stop !== null || plan.lines.some((l) => !l.result.ok)) return `-S -n output does not parse back:\n${saved.stdout}`;
  const back = freshSession().restore(saved.stdout);
  if (back.status !== 0 || back.stderr !== '') return `-S -n output does not restore (${back.status}: ${back.stderr.trim()}):\n${saved.stdout}`;
  return null;
}

t.test(`fuzz: ${ARGVS} random and mutated ipvsadm argument vectors`, async (t) => {
  const started = performance.now();
  const rand = prng(SEED);
  const failures: string[] = [];
  let failureCount = 0;
  const fail = (i: number, argv: readonly string[], what: string) => {
    failureCount++;
    if (failures.length < MAX_REPORTED) failures.push(`argv #${i} (seed ${SEED}) ${JSON.stringify(argv)}: ${what}`);
  };
  const counts = { parsed: 0, refused: 0, exit2: 0, exit255: 0, applied: 0, sessionErrors: 0 };
  let session = freshSession();
  for (let i = 0; i < ARGVS; i++) {
    if (i % RESET_EVERY === RESET_EVERY - 1) {
      const bad = saveRestores(session);
      if (bad) fail(i, ['-S', '-n'], bad);
      session = freshSession();
    }
    let argv: string[];
    const kind = rand();
    if (kind < 0.15) argv = randomArgv(rand);
    else {
      argv = [...pick(rand, VALID)];
      if (kind >= 0.3) for (let k = int(rand, 1, 3); k > 0; k--) argv = mutateArgv(rand, argv);
    }
    let r: ParseResult;
    try {
      r = parseIpvsadmArgs(argv, ENV);
    } catch (err) {
      fail(i, argv, `parse threw ${(err as Error)?.stack ?? String(err)}`);
      continue;
    }
    const bad = checkParse(r);
    if (bad) {
      fail(i, argv, bad);
      continue;
    }
    if (r.ok) {
      counts.parsed++;
      if (r.command.cmd !== 'help' && r.command.cmd !== 'version') {
        const again = commandToArgv(r.command);
        const r2 = parseIpvsadmArgs(again, ENV);
        if (!r2.ok) fail(i, argv, `its canonical argv ${JSON.stringify(again)} is refused: ${r2.error.stderr.trim()}`);
        else if (semantic(r2.command) !== semantic(r.command)) fail(i, argv, `canonical argv ${JSON.stringify(again)} parses to another command:\n  ${semantic(r.command)}\n  ${semantic(r2.command)}`);
      }
    } else {
      counts.refused++;
      if (r.error.status === 2) counts.exit2++;
      else counts.exit255++;
    }
    let out: Output;
    try {
      const stdin = argv.includes('-R') ? VALID.slice(0, int(rand, 0, 12)).map((a) => a.join(' ')).join('\n') : '';
      out = session.run(argv, stdin);
    } catch (err) {
      fail(i, argv, `session threw ${(err as Error)?.stack ?? String(err)}`);
      continue;
    }
    const badOut = checkOutput(out);
    if (badOut) fail(i, argv, badOut);
    else if (out.status === 0) counts.applied++;
    else counts.sessionErrors++;
    if (failureCount > 1000) break;
  }
  const bad = saveRestores(session);
  if (bad) fail(ARGVS, ['-S', '-n'], bad);
  const elapsed = (performance.now() - started) / 1000;
  t.comment(`${ARGVS} argument vectors in ${elapsed.toFixed(1)} s: ${JSON.stringify(counts)}`);
  t.equal(failureCount, 0, 'no exception, every refusal an ipvsadm error, canonical argv round trip, -S restores', { failures });
  t.ok(counts.parsed > 0 && counts.exit2 > 0 && counts.exit255 > 0 && counts.applied > 0 && counts.sessionErrors > 0, 'every outcome happened');
});

t.test(`fuzz: ${RESTORES} mutated ipvsadm -R inputs`, async (t) => {
  const started = performance.now();
  const rand = prng(SEED + 1);
  const rulesFile = readFileSync(new URL('../../../fixtures/rules/seed000.rules', import.meta.url), 'utf8');
  // Saved tables: the seed-000 rules file, and -S / -S -n of a table with every kind of service.
  const builder = freshSession();
  for (const argv of VALID.filter((a) => /^-[Aa]$/.test(a[0]!))) builder.run(argv);
  const texts = [rulesFile, builder.run(['-S', '-n']).stdout, builder.run(['-S']).stdout, VALID.map((a) => a.join(' ')).join('\n')];
  const failures: string[] = [];
  let failureCount = 0;
  const counts = { clean: 0, lineErrors: 0, stopped: 0 };
  let session = freshSession();
  for (let i = 0; i < RESTORES; i++) {
    if (i % 500 === 499) session = freshSession();
    let text = pick(rand, texts);
    for (let k = int(rand, 1, 4); k > 0; k--) text = mutateText(rand, text, WORDS);
    const stripComments = rand() < 0.3;
    try {
      const plan = planRestore(text, ENV, { stripComments });
      for (const l of plan.lines) {
        const bad = checkParse(l.result);
        if (bad) throw new Error(`line ${l.lineNumber}: ${bad}`);
      }
      if (plan.stop !== null) counts.stopped++;
      else if (plan.lines.some((l) => !l.result.ok)) counts.lineErrors++;
      else counts.clean++;
      const out = session.run(['-R'], text);
      const bad = checkOutput(out);
      if (bad) throw new Error(bad);
    } catch (err) {
      failureCount++;
      if (failures.length < MAX_REPORTED) failures.push(`restore #${i} (seed ${SEED + 1}): ${(err as Error)?.stack ?? String(err)}\n--- input\n${text.slice(0, 2000)}`);
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  t.comment(`${RESTORES} -R inputs in ${elapsed.toFixed(1)} s: ${JSON.stringify(counts)}`);
  t.equal(failureCount, 0, 'every -R input planned and run without an exception', { failures });
  t.ok(counts.clean > 0 && counts.lineErrors > 0 && counts.stopped > 0, 'clean, line-error and stopping inputs all happened');
});
