// mh against ip_vs_mh.c as in docs/ipvs-behaviour.md §1.6. The table is compared with an
// independent Maglev populate written here (the hash itself is checked in siphash.test.ts).
import t from 'tap';
import { createMhScheduler, MH_TAB_SIZE, MhScheduler } from '../../src/sched/mh.js';
import { hsiphash1u32, sipKeyFromU32 } from '../../src/sched/siphash.js';
import { addDest, editDest, removeDest } from '../../src/sched/dest-list.js';
import { mk, set, type TDest } from '../helpers/sched-dests.js';
import { SVC_F_SCHED_MH_FALLBACK, SVC_F_SCHED_MH_PORT } from '../../src/sched/types.js';

const ip = (s: string) => s.split('.').reduce((a, x) => ((a << 8) | Number(x)) >>> 0, 0);
const K1 = sipKeyFromU32(2654435761);
const K2 = sipKeyFromU32(2654446892);
const M = 4093;

function build(adds: [string, string, number][], flags = 0) {
  const svc = { dests: [] as TDest[], flags };
  const sched = createMhScheduler<TDest>();
  sched.init(svc);
  const byName = new Map<string, TDest>();
  for (const [name, addr, w] of adds) {
    const d = mk(name, addr);
    byName.set(name, d);
    addDest(svc, sched, d, set(w));
  }
  return { svc, sched, byName };
}

/** Reference populate: each dest claims `turns` next free slots of its permutation per round. */
function refTable(dests: readonly TDest[]): (string | null)[] {
  const lws = dests.map((d) => d.lastWeight);
  const pos = lws.filter((w) => w > 0);
  if (pos.length === 0) return new Array(M).fill(null);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = pos.reduce(gcd);
  const maxRatio = Math.max(...lws) / g;
  const shift = Math.max(0, Math.floor(Math.log2(maxRatio)) + 1 - 6);
  const turns = lws.map((w) => Math.max(Math.floor(w / g / 2 ** shift), w > 0 ? 1 : 0));
  const offset = dests.map((d) => hsiphash1u32((d.port + d.addr) >>> 0, K1) % M);
  const skip = dests.map((d) => (hsiphash1u32((d.port + d.addr) >>> 0, K2) % (M - 1)) + 1);
  const next = dests.map(() => 0); // j-th entry of the permutation: (offset + j*skip) % M
  const table: (string | null)[] = new Array(M).fill(null);
  let filled = 0;
  while (filled < M) {
    for (let i = 0; i < dests.length && filled < M; i++) {
      for (let k = 0; k < turns[i]! && filled < M; k++) {
        let c: number;
        do c = (offset[i]! + next[i]!++ * skip[i]!) % M;
        while (table[c] !== null);
        table[c] = dests[i]!.name;
        filled++;
        next[i]!--; // the claimed slot is where the next claim starts looking (kernel keeps perm on it)
      }
    }
  }
  return table;
}

const tableOf = (s: MhScheduler<TDest>) => Array.from({ length: MH_TAB_SIZE }, (_, i) => s.slotDest(i)?.name ?? null);

t.test('table size is 4093', async (t) => {
  t.equal(MH_TAB_SIZE, 4093);
});

t.test('docs/ipvs-behaviour.md §1.6 vectors: [10.0.0.86:80 w1, 10.0.0.185:80 w1]', async (t) => {
  const { svc, sched } = build([['185', '10.0.0.185', 1], ['86', '10.0.0.86', 1]]);
  const tab = tableOf(sched);
  t.equal(tab.filter((n) => n === '86').length, 2047);
  t.equal(tab.filter((n) => n === '185').length, 2046);
  t.same(tab, refTable(svc.dests));
  for (const [client, slot] of [['10.0.0.1', 3711], ['10.0.0.2', 1884], ['192.168.1.10', 3323]] as const) {
    t.equal(sched.slotOf(svc, ip(client), 0), slot, client);
    t.equal(sched.schedule(svc, ip(client), 0)?.name, '86');
    t.match(sched.explain(svc, ip(client), 0), new RegExp(`slot ${slot} of 4093 -> 10\\.0\\.0\\.86:80`));
  }
});

