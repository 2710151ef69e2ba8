/**
 * Offload state (CHECKSUM_PARTIAL, GSO) through the engine. Expected values come from the
 * checksum rules themselves (RFC 1071 one's-complement sums, written out here), not from
 * the engine's helpers: a partial field must hold the folded pseudo-header sum of the
 * rewritten header, and completing it as a device would (sum the segment from csum_start
 * with that seed in the field, invert) must give the checksum a full recomputation gives.
 */
import t from 'tap';
import { oneArm, MAC, IP, destSpec } from '../helpers/lab-engine.js';
import { tcpFrame, udpFrame } from '../../src/packet/builder.js';
import * as tcp from '../../src/packet/tcp.js';
import { FWD_DR, FWD_FNAT } from '../../src/dataplane/model.js';
import { DROP, V_DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import { PROTO_UDP } from '../../src/packet/ipv4.js';
import { OFL_CSUM_PARTIAL, OFL_GSO_TCPV4, OFL_KNOWN, OFL_SIZE_SHIFT } from '../../src/packet/offload.js';

const client = { srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip };
const RING_PARTIAL = OFL_KNOWN | OFL_CSUM_PARTIAL;

// --- independent one's-complement arithmetic (RFC 1071) --------------------------------
function sum(b: Uint8Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i + 1 < to; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if ((to - from) & 1) s += b[to - 1]! << 8;
  return s;
}
function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}
function pseudo(b: Uint8Array, proto: number): number {
  const l4len = ((b[16]! << 8) | b[17]!) - 20;
  return sum(b, 26, 34) + proto + l4len;
}
const csumAt = (proto: number) => 34 + (proto === 6 ? 16 : 6);
/** Make a frame's checksum partial, as a sender with tx checksum offload leaves it. */
function makePartial(f: Buffer, proto: number): Buffer {
  const at = csumAt(proto);
  f[at] = 0;
  f[at + 1] = 0;
  const seed = fold(pseudo(f, proto));
  f[at] = seed >> 8;
  f[at + 1] = seed & 0xff;
  return f;
}
/** What the device does with a partial frame: sum from csum_start (the L4 header) with the seed in place, invert. */
function complete(out: Uint8Array, proto: number, len: number): number {
  return ~fold(sum(out, 34, len)) & 0xffff;
}
/** A full recomputation: field zeroed, pseudo-header + segment, inverted. */
function full(out: Uint8Array, proto: number, len: number): number {
  const c = Buffer.from(out.subarray(0, len));
  const at = csumAt(proto);
  c[at] = 0;
  c[at + 1] = 0;
  return ~fold(pseudo(c, proto) + sum(c, 34, len)) & 0xffff;
}
const field = (b: Uint8Array, proto: number) => (b[csumAt(proto)]! << 8) | b[csumAt(proto) + 1]!;
const u32 = (b: Uint8Array, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

t.test('NAT, partial TCP checksum from a ring port: only the pseudo-header part is updated', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1)]);
  const f = makePartial(tcpFrame({ ...client, sport: 40000, dport: 80, flags: tcp.SYN, payload: Buffer.from('hello, partial world') }), 6);
  t.equal(engine.process(f, f.length, 0, 0, RING_PARTIAL), V_EMIT);
  const out = engine.verdict.buf.subarray(0, engine.verdict.len);
  t.equal(u32(out, 30), IP.rs1);
  t.equal(field(out, 6), fold(pseudo(out, 6)), 'the field is the seed of the rewritten pseudo-header');
  t.equal(complete(out, 6, engine.verdict.len), full(out, 6, engine.verdict.len), 'completed as a device would, it equals a full recomputation');
  t.equal(engine.verdict.offload & OFL_CSUM_PARTIAL, OFL_CSUM_PARTIAL, 'the frame goes out still partial (vnet header kept)');
  t.equal(engine.counters.partialFrames, 1);
  t.equal(engine.counters.partialCompleted, 0);
});

t.test('NAT reply and full-NAT, partial checksums: both directions, both ends', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1, { fwd: FWD_FNAT })]);
  engine.fnat.configure([(10 << 24) | 250], 5000, 5010, 0, 1);
  const syn = makePartial(tcpFrame({ ...client, sport: 40001, dport: 80, flags: tcp.SYN }), 6);
  t.equal(engine.process(syn, syn.length, 0, 0, RING_PARTIAL), V_EMIT);
  let out = engine.verdict.buf.subarray(0, engine.verdict.len);
  t.same([u32(out, 26), u32(out, 30)], ['10.0.0.250', IP.rs1]);
  t.equal(complete(out, 6, engine.verdict.len), full(out, 6, engine.verdict.len));
  const lport = (out[34]! << 8) | out[35]!;
  const reply = makePartial(tcpFrame({ srcMac: MAC.rs1, dstMac: MAC.lb, src: IP.rs1, dst: '10.0.0.250', sport: 80, dport: lport, flags: tcp.SYN | tcp.ACK, payload: Buffer.from('x') }), 6);
  t.equal(engine.process(reply, reply.length, 0, 1, RING_PARTIAL), V_EMIT);
  out = engine.verdict.buf.subarray(0, engine.verdict.len);
  t.same([u32(out, 26), u32(out, 30)], [IP.vip, IP.client]);
  t.equal(field(out, 6), fold(pseudo(out, 6)));
  t.equal(complete(out, 6, engine.verdict.len), full(out, 6, engine.verdict.len));
});

