// rr against ip_vs_rr.c as described in docs/ipvs-behaviour.md §1.1 and observed in §9.
import t from 'tap';
import { createRrScheduler } from '../../src/sched/rr.js';
import { addDest, editDest, removeDest } from '../../src/sched/dest-list.js';
import { mk, set, type TDest } from '../helpers/sched-dests.js';
import { DEST_F_OVERLOAD } from '../../src/sched/types.js';


function build(weights: [string, number][]) {
  const svc = { dests: [] as TDest[], flags: 0 };
  const sched = createRrScheduler<TDest>();
  sched.init(svc);
  const byName = new Map<string, TDest>();
  weights.forEach(([name, w], i) => {
    const d = mk(name, i + 1);
    byName.set(name, d);
    addDest(svc, sched, d, set(w));
  });
  const pick = (n: number) => Array.from({ length: n }, () => sched.schedule(svc, 0, 0)?.name ?? null);
  return { svc, sched, byName, pick };
}

t.test('added A, B, C: list is [C, B, A], picks start at the most recent', async (t) => {
  const { svc, pick } = build([['A', 1], ['B', 1], ['C', 1]]);
  t.same(svc.dests.map((d) => d.name), ['C', 'B', 'A']);
  t.same(pick(7), ['C', 'B', 'A', 'C', 'B', 'A', 'C']);
});

t.test('weights other than 0 do not matter', async (t) => {
  const { pick } = build([['A', 5], ['B', 1], ['C', 100]]);
  t.same(pick(6), ['C', 'B', 'A', 'C', 'B', 'A']);
});

t.test('docs/ipvs-behaviour.md §1.1 example: .185 then .86 added -> .86, .185, ...', async (t) => {
  const { pick } = build([['185', 1], ['86', 1]]);
  t.same(pick(4), ['86', '185', '86', '185']);
});

t.test('weight 0 and OVERLOAD are skipped; the single live dest repeats', async (t) => {
  const { svc, sched, byName, pick } = build([['A', 1], ['B', 1], ['C', 1]]);
  editDest(svc, sched, byName.get('B')!, set(0));
  t.same(pick(4), ['C', 'A', 'C', 'A']);
  byName.get('C')!.flags |= DEST_F_OVERLOAD;
  t.same(pick(3), ['A', 'A', 'A']);
  byName.get('A')!.flags |= DEST_F_OVERLOAD;
  t.same(pick(2), [null, null]);
});

t.test('deleting the dest it stands on steps back: next pick is its successor', async (t) => {
  const { svc, sched, byName, pick } = build([['A', 1], ['B', 1], ['C', 1]]);
  t.same(pick(2), ['C', 'B']); // stands on B
  t.equal(removeDest(svc, sched, byName.get('B')!), 1);
  t.same(pick(4), ['A', 'C', 'A', 'C']);
});

t.test('deleting the first dest while standing on it goes back to the head', async (t) => {
  const { svc, sched, byName, pick } = build([['A', 1], ['B', 1], ['C', 1]]);
  t.same(pick(1), ['C']);
  removeDest(svc, sched, byName.get('C')!);
  t.same(pick(3), ['B', 'A', 'B']);
});

t.test('deleting another dest keeps the position', async (t) => {
  const { svc, sched, byName, pick } = build([['A', 1], ['B', 1], ['C', 1], ['D', 1]]);
  t.same(pick(2), ['D', 'C']); // list [D, C, B, A], stands on C
  removeDest(svc, sched, byName.get('D')!); // before the position
  t.same(pick(3), ['B', 'A', 'C']);
});

t.test('a dest added at the head is reached when the walk next wraps; -e keeps the position', async (t) => {
  const { svc, sched, pick } = build([['A', 1], ['B', 1], ['C', 1]]);
  t.same(pick(2), ['C', 'B']);
  addDest(svc, sched, mk('D', 4), set(1)); // [D, C, B, A]
  t.same(pick(1), ['A']);
  editDest(svc, sched, svc.dests[1]!, set(7));
  t.same(pick(5), ['D', 'C', 'B', 'A', 'D']);
});

t.test('empty service gives null; explain names the walk position', async (t) => {
  const { svc, sched, pick } = build([]);
  t.same(pick(1), [null]);
  addDest(svc, sched, mk('A', 1), set(1));
  t.match(sched.explain(svc, 0, 0), /after the list head/);
  pick(1);
  t.match(sched.explain(svc, 0, 0), /after #0/);
});
