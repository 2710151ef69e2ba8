import t from 'tap';
import { ip as parseIpv4 } from '../helpers/addr.js';
import { CONN_F_DROUTE, CONN_F_HASHED, CONN_F_IN_SEQ, CONN_F_TEMPLATE } from '../../src/sync/constants.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/lvs/proto.js';
import { S_ESTABLISHED } from '../../src/lvs/conn-state.js';
import { decode, encode, encodeEntry6, encodingLength, type SyncConnEntry, type SyncMessage } from '../../src/sync/message.js';

const conn: SyncConnEntry = {
  protocol: IPPROTO_TCP,
  flags: CONN_F_DROUTE,
  state: S_ESTABLISHED,
  cport: 40000,
  vport: 80,
  dport: 80,
  fwmark: 0,
  timeout: 900,
  caddr: parseIpv4('10.0.0.10'),
  vaddr: parseIpv4('10.0.0.127'),
  daddr: parseIpv4('10.0.1.3'),
};

// Built by hand from struct ip_vs_sync_mesg / ip_vs_sync_v4 (ip_vs_sync.c), syncid 7, one entry.
const HAND_BUILT = [
  0x00, 0x07, 0x00, 0x2c, 0x01, 0x01, 0x00, 0x00, // reserved, syncid 7, size 44, 1 conn, version 1, spare
  0x00, 0x06, 0x00, 0x24, // IPv4 entry, TCP, version 0 | size 36
  0x00, 0x00, 0x00, 0x03, // flags: DROUTE
  0x00, 0x01, 0x9c, 0x40, // state ESTABLISHED, cport 40000
  0x00, 0x50, 0x00, 0x50, // vport 80, dport 80
  0x00, 0x00, 0x00, 0x00, // fwmark
  0x00, 0x00, 0x03, 0x84, // timeout 900 s
  0x0a, 0x00, 0x00, 0x0a, 0x0a, 0x00, 0x00, 0x7f, 0x0a, 0x00, 0x01, 0x03, // caddr, vaddr, daddr
];

t.test('one entry encodes to the hand-built bytes and back', (t) => {
  const msg: SyncMessage = { syncid: 7, conns: [conn] };
  const buf = encode(msg);
  t.same(Array.from(buf), HAND_BUILT);
  t.equal(encodingLength(msg), 44);
  const d = decode(Uint8Array.from(HAND_BUILT));
  t.same(d, { syncid: 7, conns: [conn], conns6: [], skippedIpv6: 0 });
  const big = new Uint8Array(60);
  encode(msg, big, 10);
  t.same(Array.from(big.subarray(10, 54)), HAND_BUILT, 'encode at offset 10');
  t.same(decode(big, 10, 44).conns, [conn], 'decode at offset 10');
  t.end();
});

t.test('HASHED is never sent; options round-trip and entries are 4-byte aligned', (t) => {
  const withOpts: SyncConnEntry = {
    ...conn,
    flags: CONN_F_DROUTE | CONN_F_HASHED | CONN_F_IN_SEQ,
    seq: { in: { initSeq: 1, delta: 2, previousDelta: 3 }, out: { initSeq: 0xfffffff0, delta: 5, previousDelta: 6 } },
    peData: Uint8Array.from([1, 2, 3]),
    peName: 'sip',
  };
  const tpl: SyncConnEntry = { ...conn, protocol: IPPROTO_UDP, flags: CONN_F_TEMPLATE, cport: 0, state: 0, fullnat: { laddr: parseIpv4('10.0.2.1'), lport: 5000 } };
  const msg: SyncMessage = { syncid: 1, conns: [withOpts, tpl, conn] };
  const buf = encode(msg);
  // entry 1: 36 + 26 (seq) + 5 (pe data) + 5 (pe name) = 72; entry 2: 36 + 8 = 44; entry 3: 36
  t.equal(buf.length, 8 + 72 + 44 + 36);
  t.equal((buf[10]! << 8) | buf[11]!, 72, 'ver_size holds the entry size');
  t.equal(buf[8 + 4 + 3]! & 0x40, 0, 'HASHED cleared');
  const d = decode(buf);
  t.same(d.conns[0], { ...withOpts, flags: CONN_F_DROUTE | CONN_F_IN_SEQ });
  t.same(d.conns[1], tpl);
  t.same(d.conns[2], conn);

  const odd: SyncConnEntry = { ...conn, peData: Uint8Array.from([9]) }; // 36 + 3 = 39 -> 1 pad byte
  const two = encode({ syncid: 1, conns: [odd, conn] });
  t.equal(two.length, 8 + 39 + 1 + 36, 'padding before the next entry, none after the last');
  t.same(decode(two).conns, [odd, conn]);
  t.end();
});

