/**
 * The defences in the data plane (src/defense via the engine's one new-connection call):
 * a full table refuses new connections without touching existing flows and reuses entries
 * freed by expiry in O(1); secure_tcp's table and timeouts; drop_packet; drop_entry under a
 * spoofed SYN flood; the per-service and per-prefix caps. Expected values follow the kernel's
 * rules (docs/reliability.md).
 */
import t from 'tap';
import { oneArm, MAC, IP, destSpec, ip } from '../helpers/lab-engine.js';
import { tcpFrame } from '../../src/packet/builder.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import { DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import { STATE_NAMES } from '../../src/table/tcp-state.js';
import { applyDefense, DEFENSE_DEFAULTS, type DefenseOptions } from '../../src/defense/options.js';
import type { Engine } from '../../src/dataplane/engine.js';
import type { ConnTable } from '../../src/table/conn-table.js';

const client = { srcMac: MAC.router, dstMac: MAC.lb, dst: IP.vip };

function seg(e: Engine, src: string, sport: number, flags: number, now: number): string | null {
  const f = tcpFrame({ ...client, src, sport, dport: 80, flags });
  return e.process(f, f.length, 0, now) === V_EMIT ? ipv4.decode(e.verdict.buf, 14).dst : null;
}

function reply(e: Engine, rs: string, dst: string, dport: number, flags: number, now: number): number {
  const f = tcpFrame({ srcMac: rs === IP.rs1 ? MAC.rs1 : MAC.rs2, dstMac: MAC.lb, src: rs, dst, sport: 80, dport, flags });
  return e.process(f, f.length, 0, now);
}

function state(e: Engine, src: string, sport: number): string {
  const x = e.table.findForward(6, ip(src), sport, ip(IP.vip), 80, false);
  return x < 0 ? 'gone' : STATE_NAMES[e.table.state[x]!]!;
}

function defended(over: Partial<DefenseOptions>, maxConns = 1024) {
  const r = oneArm({ maxConns }, {}, [destSpec(IP.rs1)]);
  applyDefense(r.engine.guard, { ...DEFENSE_DEFAULTS, ...over }, maxConns);
  return r.engine;
}

const spoofed = (i: number) => `100.${64 + ((i >>> 16) & 63)}.${(i >>> 8) & 255}.${i & 255}`;

t.test('table full: refused and counted, existing flows flow, expired entries are reused', async (t) => {
  const e = defended({}, 8);
  for (let p = 1; p <= 4; p++) {
    t.equal(seg(e, IP.client, p, tcp.SYN, 0), IP.rs1);
    reply(e, IP.rs1, IP.client, p, tcp.SYN | tcp.ACK, 1);
    seg(e, IP.client, p, tcp.ACK, 2);
  }
  for (let i = 0; i < 4; i++) t.equal(seg(e, spoofed(i), 1000, tcp.SYN, 10), IP.rs1);
  t.equal(e.table.count, 8);
  for (let i = 4; i < 104; i++) t.equal(seg(e, spoofed(i), 1000, tcp.SYN, 20), null);
  t.equal(e.counters.drops[DROP.table_full], 100, '100 new connections refused, each counted as table_full');
  for (let p = 1; p <= 4; p++) {
    t.equal(seg(e, IP.client, p, tcp.ACK | tcp.PSH, 30), IP.rs1, `established flow ${p} still goes to its server`);
    t.equal(reply(e, IP.rs1, IP.client, p, tcp.ACK, 31), V_EMIT, `and its replies come back`);
  }
  // The 4 spoofed SYN_RECV entries expire after 60 s (tcp_timeouts); the established ones are refreshed.
  for (let p = 1; p <= 4; p++) seg(e, IP.client, p, tcp.ACK, 50_000);
  e.tick(60_000 + 10 + 200);
  t.equal(e.table.count, 4, 'only the established flows are left');
  for (let i = 0; i < 4; i++) t.equal(seg(e, `203.0.113.${i + 1}`, 2000, tcp.SYN, 60_500), IP.rs1, `new connection ${i} takes a freed entry`);
  t.equal(e.table.count, 8);
  t.equal(e.counters.drops[DROP.table_full], 100, 'no further refusal');
});

