/**
 * Scenario files: the validator names the offending field, client ports are fixed in
 * step order (so both sides use the same ones), and every committed fixture loads.
 */
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { clientActions, loadScenario, splitArgs, validateScenario, ScenarioError, FIRST_CLIENT_PORT } from '../../src/compare/scenario.js';

const TOPO = { vip: '10.0.0.127', servers: [{ name: 'rs1', addr: '10.0.0.11' }], clients: ['198.51.100.10', '198.51.100.11'] };

/** The validator's message for a document, '' when it is accepted. */
function errorOf(doc: unknown): string {
  try {
    validateScenario(doc);
    return '';
  } catch (err) {
    return err instanceof ScenarioError ? err.message : `unexpected ${String(err)}`;
  }
}

t.test('a minimal scenario gets its defaults', async (t) => {
  const s = validateScenario({ name: 'x', topology: TOPO, steps: [{ ipvsadm: '-A -t 10.0.0.127:80 -s rr' }] });
  t.equal(s.title, 'x');
  t.same(s.topology.tcpPorts, [80]);
  t.same(s.topology.udpPorts, []);
});

t.test('validation errors name the field', async (t) => {
  t.match(errorOf({ name: 'x', topology: TOPO, steps: [{ ipvsadm: '-A -t 10.0.0.127:80; reboot' }] }), /steps\[0\].*shell/);
  t.match(errorOf({ name: 'x', topology: TOPO, steps: [{ close: 'h1' }] }), /steps\[0\].*no held connection "h1"/);
  t.match(errorOf({ name: 'x', topology: TOPO, steps: [{ connect: { from: '198.51.100.99', to: '10.0.0.127:80' } }] }), /not in topology.clients/);
  t.match(errorOf({ name: 'x', topology: TOPO, steps: [{ connect: { from: '198.51.100.10', to: '10.0.0.127' } }] }), /not ADDR:PORT/);
  t.match(errorOf({ name: 'x', topology: { ...TOPO, servers: [{ name: 'rs1', addr: '192.168.1.1' }] }, steps: [{ snapshot: 'a' }] }), /servers\[0\]\.addr.*10\.0\.0\.0\/24/);
  t.match(errorOf({ name: 'x', topology: { ...TOPO, servers: [{ name: 'cli', addr: '10.0.0.11' }] }, steps: [{ snapshot: 'a' }] }), /servers\[0\]\.name/);
  t.match(errorOf({ name: 'x', topology: { ...TOPO, clients: ['198.51.100.1'] }, steps: [{ snapshot: 'a' }] }), /used twice/);
  t.match(errorOf({ name: 'x', topology: TOPO, steps: [{ snapshot: 'a', ipvsadm: '-C' }] }), /exactly one of/);
  t.match(errorOf({ name: 'x', extra: 1, topology: TOPO, steps: [{ snapshot: 'a' }] }), /unknown field "extra"/);
  t.match(errorOf({ name: 'x', topology: TOPO, steps: [{ hold: { from: '198.51.100.10', to: '10.0.0.127:80', as: 'H-1' } }] }), /\.as/);
});

t.test('client ports are numbered in step order, one per connection', async (t) => {
  const s = validateScenario({
    name: 'x', topology: TOPO,
    steps: [
      { connect: { from: ['198.51.100.10', '198.51.100.11'], to: '10.0.0.127:80', count: 2 } },
      { hold: { from: '198.51.100.11', to: '10.0.0.127:80', as: 'h1' } },
    ],
  });
  const first = clientActions(s.steps[0]!, 0, FIRST_CLIENT_PORT);
  t.same(first.actions.map((a) => `${a.from}:${a.port}`), [
    '198.51.100.10:20000', '198.51.100.11:20001', '198.51.100.10:20002', '198.51.100.11:20003',
  ], 'every source once per round, rounds repeated count times');
  const second = clientActions(s.steps[1]!, 1, first.next);
  t.equal(second.actions[0]!.id, 'h1');
  t.equal(second.actions[0]!.port, 20004);
  t.equal(second.next, 20005);
});

t.test('ipvsadm lines split on spaces', async (t) => {
  t.same(splitArgs('  -a -t 10.0.0.127:80   -r 10.0.0.11 -m '), ['-a', '-t', '10.0.0.127:80', '-r', '10.0.0.11', '-m']);
});

t.test('every committed scenario loads and covers the schedulers', async (t) => {
  const dir = join(process.cwd(), 'fixtures', 'scenarios');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  t.ok(files.length >= 10);
  const scheds = new Set<string>();
  for (const f of files) {
    const s = loadScenario(join(dir, f));
    t.equal(`${s.name}.json`, f, `${f}: name matches the file`);
    for (const st of s.steps) {
      if ('ipvsadm' in st) {
        const m = / -s (\w+)/.exec(st.ipvsadm);
        if (m) scheds.add(m[1]!);
      }
    }
  }
  for (const s of ['rr', 'wrr', 'lc', 'wlc', 'sh', 'sed', 'nq', 'mh']) t.ok(scheds.has(s), `a scenario uses ${s}`);
});
