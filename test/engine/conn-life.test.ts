import t from 'tap';
import { oneArm, MAC, IP, destSpec, svcSpec, ip } from '../helpers/lab-engine.js';
import { tcpFrame, udpFrame } from '../../src/packet/builder.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import { DROP, V_DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import { PROTO_UDP } from '../../src/packet/ipv4.js';
import { DEST_F_OVERLOAD } from '../../src/sched/types.js';

const client = { srcMac: MAC.router, dstMac: MAC.lb, dst: IP.vip };

function seg(e: ReturnType<typeof oneArm>['engine'], src: string, sport: number, flags: number, now: number): string | null {
  const f = tcpFrame({ ...client, src, sport, dport: 80, flags });
  return e.process(f, f.length, 0, now) === V_EMIT ? ipv4.decode(e.verdict.buf, 14).dst : null;
}

function reply(e: ReturnType<typeof oneArm>['engine'], rs: string, dport: number, flags: number, now: number): number {
  const f = tcpFrame({ srcMac: rs === IP.rs1 ? MAC.rs1 : MAC.rs2, dstMac: MAC.lb, src: rs, dst: IP.client, sport: 80, dport, flags });
  return e.process(f, f.length, 0, now);
}

t.test('ActiveConn/InActConn follow the TCP states; entries expire with IPVS timeouts', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1)]);
  const d = engine.services[0]!.dests[0]!;
  seg(engine, IP.client, 50000, tcp.SYN, 0);
  t.same([d.activeConns, d.inactConns], [1, 0], 'SYN_RECV active');
  reply(engine, IP.rs1, 50000, tcp.SYN | tcp.ACK, 10);
  seg(engine, IP.client, 50000, tcp.ACK, 20);
  t.same([d.activeConns, d.inactConns], [1, 0], 'ESTABLISHED active');
  reply(engine, IP.rs1, 50000, tcp.FIN | tcp.ACK, 30);
  seg(engine, IP.client, 50000, tcp.FIN | tcp.ACK, 40);
  t.same([d.activeConns, d.inactConns], [0, 1], 'TIME_WAIT inactive');
  engine.tick(40 + 119_000);
  t.equal(engine.table.count, 1, 'still there before 120 s of TIME_WAIT');
  engine.tick(40 + 120_300);
  t.equal(engine.table.count, 0, 'expired after 120 s');
  t.same([d.activeConns, d.inactConns], [0, 0]);
});

t.test('an idle ESTABLISHED connection lives 900 s, refreshed by every packet', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1)]);
  seg(engine, IP.client, 50001, tcp.SYN, 0);
  seg(engine, IP.client, 50001, tcp.ACK, 1000);
  engine.tick(800_000);
  seg(engine, IP.client, 50001, tcp.ACK, 800_000);
  engine.tick(1_600_000);
  t.equal(engine.table.count, 1);
  engine.tick(1_700_300);
  t.equal(engine.table.count, 0);
});

t.test('UDP: one state, 300 s, always InActConn', async (t) => {
  const { engine } = oneArm({}, { proto: PROTO_UDP, port: 53 }, [destSpec(IP.rs1, { port: 53 })]);
  const d = engine.services[0]!.dests[0]!;
  const q = udpFrame({ ...client, src: IP.client, sport: 999, dport: 53 });
  engine.process(q, q.length, 0, 0);
  t.same([d.activeConns, d.inactConns], [0, 1]);
  engine.tick(299_000);
  t.equal(engine.table.count, 1);
  engine.tick(300_300);
  t.equal(engine.table.count, 0);
});

t.test('hard capacity: new connections dropped and counted, existing ones keep flowing', async (t) => {
  const { engine } = oneArm({ maxConns: 2 }, {}, [destSpec(IP.rs1)]);
  t.ok(seg(engine, IP.client, 1, tcp.SYN, 0));
  t.ok(seg(engine, IP.client, 2, tcp.SYN, 0));
  t.equal(seg(engine, IP.client, 3, tcp.SYN, 0), null);
  t.equal(engine.counters.drops[DROP.table_full], 1);
  t.equal(seg(engine, IP.client, 1, tcp.ACK, 1), IP.rs1, 'existing flow unaffected');
});

t.test('port reuse: a SYN on a TIME_WAIT entry is scheduled afresh (conn_reuse_mode 1)', async (t) => {
  const { engine } = oneArm();
  const first = seg(engine, IP.client, 50002, tcp.SYN, 0);
  seg(engine, IP.client, 50002, tcp.ACK, 1);
  seg(engine, IP.client, 50002, tcp.FIN | tcp.ACK, 2);
  reply(engine, first!, 50002, tcp.FIN | tcp.ACK, 3);
  const e = engine.table.findForward(6, ip(IP.client), 50002, ip(IP.vip), 80, false);
  t.equal(engine.table.state[e], 5, 'TIME_WAIT');
  const second = seg(engine, IP.client, 50002, tcp.SYN, 4);
  t.not(second, first, 'rr moved on: the reused port got a new connection');
});

