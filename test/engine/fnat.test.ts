/**
 * Full-NAT (FWD_FNAT): both addresses rewritten on the way in (client -> local address,
 * VIP -> RIP) and back on the way out, with every checksum verified by an independent
 * recomputation written here; and the local port pool never hands out a
 * (laddr, lport, RIP, RPORT) tuple that a live entry still holds, under churn.
 */
import t from 'tap';
import { oneArm, MAC, IP, destSpec, ip } from '../helpers/lab-engine.js';
import { prng } from '../helpers/prng.js';
import { tcpFrame, udpFrame } from '../../src/packet/builder.js';
import * as tcp from '../../src/packet/tcp.js';
import { FWD_FNAT } from '../../src/dataplane/model.js';
import { DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import { CF_TEMPLATE } from '../../src/table/conn-table.js';
import { PROTO_UDP } from '../../src/packet/ipv4.js';

const LADDR = '10.0.0.3';

/** RFC 1071 one's-complement sum, written independently of src/packet/checksum.ts. */
function onesSum(bytes: number[]): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

interface Parsed { src: string; dst: string; sport: number; dport: number; ttl: number; ipOk: boolean; l4Ok: boolean; proto: number }

/** Decode by hand and check: IP header sums to 0xffff, L4 checksum equals a fresh computation. */
function parse(f: Uint8Array): Parsed {
  const b = [...f];
  const ihl = (b[14]! & 15) * 4;
  const total = (b[16]! << 8) | b[17]!;
  const ipOk = onesSum(b.slice(14, 14 + ihl)) === 0xffff;
  const proto = b[23]!;
  const l4 = 14 + ihl;
  const l4len = total - ihl;
  const csumAt = l4 + (proto === 6 ? 16 : 6);
  const stored = (b[csumAt]! << 8) | b[csumAt + 1]!;
  const seg = b.slice(l4, l4 + l4len);
  seg[csumAt - l4] = 0;
  seg[csumAt - l4 + 1] = 0;
  const pseudo = [...b.slice(26, 34), 0, proto, l4len >> 8, l4len & 255];
  let c = 0xffff - onesSum([...pseudo, ...seg]);
  if (proto === 17 && c === 0) c = 0xffff;
  const a = (o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  return {
    src: a(26), dst: a(30), sport: (b[l4]! << 8) | b[l4 + 1]!, dport: (b[l4 + 2]! << 8) | b[l4 + 3]!,
    ttl: b[22]!, ipOk, l4Ok: c === stored, proto,
  };
}

function fnatArm(portMin = 1024, portMax = 65535) {
  const arm = oneArm({}, {}, [destSpec(IP.rs1, { fwd: FWD_FNAT }), destSpec(IP.rs2, { fwd: FWD_FNAT })]);
  arm.engine.fnat.configure([ip(LADDR)], portMin, portMax);
  arm.registry.refreshVips();
  return arm;
}

for (const full of [false, true]) {
  t.test(`full-NAT TCP rewrite both ways, checksums recomputed (${full ? 'full' : 'incremental'} mode)`, async (t) => {
    const { engine } = full ? (() => {
      const a = oneArm({ checksum: 'full' }, {}, [destSpec(IP.rs1, { fwd: FWD_FNAT })]);
      a.engine.fnat.configure([ip(LADDR)], 20000, 20010);
      a.registry.refreshVips();
      return a;
    })() : fnatArm(20000, 20010);
    const syn = tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport: 43210, dport: 80, flags: tcp.SYN, seq: 7, ttl: 60, payload: Buffer.from('hello full-nat') });
    t.equal(engine.process(syn, syn.length, 0, 0), V_EMIT);
    const out = parse(engine.verdict.buf.subarray(0, engine.verdict.len));
    const rs = out.dst;
    t.ok(rs === IP.rs1 || rs === IP.rs2, 'to a real server');
    t.equal(out.src, LADDR, 'client address replaced by the local address');
    t.ok(out.sport >= 20000 && out.sport <= 20010, `local port ${out.sport} from the pool`);
    t.equal(out.dport, 80);
    t.equal(out.ttl, 59);
    t.ok(out.ipOk, 'IP header checksum');
    t.ok(out.l4Ok, 'TCP checksum equals a fresh computation');
    const lport = out.sport;
    const reply = tcpFrame({ srcMac: rs === IP.rs1 ? MAC.rs1 : MAC.rs2, dstMac: MAC.lb, src: rs, dst: LADDR, sport: 80, dport: lport, flags: tcp.SYN | tcp.ACK, ttl: 64, payload: Buffer.from('reply bytes!') });
    t.equal(engine.process(reply, reply.length, 0, 1), V_EMIT);
    const back = parse(engine.verdict.buf.subarray(0, engine.verdict.len));
    t.same([back.src, back.sport, back.dst, back.dport], [IP.vip, 80, IP.client, 43210], 'both addresses and ports restored');
    t.equal(back.ttl, 63);
    t.ok(back.ipOk, 'IP header checksum');
    t.ok(back.l4Ok, 'TCP checksum equals a fresh computation');
  });
}

