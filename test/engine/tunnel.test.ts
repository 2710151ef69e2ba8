/**
 * Tunnel mode (ipvsadm -i): IPIP encapsulation as ip_vs_tunnel_xmit does it
 * (docs/ipvs-behaviour.md §4.5). The expected frames are written out byte by byte from
 * RFC 2003 §3.1 (outer header) and RFC 791 (header layout); their checksums were worked
 * out with the RFC 1071 sum and are checked again below with an independent sum, so
 * nothing here comes from the encoder under test.
 */
import t, { type Test } from 'tap';
import { oneArm, MAC, IP, destSpec, svcSpec, ip } from '../helpers/lab-engine.js';
import { icmpFrame, quote, tcpFrame, udpFrame } from '../../src/packet/builder.js';
import * as tcp from '../../src/packet/tcp.js';
import * as icmp from '../../src/packet/icmp.js';
import * as l4 from '../../src/packet/l4.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import { FWD_TUNNEL } from '../../src/dataplane/model.js';
import { DROP, V_DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import { outerTos, writeIpip } from '../../src/dataplane/tunnel.js';
import { OFL_CSUM_PARTIAL, OFL_GSO_TCPV4, OFL_GSO_UDP_L4, OFL_KNOWN, OFL_SIZE_SHIFT } from '../../src/packet/offload.js';
import { Engine } from '../../src/dataplane/engine.js';
import { ServiceRegistry, RegistryError } from '../../src/control/service-registry.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { parseMac } from '../../src/packet/addr.js';
import { PROTO_UDP } from '../../src/packet/ipv4.js';
import { ControlSession } from '../../src/control/session.js';
import { RateEstimator } from '../../src/control/estimator.js';
import { syncFlags } from '../../src/ha/sync-codec.js';
import { CF_NOOUTPUT } from '../../src/table/conn-table.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** RFC 1071 sum over b[from, to), independent of src/packet/checksum.ts. */
function rfc1071(b: Uint8Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i += 2) s += (b[i]! << 8) | (i + 1 < to ? b[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

const client = { srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip };
const tunnelOnly = () => oneArm({}, {}, [destSpec(IP.rs1, { fwd: FWD_TUNNEL })]);

// A SYN from 198.51.100.10:40001 to the VIP 10.0.0.127:80, DF, TTL 64, ID 0x1234.
const SYN_IN = hex(`
  02 00 00 00 00 02  02 00 00 00 00 01  08 00
  45 00 00 28  12 34 40 00  40 06 f3 df  c6 33 64 0a  0a 00 00 7f
  9c 41 00 50  00 00 00 05  00 00 00 00  50 02 72 10  6c 7f 00 00`);

// What tunnel mode sends to rs1 (10.0.0.185, MAC 02:00:00:00:01:85) from the director's
// 10.0.0.2: outer version 4, IHL 5, TOS 0, total 60 = 40 + 20, ID 0 (DF set), DF copied,
// TTL 63 (the inner TTL, decremented), protocol 4; the inner packet with TTL 63 and its
// header checksum fixed (f3df + 0x0100 = f4df), everything else as received.
const SYN_OUT = hex(`
  02 00 00 00 01 85  02 00 00 00 00 02  08 00
  45 00 00 3c  00 00 40 00  3f 04 27 04  0a 00 00 02  0a 00 00 b9
  45 00 00 28  12 34 40 00  3f 06 f4 df  c6 33 64 0a  0a 00 00 7f
  9c 41 00 50  00 00 00 05  00 00 00 00  50 02 72 10  6c 7f 00 00`);

t.test('the hand-built frames are consistent (RFC 1071 sums of every header are zero)', async (t) => {
  t.equal(rfc1071(SYN_IN, 14, 34), 0, 'inner IP header in');
  t.equal(rfc1071(SYN_OUT, 14, 34), 0, 'outer IP header');
  t.equal(rfc1071(SYN_OUT, 34, 54), 0, 'inner IP header out');
  t.ok(l4.verifyChecksum(SYN_IN, 14), 'TCP checksum');
});

t.test('a SYN to a tunnel server leaves byte for byte as the hand-built IPIP frame', async (t) => {
  const { engine } = tunnelOnly();
  const f = Buffer.from(SYN_IN);
  t.equal(engine.process(f, f.length, 0, 0), V_EMIT);
  t.equal(engine.verdict.buf, engine.scratch, 'sent from the scratch buffer');
  t.equal(engine.verdict.len, SYN_OUT.length, 'the frame grew by 20 bytes');
  t.same(Buffer.from(engine.verdict.buf.subarray(0, engine.verdict.len)).toString('hex'), SYN_OUT.toString('hex'));
  t.equal(engine.verdict.offload, -1, 'complete checksums, plain vnet header');
  t.equal(engine.verdict.iface, 0);
  t.equal(engine.ipip.packets, 1);
});

t.test('writeIpip: non-DF packet, CE mark, given ID (hand-built expected frame)', async (t) => {
  // UDP 198.51.100.10:40002 -> 10.0.0.127:53 "hi\n", TOS 0xbb (DSCP 46, ECN CE), no DF, TTL 5.
  const inner = hex(`
    02 00 00 00 00 02  02 00 00 00 00 01  08 00
    45 bb 00 1f  0a bc 00 00  05 11 75 9b  c6 33 64 0a  0a 00 00 7f
    9c 42 00 35  00 0b bc 3a  68 69 0a`);
  // Outer: TOS 0xba (CE becomes ECT(0), RFC 6040 normal mode), total 51, ID 0x0101, no DF,
  // TTL 5, protocol 4, 10.0.0.2 -> 10.0.0.185. The L2 header is copied as it came.
  const expected = hex(`
    02 00 00 00 00 02  02 00 00 00 00 01  08 00
    45 ba 00 33  01 01 00 00  05 04 9f 52  0a 00 00 02  0a 00 00 b9
    45 bb 00 1f  0a bc 00 00  05 11 75 9b  c6 33 64 0a  0a 00 00 7f
    9c 42 00 35  00 0b bc 3a  68 69 0a`);
  t.equal(rfc1071(expected, 14, 34), 0);
  const out = new Uint8Array(128);
  const len = writeIpip(out, inner, 14, inner.length - 14, ip('10.0.0.2'), ip(IP.rs1), 0x0101);
  t.equal(len, expected.length);
  t.same(Buffer.from(out.subarray(0, len)).toString('hex'), expected.toString('hex'));
  t.equal(writeIpip(new Uint8Array(60), inner, 14, inner.length - 14, 1, 2, 0), -1, 'a buffer too small is refused, not overrun');
});

t.test('outer TOS: ECN copied, CE becomes ECT(0) (INET_ECN_encapsulate)', async (t) => {
  t.same([0x00, 0x01, 0x02, 0x03, 0xb8, 0xbb, 0xff].map(outerTos), [0x00, 0x01, 0x02, 0x02, 0xb8, 0xba, 0xfe]);
});

t.test('outer ID: 0 with DF, a counter without it', async (t) => {
  const ids: number[] = [];
  const { engine: e2 } = oneArm({}, { proto: PROTO_UDP, port: 53 }, [destSpec(IP.rs1, { fwd: FWD_TUNNEL, port: 53 })]);
  for (let i = 0; i < 3; i++) {
    const f = udpFrame({ ...client, sport: 41000 + i, dport: 53, payload: Buffer.from('x'), frag: i === 0 ? ipv4.FLAG_DF : 0 });
    t.equal(e2.process(f, f.length, 0, 0), V_EMIT);
    const o = e2.verdict.buf;
    ids.push((o[18]! << 8) | o[19]!);
    t.equal(o[20]! & 0x40, i === 0 ? 0x40 : 0, 'DF copied');
    t.equal(o[23], 4, 'protocol 4');
    t.ok(l4.verifyChecksum(o, 34), 'inner UDP checksum intact');
  }
  t.same(ids, [0, 1, 2]);
});

t.test('MTU: the tunnel takes 20 bytes; DF packets that no longer fit get frag-needed with MTU 1480', async (t) => {
  const { engine } = tunnelOnly();
  const syn = tcpFrame({ ...client, sport: 40010, dport: 80, flags: tcp.SYN, frag: ipv4.FLAG_DF });
  t.equal(engine.process(syn, syn.length, 0, 0), V_EMIT);
  // 1480 bytes of IP: fits (1500 with the outer header).
  const fits = tcpFrame({ ...client, sport: 40010, dport: 80, flags: tcp.ACK, frag: ipv4.FLAG_DF, payload: Buffer.alloc(1440, 1) });
  t.equal(engine.process(fits, fits.length, 0, 1), V_EMIT);
  t.equal(engine.verdict.len, 14 + 1500);
  // 1481: too big once encapsulated. DF: ICMP 3/4 back to the client with next-hop MTU 1480.
  const big = tcpFrame({ ...client, sport: 40010, dport: 80, flags: tcp.ACK, frag: ipv4.FLAG_DF, payload: Buffer.alloc(1441, 1) });
  t.equal(engine.process(big, big.length, 0, 2), V_EMIT);
  const o = engine.verdict.buf;
  t.same([o[23], o[34], o[35]], [ipv4.PROTO_ICMP, icmp.DEST_UNREACH, icmp.CODE_FRAG_NEEDED]);
  t.equal((o[40]! << 8) | o[41]!, 1480, 'MTU field = egress MTU - 20');
  t.equal(ipv4.decode(o, 14).dst, IP.client);
  t.equal(engine.counters.drops[DROP.oversize], 1, 'counted');
  // Without DF the kernel would fragment the outer packet; the engine does not fragment: dropped, counted.
  const noDf = tcpFrame({ ...client, sport: 40010, dport: 80, flags: tcp.ACK, frag: 0, payload: Buffer.alloc(1441, 1) });
  t.equal(engine.process(noDf, noDf.length, 0, 3), V_DROP);
  t.equal(engine.counters.drops[DROP.oversize], 2);
});

t.test('TTL 1: ICMP time exceeded to the client, nothing tunnelled', async (t) => {
  const { engine } = tunnelOnly();
  const f = tcpFrame({ ...client, sport: 40011, dport: 80, flags: tcp.SYN, ttl: 1 });
  t.equal(engine.process(f, f.length, 0, 0), V_EMIT);
  t.same([engine.verdict.buf[23], engine.verdict.buf[34]], [ipv4.PROTO_ICMP, icmp.TIME_EXCEEDED]);
  t.equal(engine.ipip.packets, 0);
});

/** Make a frame's TCP checksum partial: the field holds the folded pseudo-header sum. */
function makePartial(f: Buffer): Buffer {
  const len = f.readUInt16BE(16) - 20;
  let s = f.readUInt16BE(26) + f.readUInt16BE(28) + f.readUInt16BE(30) + f.readUInt16BE(32) + 6 + len;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  f.writeUInt16BE(s, 50);
  return f;
}

t.test('a partial checksum is completed before encapsulation and the frame leaves complete', async (t) => {
  const { engine } = tunnelOnly();
  const syn = tcpFrame({ ...client, sport: 40012, dport: 80, flags: tcp.SYN });
  engine.process(syn, syn.length, 0, 0);
  const f = makePartial(tcpFrame({ ...client, sport: 40012, dport: 80, flags: tcp.ACK | tcp.PSH, payload: Buffer.from('GET / HTTP/1.0\r\n\r\n') }));
  t.notOk(l4.verifyChecksum(f, 14), 'partial: not a valid checksum yet');
  t.equal(engine.process(f, f.length, 0, 1, OFL_KNOWN | OFL_CSUM_PARTIAL), V_EMIT);
  t.equal(engine.verdict.offload, -1, 'no NEEDS_CSUM in the vnet header');
  t.ok(l4.verifyChecksum(engine.verdict.buf, 34), 'inner TCP checksum complete and valid');
  t.equal(engine.counters.partialCompleted, 1);
});

/** The IP packet inside an IPIP frame, checked: outer header valid, protocol 4, lengths consistent. */
function innerOf(t: Test, f: Uint8Array, len: number): Buffer {
  const o = Buffer.from(f.subarray(0, len));
  t.equal(rfc1071(o, 14, 34), 0, 'outer header checksum');
  t.equal(o[23], 4, 'protocol 4');
  t.equal(o.readUInt16BE(16), len - 14, 'outer total length');
  t.equal(o.readUInt16BE(36), len - 34, 'inner total length');
  t.equal(rfc1071(o, 34, 54), 0, 'inner header checksum');
  t.ok(l4.verifyChecksum(o, 34), 'inner L4 checksum complete and valid');
  return o.subarray(34);
}

t.test('GSO TCP super-frame: sent whole when it fits, else segmented in software (seq, flags, IDs, checksums)', async (t) => {
  const { engine } = tunnelOnly();
  const syn = tcpFrame({ ...client, sport: 40013, dport: 80, flags: tcp.SYN });
  engine.process(syn, syn.length, 0, 0);
  const part = OFL_KNOWN | OFL_CSUM_PARTIAL | OFL_GSO_TCPV4;
  // Two GRO-merged segments that fit: sent as one ordinary packet, checksum completed.
  const small = makePartial(tcpFrame({ ...client, sport: 40013, dport: 80, flags: tcp.ACK, payload: Buffer.alloc(600, 3) }));
  t.equal(engine.process(small, small.length, 0, 1, part | (300 << OFL_SIZE_SHIFT)), V_EMIT);
  t.equal(engine.verdict.offload, -1);
  t.equal(engine.pending.ready, 0, 'one packet, nothing queued');
  t.ok(l4.verifyChecksum(engine.verdict.buf, 34));
  // 4 x 1400 bytes + 100 with FIN|PSH|CWR, ID 0x0100: five segments.
  const payload = Buffer.alloc(1400 * 4 + 100);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  const big = makePartial(tcpFrame({
    ...client, sport: 40013, dport: 80, flags: tcp.ACK | tcp.PSH | tcp.FIN | 0x80, seq: 0xfffff000, ack: 9, id: 0x0100, payload,
  }));
  t.equal(engine.process(big, big.length, 0, 2, part | (1400 << OFL_SIZE_SHIFT)), V_EMIT);
  t.equal(engine.pending.ready, 4, 'segments 1..4 wait ready for the I/O edge');
  const segs: Buffer[] = [Buffer.from(innerOf(t, engine.verdict.buf, engine.verdict.len))];
  t.equal(engine.verdict.offload, -1);
  while (engine.takeQueued() >= 0) {
    t.equal(engine.verdict.offload, -1, 'complete, plain vnet header');
    t.equal(Buffer.from(engine.verdict.buf.subarray(0, 6)).toString('hex'), '020000000185', 'to the server MAC');
    segs.push(Buffer.from(innerOf(t, engine.verdict.buf, engine.verdict.len)));
  }
  t.equal(segs.length, 5);
  t.same(segs.map((s) => s.readUInt16BE(2) - 40), [1400, 1400, 1400, 1400, 100], 'payload sizes');
  t.same(segs.map((s) => s.readUInt16BE(4)), [0x100, 0x101, 0x102, 0x103, 0x104], 'IP ID + k');
  t.same(segs.map((s) => s.readUInt32BE(24)), [0xfffff000, 0xfffff578, 0xfffffaf0, 0x68, 0x5e0], 'sequence numbers (wrapping)');
  t.same(segs.map((s) => s[33]), [0x90, 0x10, 0x10, 0x10, 0x19], 'CWR on the first only, FIN|PSH on the last only');
  t.same(segs.map((s) => s[8]), [63, 63, 63, 63, 63], 'TTL decremented once each');
  t.same(Buffer.concat(segs.map((s) => s.subarray(40))).toString('hex'), payload.toString('hex'), 'the bytes, in order');
  t.equal(engine.ipip.segmented, 1);
  t.equal(engine.counters.neighFlushed, 0, 'not counted as frames that waited for ARP');
  t.equal(engine.counters.drops[DROP.tunnel_gso], 0);
  // A segment above the tunnel MTU with DF: frag-needed, as the kernel checks one segment.
  const seg = makePartial(tcpFrame({ ...client, sport: 40013, dport: 80, flags: tcp.ACK, frag: ipv4.FLAG_DF, payload: Buffer.alloc(1460 * 3, 4) }));
  t.equal(engine.process(seg, seg.length, 0, 3, part | (1460 << OFL_SIZE_SHIFT)), V_EMIT);
  t.same([engine.verdict.buf[34], engine.verdict.buf[35]], [icmp.DEST_UNREACH, icmp.CODE_FRAG_NEEDED]);
});

t.test('GSO UDP super-frame (several datagrams) is cut into datagrams, never merged', async (t) => {
  const { engine } = oneArm({}, { proto: PROTO_UDP, port: 53 }, [destSpec(IP.rs1, { fwd: FWD_TUNNEL, port: 53 })]);
  const payload = Buffer.alloc(450);
  for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
  const f = udpFrame({ ...client, sport: 41100, dport: 53, payload });
  t.equal(engine.process(f, f.length, 0, 0, OFL_KNOWN | OFL_CSUM_PARTIAL | OFL_GSO_UDP_L4 | (200 << OFL_SIZE_SHIFT)), V_EMIT);
  const segs: Buffer[] = [Buffer.from(innerOf(t, engine.verdict.buf, engine.verdict.len))];
  while (engine.takeQueued() >= 0) segs.push(Buffer.from(innerOf(t, engine.verdict.buf, engine.verdict.len)));
  t.same(segs.map((s) => s.readUInt16BE(24)), [208, 208, 58], 'UDP lengths');
  t.same(Buffer.concat(segs.map((s) => s.subarray(28))).toString('hex'), payload.toString('hex'));
});

t.test('GSO segments that find no free queue slot are dropped and counted (tunnel_gso)', async (t) => {
  const { engine } = tunnelOnly();
  const syn = tcpFrame({ ...client, sport: 40016, dport: 80, flags: tcp.SYN });
  engine.process(syn, syn.length, 0, 0);
  const big = makePartial(tcpFrame({ ...client, sport: 40016, dport: 80, flags: tcp.ACK, payload: Buffer.alloc(100 * 300, 1) }));
  t.equal(engine.process(big, big.length, 0, 1, OFL_KNOWN | OFL_CSUM_PARTIAL | OFL_GSO_TCPV4 | (100 << OFL_SIZE_SHIFT)), V_EMIT);
  t.equal(engine.pending.ready, engine.pending.slots, 'the queue is full');
  t.equal(engine.counters.drops[DROP.tunnel_gso], 299 - engine.pending.slots);
});

t.test('tunnel entries are input-only like DR: NOOUTPUT, no reverse entry, end in FIN_WAIT', async (t) => {
  const { engine } = tunnelOnly();
  const d = engine.services[0]!.dests[0]!;
  t.equal(d.port, 80);
  for (const flags of [tcp.SYN, tcp.ACK, tcp.FIN | tcp.ACK]) {
    const f = tcpFrame({ ...client, sport: 40014, dport: 80, flags });
    t.equal(engine.process(f, f.length, 0, 0), V_EMIT);
  }
  const e = engine.table.findForward(6, ip(IP.client), 40014, ip(IP.vip), 80, false);
  t.equal(engine.table.state[e], 4, 'FIN_WAIT');
  t.same([d.activeConns, d.inactConns], [0, 1]);
  t.equal(engine.table.findReverse(6, ip(IP.rs1), 80, ip(IP.client), 40014), -1);
  t.equal(d.stats.outPkts, 0);
  t.equal(d.stats.inPkts, 3);
});

t.test('unknown next hop: the encapsulated copy waits for ARP and leaves complete', async (t) => {
  const { engine } = tunnelOnly();
  const n = engine.services[0]!.dests[0]!.neigh;
  engine.neigh.valid[n] = 0;
  const f = Buffer.from(SYN_IN);
  t.equal(engine.process(f, f.length, 0, 0), V_EMIT, 'the ARP request goes out');
  t.equal(engine.counters.neighQueued, 1);
  engine.neigh.set(n, parseMac(MAC.rs1)!, 1);
  engine.pending.release(n);
  t.ok(engine.takeQueued() >= 0);
  t.equal(engine.verdict.offload, -1);
  t.same(Buffer.from(engine.verdict.buf.subarray(0, engine.verdict.len)).toString('hex'), SYN_OUT.toString('hex'));
});

t.test('ICMP error from the client about a tunnelled connection is tunnelled to the server', async (t) => {
  const { engine } = tunnelOnly();
  const syn = tcpFrame({ ...client, sport: 40015, dport: 80, flags: tcp.SYN });
  engine.process(syn, syn.length, 0, 0);
  // The server's reply VIP:80 -> client:40015 (sent directly), quoted in the client router's error.
  const reply = tcpFrame({ srcMac: MAC.rs1, dstMac: MAC.router, src: IP.vip, dst: IP.client, sport: 80, dport: 40015, flags: tcp.SYN | tcp.ACK });
  const err = icmpFrame({ ...client, type: icmp.DEST_UNREACH, code: icmp.CODE_FRAG_NEEDED, rest: 1400, payload: quote(reply) });
  const before = Buffer.from(err.subarray(14));
  t.equal(engine.process(err, err.length, 0, 1), V_EMIT);
  const o = engine.verdict.buf;
  t.equal(o[23], 4, 'IPIP');
  t.equal(ipv4.decode(o, 14).dst, IP.rs1);
  const inner = Buffer.from(o.subarray(34, engine.verdict.len));
  t.equal(inner[8], before[8]! - 1, 'TTL decremented');
  inner[8] = before[8]!;
  inner.writeUInt16BE(before.readUInt16BE(10), 10);
  t.same(inner.toString('hex'), before.toString('hex'), 'otherwise carried unchanged (no NAT rewrite)');
});

t.test('one-packet scheduling (-o) to a tunnel server', async (t) => {
  const { engine } = oneArm({}, { proto: PROTO_UDP, port: 53, ops: true }, [destSpec(IP.rs1, { fwd: FWD_TUNNEL, port: 53 })]);
  const f = udpFrame({ ...client, sport: 41200, dport: 53, payload: Buffer.from('q') });
  t.equal(engine.process(f, f.length, 0, 0), V_EMIT);
  t.equal(engine.verdict.buf[23], 4);
  t.equal(ipv4.decode(engine.verdict.buf, 34).dst, IP.vip, 'inner destination stays the VIP');
  t.equal(engine.table.count, 0, 'no entry kept');
});

t.test('rules: the tunnel source is the egress interface address; none -> refused; port forced', async (t) => {
  const engine = new Engine({ ifaces: [{ name: 'eth9', mac: parseMac(MAC.lb)!, mtu: 1500, ip: 0 }], maxConns: 64 });
  const registry = new ServiceRegistry(engine, new RoutingTable([{ dst: ip('10.0.0.0'), prefixLen: 24, iface: 0, gateway: 0 }]));
  registry.addService(svcSpec());
  let err: unknown = null;
  try {
    registry.addDest(svcSpec(), destSpec(IP.rs1, { fwd: FWD_TUNNEL }));
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof RegistryError, 'a RegistryError');
  t.match((err as Error).message, /eth9 has no IPv4 address/);
  t.equal(engine.dests.filter((d) => d !== null).length, 0, 'nothing half-added');
  const { registry: r2, engine: e2 } = tunnelOnly();
  r2.addDest(svcSpec(), destSpec(IP.rs2, { fwd: FWD_TUNNEL, port: 8080 }));
  t.equal(e2.services[0]!.dests[0]!.port, 80, 'ipvsadm forces the port for -i');
});

t.test('ipvsadm: -i is accepted, listed as Tunnel, saved as -i --tun-type ipip; gue is refused', async (t) => {
  const { registry } = oneArm({}, {}, []);
  const s = new ControlSession(registry, new RateEstimator(), {}, () => {}, () => 0);
  t.equal(s.run(['-a', '-t', '10.0.0.127:80', '-r', '10.0.0.185', '-i', '-w', '2']).status, 0);
  t.match(s.run(['-L', '-n']).stdout, / {2}-> 10\.0\.0\.185:80 +Tunnel {2}2 /);
  t.match(s.run(['-L', '-n', '--tun-info']).stdout, /Tunnel {2}ipip +2 /);
  t.match(s.run(['-S', '-n']).stdout, /-a -t 10\.0\.0\.127:80 -r 10\.0\.0\.185:80 -i -w 2 --tun-type ipip\n/);
  const gue = s.run(['-a', '-t', '10.0.0.127:80', '-r', '10.0.0.86', '-i', '--tun-type', 'gue', '--tun-port', '6080']);
  t.not(gue.status, 0);
  t.match(gue.stderr, /gue is not supported/);
});

t.test('sync: tunnel entries go out with IP_VS_CONN_F_TUNNEL and come back input-only', async (t) => {
  t.equal(syncFlags(FWD_TUNNEL, 0) & 7, 2, 'IP_VS_CONN_F_TUNNEL');
  const { engine } = tunnelOnly();
  t.ok(engine.syncConn({
    proto: 6, caddr: ip(IP.client), cport: 40100, vaddr: ip(IP.vip), vport: 80, daddr: ip(IP.rs1), dport: 80,
    state: 1, template: false, timeoutMs: 900_000,
  }, 0));
  const e = engine.table.findForward(6, ip(IP.client), 40100, ip(IP.vip), 80, false);
  t.ok(engine.table.flags[e]! & CF_NOOUTPUT, 'NOOUTPUT');
  t.equal(engine.table.findReverse(6, ip(IP.rs1), 80, ip(IP.client), 40100), -1, 'not hashed for replies');
  const f = tcpFrame({ ...client, sport: 40100, dport: 80, flags: tcp.ACK });
  t.equal(engine.process(f, f.length, 0, 1), V_EMIT, 'the backup tunnels the flow after takeover');
  t.equal(engine.verdict.buf[23], 4);
});