/** Counts property reads on the engine's table: a loop over the table would read once per slot. */
function countingTable(e: Engine): { reads: () => number } {
  let n = 0;
  const real = e.table;
  const proxy = new Proxy(real, {
    get(target, prop, recv) {
      n++;
      const v = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? v.bind(proxy) : v;
    },
  });
  (e as unknown as { table: ConnTable }).table = proxy;
  return { reads: () => n };
}

t.test('a refused SYN on a full table costs the same on 2^10 and 2^16 entries (no scan per packet)', async (t) => {
  const per: number[] = [];
  for (const cap of [1 << 10, 1 << 16]) {
    const e = defended({}, cap);
    for (let i = 0; i < cap; i++) seg(e, spoofed(i), 1000, tcp.SYN, 0);
    t.equal(e.table.count, cap);
    const c = countingTable(e);
    for (let i = 0; i < 200; i++) seg(e, spoofed(cap + i), 1000, tcp.SYN, 1);
    t.equal(e.counters.drops[DROP.table_full], 200);
    per.push(c.reads() / 200);
  }
  t.ok(per.every((r) => r < 200), `table reads per refused SYN: ${per.map((r) => r.toFixed(1)).join(' vs ')} (a scan would be >= 1024 / 65536)`);
});

t.test('secure_tcp 3: the kernel\'s tcp_states_dos transitions, and SYN_RECV for 10 s', async (t) => {
  const e = defended({ secureTcp: 3 });
  t.equal(e.guard.levels.secureTcp, true);
  seg(e, IP.client, 7000, tcp.SYN, 0);
  t.equal(state(e, IP.client, 7000), 'SYN_RECV');
  reply(e, IP.rs1, IP.client, 7000, tcp.SYN | tcp.ACK, 1);
  t.equal(state(e, IP.client, 7000), 'SYNACK', 'OUTPUT syn in SYN_RECV -> SYNACK (normal table: SYN_RECV)');
  seg(e, IP.client, 7000, tcp.ACK, 2);
  t.equal(state(e, IP.client, 7000), 'SYNACK', 'INPUT ack in SYNACK stays SYNACK (normal table: ESTABLISHED)');
  reply(e, IP.rs1, IP.client, 7000, tcp.ACK | tcp.PSH, 3);
  t.equal(state(e, IP.client, 7000), 'ESTABLISHED', 'the server\'s answer establishes it');

  seg(e, IP.client, 7001, tcp.SYN, 100);
  e.tick(100 + 10_000 + 200);
  t.equal(state(e, IP.client, 7001), 'gone', 'a SYN nobody completes is gone after 10 s');
  t.equal(state(e, IP.client, 7000), 'ESTABLISHED');

  const n = defended({});
  seg(n, IP.client, 7001, tcp.SYN, 100);
  n.tick(100 + 10_000 + 200);
  t.equal(state(n, IP.client, 7001), 'SYN_RECV', 'without secure_tcp: still there (60 s)');
  const k = defended({ secureTcp: 3, secureSynRecvS: 0 });
  seg(k, IP.client, 7001, tcp.SYN, 100);
  k.tick(100 + 10_000 + 200);
  t.equal(state(k, IP.client, 7001), 'SYN_RECV', '--secure-syn-recv-timeout 0: the kernel\'s timeouts');
});