t.test('full-NAT UDP rewrite both ways, checksums recomputed', async (t) => {
  const { engine, registry } = oneArm({}, { proto: PROTO_UDP }, [destSpec(IP.rs1, { fwd: FWD_FNAT })]);
  engine.fnat.configure([ip(LADDR)], 30000, 30000);
  registry.refreshVips();
  const q = udpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport: 5353, dport: 80, payload: Buffer.from('query'), ttl: 30 });
  t.equal(engine.process(q, q.length, 0, 0), V_EMIT);
  const out = parse(engine.verdict.buf.subarray(0, engine.verdict.len));
  t.same([out.src, out.sport, out.dst, out.dport, out.proto], [LADDR, 30000, IP.rs1, 80, 17]);
  t.ok(out.ipOk && out.l4Ok, 'IP and UDP checksums');
  const r = udpFrame({ srcMac: MAC.rs1, dstMac: MAC.lb, src: IP.rs1, dst: LADDR, sport: 80, dport: 30000, payload: Buffer.from('answer!'), ttl: 64 });
  t.equal(engine.process(r, r.length, 0, 1), V_EMIT);
  const back = parse(engine.verdict.buf.subarray(0, engine.verdict.len));
  t.same([back.src, back.sport, back.dst, back.dport], [IP.vip, 80, IP.client, 5353]);
  t.ok(back.ipOk && back.l4Ok, 'IP and UDP checksums');
  // A second client while the only local port is held for this server: exhausted, not reused.
  const q2 = udpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: '198.51.100.11', dst: IP.vip, sport: 5353, dport: 80, payload: Buffer.from('q2') });
  t.not(engine.process(q2, q2.length, 0, 2), V_EMIT);
  t.equal(engine.counters.drops[DROP.fnat_ports_exhausted], 1, 'counted as fnat_ports_exhausted');
});

t.test('port allocation never collides under churn (many connections opened and closed)', async (t) => {
  // 1 local address x 40 ports x 2 servers = 80 tuples; connections live 10-60 s, one opens every 0.5 s.
  const { engine } = fnatArm(40000, 40039);
  const tb = engine.table;
  const rand = prng(4);
  let now = 0, opened = 0, refused = 0, checks = 0;
  const allocations = new Map<string, number>();
  for (let step = 0; step < 3000; step++) {
    now += 500;
    engine.tick(now);
    const cport = 1024 + (step % 60000);
    const syn = tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport: cport, dport: 80, flags: tcp.SYN });
    if (engine.process(syn, syn.length, 0, now) === V_EMIT) {
      opened++;
      const o = parse(engine.verdict.buf.subarray(0, engine.verdict.len));
      const k = `${o.src}:${o.sport}>${o.dst}:${o.dport}`;
      allocations.set(k, (allocations.get(k) ?? 0) + 1);
      if (rand() < 0.5) {
        // Complete and reset some: server SYN-ACK, client ACK, client RST -> CLOSE (10 s).
        const sa = tcpFrame({ srcMac: MAC.rs1, dstMac: MAC.lb, src: o.dst, dst: o.src, sport: 80, dport: o.sport, flags: tcp.SYN | tcp.ACK });
        engine.process(sa, sa.length, 0, now);
        for (const fl of [tcp.ACK, tcp.RST]) {
          const f = tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport: cport, dport: 80, flags: fl });
          engine.process(f, f.length, 0, now);
        }
      }
    } else {
      refused++;
    }
    // No two live entries share (laddr, lport, RIP, RPORT).
    const seen = new Set<string>();
    for (let e = 0; e < tb.capacity; e++) {
      if (!tb.live[e] || tb.flags[e]! & CF_TEMPLATE) continue;
      const k = `${tb.laddr[e]}:${tb.lport[e]}>${tb.daddr[e]}:${tb.dport[e]}`;
      if (seen.has(k)) {
        t.fail(`duplicate live tuple ${k} at step ${step}`);
        return;
      }
      seen.add(k);
      checks++;
    }
  }
  t.ok(opened > 1000, `${opened} connections opened (${refused} refused while the pool was full)`);
  t.ok([...allocations.values()].some((n) => n > 5), 'tuples were reused after their entries expired');
  t.ok(allocations.size <= 80, 'only the 80 possible tuples were ever used');
  t.equal(refused, engine.counters.drops[DROP.fnat_ports_exhausted], 'refusals are pool exhaustion, counted');
  t.ok(checks > 0);
});
