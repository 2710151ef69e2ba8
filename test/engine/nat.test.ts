import t from 'tap';
import { oneArm, MAC, IP } from '../helpers/lab-engine.js';
import { tcpFrame } from '../../src/packet/builder.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import * as eth from '../../src/packet/ethernet.js';
import * as l4 from '../../src/packet/l4.js';
import { V_EMIT } from '../../src/dataplane/verdict.js';

function syn(sport: number, flags = tcp.SYN) {
  return tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport, dport: 80, flags, seq: 1000, ttl: 63 });
}

t.test('NAT client->server: rr alternates, headers rewritten, checksums valid', async (t) => {
  const { engine } = oneArm();
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    const f = syn(40000 + i);
    const v = engine.process(f, f.length, 0, 1000);
    t.equal(v, V_EMIT);
    const out = engine.verdict.buf.subarray(0, engine.verdict.len);
    const ip = ipv4.decode(out, 14);
    seen.push(ip.dst);
    t.equal(ip.src, IP.client, 'client address kept (NAT, not full-NAT)');
    t.equal(ip.ttl, 62, 'TTL decremented');
    t.ok(ipv4.verifyHeader(out, 14, 20), 'IP checksum');
    t.ok(l4.verifyChecksum(out, 14), 'TCP checksum');
    const e = eth.decode(out);
    t.equal(e.src, MAC.lb);
    t.equal(e.dst, ip.dst === IP.rs1 ? MAC.rs1 : MAC.rs2);
  }
  // kernel list is [rs2, rs1] (added rs1 then rs2): rr starts at the head.
  t.same(seen, [IP.rs2, IP.rs1, IP.rs2, IP.rs1]);
});

t.test('NAT return path: source rewritten back to the VIP', async (t) => {
  const { engine } = oneArm();
  const f = syn(40000);
  engine.process(f, f.length, 0, 1000);
  const rs = ipv4.decode(engine.verdict.buf, 14).dst;
  const reply = tcpFrame({ srcMac: rs === IP.rs1 ? MAC.rs1 : MAC.rs2, dstMac: MAC.lb, src: rs, dst: IP.client, sport: 80, dport: 40000, flags: tcp.SYN | tcp.ACK, ttl: 64 });
  t.equal(engine.process(reply, reply.length, 0, 1001), V_EMIT);
  const out = engine.verdict.buf.subarray(0, engine.verdict.len);
  const ip = ipv4.decode(out, 14);
  t.equal(ip.src, IP.vip);
  t.equal(ip.dst, IP.client);
  t.equal(tcp.decode(out, 34).sport, 80);
  t.ok(l4.verifyChecksum(out, 14));
  t.equal(eth.decode(out).dst, MAC.router, 'back to the MAC the request came from');
});