t.test('secure_tcp 1 switches itself on when free entries fall below amemthresh, and off again', async (t) => {
  const e = defended({ secureTcp: 1, amemthresh: 8 }, 16);
  for (let i = 0; i < 9; i++) seg(e, spoofed(i), 1000, tcp.SYN, 0);
  t.equal(e.guard.levels.secureTcp, false, 'evaluated once a second, not per packet');
  seg(e, spoofed(9), 1000, tcp.SYN, 1000);
  t.same([e.guard.levels.secureTcpMode, e.guard.levels.secureTcp], [2, true], '7 free < 8 at the next evaluation');
  e.tick(1000 + 60_000 + 200); // the SYN_RECV entries expire
  e.tick(1000 + 60_000 + 1300);
  t.same([e.guard.levels.secureTcpMode, e.guard.levels.secureTcp], [1, false]);
});

t.test('drop_packet 3 with am_droprate 2: every other new connection, counted; established ones untouched', async (t) => {
  const e = defended({ dropPacket: 3, amDroprate: 2 });
  const got = Array.from({ length: 10 }, (_, i) => seg(e, spoofed(i), 1000, tcp.SYN, 5) !== null);
  t.same(got, [false, true, false, true, false, true, false, true, false, true]);
  t.equal(e.counters.drops[DROP.defense_drop_packet], 5);
  t.equal(seg(e, spoofed(1), 1000, tcp.ACK, 6), IP.rs1, 'a packet of an existing entry is never dropped by it');
});

t.test('drop_entry 1 under a spoofed SYN flood: SYN_RECV entries dropped once a second, established flows kept', async (t) => {
  const e = defended({ dropEntry: 1, amemthresh: 16 }, 64);
  const d = e.services[0]!.dests[0]!;
  for (let p = 1; p <= 3; p++) {
    seg(e, IP.client, p, tcp.SYN, 0);
    reply(e, IP.rs1, IP.client, p, tcp.SYN | tcp.ACK, 1);
    seg(e, IP.client, p, tcp.ACK, 2);
  }
  for (let i = 0; i < 61; i++) seg(e, spoofed(i), 1000, tcp.SYN, 10);
  t.equal(e.table.count, 64);
  t.equal(seg(e, spoofed(99), 1000, tcp.SYN, 20), null, 'full');
  e.tick(1100);
  t.equal(e.guard.levels.dropEntryMode, 2, 'short of room: drop_entry active');
  t.equal(e.guard.dropEntry.dropped, 61, 'a 64-entry table is visited whole: every spoofed SYN_RECV entry dropped');
  t.equal(e.table.count, 3);
  t.same([d.activeConns, d.inactConns], [3, 0], 'server counters follow (ip_vs_unbind_dest)');
  for (let p = 1; p <= 3; p++) t.equal(seg(e, IP.client, p, tcp.ACK | tcp.PSH, 1200), IP.rs1);
  t.equal(seg(e, IP.client, 9, tcp.SYN, 1200), IP.rs1, 'new connections fit again');
  e.tick(2200);
  t.equal(e.guard.levels.dropEntryMode, 1, 'room again: back to 1');
});

t.test('per-service and per-prefix caps: refused by reason, the next second admits', async (t) => {
  const e = defended({ svcConnRate: 5 });
  const r = Array.from({ length: 8 }, (_, i) => seg(e, spoofed(i), 1000, tcp.SYN, 100) !== null);
  t.same(r, [true, true, true, true, true, false, false, false]);
  t.equal(e.counters.drops[DROP.svc_conn_rate], 3);
  t.equal(seg(e, spoofed(0), 1000, tcp.ACK, 200), IP.rs1, 'existing flows are not capped');
  t.equal(seg(e, spoofed(20), 1000, tcp.SYN, 1000), IP.rs1);

  const p = defended({ clientConnRate: 2, clientPrefixLen: 24 });
  const q = [1, 2, 3, 4].map((k) => seg(p, `192.0.2.${k}`, 3000, tcp.SYN, 0) !== null);
  t.same(q, [true, true, false, false]);
  t.equal(p.counters.drops[DROP.client_conn_rate], 2);
  t.equal(seg(p, '198.51.100.77', 3000, tcp.SYN, 0), IP.rs1, 'another prefix');
});
