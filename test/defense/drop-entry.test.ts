/**
 * drop_entry (ip_vs_random_dropentry / todrop_entry) over a real ConnTable: which entries a
 * pass drops, the 1-in-in_pkts rate, the 60 s idle rule, templates, and the 1/32 budget.
 */
import t from 'tap';
import { ConnTable, CF_TEMPLATE, NONE } from '../../src/table/conn-table.js';
import { S_CLOSE, S_ESTABLISHED, S_FIN_WAIT, S_SYNACK, S_SYN_RECV, S_TIME_WAIT, S_UDP } from '../../src/table/tcp-state.js';
import { DropEntry } from '../../src/defense/drop-entry.js';

const NOW = 1_000_000;
let port = 1;

/** An entry last refreshed at `refreshed` with timeout `timeoutMs`, `pkts` client packets. */
function add(t: ConnTable, proto: number, state: number, pkts: number, refreshed = NOW - 100_000, timeoutMs = 900_000, flags = 0): number {
  const e = t.insert(proto, 0x0a000001, port++, 0x0a00007f, 80, 0x0a0000b9, 80, 0x0a000001, port, flags);
  t.state[e] = state;
  t.inPkts[e] = pkts;
  t.timeoutMs[e] = timeoutMs;
  t.timers.arm(e, refreshed + timeoutMs);
  return e;
}

/** The engine's unbindAndFree as far as the table goes. */
function freer(t: ConnTable, log: number[]) {
  return (e: number) => {
    log.push(e);
    const c = t.control[e]!;
    if (c !== NONE) t.nControl[c]!--;
    t.remove(e);
  };
}

t.test('one pass over a small table: SYN_RECV/SYNACK go, ESTABLISHED and UDP by todrop_entry, others stay', async (t) => {
  const tab = new ConnTable(64);
  const synRecv = [0, 1, 2].map(() => add(tab, 6, S_SYN_RECV, 1, NOW - 1000, 60_000));
  const synAck = add(tab, 6, S_SYNACK, 1, NOW - 1000, 120_000);
  const estIdle1 = [0, 1].map(() => add(tab, 6, S_ESTABLISHED, 1));
  const estFresh = add(tab, 6, S_ESTABLISHED, 1, NOW - 59_000);
  const estMany = add(tab, 6, S_ESTABLISHED, 9);
  const estNone = add(tab, 6, S_ESTABLISHED, 0);
  const others = [S_FIN_WAIT, S_TIME_WAIT, S_CLOSE].map((s) => add(tab, 6, s, 1));
  const udpIdle = add(tab, 17, S_UDP, 1, NOW - 100_000, 300_000);
  const udpFresh = add(tab, 17, S_UDP, 1, NOW - 10_000, 300_000);
  const dropped: number[] = [];
  const n = new DropEntry(7).run(tab, NOW, freer(tab, dropped));
  t.same(dropped.sort((a, b) => a - b), [...synRecv, synAck, ...estIdle1, udpIdle].sort((a, b) => a - b),
    'in_pkts 1 is dropped every time (todrop_rate[1] = 1); fresh (< 60 s), in_pkts 0 or > 8, FIN_WAIT/TIME_WAIT/CLOSE kept');
  t.equal(n, 7);
  for (const e of [estFresh, estMany, estNone, ...others, udpFresh]) t.equal(tab.live[e], 1);
});

t.test('in_pkts = i: one entry in i is dropped, the first one first (todrop_counter starts at 0)', async (t) => {
  const tab = new ConnTable(64);
  const three = Array.from({ length: 9 }, () => add(tab, 6, S_ESTABLISHED, 3));
  const dropped: number[] = [];
  new DropEntry(1).run(tab, NOW, freer(tab, dropped));
  t.equal(dropped.length, 3, '9 entries with in_pkts 3: 3 dropped');
  // The pass starts at a random slot and wraps: the visit order is a rotation of the slots.
  const order = [...three].sort((a, b) => a - b);
  const start = order.findIndex((e) => dropped.includes(e));
  const rotated = [...order.slice(start), ...order.slice(0, start)];
  t.same(rotated.filter((e) => dropped.includes(e)), [rotated[0], rotated[3], rotated[6]], 'the 1st, 4th and 7th visited');
});

t.test('templates: one in use is kept; a dropped entry takes its template along when nothing else uses it', async (t) => {
  const tab = new ConnTable(64);
  const tmplA = add(tab, 6, 0, 0, NOW - 100_000, 360_000, CF_TEMPLATE);
  const tmplB = add(tab, 6, 0, 0, NOW - 100_000, 360_000, CF_TEMPLATE);
  const a1 = add(tab, 6, S_SYN_RECV, 1, NOW - 1000, 60_000);
  const b1 = add(tab, 6, S_SYN_RECV, 1, NOW - 1000, 60_000);
  const b2 = add(tab, 6, S_ESTABLISHED, 20);
  for (const [e, c] of [[a1, tmplA], [b1, tmplB], [b2, tmplB]] as const) {
    tab.control[e] = c;
    tab.nControl[c]!++;
  }
  const lone = add(tab, 6, 0, 0, NOW - 100_000, 360_000, CF_TEMPLATE);
  const dropped: number[] = [];
  new DropEntry(3).run(tab, NOW, freer(tab, dropped));
  t.same(dropped.sort((a, b) => a - b), [tmplA, a1, b1].sort((a, b) => a - b));
  t.equal(tab.live[tmplB], 1, 'template still controlling b2 kept');
  t.equal(tab.nControl[tmplB], 1);
  t.equal(tab.live[lone], 1, 'a template controlling nothing is left to its timer');
});

t.test('a pass visits 1/32 of a large table, never all of it', async (t) => {
  const cap = 1 << 14;
  const tab = new ConnTable(cap);
  for (let i = 0; i < cap; i++) add(tab, 6, S_SYN_RECV, 1, NOW - 1000, 60_000);
  t.equal(tab.count, cap);
  const d = new DropEntry(11);
  const dropped: number[] = [];
  t.equal(d.run(tab, NOW, freer(tab, dropped)), cap / 32, 'a full table of SYN_RECV: exactly capacity/32 dropped per pass');
  t.equal(tab.count, cap - cap / 32);
  t.equal(d.run(tab, NOW + 1000, freer(tab, [])) <= cap / 32, true);
  t.equal(d.dropped, cap - tab.count, 'counted');
});
