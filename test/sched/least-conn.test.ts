// lc / wlc / sed / nq against docs/ipvs-behaviour.md §1.3-1.4: hand-worked cases plus a check
// against an independent "minimum ratio, ties to the earliest" model on random inputs.
import t from 'tap';
import { createLcScheduler } from '../../src/sched/lc.js';
import { createWlcScheduler } from '../../src/sched/wlc.js';
import { createSedScheduler } from '../../src/sched/sed.js';
import { createNqScheduler } from '../../src/sched/nq.js';
import { DEST_F_OVERLOAD, type SchedDest, type Scheduler } from '../../src/sched/types.js';

interface TDest extends SchedDest {
  readonly name: string;
}
const d = (name: string, weight: number, activeConns: number, inactConns: number, flags = 0): TDest => ({
  name, addr: 0x0a000001, port: 80, weight, lastWeight: weight, flags, activeConns, inactConns,
});
function pick(s: Scheduler<TDest>, dests: TDest[]): string | null {
  const svc = { dests, flags: 0 };
  s.init(svc);
  return s.schedule(svc, 0, 0)?.name ?? null;
}
const lc = createLcScheduler<TDest>();
const wlc = createWlcScheduler<TDest>();
const sed = createSedScheduler<TDest>();
const nq = createNqScheduler<TDest>();

// Kernel list for servers added X (w1), Y (w2), Z (w3) is [Z, Y, X].
t.test('lc: 256*active + inactive, ties to the earliest, weight only as 0', async (t) => {
  t.equal(pick(lc, [d('Z', 3, 1, 0), d('Y', 2, 0, 10), d('X', 1, 0, 10)]), 'Y'); // 256, 10, 10: tie -> Y
  t.equal(pick(lc, [d('Z', 3, 2, 0), d('Y', 2, 1, 50), d('X', 1, 1, 0)]), 'X'); // 512, 306, 256
  t.equal(pick(lc, [d('Z', 3, 0, 0), d('Y', 2, 0, 0), d('X', 1, 0, 0)]), 'Z');
  t.equal(pick(lc, [d('Z', 0, 0, 0), d('Y', 2, 0, 1), d('X', 1, 0, 1)]), 'Y'); // Z quiesced
  t.equal(pick(lc, [d('Z', 3, 0, 0, DEST_F_OVERLOAD), d('Y', 2, 0, 1), d('X', 1, 0, 0)]), 'X');
  t.equal(pick(lc, [d('Z', 1, 0, 255), d('Y', 1, 1, 0)]), 'Z'); // 255 < 256: one active outweighs 255 inactive
  t.equal(pick(lc, [d('Z', 0, 0, 0)]), null);
  t.equal(pick(lc, []), null);
});

t.test('wlc: minimum overhead/weight by cross-multiplication', async (t) => {
  t.equal(pick(wlc, [d('Z', 3, 1, 0), d('Y', 2, 0, 10), d('X', 1, 0, 10)]), 'Y'); // 85.3, 5, 10
  t.equal(pick(wlc, [d('Z', 3, 2, 0), d('Y', 2, 1, 50), d('X', 1, 1, 0)]), 'Y'); // 170.7, 153, 256
  t.equal(pick(wlc, [d('Z', 3, 3, 0), d('Y', 2, 2, 0), d('X', 1, 1, 0)]), 'Z'); // 256 each: tie -> Z
  t.equal(pick(wlc, [d('Z', 3, 3, 1), d('Y', 2, 2, 0), d('X', 1, 1, 0)]), 'Y'); // Z 769/3 > 256
  t.equal(pick(wlc, [d('Z', 0, 0, 0), d('Y', 2, 1, 0), d('X', 1, 1, 0)]), 'Y'); // first stage skips w0
  t.equal(pick(wlc, [d('Z', 3, 1, 0), d('Y', 2, 1, 0), d('X', 0, 0, 0)]), 'Z'); // 85.3 < 128; idle X w0 never wins
  t.equal(pick(wlc, [d('Z', 3, 0, 0, DEST_F_OVERLOAD), d('Y', 2, 5, 0), d('X', 1, 0, 0, DEST_F_OVERLOAD)]), 'Y');
  t.equal(pick(wlc, [d('Z', 0, 0, 0), d('Y', 0, 0, 0)]), null);
});

