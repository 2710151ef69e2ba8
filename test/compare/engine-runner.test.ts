/**
 * The engine side of the comparison, no VM: scenarios replayed in-process. Expected
 * picks come from small reference models of the documented algorithms written here
 * (docs/ipvs-behaviour.md §1, §9), never from running the engine; rewrite expectations
 * come from §4 / §9 (what NAT and DR change).
 */
import t from 'tap';
import { validateScenario } from '../../src/compare/scenario.js';
import { runOnEngine, serverMac } from '../../src/compare/engine-runner.js';
import { changedFields } from '../../src/compare/rewrite.js';

const VS = '10.0.0.127:80';
const servers = [{ name: 'rs1', addr: '10.0.0.11' }, { name: 'rs2', addr: '10.0.0.12' }, { name: 'rs3', addr: '10.0.0.13' }];
const topo = { vip: '10.0.0.127', servers, clients: ['198.51.100.10', '198.51.100.11'], udpPorts: [9000] };
const add = (i: number, fwd = '-m', w = 1) => ({ ipvsadm: `-a -t ${VS} -r 10.0.0.1${i}:80 ${fwd} -w ${w}` });

t.test('rr walks the servers in reverse order of -a (docs/ipvs-behaviour.md §9)', async (t) => {
  const s = validateScenario({ name: 'rr', topology: topo, steps: [{ ipvsadm: `-A -t ${VS} -s rr` }, add(1), add(2, '-m', 5), add(3), { connect: { from: '198.51.100.10', to: VS, count: 7 } }] });
  const r = runOnEngine(s);
  const list = ['10.0.0.13:80', '10.0.0.12:80', '10.0.0.11:80']; // -a inserts at the head
  t.same(r.conns.map((c) => c.dest), Array.from({ length: 7 }, (_, i) => list[i % 3]));
  t.ok(r.conns.every((c) => c.state === 'TIME_WAIT'), 'NAT short connections end in TIME_WAIT');
  t.same(r.commands.map((c) => c.status), [0, 0, 0, 0]);
  const end = r.listings.at(-1)!;
  t.equal(end.label, 'end');
  t.match(end.list, /-> 10\.0\.0\.13:80\s+Masq\s+1\s+0\s+3\s/, 'rs3 has 3 inactive connections');
  t.match(end.list, /-> 10\.0\.0\.11:80\s+Masq\s+1\s+0\s+2\s/);
  t.match(end.save, /^-A -t 10\.0\.0\.127:80 -s rr\n/);
  t.match(end.conns, /TCP \d\d:\d\d  TIME_WAIT   198\.51\.100\.10:20000 10\.0\.0\.127:80      10\.0\.0\.13:80/);
});

t.test('lc with held connections follows 256 × active + inactive, ties to the list head', async (t) => {
  const steps: unknown[] = [{ ipvsadm: `-A -t ${VS} -s lc` }, add(1), add(2), add(3)];
  const plan: (['hold', string] | ['short'] | ['close', string])[] = [
    ['hold', 'h1'], ['hold', 'h2'], ['short'], ['short'], ['short'], ['hold', 'h3'], ['short'], ['close', 'h1'], ['short'], ['short'],
  ];
  for (const p of plan) {
    if (p[0] === 'hold') steps.push({ hold: { from: '198.51.100.10', to: VS, as: p[1] } });
    else if (p[0] === 'close') steps.push({ close: p[1] });
    else steps.push({ connect: { from: '198.51.100.10', to: VS } });
  }
  const r = runOnEngine(validateScenario({ name: 'lc', topology: topo, steps }));
  // Reference model: list order rs3, rs2, rs1; a held connection is active until closed,
  // a short one is inactive (TIME_WAIT) once done; closing a held one makes it inactive.
  const list = ['10.0.0.13:80', '10.0.0.12:80', '10.0.0.11:80'];
  const active = [0, 0, 0];
  const inactive = [0, 0, 0];
  const heldOn = new Map<string, number>();
  const expected: string[] = [];
  for (const p of plan) {
    if (p[0] === 'close') {
      const i = heldOn.get(p[1])!;
      active[i]!--;
      inactive[i]!++;
      continue;
    }
    let best = 0;
    for (let i = 1; i < 3; i++) if (256 * active[i]! + inactive[i]! < 256 * active[best]! + inactive[best]!) best = i;
    expected.push(list[best]!);
    if (p[0] === 'hold') {
      active[best]!++;
      heldOn.set(p[1], best);
    } else {
      inactive[best]!++;
    }
  }
  t.same(r.conns.map((c) => c.dest), expected);
  t.same(r.conns.filter((c) => c.kind === 'hold').map((c) => c.state), ['ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED']);
});

t.test('NAT capture: destination rewritten toward the server, source back to the VIP', async (t) => {
  const s = validateScenario({ name: 'nat', topology: topo, steps: [{ ipvsadm: `-A -t ${VS} -s rr` }, add(1), { capture: { label: 'nat', from: '198.51.100.10', to: VS } }] });
  const r = runOnEngine(s);
  const toServer = r.rewrites.find((x) => x.direction === 'client-to-server')!;
  const toClient = r.rewrites.find((x) => x.direction === 'server-to-client')!;
  t.same(changedFields(toServer), ['eth.src', 'eth.dst', 'ip.dst', 'ip.ttl', 'ip.checksum', 'l4.checksum']);
  t.equal(toServer.after['ip.dst'], '10.0.0.11');
  t.equal(toServer.after['eth.dst'], serverMac('10.0.0.11'));
  t.equal(toServer.after['ip.ttl'], '63', 'TTL 64 -> 63');
  t.same(changedFields(toClient), ['eth.src', 'eth.dst', 'ip.src', 'ip.ttl', 'ip.checksum', 'l4.checksum']);
  t.equal(toClient.after['ip.src'], '10.0.0.127');
  t.equal(r.conns[0]!.kind, 'capture');
});

