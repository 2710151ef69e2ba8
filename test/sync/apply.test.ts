import t from 'tap';
import { ip as parseIpv4 } from '../helpers/addr.js';
import { applySyncDatagram, mergeSyncFlags } from '../../src/sync/apply.js';
import { CONN_F_DROUTE, CONN_F_FULLNAT, CONN_F_HASHED, CONN_F_INACTIVE, CONN_F_ONE_PACKET, CONN_F_SYNC, CONN_F_TEMPLATE } from '../../src/sync/constants.js';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../../src/lvs/proto.js';
import { encode, type SyncConnEntry } from '../../src/sync/message.js';

const conn: SyncConnEntry = {
  protocol: IPPROTO_TCP,
  flags: CONN_F_DROUTE,
  state: 1,
  cport: 40000,
  vport: 80,
  dport: 80,
  fwmark: 0,
  timeout: 900,
  caddr: parseIpv4('10.0.0.10'),
  vaddr: parseIpv4('10.0.0.127'),
  daddr: parseIpv4('10.0.1.3'),
};
const table = (): { upsert(u: SyncConnEntry): void; got: SyncConnEntry[] } => {
  const got: SyncConnEntry[] = [];
  return { got, upsert: (u) => got.push(u) };
};

t.test('valid entries reach the table with backup flags', (t) => {
  const tb = table();
  const dg = encode({ syncid: 5, conns: [{ ...conn, flags: CONN_F_DROUTE | CONN_F_ONE_PACKET | 0x10000 }, { ...conn, protocol: IPPROTO_UDP, state: 0, timeout: 0 }] });
  const r = applySyncDatagram(dg, tb, { syncid: 5 });
  t.match(r, { status: 'ok', applied: 2, skipped: [] });
  t.equal(tb.got[0]!.flags, CONN_F_DROUTE | CONN_F_SYNC, 'masked with BACKUP_MASK, SYNC added');
  t.equal(tb.got[0]!.timeout, 900);
  t.equal(tb.got[1]!.timeout, 0, 'timeout 0 (= protocol default) passed on');
  t.end();
});

t.test('syncid filter: 0 accepts any', (t) => {
  const dg = encode({ syncid: 5, conns: [conn] });
  t.match(applySyncDatagram(dg, table(), { syncid: 6 }), { status: 'ignored', applied: 0 });
  t.match(applySyncDatagram(dg, table(), { syncid: 0 }), { status: 'ok', applied: 1 });
  t.end();
});

t.test('a malformed datagram applies nothing', (t) => {
  const dg = encode({ syncid: 1, conns: [conn, conn, conn] });
  const cut = dg.slice(0, dg.length - 4);
  cut[3] = cut.length; // size field consistent, last entry truncated
  const tb = table();
  const r = applySyncDatagram(cut, tb, { syncid: 1 });
  t.equal(r.status, 'malformed');
  t.equal(tb.got.length, 0, 'not even the two good entries before the bad one');
  t.equal(applySyncDatagram(new Uint8Array(0), tb, { syncid: 1 }).status, 'malformed');
  t.end();
});

t.test('bad entries are skipped, good ones kept', (t) => {
  const tb = table();
  const dg = encode({
    syncid: 1,
    conns: [
      { ...conn, state: 11 }, // TCP has 11 states: 0..10
      { ...conn, protocol: IPPROTO_SCTP },
      { ...conn, protocol: IPPROTO_UDP, state: 1 },
      { ...conn, daddr: 0 },
      { ...conn, flags: CONN_F_FULLNAT },
      { ...conn, flags: CONN_F_TEMPLATE, state: 7, cport: 0 }, // template states are not range-checked
      { ...conn, flags: CONN_F_FULLNAT, fullnat: { laddr: parseIpv4('10.0.2.1'), lport: 6000 } },
      conn,
    ],
  });
  const r = applySyncDatagram(dg, tb, { syncid: 1 });
  t.same(r.skipped.map((s) => s.index), [0, 1, 2, 3, 4]);
  t.equal(r.applied, 3);
  t.ok(tb.got[0]!.flags & CONN_F_TEMPLATE);
  t.same(tb.got[1]!.fullnat, { laddr: parseIpv4('10.0.2.1'), lport: 6000 });
  t.end();
});

t.test('mergeSyncFlags only moves INACTIVE and SEQ bits', (t) => {
  const existing = CONN_F_DROUTE | CONN_F_HASHED | CONN_F_INACTIVE;
  t.equal(mergeSyncFlags(existing, CONN_F_SYNC), CONN_F_DROUTE | CONN_F_HASHED, 'INACTIVE cleared, forwarding kept');
  t.equal(mergeSyncFlags(CONN_F_DROUTE, 0x0400 | CONN_F_INACTIVE | 0x0001), CONN_F_DROUTE | 0x0400 | CONN_F_INACTIVE);
  t.end();
});
