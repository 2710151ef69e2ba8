/**
 * The doctor against a real engine (no root): DR handshakes that never complete,
 * a DR server answering ARP for the VIP, the loop guard, the director's own ARP probe
 * for the VIP, and a NAT server whose replies never come back (with a fake TCP probe).
 */
import t from 'tap';
import { oneArm, MAC, IP, destSpec, ip } from '../helpers/lab-engine.js';
import { arpFrame, tcpFrame } from '../../src/packet/builder.js';
import * as tcp from '../../src/packet/tcp.js';
import * as arp from '../../src/packet/arp.js';
import { FWD_DR } from '../../src/lvs/fwd.js';
import { DoctorRunner } from '../../src/diag/runner.js';
import { scanHandshakes } from '../../src/diag/handshakes.js';
import type { ProbeResult } from '../../src/diag/messages.js';

function fakePort() {
  const sent: Buffer[] = [];
  return { sent, send: (f: Buffer, len: number) => sent.push(Buffer.from(f.subarray(0, len))) };
}

const client = { srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip };

t.test('DR: SYNs repeated to one server are counted as stalled and reported once', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1, { fwd: FWD_DR }), destSpec(IP.rs2, { fwd: FWD_DR })]);
  const port = fakePort();
  const logs: string[] = [];
  const r = new DoctorRunner({ engine, ports: [port] }, (s) => logs.push(s), { arpProbeEveryMs: 0 });
  // rr: rs2 first. Connections to rs2 complete (SYN then ACK); those to rs1 repeat their SYN.
  for (let i = 0; i < 4; i++) {
    const sport = 50000 + i;
    const s = tcpFrame({ ...client, sport, dport: 80, flags: tcp.SYN });
    engine.process(s, s.length, 0, 10);
    const again = tcpFrame({ ...client, sport, dport: 80, flags: i % 2 === 0 ? tcp.ACK : tcp.SYN });
    engine.process(again, again.length, 0, 20);
  }
  const rs1 = engine.services[0]!.dests.find((d) => d.addr === ip(IP.rs1))!;
  const rs2 = engine.services[0]!.dests.find((d) => d.addr === ip(IP.rs2))!;
  const counts = scanHandshakes(engine.table, new Set([rs1.id, rs2.id]));
  t.same(counts.get(rs1.id), { stalled: 2, progressed: 0 });
  t.same(counts.get(rs2.id), { stalled: 0, progressed: 2 });
  t.match(r.tick(1000), [{ kind: 'dr-stalled', dest: { addr: ip(IP.rs1) >>> 0 }, stalled: 2 }]);
  t.same(r.tick(2000), []);
  t.equal(logs.length, 1);
  t.match(logs[0], /^doctor: DR real server 10\.0\.0\.185 /);
});

t.test('DR: the runner asks who-has VIP; a server answering is reported', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1, { fwd: FWD_DR }), destSpec(IP.rs2, { fwd: FWD_DR })]);
  const port = fakePort();
  const logs: string[] = [];
  const r = new DoctorRunner({ engine, ports: [port] }, (s) => logs.push(s), { arpProbeEveryMs: 5000 });
  r.tick(0);
  t.equal(port.sent.length, 1, 'one probe per VIP and interface');
  const q = arp.decode(port.sent[0]!, 14);
  t.same(q, { op: 1, senderMac: MAC.lb, senderIp: IP.lb, targetMac: '00:00:00:00:00:00', targetIp: IP.vip });
  r.tick(1000);
  t.equal(port.sent.length, 1, 'not again before the period');
  // rs2's kernel answers for the VIP (no arp_ignore).
  const rep = arpFrame({ srcMac: MAC.rs2, dstMac: MAC.lb, op: 2, senderMac: MAC.rs2, senderIp: IP.vip, targetMac: MAC.lb, targetIp: IP.lb });
  engine.process(rep, rep.length, 0, 1500);
  t.match(r.tick(2000), [{ kind: 'vip-arp', mac: MAC.rs2, dest: { addr: ip(IP.rs2) >>> 0 } }]);
  r.tick(5000);
  t.equal(port.sent.length, 2, 'probed again after 5 s');
  t.match(logs[0], /DR real server 10\.0\.0\.86 \(02:00:00:00:00:86\) answers ARP for the VIP 10\.0\.0\.127/);
});

t.test('loop guard: a new flow from a DR server MAC is refused and reported with the MAC', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1, { fwd: FWD_DR })]);
  const logs: string[] = [];
  const r = new DoctorRunner({ engine, ports: [fakePort()] }, (s) => logs.push(s), { arpProbeEveryMs: 0 });
  r.tick(0);
  const f = tcpFrame({ srcMac: MAC.rs1, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport: 1234, dport: 80, flags: tcp.SYN });
  engine.process(f, f.length, 0, 10);
  t.equal(engine.counters.loopGuardHits, 1);
  t.match(r.tick(1000), [{ kind: 'loop', mac: MAC.rs1, hits: 1 }]);
  t.match(logs[0], /arrived from 02:00:00:00:01:85 \(the MAC of DR real server 10\.0\.0\.185\)/);
});

t.test('NAT: no replies through the director, the probe decides the explanation', async (t) => {
  const { engine } = oneArm({}, {}, [destSpec(IP.rs1)]);
  const logs: string[] = [];
  const probes: string[] = [];
  const probe = async (addr: string, port: number): Promise<ProbeResult> => {
    probes.push(`${addr}:${port}`);
    return 'open';
  };
  const r = new DoctorRunner({ engine, ports: [fakePort()] }, (s) => logs.push(s), { arpProbeEveryMs: 0, probe });
  r.tick(0);
  const s = tcpFrame({ ...client, sport: 40000, dport: 80, flags: tcp.SYN });
  engine.process(s, s.length, 0, 100);
  const s2 = tcpFrame({ ...client, sport: 40000, dport: 80, flags: tcp.SYN });
  engine.process(s2, s2.length, 0, 1100);
  r.tick(1000);
  r.tick(2000);
  t.match(r.tick(3000), [{ kind: 'nat-no-replies', sent: 2 }]);
  await new Promise((res) => setImmediate(res));
  t.same(probes, ['10.0.0.185:80']);
  t.equal(logs.length, 1);
  t.match(logs[0], /The server is alive \(the director connects to it directly\)/);
  r.stop();
});
