/**
 * Persistence template lifetime with an injected clock (issue 3; docs/ipvs-behaviour.md §3 and §2.5):
 * the lab test (test/lab/sched-persist.test.ts) shows stickiness and a short expiry;
 * here the slow rules are checked at the millisecond scale without waiting:
 *  - the template timer restarts with each new connection made through it
 *    (ip_vs_sched_persist -> conn_put(ct)), not with packets of existing connections;
 *  - when it fires while it still controls connections, ip_vs_conn_expire re-arms it
 *    for 60 s and sets its timeout to 60 s; it dies at the first firing with none left.
 * Expected times are worked out by hand from those two rules.
 */
import t from 'tap';
import { oneArm, MAC, IP, ip } from '../helpers/lab-engine.js';
import { tcpFrame } from '../../src/packet/builder.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import { V_EMIT } from '../../src/dataplane/verdict.js';
import type { Engine } from '../../src/dataplane/engine.js';

const client = { srcMac: MAC.router, dstMac: MAC.lb, dst: IP.vip };

/** Client -> VIP segment; the real server it was sent to, or null. */
function seg(e: Engine, sport: number, flags: number, now: number): string | null {
  const f = tcpFrame({ ...client, src: IP.client, sport, dport: 80, flags });
  return e.process(f, f.length, 0, now) === V_EMIT ? ipv4.decode(e.verdict.buf, 14).dst : null;
}

function reply(e: Engine, rs: string, dport: number, flags: number, now: number): void {
  const f = tcpFrame({ srcMac: rs === IP.rs1 ? MAC.rs1 : MAC.rs2, dstMac: MAC.lb, src: rs, dst: IP.client, sport: 80, dport, flags });
  e.process(f, f.length, 0, now);
}

/** A whole connection at `at`: handshake, then a normal close (ends TIME_WAIT) or an RST from the client (ends CLOSE). */
function connection(e: Engine, sport: number, at: number, close: 'fin' | 'rst'): string {
  const rs = seg(e, sport, tcp.SYN, at);
  if (rs === null) throw new Error('SYN not forwarded');
  reply(e, rs, sport, tcp.SYN | tcp.ACK, at + 1);
  seg(e, sport, tcp.ACK, at + 2);
  if (close === 'rst') {
    seg(e, sport, tcp.RST | tcp.ACK, at + 3);
  } else {
    seg(e, sport, tcp.FIN | tcp.ACK, at + 3);
    reply(e, rs, sport, tcp.FIN | tcp.ACK, at + 4);
    seg(e, sport, tcp.ACK, at + 5);
  }
  return rs;
}

/** Drive the clock in 100 ms steps (the wheel's tick), as the runtime does. */
function advance(e: Engine, from: number, to: number): void {
  for (let now = from; now <= to; now += 100) e.tick(now);
}

function hasTemplate(e: Engine): boolean {
  return e.table.findForward(ipv4.PROTO_TCP, ip(IP.client), 0, ip(IP.vip), 80, true) >= 0;
}

t.test('connections closed by RST (CLOSE, 10 s): the template dies `persist` s after the last new connection', async (t) => {
  const { engine } = oneArm({}, { scheduler: 'rr', persistent: 15 });
  // rr alone would alternate rs2, rs1, …; the template keeps every connection on rs2.
  const picks = [0, 5000, 10_000, 20_000].map((at, i) => connection(engine, 40000 + i, at, 'rst'));
  t.same(picks, [IP.rs2, IP.rs2, IP.rs2, IP.rs2], 'sticky across connections (gaps < 15 s, 20 s in all)');
  t.equal(engine.services[0]!.dests.find((d) => d.addr === ip(IP.rs2))!.persistConns, 1, 'one template, in PersistConn');
  // Last new connection at 20 s: its CLOSE entry ends at ~30 s, the template at 35 s.
  advance(engine, 20_100, 34_800);
  t.ok(hasTemplate(engine), 'template alive just before 35 s');
  advance(engine, 34_900, 35_300);
  t.notOk(hasTemplate(engine), 'template gone just after 35 s');
  t.equal(engine.table.count, 0, 'nothing left in the table');
  t.equal(connection(engine, 41000, 36_000, 'rst'), IP.rs1, 'the client is scheduled afresh: rr moves on');
});

