import t from 'tap';
import { oneArm, MAC, IP, destSpec, svcSpec, ip } from '../helpers/lab-engine.js';
import { arpFrame, icmpFrame, quote, tcpFrame, udpFrame } from '../../src/packet/builder.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import * as udp from '../../src/packet/udp.js';
import * as eth from '../../src/packet/ethernet.js';
import * as arp from '../../src/packet/arp.js';
import * as icmp from '../../src/packet/icmp.js';
import * as l4 from '../../src/packet/l4.js';
import { checksum } from '../../src/packet/checksum.js';
import { FWD_DR } from '../../src/dataplane/model.js';
import { DROP, V_CONSUMED, V_DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import { PROTO_UDP } from '../../src/packet/ipv4.js';
import { OFL_KNOWN } from '../../src/packet/offload.js';

const client = { srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip };

t.test('DR: only the MACs, the TTL and the IP checksum change (every other byte identical)', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1, { fwd: FWD_DR })]);
  const f = tcpFrame({ ...client, sport: 40001, dport: 80, flags: tcp.SYN, seq: 5, ttl: 64, payload: Buffer.from('x') });
  const orig = Buffer.from(f);
  t.equal(engine.process(f, f.length, 0, 0), V_EMIT);
  const out = Buffer.from(engine.verdict.buf.subarray(0, engine.verdict.len));
  t.equal(out.length, orig.length);
  const changed: number[] = [];
  for (let i = 0; i < out.length; i++) if (out[i] !== orig[i]) changed.push(i);
  const allowed = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14 + 8, 14 + 10, 14 + 11]);
  t.same(changed.filter((i) => !allowed.has(i)), [], 'nothing beyond MACs, TTL, IP checksum');
  t.equal(eth.decode(out).dst, MAC.rs1);
  t.equal(eth.decode(out).src, MAC.lb);
  t.equal(ipv4.decode(out, 14).ttl, 63);
  t.ok(ipv4.verifyHeader(out, 14, 20));
  t.equal(ipv4.decode(out, 14).dst, IP.vip, 'destination stays the VIP');
  t.ok(l4.verifyChecksum(out, 14), 'L4 checksum untouched and valid');
});

t.test('DR connections use the input-only table and end in FIN_WAIT; no reverse entry', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1, { fwd: FWD_DR })]);
  const d = engine.services[0]!.dests[0]!;
  const send = (flags: number) => {
    const f = tcpFrame({ ...client, sport: 40002, dport: 80, flags });
    return engine.process(f, f.length, 0, 0);
  };
  send(tcp.SYN);
  t.same([d.activeConns, d.inactConns], [1, 0], 'SYN_RECV counts as active');
  send(tcp.ACK);
  send(tcp.FIN | tcp.ACK);
  t.same([d.activeConns, d.inactConns], [0, 1], 'FIN_WAIT is inactive');
  const e = engine.table.findForward(6, ip(IP.client), 40002, ip(IP.vip), 80, false);
  t.equal(engine.table.state[e], 4, 'FIN_WAIT');
  t.equal(engine.table.findReverse(6, ip(IP.rs1), 80, ip(IP.client), 40002), -1);
});

t.test('a service can mix NAT and DR servers', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1, { fwd: FWD_DR }), destSpec(IP.rs2)]);
  const dsts: string[] = [];
  for (let i = 0; i < 2; i++) {
    const f = tcpFrame({ ...client, sport: 41000 + i, dport: 80, flags: tcp.SYN });
    engine.process(f, f.length, 0, 0);
    dsts.push(ipv4.decode(engine.verdict.buf, 14).dst);
  }
  t.same(dsts, [IP.rs2, IP.vip], 'NAT rewrites to the RIP, DR keeps the VIP');
});

