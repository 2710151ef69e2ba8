/**
 * -R input handling (config_stream_read + restore_table) and the -S -> -R
 * round trip: what -S prints parses back into the commands that built the table.
 */
import t from 'tap';
import { parseIpvsadmArgs } from '../../src/control/ipvsadm/args.js';
import type { Command } from '../../src/control/ipvsadm/command.js';
import { saveText } from '../../src/control/ipvsadm/format.js';
import { describeRestoreError, planRestore, splitRestoreStream } from '../../src/control/ipvsadm/restore.js';
import {
  DEFAULT_CONN_TABLE_SIZE, DEFAULT_TIMEOUTS, ZERO_RATES, ZERO_STATS,
  type DestSnapshot, type ServiceSnapshot, type Snapshot,
} from '../../src/control/snapshot-types.js';

const TRYHELP = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n";

function parse(line: string): Command {
  const r = parseIpvsadmArgs(line.split(' '));
  if (!r.ok) throw new Error(`${line}: ${r.error.stderr}`);
  return r.command;
}

/** A minimal table built from -A/-a commands (new dests go to the list head, as in the kernel). */
function buildSnapshot(cmds: readonly Command[]): Snapshot {
  const services: { svc: ServiceSnapshot; dests: DestSnapshot[] }[] = [];
  const key = (s: { fwmark: number; proto: string; addr: string; port: number }) => `${s.fwmark}/${s.proto}/${s.addr}/${s.port}`;
  for (const c of cmds) {
    if (c.cmd === 'add-service') {
      services.push({
        svc: { ...c.service, ...c.settings, dests: [], stats: ZERO_STATS, rates: ZERO_RATES },
        dests: [],
      });
    } else if (c.cmd === 'add-server') {
      const entry = services.find((s) => key(s.svc) === key(c.service));
      if (entry === undefined) throw new Error('no service');
      const d = c.dest;
      entry.dests.unshift({
        addr: d.addr, port: d.port, fwd: d.fwd, weight: d.weight, uThreshold: d.uThreshold, lThreshold: d.lThreshold,
        activeConns: 0, inactConns: 0, persistConns: 0, stats: ZERO_STATS, rates: ZERO_RATES,
        ...(d.fwd === 'Tunnel' ? { tunnel: d.tunnel } : {}),
      });
    }
  }
  return {
    services: services.map((s) => ({ ...s.svc, dests: s.dests })),
    conns: [], timeouts: DEFAULT_TIMEOUTS, connTableSize: DEFAULT_CONN_TABLE_SIZE, daemons: [],
  };
}

const semantic = (c: Command) => JSON.stringify({ ...c, given: [] });

t.test('-S then -R gives back the commands that built the table', async (t) => {
  const original = [
    '-A -t 10.0.0.127:80 -s rr',
    '-a -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w 1',
    '-a -t 10.0.0.127:80 -r 10.0.0.86:80 -m',
    '-A -u 10.0.0.5:53 -s wrr -p 60 -M 255.255.255.0 -o',
    '-a -u 10.0.0.5:53 -r 10.0.0.6 -w 5',
    '-A -f 7 -s sh -b sh-port -p',
    '-a -f 7 -r 10.0.0.8:0 -i --tun-type gue --tun-port 6080 --tun-csum',
    '-A -t 10.0.0.200:443 -s mh -b mh-fallback',
    '-a -t 10.0.0.200:443 -r 10.0.0.9:8443 --fnat -w 2',
    '-A -t [2001:db8::1]:443 -s wlc -p 30 -M 64',
    '-a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -g -w 7',
  ].map(parse);
  const saved = saveText(buildSnapshot(original), true);
  const plan = planRestore(saved);
  t.equal(plan.stop, null);
  const restored = plan.lines.map((l) => {
    if (!l.result.ok) throw new Error(l.result.error.stderr);
    return l.result.command;
  });
  t.same(restored.map(semantic).sort(), original.map(semantic).sort());
  // And saving the restored table again prints the same text.
  t.equal(saveText(buildSnapshot(restored), true), saved);
});

t.test('lines, words, blank lines and the word "ipvsadm"', async (t) => {
  t.same(splitRestoreStream('ipvsadm -A -t 10.0.0.1:80\n\n  \t-C\r\n-L  -n'), [
    { lineNumber: 1, argv: ['-A', '-t', '10.0.0.1:80'] },
    { lineNumber: 2, argv: [] },
    { lineNumber: 3, argv: ['-C'] },
    { lineNumber: 4, argv: ['-L', '-n'] },
  ]);
  // Without a final newline, one trailing blank is fine; two lose the line.
  t.same(splitRestoreStream('-C\n-Z ').map((l) => l.argv), [['-C'], ['-Z']]);
  t.same(splitRestoreStream('-C\n-Z  ').map((l) => l.argv), [['-C']]);
  const plan = planRestore('\n-A -t 10.0.0.1:80 -s rr\n\nipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2 -m\n');
  t.same(plan.lines.map((l) => l.lineNumber), [2, 4]);
  t.equal(plan.stop, null);
});

t.test('comments: -R does not know them, ipvsadm-restore strips them', async (t) => {
  const text = '-A -t 10.0.0.1:80\n# saved by hand\n-A -t 10.0.0.2:80\n';
  const raw = planRestore(text);
  t.equal(raw.lines.length, 2);
  t.same(raw.stop, { lineNumber: 2, status: 255, stdout: '', stderr: TRYHELP });
  const wrapped = planRestore(text, {}, { stripComments: true });
  t.equal(wrapped.stop, null);
  t.same(wrapped.lines.map((l) => l.lineNumber), [1, 3]);
});

t.test('errors: fail() stops the restore, popt errors only fail their line', async (t) => {
  const plan = planRestore('-A -t 10.0.0.1:80\n-L --bogus\n-a -t 10.0.0.1:80 -r 10.0.0.2 -w 70000\n-C\n');
  t.equal(plan.lines.length, 3);
  const second = plan.lines[1];
  t.ok(second !== undefined && !second.result.ok);
  if (second !== undefined) t.equal(describeRestoreError(second), 'line 2: --bogus: unknown option');
  t.same(plan.stop, { lineNumber: 3, status: 2, stdout: '', stderr: 'illegal weight specified\n' });
  const third = plan.lines[2];
  if (third !== undefined) t.equal(describeRestoreError(third), 'line 3: illegal weight specified');
  t.equal(describeRestoreError(plan.lines[0]!), null);
});

t.test('-R inside -R, and -h, end the restore', async (t) => {
  t.same(planRestore('-C\n-R\n-C\n').stop, { lineNumber: 2, status: 255, stdout: '', stderr: TRYHELP });
  const help = planRestore('-v\n-C\n');
  t.same(help.stop, { lineNumber: 1, status: 0, stdout: 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n', stderr: '' });
});