t.test('a controlled connection postpones expiry in 60 s steps (TIME_WAIT, 120 s)', async (t) => {
  const { engine } = oneArm({}, { scheduler: 'rr', persistent: 3 });
  t.equal(connection(engine, 42000, 0, 'fin'), IP.rs2);
  // TIME_WAIT entered at 5 ms, so the connection lives until ~120.0 s. The template
  // fires at 3 s (controlled: re-armed to 63 s), at 63 s (still controlled: 123 s),
  // and at 123 s, when nothing is left, it dies.
  advance(engine, 100, 62_800);
  t.ok(hasTemplate(engine), 'alive after the 3 s timeout: the TIME_WAIT connection holds it');
  advance(engine, 62_900, 119_800);
  t.ok(hasTemplate(engine), 'alive after the first 60 s postponement');
  t.equal(engine.table.count, 2, 'template + TIME_WAIT connection');
  advance(engine, 119_900, 120_300);
  t.equal(engine.table.count, 1, 'the connection expired at 120 s; only the template is left');
  advance(engine, 120_400, 122_800);
  t.ok(hasTemplate(engine), 'the template waits for its own timer (123 s)');
  advance(engine, 122_900, 123_300);
  t.notOk(hasTemplate(engine), 'gone at the 123 s firing');
  t.equal(connection(engine, 42001, 124_000, 'fin'), IP.rs1, 'rescheduled afterwards');
});

t.test('after a postponement the template keeps a 60 s timeout (cp->timeout = 60 s) even for new connections', async (t) => {
  const { engine } = oneArm({}, { scheduler: 'rr', persistent: 3 });
  connection(engine, 43000, 0, 'rst'); // CLOSE until ~10 s; template postponed at 3 s to 63 s
  advance(engine, 100, 50_000);
  // New connection at 50 s through the template: conn_put restarts the timer with
  // ct->timeout, which the postponement set to 60 s, so the next firing is at 110 s
  // (not 53 s). Its CLOSE entry ends at ~60 s, so that firing frees the template.
  t.equal(connection(engine, 43001, 50_000, 'rst'), IP.rs2, 'still sticky at 50 s');
  advance(engine, 50_100, 109_800);
  t.ok(hasTemplate(engine), 'alive until 110 s');
  advance(engine, 109_900, 110_300);
  t.notOk(hasTemplate(engine), 'gone at 110 s');
});

t.test('packets of an existing connection do not refresh the template', async (t) => {
  const { engine } = oneArm({}, { scheduler: 'rr', persistent: 3 });
  const sport = 44000;
  t.equal(seg(engine, sport, tcp.SYN, 0), IP.rs2);
  reply(engine, IP.rs2, sport, tcp.SYN | tcp.ACK, 1);
  seg(engine, sport, tcp.ACK, 2);
  // Data keeps flowing on the ESTABLISHED connection, then it is reset at 30 s.
  for (let now = 1000; now < 30_000; now += 1000) {
    advance(engine, now - 900, now);
    seg(engine, sport, tcp.ACK | tcp.PSH, now);
  }
  advance(engine, 29_100, 30_000);
  seg(engine, sport, tcp.RST | tcp.ACK, 30_000);
  // The template fired at 3 s (controlled: 63 s); the connection's CLOSE entry ends at
  // ~40 s; the 63 s firing frees it. Had the traffic restarted the template timer, its
  // firing would have come 3 s after the last packet (33 s), found the CLOSE entry and
  // been postponed to 93 s.
  advance(engine, 30_100, 62_800);
  t.ok(hasTemplate(engine), 'alive until the 63 s firing');
  advance(engine, 62_900, 63_300);
  t.notOk(hasTemplate(engine), 'gone at 63 s');
});