t.test('NAT, partial UDP checksum', async (t) => {
  const { engine } = oneArm({}, { proto: PROTO_UDP, port: 53 }, [destSpec(IP.rs2, { port: 5353 })]);
  const q = makePartial(udpFrame({ ...client, sport: 33333, dport: 53, payload: Buffer.from('query!!') }), 17);
  t.equal(engine.process(q, q.length, 0, 0, RING_PARTIAL), V_EMIT);
  const out = engine.verdict.buf.subarray(0, engine.verdict.len);
  t.same([u32(out, 30), (out[36]! << 8) | out[37]!], [IP.rs2, 5353]);
  t.equal(field(out, 17), fold(pseudo(out, 17)));
  t.equal(complete(out, 17, engine.verdict.len), full(out, 17, engine.verdict.len));
});

t.test('DR leaves a partial checksum alone and sends it on partial', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1, { fwd: FWD_DR })]);
  const f = makePartial(tcpFrame({ ...client, sport: 40002, dport: 80, flags: tcp.SYN }), 6);
  const seed = field(f, 6);
  t.equal(engine.process(f, f.length, 0, 0, RING_PARTIAL), V_EMIT);
  const out = engine.verdict.buf.subarray(0, engine.verdict.len);
  t.equal(field(out, 6), seed);
  t.equal(complete(out, 6, engine.verdict.len), full(out, 6, engine.verdict.len));
  t.equal(engine.verdict.offload & OFL_CSUM_PARTIAL, OFL_CSUM_PARTIAL);
});

t.test('pcap backend (offload unknown): a partial checksum is detected and completed, NAT and DR', async (t) => {
  for (const fwd of [undefined, FWD_DR]) {
    const { engine } = oneArm({}, {}, [destSpec(IP.rs1, fwd === undefined ? {} : { fwd })]);
    const f = makePartial(tcpFrame({ ...client, sport: 40003, dport: 80, flags: tcp.SYN, payload: Buffer.from('abc') }), 6);
    t.equal(engine.process(f, f.length, 0, 0), V_EMIT);
    const out = engine.verdict.buf.subarray(0, engine.verdict.len);
    t.equal(field(out, 6), full(out, 6, engine.verdict.len), `${fwd === FWD_DR ? 'DR' : 'NAT'}: a complete, correct checksum`);
    t.equal(engine.counters.partialCompleted, 1);
  }
  const { engine } = oneArm();
  const ok = tcpFrame({ ...client, sport: 40004, dport: 80, flags: tcp.SYN });
  engine.process(ok, ok.length, 0, 0);
  t.equal(engine.counters.partialCompleted, 0, 'a complete checksum is not touched');
});

t.test('GSO super-frame from a ring port: forwarded whole when one segment fits the MTU', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1)]);
  const syn = tcpFrame({ ...client, sport: 40005, dport: 80, flags: tcp.SYN });
  engine.process(syn, syn.length, 0, 0);
  const payload = Buffer.alloc(1448 * 10, 0x61);
  const big = makePartial(tcpFrame({ ...client, sport: 40005, dport: 80, flags: tcp.ACK, payload }), 6);
  const gso = RING_PARTIAL | OFL_GSO_TCPV4 | (1448 << OFL_SIZE_SHIFT); // 20 + 20 + 1448 = 1488 <= 1500
  t.equal(engine.process(big, big.length, 0, 1, gso), V_EMIT);
  t.equal(engine.verdict.len, big.length, 'not cut');
  const out = engine.verdict.buf.subarray(0, engine.verdict.len);
  t.equal(u32(out, 30), IP.rs1);
  t.equal(complete(out, 6, engine.verdict.len), full(out, 6, engine.verdict.len));
  t.equal(engine.verdict.offload, gso, 'the GSO state goes out with it');
  t.equal(engine.counters.gsoFrames, 1);
  const tooBig = makePartial(tcpFrame({ ...client, sport: 40005, dport: 80, flags: tcp.ACK, payload }), 6);
  const gso2 = RING_PARTIAL | OFL_GSO_TCPV4 | (1470 << OFL_SIZE_SHIFT); // 1510 > 1500
  t.equal(engine.process(tooBig, tooBig.length, 0, 2, gso2), V_EMIT, 'frag needed for a segment above the MTU');
  t.same([engine.verdict.buf[34], engine.verdict.buf[35]], [3, 4]);
  t.equal((engine.verdict.buf[40]! << 8) | engine.verdict.buf[41]!, 1500);
});

t.test('pcap backend: a super-frame cannot be sent whole: dropped, counted, no ICMP', async (t) => {
  const { engine } = oneArm();
  const big = tcpFrame({ ...client, sport: 40006, dport: 80, flags: tcp.ACK, payload: Buffer.alloc(8000) });
  t.equal(engine.process(big, big.length, 0, 0), V_DROP);
  t.equal(engine.counters.drops[DROP.oversize], 1);
  t.equal(engine.counters.superFramesDropped, 1);
  t.equal(engine.counters.superFrameIface, 0);
  t.equal(engine.counters.icmpSent, 0);
});
