// wrr against ip_vs_wrr.c: sequences of docs/ipvs-behaviour.md §1.2, and -e cases worked out by
// hand from ip_vs_wrr_dest_changed (the derivations are in the comments).
import t from 'tap';
import { WrrScheduler } from '../../src/sched/wrr.js';
import { addDest, editDest, removeDest } from '../../src/sched/dest-list.js';
import { mk, set, type TDest } from '../helpers/sched-dests.js';
import { DEST_F_OVERLOAD } from '../../src/sched/types.js';


/** The "real ipvsadm build": service created empty, then -a for each server in order. */
function realBuild(adds: [string, number][]) {
  const svc = { dests: [] as TDest[], flags: 0 };
  const sched = new WrrScheduler<TDest>();
  sched.init(svc);
  const byName = new Map<string, TDest>();
  adds.forEach(([name, w], i) => {
    const d = mk(name, i + 1);
    byName.set(name, d);
    addDest(svc, sched, d, set(w));
  });
  const pick = (n: number) => Array.from({ length: n }, () => sched.schedule(svc, 0, 0)?.name ?? null);
  return { svc, sched, byName, pick };
}

/** The "fresh" variant: init_service with all dests already present (cw = mw). */
function freshBuild(list: [string, number][]) {
  const svc = { dests: list.map(([name, w], i) => ({ ...mk(name, i + 1), weight: w, lastWeight: w })), flags: 0 };
  const sched = new WrrScheduler<TDest>();
  sched.init(svc);
  const pick = (n: number) => Array.from({ length: n }, () => sched.schedule(svc, 0, 0)?.name ?? null);
  return { svc, sched, pick };
}

const seq = (s: string) => s.split(' ');

t.test('fresh init, docs/ipvs-behaviour.md §1.2 table', async (t) => {
  let b = freshBuild([['A', 3], ['B', 2], ['C', 1]]);
  t.same([b.sched.di, b.sched.mw, b.sched.cw], [1, 3, 3]);
  t.same(b.pick(12), seq('A A B A B C A A B A B C'));
  b = freshBuild([['A', 4], ['B', 3], ['C', 2]]);
  t.same(b.pick(12), seq('A A B A B C A B C A A B'));
  b = freshBuild([['A', 1], ['B', 1]]);
  t.same(b.pick(12), seq('A B A B A B A B A B A B'));
  b = freshBuild([['A', 4], ['B', 2]]);
  t.same([b.sched.di, b.sched.mw], [2, 3]);
  t.same(b.pick(6), seq('A A B A A B'));
});

t.test('real build by successive adds starts at cw=1, docs/ipvs-behaviour.md §1.2 table', async (t) => {
  let b = realBuild([['RS1', 3], ['RS2', 2], ['RS3', 1]]);
  t.same(b.svc.dests.map((d) => d.name), ['RS3', 'RS2', 'RS1']);
  t.same([b.sched.cw, b.sched.mw, b.sched.di], [1, 3, 1]);
  t.same(b.pick(12), seq('RS3 RS2 RS1 RS1 RS2 RS1 RS3 RS2 RS1 RS1 RS2 RS1'));
  b = realBuild([['RS1', 4], ['RS2', 3], ['RS3', 2]]);
  t.same(b.pick(12), seq('RS3 RS2 RS1 RS1 RS2 RS1 RS3 RS2 RS1 RS3 RS2 RS1'));
  b = realBuild([['RS1', 1], ['RS2', 1]]);
  t.same(b.pick(6), seq('RS2 RS1 RS2 RS1 RS2 RS1'));
});

t.test('first add of a single dest: cw = mw = w - (w - 1) = 1', async (t) => {
  const b = realBuild([['RS1', 3]]);
  t.same([b.sched.di, b.sched.mw, b.sched.cw, b.sched.cl], [3, 1, 1, -1]);
  t.same(b.pick(3), seq('RS1 RS1 RS1'));
});