t.test('deleted server: packets of its connections are dropped (expire_nodest_conn=0), re-add revives', async (t) => {
  const { engine, registry } = oneArm({}, {}, [destSpec(IP.rs1), destSpec(IP.rs2)]);
  const to = seg(engine, IP.client, 50003, tcp.SYN, 0)!;
  registry.delDest(svcSpec(), ip(to), 80);
  t.equal(seg(engine, IP.client, 50003, tcp.ACK, 1), null);
  t.equal(engine.counters.drops[DROP.dest_unavailable], 1);
  const other = seg(engine, IP.client, 50004, tcp.SYN, 2);
  t.not(other, to, 'new connections avoid the deleted server');
  registry.addDest(svcSpec(), destSpec(to));
  t.equal(seg(engine, IP.client, 50003, tcp.ACK, 3), to, 'same dest object back from the trash');
  engine.settings.expireNodestConn = true;
  registry.delDest(svcSpec(), ip(to), 80);
  t.equal(seg(engine, IP.client, 50003, tcp.ACK, 4), null, 'non-SYN cannot be rescheduled');
  t.equal(engine.table.findForward(6, ip(IP.client), 50003, ip(IP.vip), 80, false), -1, 'expired at once');
});

t.test('weight 0 quiesces: no new connections, existing ones continue', async (t) => {
  const { engine, registry } = oneArm({}, {}, [destSpec(IP.rs1), destSpec(IP.rs2)]);
  const a = seg(engine, IP.client, 50005, tcp.SYN, 0)!;
  registry.editDest(svcSpec(), destSpec(a, { weight: 0 }));
  for (let i = 0; i < 4; i++) t.not(seg(engine, IP.client, 50100 + i, tcp.SYN, 1), a);
  t.equal(seg(engine, IP.client, 50005, tcp.ACK, 2), a);
});

t.test('persistence: a client sticks to its server; the template outlives the connection by -p', async (t) => {
  const { engine } = oneArm({}, { persistent: 300 }, [destSpec(IP.rs1), destSpec(IP.rs2)]);
  const first = seg(engine, IP.client, 51000, tcp.SYN, 0)!;
  for (let i = 1; i < 6; i++) t.equal(seg(engine, IP.client, 51000 + i, tcp.SYN, i * 1000), first);
  const other = seg(engine, '198.51.100.11', 51000, tcp.SYN, 6000);
  t.not(other, first, 'another client is scheduled by rr');
  const d = engine.services[0]!.dests.find((x) => x.addr === ip(first))!;
  t.equal(d.persistConns, 1, 'one template for the first client');
  // connections expire (SYN_RECV 60 s) well before the template (300 s after the last new one)
  engine.tick(5000 + 200_000);
  t.equal(seg(engine, IP.client, 52000, tcp.SYN, 205_000), first, 'still sticky after its connections expired');
  engine.tick(205_000 + 360_500);
  t.equal(d.persistConns, 0, 'template expired');
});

t.test('persistence netmask groups a client network', async (t) => {
  const { engine } = oneArm({}, { persistent: 300, netmask: ip('255.255.255.0') }, [destSpec(IP.rs1), destSpec(IP.rs2)]);
  const a = seg(engine, '198.51.100.10', 1, tcp.SYN, 0);
  t.equal(seg(engine, '198.51.100.99', 2, tcp.SYN, 1), a);
  t.not(seg(engine, '198.51.101.1', 3, tcp.SYN, 2), a);
});

t.test('one-packet scheduling (-o): every datagram scheduled afresh, nothing kept', async (t) => {
  const { engine } = oneArm({}, { proto: PROTO_UDP, port: 53, ops: true }, [destSpec(IP.rs1, { port: 53 }), destSpec(IP.rs2, { port: 53 })]);
  const dsts: string[] = [];
  for (let i = 0; i < 4; i++) {
    const q = udpFrame({ ...client, src: IP.client, sport: 999, dport: 53 });
    t.equal(engine.process(q, q.length, 0, i), V_EMIT);
    dsts.push(ipv4.decode(engine.verdict.buf, 14).dst);
  }
  t.same(dsts, [IP.rs2, IP.rs1, IP.rs2, IP.rs1]);
  t.equal(engine.table.count, 0);
  t.equal(engine.counters.stats.conns, 4);
});

t.test('upper threshold (-x) marks a server overloaded; below 3/4 it comes back', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1, { uThreshold: 2 }), destSpec(IP.rs2)]);
  const rs1 = engine.services[0]!.dests.find((x) => x.addr === ip(IP.rs1))!;
  const picks: string[] = [];
  for (let i = 0; i < 6; i++) picks.push(seg(engine, IP.client, 53000 + i, tcp.SYN, 0)!);
  t.equal(picks.filter((p) => p === IP.rs1).length, 2, 'rs1 stops at its threshold of 2');
  t.equal((rs1.flags & DEST_F_OVERLOAD) !== 0, true);
  t.equal(seg(engine, IP.client, 60000, tcp.SYN, 1), IP.rs2);
  engine.tick(61_000 + 300); // SYN_RECV entries expire after 60 s
  t.equal((rs1.flags & DEST_F_OVERLOAD) !== 0, false);
  void V_DROP;
});
