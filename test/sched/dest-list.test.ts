// Destination list edits as ip_vs_ctl.c makes them (docs/ipvs-behaviour.md §0, §1.6, §1.7).
import t from 'tap';
import { addDest, checkDestSettings, editDest, findDest, removeDest } from '../../src/sched/dest-list.js';
import { mk, type TDest } from '../helpers/sched-dests.js';
import { DEST_F_AVAILABLE, DEST_F_OVERLOAD, type SchedService, type Scheduler } from '../../src/sched/types.js';


/** A scheduler that records the hook calls and what it saw. */
function recorder() {
  const calls: string[] = [];
  const s: Scheduler<TDest> = {
    name: 'rec',
    init: () => {},
    addDest: (svc: SchedService<TDest>, d: TDest) => calls.push(`add ${d.name} at ${svc.dests.indexOf(d)} w=${d.weight}`),
    delDest: (svc: SchedService<TDest>, d: TDest, i: number) => calls.push(`del ${d.name} from ${i} in=${svc.dests.includes(d)}`),
    updDest: (_svc: SchedService<TDest>, d: TDest) => calls.push(`upd ${d.name} w=${d.weight} lw=${d.lastWeight}`),
    schedule: () => null,
    explain: () => '',
  };
  return { s, calls };
}
const w = (weight: number, uThreshold = 0, lThreshold = 0) => ({ weight, uThreshold, lThreshold });

t.test('add inserts at the head and calls add_dest after the insert', async (t) => {
  const svc = { dests: [] as TDest[], flags: 0 };
  const { s, calls } = recorder();
  for (const [i, n] of ['A', 'B', 'C'].entries()) addDest(svc, s, mk(n, i + 1), w(i + 1));
  t.same(svc.dests.map((d) => d.name), ['C', 'B', 'A']);
  t.same(calls, ['add A at 0 w=1', 'add B at 0 w=2', 'add C at 0 w=3']);
  t.equal(svc.dests[0]!.flags & DEST_F_AVAILABLE, DEST_F_AVAILABLE);
  t.equal(findDest(svc, (10 << 24) | 2, 80)?.name, 'B');
  t.equal(findDest(svc, (10 << 24) | 2, 81), undefined);
});

t.test('last_weight keeps the latest non-zero weight; an add always sets it', async (t) => {
  const svc = { dests: [] as TDest[], flags: 0 };
  const { s, calls } = recorder();
  const a = mk('A', 1);
  addDest(svc, s, a, w(5));
  editDest(svc, s, a, w(0));
  t.same([a.weight, a.lastWeight], [0, 5]);
  editDest(svc, s, a, w(7));
  t.same([a.weight, a.lastWeight], [7, 7]);
  t.same(calls.slice(1), ['upd A w=0 lw=5', 'upd A w=7 lw=7']);
  const b = mk('B', 2);
  b.lastWeight = 9; // e.g. revived from the trash
  addDest(svc, s, b, w(0));
  t.same([b.weight, b.lastWeight], [0, 0]);
});

t.test('remove clears AVAILABLE, unlinks, then calls del_dest with the former index', async (t) => {
  const svc = { dests: [] as TDest[], flags: 0 };
  const { s, calls } = recorder();
  const [a, b, c] = [mk('A', 1), mk('B', 2), mk('C', 3)];
  for (const d of [a, b, c]) addDest(svc, s, d, w(1));
  t.equal(removeDest(svc, s, b), 1);
  t.same(svc.dests.map((d) => d.name), ['C', 'A']);
  t.equal(b.flags & DEST_F_AVAILABLE, 0);
  t.equal(calls.at(-1), 'del B from 1 in=false');
  t.equal(removeDest(svc, s, b), -1, 'not in the list');
  // re-added: back at the head
  addDest(svc, s, b, w(1));
  t.same(svc.dests.map((d) => d.name), ['B', 'C', 'A']);
});

t.test('threshold updates follow __ip_vs_update_dest', async (t) => {
  const svc = { dests: [] as TDest[], flags: 0 };
  const a = mk('A', 1);
  addDest(svc, null, a, w(1, 10, 5));
  t.same([a.uThreshold, a.lThreshold], [10, 5]);
  a.flags |= DEST_F_OVERLOAD;
  editDest(svc, null, a, w(1, 8, 5)); // lower u: stays overloaded
  t.equal(a.flags & DEST_F_OVERLOAD, DEST_F_OVERLOAD);
  editDest(svc, null, a, w(1, 9, 5)); // higher than 8: cleared
  t.equal(a.flags & DEST_F_OVERLOAD, 0);
  a.flags |= DEST_F_OVERLOAD;
  editDest(svc, null, a, w(1, 0, 0)); // unset: cleared
  t.equal(a.flags & DEST_F_OVERLOAD, 0);
});

t.test('settings checks mirror -ERANGE', async (t) => {
  t.equal(checkDestSettings(w(1)), null);
  t.equal(checkDestSettings(w(65535, 10, 10)), null);
  t.equal(checkDestSettings(w(-1)), 'weight-out-of-range');
  t.equal(checkDestSettings(w(65536)), 'weight-out-of-range');
  t.equal(checkDestSettings(w(1, 0, 1)), 'lower-threshold-above-upper');
  t.equal(checkDestSettings(w(1, 5, 6)), 'lower-threshold-above-upper');
});