t.test('weighted tables agree with the reference, including the weight shift', async (t) => {
  const cases: [string, string, number][][] = [
    [['a', '10.1.0.1', 1], ['b', '10.1.0.2', 2], ['c', '10.1.0.3', 3]],
    [['a', '10.1.0.1', 4], ['b', '10.1.0.2', 6]],
    [['a', '10.1.0.1', 1], ['b', '10.1.0.2', 200], ['c', '10.1.0.3', 0]],
    Array.from({ length: 12 }, (_, i) => [`s${i}`, `10.2.0.${i + 1}`, 1 + (i % 4)] as [string, string, number]),
  ];
  for (const adds of cases) {
    const { svc, sched } = build(adds);
    t.same(tableOf(sched), refTable(svc.dests), adds.map((a) => `${a[0]}:${a[2]}`).join(' '));
  }
  const shifted = build(cases[2]!);
  t.same([shifted.sched.gcd, shifted.sched.rshift], [1, 2]); // fls(200) = 8, minus 6
  const tab = tableOf(shifted.sched);
  t.equal(tab.filter((n) => n === 'c').length, 0, 'added with weight 0: no slots');
  t.ok(tab.filter((n) => n === 'b').length > 40 * tab.filter((n) => n === 'a').length, 'turns 50 vs 1');
});

t.test('quiescing keeps the slots (last_weight); fallback moves only those clients', async (t) => {
  const adds = Array.from({ length: 5 }, (_, i) => [`s${i}`, `10.3.0.${i + 1}`, 1] as [string, string, number]);
  const { svc, sched, byName } = build(adds);
  const before = tableOf(sched);
  editDest(svc, sched, byName.get('s2')!, set(0));
  t.equal(byName.get('s2')!.lastWeight, 1);
  t.same(tableOf(sched), before);
  let onS2 = 0;
  let bad = 0;
  for (let c = 0; c < 3000; c++) {
    const client = (ip('192.0.2.0') + c * 131) >>> 0;
    const home = before[sched.slotOf(svc, client, 0)];
    const got = sched.schedule(svc, client, 0)?.name ?? null;
    if (home === 's2') {
      onS2++;
      if (got !== null) bad++;
    } else if (got !== home) bad++;
  }
  t.equal(bad, 0);
  t.ok(onS2 > 300);
  // with mh-fallback each s2 client walks hash(offset) slots until one is available
  svc.flags = SVC_F_SCHED_MH_FALLBACK;
  let moved = 0;
  for (let c = 0; c < 3000; c++) {
    const client = (ip('192.0.2.0') + c * 131) >>> 0;
    const ih = hsiphash1u32(client, K1) % M;
    let want = before[ih];
    if (want === 's2') {
      for (let off = 0; off < M; off++) {
        const n = before[hsiphash1u32((client + ((off + ih) % M)) >>> 0, K1) % M]!;
        if (n !== 's2') {
          want = n;
          break;
        }
      }
      moved++;
    }
    if ((sched.schedule(svc, client, 0)?.name ?? null) !== want) bad++;
  }
  t.equal(bad, 0);
  t.equal(moved, onS2);
});

t.test('minimal disruption: removing a server moves few other clients', async (t) => {
  const adds = Array.from({ length: 10 }, (_, i) => [`s${i}`, `10.4.0.${i + 1}`, 1] as [string, string, number]);
  const { svc, sched, byName } = build(adds);
  const clients = Array.from({ length: 20000 }, (_, c) => (ip('198.51.100.0') + c * 977) >>> 0);
  const before = clients.map((c) => sched.schedule(svc, c, 0)!.name);
  removeDest(svc, sched, byName.get('s4')!);
  t.same(tableOf(sched), refTable(svc.dests));
  let kept = 0;
  let others = 0;
  let toRemoved = 0;
  clients.forEach((c, i) => {
    const now = sched.schedule(svc, c, 0)!.name;
    if (now === 's4') toRemoved++;
    if (before[i] !== 's4') {
      others++;
      if (now === before[i]) kept++;
    }
  });
  t.equal(toRemoved, 0);
  t.comment(`kept ${kept} of ${others} clients of the other servers`);
  // rr-style modulo hashing would move ~90% of clients; Maglev keeps almost all of them
  t.ok(kept / others > 0.9, `kept ${kept}/${others}`);
});

t.test('mh-port hashes port + addr; empty service gives null', async (t) => {
  const { svc, sched } = build([['a', '10.5.0.1', 1], ['b', '10.5.0.2', 1]], SVC_F_SCHED_MH_PORT);
  const client = ip('10.0.0.1');
  t.equal(sched.slotOf(svc, client, 1000), hsiphash1u32(client + 1000, K1) % M);
  svc.flags = 0;
  t.equal(sched.slotOf(svc, client, 1000), 3711);
  const empty = build([]);
  t.equal(empty.sched.schedule(empty.svc, client, 0), null);
});