t.test('DR: only MACs, TTL and IP checksum change; the director sees client packets only (docs/ipvs-behaviour.md §9)', async (t) => {
  const s = validateScenario({
    name: 'dr', topology: topo,
    steps: [{ ipvsadm: `-A -t ${VS} -s rr` }, add(1, '-g'), { capture: { label: 'dr', from: '198.51.100.10', to: VS } }],
  });
  const r = runOnEngine(s);
  t.equal(r.rewrites.length, 1, 'no server-to-client sample: replies bypass the director');
  t.same(changedFields(r.rewrites[0]!), ['eth.src', 'eth.dst', 'ip.ttl', 'ip.checksum']);
  t.equal(r.conns[0]!.state, 'FIN_WAIT');
  t.match(r.listings.at(-1)!.stats, /-> 10\.0\.0\.11:80\s+1\s+\d+\s+0\s+\d+\s+0\n/, 'OutPkts and OutBytes stay 0');
});

t.test('tunnel: IPIP from the director to the server, inner packet with TTL-1 only; replies bypass the director', async (t) => {
  const s = validateScenario({
    name: 'tun', topology: topo,
    steps: [{ ipvsadm: `-A -t ${VS} -s rr` }, add(1, '-i'), { capture: { label: 'tun', from: '198.51.100.10', to: VS } }],
  });
  const r = runOnEngine(s);
  t.equal(r.rewrites.length, 1, 'no server-to-client sample');
  const x = r.rewrites[0]!;
  t.same(changedFields(x), [
    'eth.src', 'eth.dst', 'outer.src', 'outer.dst', 'outer.proto', 'outer.ttl', 'outer.tos', 'outer.df', 'outer.id', 'outer.len', 'outer.checksum',
    'ip.ttl', 'ip.checksum', 'l4.checksum',
  ]);
  t.not(x.after['l4.checksum'], x.before['l4.checksum'], 'the partial checksum is completed before encapsulation');
  t.same(
    ['outer.src', 'outer.dst', 'outer.proto', 'outer.ttl', 'outer.tos', 'outer.df', 'outer.id', 'outer.len', 'outer.checksum'].map((f) => x.after[f]),
    ['10.0.0.2', '10.0.0.11', '4', '63', '0x00', 'DF', '0x0000', 'inner + 20', 'valid'],
  );
  t.equal(x.after['ip.dst'], '10.0.0.127', 'the inner destination stays the VIP');
  t.equal(r.conns[0]!.state, 'FIN_WAIT');
  t.match(r.listings.at(-1)!.list, /-> 10\.0\.0\.11:80\s+Tunnel\s+1 /);
  t.match(r.listings.at(-1)!.save, /-a -t 10\.0\.0\.127:80 -r 10\.0\.0\.11:80 -i -w 1 --tun-type ipip\n/);
});

t.test('UDP datagrams: one entry per client port, state UDP', async (t) => {
  const U = '10.0.0.127:9000';
  const s = validateScenario({
    name: 'udp', topology: topo,
    steps: [
      { ipvsadm: `-A -u ${U} -s rr` }, { ipvsadm: `-a -u ${U} -r 10.0.0.11:9000 -m` }, { ipvsadm: `-a -u ${U} -r 10.0.0.12:9000 -m` },
      { udp: { from: ['198.51.100.10', '198.51.100.11'], to: U, count: 2 } },
    ],
  });
  const r = runOnEngine(s);
  t.same(r.conns.map((c) => c.dest), ['10.0.0.12:9000', '10.0.0.11:9000', '10.0.0.12:9000', '10.0.0.11:9000']);
  t.ok(r.conns.every((c) => c.proto === 'UDP' && c.state === 'UDP'));
});

t.test('a failing ipvsadm line is recorded with its status and message', async (t) => {
  const s = validateScenario({ name: 'err', topology: topo, steps: [{ ipvsadm: `-A -t ${VS} -s rr` }, add(1), add(1)] });
  const r = runOnEngine(s);
  t.equal(r.commands[2]!.status, 255);
  t.match(r.commands[2]!.stderr, /Destination already exists/);
});

t.test('save/restore re-adds servers sorted by address, reversing rr order (docs/ipvs-behaviour.md §9)', async (t) => {
  const s = validateScenario({
    name: 'sr', topology: topo,
    steps: [{ ipvsadm: `-A -t ${VS} -s rr` }, add(2), add(3), add(1), { saveRestore: true }, { connect: { from: '198.51.100.10', to: VS, count: 3 } }],
  });
  const r = runOnEngine(s);
  // -S prints .11, .12, .13; -R adds them in that order, so the list head is .13.
  t.same(r.conns.map((c) => c.dest), ['10.0.0.13:80', '10.0.0.12:80', '10.0.0.11:80']);
  t.equal(r.commands.at(-1)!.line, '-S -n | -C | -R');
});