t.test('ARP: who-has VIP is answered in place; other targets are not', async (t) => {
  const { engine } = oneArm();
  const req = arpFrame({ srcMac: MAC.router, dstMac: 'ff:ff:ff:ff:ff:ff', op: 1, senderMac: MAC.router, senderIp: IP.router, targetMac: '00:00:00:00:00:00', targetIp: IP.vip });
  t.equal(engine.process(req, req.length, 0, 0), V_EMIT);
  const rep = arp.decode(engine.verdict.buf, 14);
  t.same(rep, { op: 2, senderMac: MAC.lb, senderIp: IP.vip, targetMac: MAC.router, targetIp: IP.router });
  t.equal(eth.decode(engine.verdict.buf).dst, MAC.router);
  const other = arpFrame({ srcMac: MAC.rs1, dstMac: 'ff:ff:ff:ff:ff:ff', op: 1, senderMac: MAC.rs1, senderIp: IP.rs1, targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.99' });
  t.equal(engine.process(other, other.length, 0, 0), V_CONSUMED, 'a real server is a known neighbour: learnt, not answered');
  const stranger = arpFrame({ srcMac: MAC.router, dstMac: 'ff:ff:ff:ff:ff:ff', op: 1, senderMac: MAC.router, senderIp: IP.router, targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.99' });
  t.equal(engine.process(stranger, stranger.length, 0, 0), V_DROP, 'unrelated ARP is ignored');
  const garp = engine.gratuitousArp(ip(IP.vip), 0);
  t.same(arp.decode(garp, 14), { op: 1, senderMac: MAC.lb, senderIp: IP.vip, targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: IP.vip });
});

t.test('unknown next hop: the frame waits, an ARP request goes out, the reply releases the frame', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec('10.0.0.50')]);
  const f = tcpFrame({ ...client, sport: 42000, dport: 80, flags: tcp.SYN });
  t.equal(engine.process(f, f.length, 0, 0), V_EMIT);
  const req = arp.decode(engine.verdict.buf, 14);
  t.same([req.op, req.targetIp, req.senderIp], [1, '10.0.0.50', IP.lb]);
  t.equal(engine.counters.drops[DROP.neigh_unresolved], 0, 'queued, not dropped (__neigh_event_send)');
  t.equal(engine.counters.neighQueued, 1);
  t.equal(engine.takeQueued(), -1, 'nothing leaves before the reply');
  const reply = arpFrame({ srcMac: '02:00:00:00:00:50', dstMac: MAC.lb, op: 2, senderMac: '02:00:00:00:00:50', senderIp: '10.0.0.50', targetMac: MAC.lb, targetIp: IP.lb });
  t.equal(engine.process(reply, reply.length, 0, 1), V_CONSUMED);
  t.ok(engine.takeQueued() >= 0, 'the SYN is released by the reply');
  const out = engine.verdict.buf.subarray(0, engine.verdict.len);
  t.equal(eth.decode(out).dst, '02:00:00:00:00:50');
  t.equal(eth.decode(out).src, MAC.lb);
  t.equal(ipv4.decode(out, 14).dst, '10.0.0.50', 'rewritten before it waited');
  t.equal(ipv4.decode(out, 14).ttl, 63, 'TTL decremented once');
  t.equal(engine.verdict.iface, 0);
  t.equal(engine.takeQueued(), -1, 'sent once');
  const again = tcpFrame({ ...client, sport: 42001, dport: 80, flags: tcp.SYN });
  t.equal(engine.process(again, again.length, 0, 2), V_EMIT);
  t.equal(eth.decode(engine.verdict.buf).dst, '02:00:00:00:00:50');
});

t.test('unknown next hop that never answers: queued frames time out and are counted', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec('10.0.0.51')]);
  for (let i = 0; i < 3; i++) {
    const f = tcpFrame({ ...client, sport: 43000 + i, dport: 80, flags: tcp.SYN });
    engine.process(f, f.length, 0, i * 10);
  }
  t.equal(engine.counters.neighQueued, 3);
  engine.tick(2_000);
  t.equal(engine.counters.drops[DROP.neigh_timeout], 0, 'still waiting at 2 s');
  engine.tick(3_100);
  t.equal(engine.counters.drops[DROP.neigh_timeout], 3, 'dropped after 3 s, as after mcast_solicit probes');
  t.equal(engine.takeQueued(), -1);
  t.equal(engine.pending.used, 0, 'slots freed');
});

