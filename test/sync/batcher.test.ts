import t from 'tap';
import { ip as parseIpv4 } from '../helpers/addr.js';
import { SyncBatcher, syncNeeded, type SyncSourceConn } from '../../src/sync/batcher.js';
import { CONN_F_ONE_PACKET, CONN_F_TEMPLATE } from '../../src/sync/constants.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/lvs/proto.js';
import { S_CLOSE, S_CLOSE_WAIT, S_ESTABLISHED, S_FIN_WAIT, S_SYN_RECV, S_TIME_WAIT } from '../../src/lvs/conn-state.js';
import { decode } from '../../src/sync/message.js';

let nextPort = 1024;
function mkConn(over: Partial<SyncSourceConn> = {}): SyncSourceConn {
  const state = over.state ?? 0;
  return {
    protocol: IPPROTO_UDP,
    flags: 0,
    state,
    oldState: state,
    inPkts: 0,
    cport: nextPort++,
    vport: 53,
    dport: 53,
    fwmark: 0,
    timeout: 300,
    caddr: parseIpv4('10.0.0.10'),
    vaddr: parseIpv4('10.0.0.127'),
    daddr: parseIpv4('10.0.1.3'),
    ...over,
  };
}

t.test('"3 50": UDP synced at packets 3, 53, 103, ...', (t) => {
  const c = mkConn();
  const synced: number[] = [];
  for (let p = 1; p <= 250; p++) if (syncNeeded(c, p, 3, 50)) synced.push(p);
  const expected: number[] = [];
  for (let p = 1; p <= 250; p++) if (p % 50 === 3) expected.push(p);
  t.same(synced, expected);
  t.same(expected, [3, 53, 103, 153, 203]);
  const once = mkConn();
  const onlyOnce: number[] = [];
  for (let p = 1; p <= 250; p++) if (syncNeeded(once, p, 3, 0)) onlyOnce.push(p);
  t.same(onlyOnce, [3], 'period 0: only when pkts == threshold');
  t.end();
});

t.test('TCP: synced states and state changes', (t) => {
  const c = mkConn({ protocol: IPPROTO_TCP, state: S_SYN_RECV });
  t.notOk(syncNeeded(c, 3), 'SYN_RECV is never synced, even at packet 3');
  c.state = S_ESTABLISHED;
  t.notOk(syncNeeded(c, 2), 'change to ESTABLISHED still waits for the packet rule');
  t.equal(c.oldState, S_SYN_RECV, 'old_state untouched when not synced');
  t.ok(syncNeeded(c, 3), 'packet 3 in ESTABLISHED');
  t.equal(c.oldState, S_ESTABLISHED);
  t.notOk(syncNeeded(c, 4));
  for (const s of [S_FIN_WAIT, S_CLOSE_WAIT, S_TIME_WAIT, S_CLOSE]) {
    c.state = s;
    t.ok(syncNeeded(c, 17), `change to state ${s} is synced at once`);
    t.notOk(syncNeeded(c, 18), 'but not again in the same state');
  }
  t.end();
});

t.test('templates go with their connection; one-packet connections never', (t) => {
  const b = new SyncBatcher({ syncid: 9 });
  const tpl = mkConn({ flags: CONN_F_TEMPLATE, cport: 0 });
  const c = mkConn({ control: tpl });
  for (let p = 1; p <= 4; p++) b.onPacket(c, p, 0);
  // kernel (refresh period 0): the template is synced on every packet of its controlled conn,
  // the connection itself only at packet 3.
  const msgs = b.flushAll().map((d) => decode(d));
  t.equal(msgs.length, 1);
  t.same(msgs[0]!.conns.map((e) => (e.flags & CONN_F_TEMPLATE ? 'T' : 'C')), ['T', 'T', 'C', 'T', 'T']);
  t.equal(tpl.inPkts, 4, 'the template counter is incremented per packet');

  const ops = mkConn({ flags: CONN_F_ONE_PACKET, control: tpl });
  b.onPacket(ops, 3, 0);
  const m = b.flushAll().map((d) => decode(d));
  t.same(m[0]!.conns.map((e) => e.flags & CONN_F_TEMPLATE), [CONN_F_TEMPLATE], 'OPS conn skipped, its template sent');
  t.end();
});

t.test('flush when full (maxlen 1472) and after 2 s', (t) => {
  const b = new SyncBatcher({ syncid: 9 });
  // 36-byte IPv4 entries: (1472 - 8) / 36 = 40 per datagram.
  for (let i = 0; i < 41; i++) b.onPacket(mkConn(), 3, 100 + i);
  const ready = b.takeReady(100 + 41);
  t.equal(ready.length, 1, 'the first datagram is full');
  t.equal(ready[0]!.length, 8 + 40 * 36);
  t.equal(decode(ready[0]!).conns.length, 40);
  t.equal(b.nextFlushAt(), 140 + 2000, 'the 41st entry opened a new buffer at t=140');
  t.same(b.takeReady(2139), [], 'not yet');
  const late = b.takeReady(2140);
  t.equal(late.length, 1);
  t.equal(decode(late[0]!).conns.length, 1);
  t.equal(b.nextFlushAt(), undefined);
  t.end();
});

t.test('memory stays bounded when nobody sends', (t) => {
  const b = new SyncBatcher({ syncid: 1, maxlen: 8 + 36 * 2, maxQueued: 3 });
  for (let i = 0; i < 100; i++) b.onPacket(mkConn(), 3, 0);
  t.ok(b.heldBytes <= 4 * (8 + 72), `held ${b.heldBytes} bytes`);
  t.equal(b.droppedBuffers, 50 - 1 - 3, '50 buffers made, 1 open, 3 queued, the rest dropped');
  t.equal(b.takeReady(0).length, 3);
  t.end();
});
