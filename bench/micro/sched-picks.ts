/**
 * Micro-benchmark cases: one scheduler pick per call, for every scheduler with 2, 10 and
 * 100 real servers (varied weights, some busy, one quiesced). The lead's `benchmark`
 * runner wires them in; each fn allocates nothing.
 */
import { SCHEDULER_NAMES, createScheduler } from '../../src/sched/index.js';
import { addDest, type ListDest } from '../../src/sched/dest-list.js';

interface BenchDest extends ListDest {
  activeConns: number;
  inactConns: number;
}

function makeService(name: string, servers: number) {
  const svc = { dests: [] as BenchDest[], flags: 0 };
  const sched = createScheduler<BenchDest>(name)!;
  sched.init(svc);
  for (let i = 0; i < servers; i++) {
    const d: BenchDest = {
      addr: (0x0a000000 | (i + 1)) >>> 0, port: 80, weight: 0, lastWeight: 0, flags: 0,
      activeConns: (i * 7) % 13, inactConns: (i * 31) % 97, uThreshold: 0, lThreshold: 0,
    };
    // weights 1..5, and the fourth server (if any) quiesced
    addDest(svc, sched, d, { weight: i === 3 ? 0 : 1 + (i % 5), uThreshold: 0, lThreshold: 0 });
  }
  return { svc, sched };
}

export function schedulerPickCases(): { name: string; fn: () => void }[] {
  const cases: { name: string; fn: () => void }[] = [];
  for (const name of SCHEDULER_NAMES) {
    for (const servers of [2, 10, 100]) {
      const { svc, sched } = makeService(name, servers);
      // [client address, sink]: typed-array slots hold u32 unboxed, where a captured `let`
      // above 2^31 would be re-boxed as a heap number on every call.
      const state = new Uint32Array([0xc0a80001, 0]);
      cases.push({
        name: `sched ${name} pick, ${servers} servers`,
        fn: () => {
          const client = (state[0]! + 0x9e3779b1) >>> 0; // walk the clients so hashing schedulers vary
          state[0] = client;
          const d = sched.schedule(svc, client, 40000);
          state[1] = state[1]! ^ (d === null ? 0 : d.addr);
        },
      });
    }
  }
  return cases;
}