t.test('-e mid-run, di stays 1: cl back to head, cw kept', async (t) => {
  // [RS3 1, RS2 2, RS1 3]; after RS3 RS2 RS1 RS1 the state is cl=RS1, cw=3.
  // -e RS1 -w 6: di=1, mw=6, cw=3 (<= mw, != 0, di == 1) -> kept.
  // cw=3: RS1 | cw=2: RS2 RS1 | cw=1: RS3 RS2 RS1 | cw=6,5,4,3: RS1 x4 | cw=2: RS2 RS1 | cw=1: RS3 RS2 RS1
  const b = realBuild([['RS1', 3], ['RS2', 2], ['RS3', 1]]);
  t.same(b.pick(4), seq('RS3 RS2 RS1 RS1'));
  t.equal(b.sched.cw, 3);
  editDest(b.svc, b.sched, b.byName.get('RS1')!, set(6));
  t.same([b.sched.cl, b.sched.cw, b.sched.mw, b.sched.di], [-1, 3, 6, 1]);
  t.same(b.pick(15), seq('RS1 RS2 RS1 RS3 RS2 RS1 RS1 RS1 RS1 RS1 RS2 RS1 RS3 RS2 RS1'));
});

t.test('-e mid-run that makes di > 1 realigns cw = (cw/di)*di + 1', async (t) => {
  // add B w6 (di=6, mw=1, cw=1), add A w1 (di=1, mw=6, cw=1): list [A 1, B 6]
  // picks: cw=1 A B | cw=6 B | cw=5 B | cw=4 B  -> cw=4
  // -e A -w 2: di=2, mw=6-1=5, cw=4 <= 5 -> (4/2)*2+1 = 5
  // cw=5 B | cw=3 B | cw=1 A B | cw=-1 -> 5: B | 3: B | 1: A B
  const b = realBuild([['B', 6], ['A', 1]]);
  t.same(b.pick(5), seq('A B B B B'));
  t.equal(b.sched.cw, 4);
  editDest(b.svc, b.sched, b.byName.get('A')!, set(2));
  t.same([b.sched.cw, b.sched.mw, b.sched.di], [5, 5, 2]);
  t.same(b.pick(8), seq('B B A B B B A B'));
});

t.test('-e that lowers the max weight clamps cw to mw', async (t) => {
  // list [A 1, B 6] after A B B: cw=6. -e B -w 2: di=1, mw=2, cw=6 > 2 -> 2.
  // cw=2 B | cw=1 A B | cw=2 B | ...
  const b = realBuild([['B', 6], ['A', 1]]);
  t.same(b.pick(3), seq('A B B'));
  editDest(b.svc, b.sched, b.byName.get('B')!, set(2));
  t.equal(b.sched.cw, 2);
  t.same(b.pick(6), seq('B A B B A B'));
});

t.test('weight 0 never picked; all weight 0 -> null; delete resets to head', async (t) => {
  const b = realBuild([['A', 2], ['B', 1]]);
  editDest(b.svc, b.sched, b.byName.get('A')!, set(0));
  t.same(b.pick(3), seq('B B B'));
  editDest(b.svc, b.sched, b.byName.get('B')!, set(0));
  t.equal(b.sched.mw, 0);
  t.same(b.pick(2), [null, null]);
  const c = realBuild([['A', 1], ['B', 1], ['C', 1]]);
  t.same(c.pick(2), seq('C B'));
  removeDest(c.svc, c.sched, c.byName.get('A')!);
  t.equal(c.sched.cl, -1);
  t.same(c.pick(3), seq('C B C'));
});

t.test('all OVERLOAD -> null and terminates; partly overloaded skips', async (t) => {
  const b = realBuild([['A', 3], ['B', 2], ['C', 1]]);
  for (const d of b.svc.dests) d.flags |= DEST_F_OVERLOAD;
  t.same(b.pick(3), [null, null, null]);
  b.byName.get('B')!.flags &= ~DEST_F_OVERLOAD;
  t.same(b.pick(4), seq('B B B B'));
  t.match(b.sched.explain(b.svc, 0, 0), /cw=\d+ mw=3 di=1/);
});