t.test('ICMP port unreachable from a NAT real server is translated back to VIP:port', async (t) => {
  const { engine } = oneArm({}, { proto: PROTO_UDP, port: 53 }, [destSpec(IP.rs1, { port: 53 })]);
  const q = udpFrame({ ...client, sport: 5353, dport: 53, payload: Buffer.from('query') });
  t.equal(engine.process(q, q.length, 0, 0), V_EMIT);
  const forwarded = Buffer.from(engine.verdict.buf.subarray(0, engine.verdict.len));
  const err = icmpFrame({ srcMac: MAC.rs1, dstMac: MAC.lb, src: IP.rs1, dst: IP.client, type: icmp.DEST_UNREACH, code: icmp.CODE_PORT_UNREACH, rest: 0, payload: quote(forwarded) });
  t.equal(engine.process(err, err.length, 0, 1), V_EMIT);
  const out = engine.verdict.buf.subarray(0, engine.verdict.len);
  const outer = ipv4.decode(out, 14);
  t.same([outer.src, outer.dst], [IP.vip, IP.client]);
  const inner = ipv4.decode(out, 42);
  t.same([inner.src, inner.dst], [IP.client, IP.vip], 'quoted packet shows the VIP');
  t.equal(udp.decode(out, 62).dport, 53);
  t.ok(ipv4.verifyHeader(out, 14, 20) && ipv4.verifyHeader(out, 42, 20), 'both IP checksums');
  t.equal(checksum(out, 34, engine.verdict.len - 34), 0, 'ICMP checksum recomputed over the message');
});

t.test('ICMP frag-needed from the client side reaches the real server with the quoted source rewritten', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1, { port: 8080 })]);
  const syn = tcpFrame({ ...client, sport: 43000, dport: 80, flags: tcp.SYN });
  engine.process(syn, syn.length, 0, 0);
  // our reply as the router saw it: VIP:80 -> client
  const reply = tcpFrame({ srcMac: MAC.lb, dstMac: MAC.router, src: IP.vip, dst: IP.client, sport: 80, dport: 43000, flags: tcp.ACK });
  const err = icmpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.router, dst: IP.vip, type: icmp.DEST_UNREACH, code: icmp.CODE_FRAG_NEEDED, rest: 1400, payload: quote(reply) });
  t.equal(engine.process(err, err.length, 0, 1), V_EMIT);
  const out = engine.verdict.buf.subarray(0, engine.verdict.len);
  t.equal(ipv4.decode(out, 14).dst, IP.rs1);
  const inner = ipv4.decode(out, 42);
  t.equal(inner.src, IP.rs1);
  t.equal(tcp.decode(out, 62).sport, 8080, 'quoted source port = real server port');
  t.equal(checksum(out, 34, engine.verdict.len - 34), 0);
});

t.test('no destination available: ICMP port unreachable to the client, never a RST', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1, { weight: 0 })]);
  const f = tcpFrame({ ...client, sport: 44000, dport: 80, flags: tcp.SYN });
  t.equal(engine.process(f, f.length, 0, 0), V_EMIT);
  const out = engine.verdict.buf.subarray(0, engine.verdict.len);
  const h = ipv4.decode(out, 14);
  t.same([h.src, h.dst, h.protocol], [IP.vip, IP.client, 1]);
  t.same([out[34], out[35]], [3, 3]);
  t.equal(engine.counters.drops[DROP.no_destination], 1);
});

t.test('echo request to the VIP is answered', async (t) => {
  const { engine } = oneArm();
  const ping = icmpFrame({ ...client, type: icmp.ECHO_REQUEST, code: 0, rest: 0x00010001, payload: Buffer.from('abcdefgh') });
  t.equal(engine.process(ping, ping.length, 0, 0), V_EMIT);
  const out = engine.verdict.buf.subarray(0, engine.verdict.len);
  t.same([ipv4.decode(out, 14).src, ipv4.decode(out, 14).dst, out[34]], [IP.vip, IP.client, 0]);
  t.equal(checksum(out, 34, engine.verdict.len - 34), 0);
});

t.test('TTL 1: time exceeded back to the client; oversize DF: frag needed with the MTU', async (t) => {
  const { engine } = oneArm();
  const f = tcpFrame({ ...client, sport: 45000, dport: 80, flags: tcp.SYN, ttl: 1 });
  t.equal(engine.process(f, f.length, 0, 0), V_EMIT);
  t.same([engine.verdict.buf[34], engine.verdict.buf[35]], [11, 0]);
  const big = tcpFrame({ ...client, sport: 45001, dport: 80, flags: tcp.SYN, payload: Buffer.alloc(2000) });
  // A port that reports offload state says this is one 2040-byte packet, not a super-frame.
  t.equal(engine.process(big, big.length, 0, 0, OFL_KNOWN), V_EMIT);
  t.same([engine.verdict.buf[34], engine.verdict.buf[35]], [3, 4]);
  t.equal((engine.verdict.buf[40]! << 8) | engine.verdict.buf[41]!, 1500, 'next-hop MTU');
  t.equal(engine.counters.drops[DROP.oversize], 1);
});

