import t from 'tap';
import { assessReturnPath, CounterHistory } from '../../src/diag/return-path.js';

const cfg = { windowMs: 3000, graceMs: 1000, minSent: 2 };

function hist(samples: [number, number, number][]): CounterHistory {
  const h = new CounterHistory();
  for (const [tm, inPkts, outPkts] of samples) h.push({ t: tm, conns: 0, inPkts, outPkts }, 4000);
  return h;
}

t.test('not enough history: unknown', async (t) => {
  t.equal(assessReturnPath(hist([[0, 0, 0], [1000, 5, 0]]), 1000, cfg).verdict, 'unknown');
});

t.test('packets sent in [now-3s, now-1s] and nothing back in [now-3s, now]: no-replies', async (t) => {
  const a = assessReturnPath(hist([[0, 0, 0], [1000, 1, 0], [2000, 2, 0], [3000, 3, 0]]), 3000, cfg);
  t.same(a, { verdict: 'no-replies', sent: 2, replies: 0 });
});

t.test('a reply anywhere in the window: replies', async (t) => {
  t.equal(assessReturnPath(hist([[0, 0, 0], [1000, 1, 0], [2000, 2, 0], [3000, 3, 1]]), 3000, cfg).verdict, 'replies');
});

t.test('packets only in the grace period do not count (a reply may be in flight)', async (t) => {
  const a = assessReturnPath(hist([[0, 0, 0], [1000, 0, 0], [2000, 0, 0], [3000, 9, 0]]), 3000, cfg);
  t.same(a, { verdict: 'unknown', sent: 0, replies: 0 });
});

t.test('a single packet is not enough', async (t) => {
  t.equal(assessReturnPath(hist([[0, 0, 0], [1000, 0, 0], [2000, 1, 0], [3000, 1, 0]]), 3000, cfg).verdict, 'unknown');
});

t.test('history keeps one sample at or before the window start and drops older ones', async (t) => {
  const h = hist([[0, 0, 0], [1000, 1, 0], [2000, 2, 0], [3000, 3, 0], [4000, 4, 0], [5000, 5, 0], [6000, 6, 0]]);
  t.same(h.samples.map((s) => s.t), [2000, 3000, 4000, 5000, 6000]);
  t.equal(h.at(2500)?.t, 2000);
  t.equal(h.at(1500), null);
  t.throws(() => h.push({ t: 10, conns: 0, inPkts: 0, outPkts: 0 }, 4000), RangeError);
});