t.test('malformed datagrams are refused as a whole', (t) => {
  const good = Uint8Array.from(HAND_BUILT);
  const mutate = (f: (b: Uint8Array) => void, len?: number): Uint8Array => {
    const b = good.slice(0, len);
    f(b);
    return b;
  };
  t.throws(() => decode(good.subarray(0, 3)), /too short/);
  t.throws(() => decode(good.subarray(0, 40)), /size field 44 does not match 40/);
  t.throws(() => decode(mutate((b) => (b[5] = 0))), /version 1/, 'version 0 header');
  t.throws(() => decode(mutate((b) => (b[0] = 1))), /version 1/, 'reserved byte set');
  t.throws(() => decode(mutate((b) => (b[4] = 2))), /entry 1 is truncated/, 'nr_conns larger than the content');
  t.throws(() => decode(mutate((b) => (b[11] = 40))), /past the message end/);
  t.throws(() => decode(mutate((b) => (b[10] = 0x10))), /unknown version 1/);
  t.throws(() => decode(mutate((b) => (b[11] = 20))), /shorter than its fixed part/);
  t.throws(() => decode(mutate((b) => (b[8] = 2))), /unknown type 2/);

  const withOpt = (opt: number[]): Uint8Array => {
    const b = new Uint8Array(44 + opt.length);
    b.set(good);
    b.set(opt, 44);
    b[3] = b.length;
    b[11] = 36 + opt.length;
    return b;
  };
  t.throws(() => decode(withOpt([1])), /option header/);
  t.throws(() => decode(withOpt([1, 0])), /bad length 0/);
  t.throws(() => decode(withOpt([1, 8, 0, 0])), /bad length 8/);
  t.throws(() => decode(withOpt([1, 4, 0, 0, 0, 0])), /sequence option length 4/);
  t.throws(() => decode(withOpt([2, 1, 7, 2, 1, 7])), /found twice/);
  t.throws(() => decode(withOpt([3, 17, ...new Array<number>(17).fill(65)])), /PE name length 17/);
  t.match(decode(withOpt([9, 2, 0, 0])).conns[0], { unsupported: 'unknown mandatory option 9' }, 'unknown mandatory option marks the entry');
  t.notOk(decode(withOpt([0x49, 2, 0, 0])).conns[0]!.unsupported, 'unknown optional option is skipped');
  t.end();
});

t.test('IPv6 entries (struct ip_vs_sync_v6): laid out by hand, decoded, re-encoded', (t) => {
  const v6 = new Uint8Array(72);
  v6.set([1, IPPROTO_TCP, 0, 72]); // type INET6, TCP, version 0 | size 72
  v6.set([0, 0, 0x01, 0x00], 4); // flags 0x100 (opaque to the codec)
  v6.set([0, 1, 0x9c, 0x40, 0, 80, 0x1f, 0x90], 8); // state 1, cport 40000, vport 80, dport 8080
  v6.set([0, 0, 0, 0, 0, 0, 0x03, 0x84], 16); // fwmark 0, timeout 900
  v6.set([0x20, 0x01, 0x0d, 0xb8, 0, 1, ...new Array<number>(9).fill(0), 0x77], 24); // 2001:db8:1::77
  v6.set([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1], 40); // 2001:db8::1
  v6.set([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 0x10], 56); // 2001:db8::10
  const msg = new Uint8Array(8 + 72);
  msg.set([0, 9, 0, msg.length, 1, 1, 0, 0]);
  msg.set(v6, 8);
  const d = decode(msg);
  const want = { protocol: IPPROTO_TCP, flags: 0x100, state: 1, cport: 40000, vport: 80, dport: 8080, fwmark: 0, timeout: 900, caddr: '2001:db8:1::77', vaddr: '2001:db8::1', daddr: '2001:db8::10' };
  t.same(d.conns6, [want]);
  t.equal(d.skippedIpv6, 1);
  const again = new Uint8Array(72);
  t.equal(encodeEntry6(want, again, 0), 72);
  t.same(Array.from(again), Array.from(v6), 'encodeEntry6 writes the same bytes');
  t.throws(() => encodeEntry6({ ...want, daddr: '10.0.0.1' }, again, 0), /must be IPv6/);
  t.end();
});

t.test('IPv6 entries are skipped, IPv4 ones after them still decoded', (t) => {
  const v6 = new Uint8Array(72);
  v6[0] = 1; // STYPE_F_INET6
  v6[1] = IPPROTO_TCP;
  v6[3] = 72;
  const four = encode({ syncid: 3, conns: [conn] }).subarray(8);
  const msg = new Uint8Array(8 + 72 + 36);
  msg.set([0, 3, 0, msg.length, 2, 1, 0, 0]);
  msg.set(v6, 8);
  msg.set(four, 80);
  const d = decode(msg);
  t.equal(d.skippedIpv6, 1);
  t.same(d.conns, [conn]);
  t.end();
});

t.test('encode validates its input', (t) => {
  t.throws(() => encode({ syncid: 256, conns: [] }), /syncid/);
  t.throws(() => encode({ syncid: 1, conns: [{ ...conn, cport: 65536 }] }), /cport/);
  t.throws(() => encode({ syncid: 1, conns: [{ ...conn, peName: 'x' }] }), /together with PE data/);
  t.throws(() => encode({ syncid: 1, conns: new Array<SyncConnEntry>(256).fill(conn) }), /255 connections/);
  t.end();
});
