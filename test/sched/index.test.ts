import t from 'tap';
import { createScheduler, DEFAULT_SCHEDULER, isSchedulerName, SCHEDULER_NAMES } from '../../src/sched/index.js';
import { addDest, removeDest } from '../../src/sched/dest-list.js';
import { mk, type TDest } from '../helpers/sched-dests.js';


t.test('registry', async (t) => {
  t.same([...SCHEDULER_NAMES], ['rr', 'wrr', 'lc', 'wlc', 'sh', 'sed', 'nq', 'mh']);
  t.equal(DEFAULT_SCHEDULER, 'wlc');
  t.equal(createScheduler('lblc'), null);
  t.equal(isSchedulerName('WLC'), false);
  for (const name of SCHEDULER_NAMES) {
    const a = createScheduler<TDest>(name)!;
    t.equal(a.name, name);
    t.not(a, createScheduler(name), 'a fresh instance per service');
  }
});

t.test('every scheduler: empty -> null, one live dest -> it, removed -> null', async (t) => {
  for (const name of SCHEDULER_NAMES) {
    const s = createScheduler<TDest>(name)!;
    const svc = { dests: [] as TDest[], flags: 0 };
    s.init(svc);
    t.equal(s.schedule(svc, 0x0a000001, 1234), null, `${name} empty`);
    const a = mk('A', 1);
    addDest(svc, s, a, { weight: 1, uThreshold: 0, lThreshold: 0 });
    t.equal(s.schedule(svc, 0x0a000001, 1234)?.name, 'A', `${name} one dest`);
    t.type(s.explain(svc, 0x0a000001, 1234), 'string');
    removeDest(svc, s, a);
    t.equal(s.schedule(svc, 0x0a000001, 1234), null, `${name} after removal`);
  }
});