t.test('VLAN-tagged frames are balanced with the tag kept', async (t) => {
  const { engine } = oneArm();
  const f = tcpFrame({ ...client, vlan: 7, sport: 46000, dport: 80, flags: tcp.SYN });
  t.equal(engine.process(f, f.length, 0, 0), V_EMIT);
  t.equal(eth.decode(engine.verdict.buf).vlan, 7);
  t.ok(l4.verifyChecksum(engine.verdict.buf, 18));
});

t.test('malformed frames are dropped with a named reason', async (t) => {
  const { engine } = oneArm();
  const good = () => tcpFrame({ ...client, sport: 47000, dport: 80, flags: tcp.SYN });
  const cases: [string, Buffer, keyof typeof DROP][] = [];
  cases.push(['runt', Buffer.alloc(10), 'runt_frame']);
  const lldp = good(); lldp[12] = 0x88; lldp[13] = 0xcc; cases.push(['ethertype', lldp, 'unknown_ethertype']);
  cases.push(['truncated IP', good().subarray(0, 30), 'ip_truncated']);
  const v6 = good(); v6[14] = 0x65; cases.push(['version', v6, 'ip_bad_version']);
  const ihl = good(); ihl[14] = 0x44; cases.push(['ihl', ihl, 'ip_bad_ihl']);
  const len = good(); len[16] = 0; len[17] = 10; cases.push(['total < header', len, 'ip_bad_length']);
  const long = good(); long[16] = 0x05; cases.push(['total > captured', long, 'ip_truncated']);
  const csum = good(); csum[24]! ^= 0xff; cases.push(['ip checksum', csum, 'ip_bad_checksum']);
  cases.push(['fragment', tcpFrame({ ...client, sport: 1, dport: 80, flags: tcp.SYN, frag: ipv4.FLAG_MF }), 'ip_fragment']);
  const doff = good(); doff[46] = 0x30; cases.push(['tcp data offset', doff, 'l4_bad_header']);
  cases.push(['not a SYN', tcpFrame({ ...client, sport: 47001, dport: 80, flags: tcp.ACK }), 'tcp_no_conn']);
  cases.push(['no service', tcpFrame({ ...client, sport: 47002, dport: 81, flags: tcp.SYN }), 'no_service']);
  cases.push(['not ours', tcpFrame({ ...client, dst: '10.0.0.200', sport: 47003, dport: 80, flags: tcp.SYN }), 'not_ours']);
  const own = good(); own[6] = 0x02; own[7] = 0; own[8] = 0; own[9] = 0; own[10] = 0; own[11] = 2; cases.push(['own MAC', own, 'own_frame']);
  for (const [name, f, reason] of cases) {
    const before = engine.counters.drops[DROP[reason]]!;
    t.equal(engine.process(f, f.length, 0, 0), V_DROP, name);
    t.equal(engine.counters.drops[DROP[reason]], before + 1, `${name} counted as ${reason}`);
  }
});

t.test('local VIP: ARP and echo requests for it are left to the kernel; the service is still balanced', async (t) => {
  const { engine } = oneArm();
  engine.vips.setLocal(new Set([ip(IP.vip) >>> 0]));
  t.equal(engine.vipList()[0]!.local, true);
  const req = arpFrame({ srcMac: MAC.router, dstMac: 'ff:ff:ff:ff:ff:ff', op: 1, senderMac: MAC.router, senderIp: IP.router, targetMac: '00:00:00:00:00:00', targetIp: IP.vip });
  t.not(engine.process(req, req.length, 0, 0), V_EMIT, 'no ARP reply from the balancer');
  t.equal(engine.counters.arpReplies, 0);
  const ping = icmpFrame({ ...client, type: icmp.ECHO_REQUEST, code: 0, rest: 0x00010001, payload: Buffer.from('abcdefgh') });
  t.equal(engine.process(ping, ping.length, 0, 0), V_DROP, 'no echo reply from the balancer');
  const syn = tcpFrame({ ...client, sport: 47000, dport: 80, flags: tcp.SYN });
  t.equal(engine.process(syn, syn.length, 0, 0), V_EMIT, 'the service is balanced');
  engine.vips.setLocal(new Set());
  t.equal(engine.process(req, req.length, 0, 1), V_EMIT, 'no longer local: answered again');
});