t.test('sed and nq: (active + 1)/weight, inactive ignored; nq takes the first idle', async (t) => {
  // [P w1 a0, Q w3 a1]: wlc P (0 vs 256/3), sed Q (1/1 vs 2/3), nq P (idle), lc P
  const pq = () => [d('P', 1, 0, 0), d('Q', 3, 1, 0)];
  t.equal(pick(wlc, pq()), 'P');
  t.equal(pick(sed, pq()), 'Q');
  t.equal(pick(nq, pq()), 'P');
  t.equal(pick(lc, pq()), 'P');
  // inactive ignored by sed/nq: [P w1 a0 i100, Q w1 a0 i0]
  t.equal(pick(sed, [d('P', 1, 0, 100), d('Q', 1, 0, 0)]), 'P');
  t.equal(pick(wlc, [d('P', 1, 0, 100), d('Q', 1, 0, 0)]), 'Q');
  // [Z w3 a2, Y w2 a1, X w1 a0]: sed 1, 1, 1 -> tie Z; nq X is idle -> X
  t.equal(pick(sed, [d('Z', 3, 2, 0), d('Y', 2, 1, 0), d('X', 1, 0, 0)]), 'Z');
  t.equal(pick(nq, [d('Z', 3, 2, 0), d('Y', 2, 1, 0), d('X', 1, 0, 0)]), 'X');
  // nobody idle: nq = sed; X a1 -> 2/1, Z 3/3, Y 2/2 -> Z
  t.equal(pick(nq, [d('Z', 3, 2, 0), d('Y', 2, 1, 0), d('X', 1, 1, 0)]), 'Z');
  // nq skips an idle dest that is quiesced or overloaded
  t.equal(pick(nq, [d('Z', 0, 0, 0), d('Y', 2, 1, 0, DEST_F_OVERLOAD), d('X', 1, 3, 0), d('W', 1, 2, 0)]), 'W');
  t.equal(pick(sed, [d('Z', 0, 0, 0)]), null);
  t.equal(pick(nq, [d('Z', 0, 0, 0)]), null);
});

// Independent model: eligible = weight > 0 and not OVERLOAD; minimum of cost/weight compared
// as exact fractions (BigInt), earliest index wins ties. nq first returns the first idle one.
function model(kind: 'lc' | 'wlc' | 'sed' | 'nq', dests: TDest[]): string | null {
  const cost = (x: TDest) => (kind === 'lc' || kind === 'wlc' ? x.activeConns * 256 + x.inactConns : x.activeConns + 1);
  const eligible = dests.filter((x) => x.weight > 0 && (x.flags & DEST_F_OVERLOAD) === 0);
  if (kind === 'nq') {
    const idle = eligible.find((x) => x.activeConns === 0);
    if (idle) return idle.name;
  }
  let best: TDest | null = null;
  for (const x of eligible) {
    if (best === null) best = x;
    else if (kind === 'lc' ? cost(x) < cost(best) : BigInt(cost(x)) * BigInt(best.weight) < BigInt(cost(best)) * BigInt(x.weight)) best = x;
  }
  return best?.name ?? null;
}

t.test('random inputs agree with the model', async (t) => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let mismatches = 0;
  for (let round = 0; round < 3000; round++) {
    const n = 1 + rnd(8);
    const dests = Array.from({ length: n }, (_, i) =>
      d(`d${i}`, rnd(4) === 0 ? 0 : 1 + rnd(5), rnd(4), rnd(600), rnd(6) === 0 ? DEST_F_OVERLOAD : 0),
    );
    for (const [kind, s] of [['lc', lc], ['wlc', wlc], ['sed', sed], ['nq', nq]] as const) {
      if (pick(s, dests) !== model(kind, dests)) mismatches++;
    }
  }
  t.equal(mismatches, 0);
});

t.test('explain lists every dest with its inputs and the choice', async (t) => {
  const dests = [d('Z', 3, 1, 2), d('Y', 0, 0, 0)];
  const text = wlc.explain({ dests, flags: 0 }, 0, 0);
  t.match(text, /weight=3 active=1 inactive=2 overhead=258.*<- chosen/);
  t.match(text, /weight=0 .*skipped: weight 0/);
  t.match(sed.explain({ dests, flags: 0 }, 0, 0), /overhead=2/);
});
