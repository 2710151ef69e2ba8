import t from 'tap';
import { ConnTable, CF_IN_REVERSE, CF_TEMPLATE, NONE } from '../../src/table/conn-table.js';
import { prng } from '../helpers/prng.js';

t.test('random inserts and removes agree with a Map reference model (backward-shift deletion)', async (t) => {
  const cap = 5000;
  const table = new ConnTable(cap, 100, 42);
  const ref = new Map<string, number>();
  const rand = prng(7);
  const keyOf = (c: number, p: number) => `${c}:${p}`;
  let mismatches = 0;
  for (let step = 0; step < 60000; step++) {
    // small key space: many collisions and re-inserts
    const caddr = 0x0a000000 + ((rand() * 64) | 0), cport = 1000 + ((rand() * 100) | 0);
    const k = keyOf(caddr, cport);
    const found = table.findForward(6, caddr, cport, 0x0a00007f, 80, false);
    if ((found === NONE) !== !ref.has(k) || (found !== NONE && found !== ref.get(k))) mismatches++;
    if (found === NONE && table.count < cap) {
      const e = table.insert(6, caddr, cport, 0x0a00007f, 80, 0x0a0000b9, 80, caddr, cport, CF_IN_REVERSE);
      ref.set(k, e);
    } else if (found !== NONE && rand() < 0.6) {
      table.remove(found);
      ref.delete(k);
    }
  }
  t.equal(mismatches, 0);
  // every remaining entry is reachable through both indexes
  let unreachable = 0;
  for (const [k, e] of ref) {
    const [c, p] = k.split(':').map(Number);
    if (table.findForward(6, c!, p!, 0x0a00007f, 80, false) !== e) unreachable++;
    if (table.findReverse(6, 0x0a0000b9, 80, c!, p!) !== e) unreachable++;
  }
  t.equal(unreachable, 0);
  t.equal(table.count, ref.size);
});

t.test('hard capacity: insert fails when full, frees make room', async (t) => {
  const table = new ConnTable(3);
  const a = table.insert(17, 1, 1, 9, 53, 5, 53, 1, 1, 0);
  table.insert(17, 2, 1, 9, 53, 5, 53, 2, 1, 0);
  table.insert(17, 3, 1, 9, 53, 5, 53, 3, 1, 0);
  t.equal(table.insert(17, 4, 1, 9, 53, 5, 53, 4, 1, 0), NONE);
  table.remove(a);
  t.not(table.insert(17, 4, 1, 9, 53, 5, 53, 4, 1, 0), NONE);
  t.equal(table.count, 3);
});

t.test('templates and connections with the same key are told apart', async (t) => {
  const table = new ConnTable(8);
  const c = table.insert(6, 5, 0, 9, 80, 7, 80, 5, 0, 0);
  const tm = table.insert(6, 5, 0, 9, 80, 7, 80, 5, 0, CF_TEMPLATE);
  t.equal(table.findForward(6, 5, 0, 9, 80, false), c);
  t.equal(table.findForward(6, 5, 0, 9, 80, true), tm);
  table.rekeyForward(tm, 0, 0xffff);
  t.equal(table.findForward(6, 5, 0, 9, 80, true), NONE, 'an invalidated template no longer matches');
  t.equal(table.findForward(6, 5, 0, 9, 0xffff, true), tm);
});

t.test('timer wheel: entries expire after their time, not before, and re-arming extends them', async (t) => {
  const table = new ConnTable(16, 100);
  const w = table.timers;
  const expired: [number, number][] = [];
  let now = 0;
  const a = table.insert(6, 1, 1, 9, 80, 7, 80, 1, 1, 0);
  const b = table.insert(6, 2, 1, 9, 80, 7, 80, 2, 1, 0);
  const c = table.insert(6, 3, 1, 9, 80, 7, 80, 3, 1, 0);
  w.arm(a, 1000);
  w.arm(b, 5000);
  w.arm(c, 900_000); // beyond one wheel turn (4096 x 100 ms)
  const step = (to: number) => {
    for (; now <= to; now += 50) w.advance(now, (e) => { expired.push([e, now]); w.cancel(e); });
  };
  step(999);
  t.same(expired, [], 'nothing before 1 s');
  step(1200);
  t.same(expired.map((x) => x[0]), [a]);
  t.ok(expired[0]![1] >= 1000 && expired[0]![1] <= 1200, 'expired within one tick of its time');
  w.arm(b, 8000); // refreshed (lazy: stays linked in its earlier slot)
  step(7900);
  t.same(expired.map((x) => x[0]), [a], 'refreshed entry survives its old time');
  step(8200);
  t.same(expired.map((x) => x[0]), [a, b]);
  w.arm(c, 9000); // shortened: must be re-linked earlier
  step(9200);
  t.same(expired.map((x) => x[0]), [a, b, c], 'shortened timeout fires at the new time');
});

t.test('timer wheel: a timeout longer than a wheel turn fires on time', async (t) => {
  const table = new ConnTable(4, 100);
  const w = table.timers;
  const e = table.insert(6, 1, 1, 9, 80, 7, 80, 1, 1, 0);
  w.arm(e, 900_000);
  let at = -1;
  for (let now = 0; now <= 901_000 && at < 0; now += 500) w.advance(now, () => { at = now; });
  t.ok(at >= 900_000 && at <= 900_500, `fired at ${at}`);
});
