/**
 * Fuzz test (issue 15 item 3): forged, truncated, wrong-version and random IPVS sync
 * datagrams into a backup director. Whatever arrives: decoding and applying never throw; a
 * datagram refused as malformed (or for another syncid) changes nothing in the connection
 * table (it is decoded and checked as a whole before anything is applied) and never reaches
 * the table at all; the servers' ActiveConn/InActConn/persistent counters always match a
 * scan of the table; and the sync daemon counts every datagram it receives under exactly one
 * outcome. Deterministic (seeded PRNG); the first failures are reported with the datagram.
 *
 * An update for an existing connection that names another real server replaces it, as the
 * kernel's ip_vs_proc_conn does (an INACTIVE one is the old connection's expiry and is ignored);
 * the counters then always match a scan of the table.
 */
import t from 'tap';
import { oneArm, destSpec, svcSpec, ip, IP } from '../helpers/lab-engine.js';
import { prng, randomBytes } from '../helpers/prng.js';
import { int, pick, type Rand } from '../helpers/fuzz-text.js';
import { scanCounters, tableFingerprint } from '../helpers/table-scan.js';
import { FWD_DR } from '../../src/lvs/fwd.js';
import { PROTO_UDP } from '../../src/packet/ipv4.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { applySyncDatagram } from '../../src/sync/apply.js';
import { decode, encode, IPVS_OPT_F_PARAM, type SyncConnEntry } from '../../src/sync/message.js';
import { CONN_F_DROUTE, CONN_F_FULLNAT, CONN_F_INACTIVE, CONN_F_MASQ, CONN_F_NOOUTPUT, CONN_F_SEQ_MASK, CONN_F_TEMPLATE } from '../../src/sync/constants.js';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../../src/lvs/proto.js';
import { applySyncToEngine } from '../../src/ha/sync-codec.js';
import { SyncRunner } from '../../src/ha/sync-runner.js';
import { FakeClock } from '../ha/fake-clock.js';

const DATAGRAMS = Number(process.env.TSLB_FUZZ_DATAGRAMS ?? 20_000);
const SEED = Number(process.env.TSLB_FUZZ_SEED ?? 0x5eed6);
const SYNCID = 7;
const CAPACITY = 64;
const MAX_REPORTED = 10;


const u32 = (s: string) => ip(s) >>> 0;
const CLIENTS = ['198.51.100.10', '198.51.100.11', '203.0.113.7', '0.0.0.0'].map(u32);
const CPORTS = [0, 1024, 40000, 40001, 65535];
/** Services of the backup: NAT 80 (rs1, rs2), persistent DR 443 (rs1), UDP 53 (rs1), and ports it has not. */
const VPORTS = [80, 80, 443, 53, 8080];
const SERVERS = [IP.rs1, IP.rs2, '10.0.0.99', '0.0.0.0'].map(u32);

function entry(rand: Rand): SyncConnEntry {
  const template = rand() < 0.15;
  const fwd = pick(rand, [CONN_F_MASQ, CONN_F_MASQ, CONN_F_DROUTE, CONN_F_FULLNAT, 2, 4, 7]);
  let flags = fwd | (template ? CONN_F_TEMPLATE : 0) | (rand() < 0.4 ? CONN_F_INACTIVE : 0) | (rand() < 0.2 ? CONN_F_NOOUTPUT : 0);
  if (rand() < 0.1) flags |= CONN_F_SEQ_MASK;
  if (rand() < 0.05) flags = (rand() * 0x100000000) >>> 0;
  const vport = pick(rand, VPORTS);
  const e: SyncConnEntry = {
    protocol: rand() < 0.85 ? (vport === 53 ? IPPROTO_UDP : IPPROTO_TCP) : pick(rand, [IPPROTO_UDP, IPPROTO_TCP, IPPROTO_SCTP, 1, 0, 255]),
    flags,
    state: rand() < 0.9 ? int(rand, 0, 10) : int(rand, 0, 0xffff),
    cport: template ? 0 : pick(rand, CPORTS),
    vport,
    dport: rand() < 0.9 ? (vport === 443 ? 443 : vport) : int(rand, 0, 0xffff),
    fwmark: rand() < 0.9 ? 0 : int(rand, 0, 0xffffffff),
    timeout: pick(rand, [0, 1, 60, 900, 0xffffffff, int(rand, 0, 100_000)]),
    caddr: pick(rand, CLIENTS),
    vaddr: rand() < 0.9 ? u32(IP.vip) : pick(rand, [0, u32('10.0.0.128')]),
    daddr: pick(rand, SERVERS),
  };
  if (rand() < 0.1) e.seq = { in: { initSeq: int(rand, 0, 0xffffffff), delta: 1, previousDelta: 0 }, out: { initSeq: 5, delta: 0, previousDelta: 0 } };
  if (rand() < 0.05) {
    e.peData = randomBytes(rand, int(rand, 1, 40));
    if (rand() < 0.5) e.peName = 'sip';
  }
  if ((fwd === CONN_F_FULLNAT && rand() < 0.9) || rand() < 0.05) e.fullnat = { laddr: u32('10.0.0.2'), lport: int(rand, 1024, 65535) };
  return e;
}

function validDatagram(rand: Rand): Uint8Array {
  const conns = Array.from({ length: int(rand, rand() < 0.1 ? 0 : 1, 20) }, () => entry(rand));
  return encode({ syncid: rand() < 0.9 ? SYNCID : int(rand, 0, 255), conns });
}

/** One mutation of a datagram: flips, truncation, growth, and the fields decode checks. */
function mutate(rand: Rand, d: Uint8Array): Uint8Array {
  const b = Buffer.from(d);
  const len = b.length;
  const fixSize = (x: Buffer) => {
    if (x.length >= 4 && rand() < 0.7) x.writeUInt16BE(x.length & 0xffff, 2);
    return x;
  };
  switch (int(rand, 0, 9)) {
    case 0: // flip bytes anywhere
    case 1:
      for (let k = int(rand, 1, 4); k > 0 && len > 0; k--) b[int(rand, 0, len - 1)] = rand() < 0.5 ? b[int(rand, 0, len - 1)]! ^ (1 << int(rand, 0, 7)) : int(rand, 0, 255);
      return b;
    case 2: // truncated, size field made to agree (or not)
      return fixSize(b.subarray(0, int(rand, 0, len)));
    case 3: // trailing bytes
      return fixSize(Buffer.concat([b, randomBytes(rand, int(rand, 1, 64))]));
    case 4: // header: reserved byte (v0 message), version, spare, nr_conns
      if (len >= 8) {
        const at = pick(rand, [0, 4, 5, 6, 7]);
        b[at] = at === 4 ? int(rand, 0, 255) : pick(rand, [0, 1, 2, 0xff, int(rand, 0, 255)]);
      }
      return b;
    case 5: // size field
      if (len >= 4) b.writeUInt16BE(rand() < 0.5 ? int(rand, 0, 0xffff) : (len + int(rand, -8, 8)) & 0xffff, 2);
      return b;
    case 6: { // an entry's type, version or size
      if (len < 12) return b;
      const at = 8 + 4 * int(rand, 0, Math.floor((len - 12) / 4));
      const w = int(rand, 0, 2);
      if (w === 0) b[at] = pick(rand, [0, 1, 2, 0x80, int(rand, 0, 255)]);
      else if (w === 1) b.writeUInt16BE((int(rand, 0, 15) << 12) | (b.readUInt16BE(at + 2) & 0x0fff), at + 2);
      else b.writeUInt16BE((b.readUInt16BE(at + 2) & 0xf000) | int(rand, 0, 0x0fff), at + 2);
      return b;
    }
    case 7: { // an option header inside the last entry's room: type (mandatory or not), length
      if (len < 48) return b;
      const at = int(rand, 44, len - 2);
      b[at] = pick(rand, [1, 2, 3, 4, 1 | IPVS_OPT_F_PARAM, 8 | IPVS_OPT_F_PARAM, int(rand, 0, 255)]);
      b[at + 1] = pick(rand, [0, 1, 6, 16, 24, 255, int(rand, 0, 255)]);
      return b;
    }
    case 8: // two datagrams glued together
      return fixSize(Buffer.concat([b, b.subarray(8)]));
    default: // random bytes with a plausible header
      return fixSize(Buffer.concat([Buffer.from([0, SYNCID, 0, 0, int(rand, 0, 20), 1, 0, 0]), randomBytes(rand, int(rand, 0, 400))]));
  }
}

function backup() {
  const { engine, registry } = oneArm({ maxConns: CAPACITY });
  const DR = svcSpec({ port: 443, persistent: 300 });
  const UDP = svcSpec({ proto: PROTO_UDP, port: 53 });
  registry.addService(DR);
  registry.addDest(DR, destSpec(IP.rs1, { port: 443, fwd: FWD_DR }));
  registry.addService(UDP);
  registry.addDest(UDP, destSpec(IP.rs1, { port: 53 }));
  return { engine, registry };
}

t.test(`fuzz: ${DATAGRAMS} forged, mutated and random sync datagrams into a backup`, async (t) => {
  const started = performance.now();
  const rand = prng(SEED);
  const { engine, registry } = backup();
  let rs2In = true;
  let now = 1_000_000;
  const failures: string[] = [];
  let failureCount = 0;
  const counterFailures: string[] = [];
  let counterFailureCount = 0;
  const fail = (i: number, dg: Uint8Array, what: string, counters = false) => {
    const text = `datagram #${i} (seed ${SEED}, ${dg.length} bytes, now ${now}): ${what}\n  ${Buffer.from(dg.subarray(0, 120)).toString('hex')}`;
    if (counters) {
      if (counterFailureCount++ < MAX_REPORTED) counterFailures.push(text);
      return;
    }
    failureCount++;
    if (failures.length < MAX_REPORTED) failures.push(text);
  };
  let countersSound = true;
  const status = { ok: 0, ignored: 0, malformed: 0 };
  let applied = 0, skipped = 0, unbound = 0, peak = 0;
  for (let i = 0; i < DATAGRAMS; i++) {
    now += rand() * 50;
    if (rand() < 1 / 500) now += 1_000_000; // long gaps: most entries expire
    engine.tick(now);
    if (rand() < 1 / 400) {
      // The backup's own configuration changes under the synced connections.
      if (rs2In) registry.delDest(svcSpec(), ip(IP.rs2), 80);
      else registry.addDest(svcSpec(), destSpec(IP.rs2));
      rs2In = !rs2In;
    }
    const r = rand();
    let dg = r < 0.15 ? randomBytes(rand, int(rand, 0, 600)) : validDatagram(rand);
    if (r >= 0.35) for (let k = int(rand, 1, 3); k > 0; k--) dg = mutate(rand, dg);

    // The pure layer: a refused datagram never reaches the table.
    const seen: SyncConnEntry[] = [];
    let pure;
    try {
      pure = applySyncDatagram(dg, { upsert: (u) => seen.push(u) }, { syncid: SYNCID });
    } catch (err) {
      fail(i, dg, `applySyncDatagram threw ${(err as Error).stack}`);
      continue;
    }
    if (pure.status !== 'ok' && seen.length !== 0) fail(i, dg, `${pure.status} datagram applied ${seen.length} entries`);
    if (pure.status === 'ok' && pure.applied !== seen.length) fail(i, dg, `report says ${pure.applied} applied, ${seen.length} were`);
    let decodes = true;
    try {
      const m = decode(dg);
      if (pure.status === 'ok' && m.conns.length !== pure.applied + pure.skipped.length) fail(i, dg, `${m.conns.length} entries, ${pure.applied} applied + ${pure.skipped.length} skipped`);
    } catch (err) {
      decodes = false;
      if (!(err instanceof Error) || err.constructor !== Error) fail(i, dg, `decode threw a ${(err as Error)?.constructor?.name}: ${(err as Error).message}`);
    }
    if ((pure.status === 'malformed') === decodes) fail(i, dg, `status ${pure.status} but decode ${decodes ? 'succeeds' : 'throws'}`);

    // Into the engine: a refused datagram changes nothing, the counters stay sound.
    const before = tableFingerprint(engine);
    let res;
    try {
      res = applySyncToEngine(engine, dg, SYNCID, now);
    } catch (err) {
      fail(i, dg, `applySyncToEngine threw ${(err as Error).stack}`);
      continue;
    }
    status[res.status]++;
    if (res.status !== 'ok' && tableFingerprint(engine) !== before) fail(i, dg, `a ${res.status} datagram changed the table (${res.error})`);
    applied += res.applied - res.unbound;
    unbound += res.unbound;
    skipped += res.skipped.length;
    if (engine.table.count > CAPACITY) fail(i, dg, `table count ${engine.table.count}`);
    peak = Math.max(peak, engine.table.count);
    // Once drifted the counters stay wrong: report the first datagram that made them so.
    if (countersSound) {
      const bad = scanCounters(engine);
      if (bad.length > 0) {
        countersSound = false;
        fail(i, dg, bad.join('; '), true);
      }
    }
    if (failureCount > 1000) break;
  }
  const elapsed = (performance.now() - started) / 1000;
  t.comment(`${DATAGRAMS} datagrams in ${elapsed.toFixed(1)} s: ${JSON.stringify(status)}; entries applied ${applied}, unbound ${unbound}, skipped ${skipped}; table peak ${peak}/${CAPACITY}`);
  t.equal(failureCount, 0, 'no exception; refused datagrams change nothing, reach nothing; decode and apply agree', { failures });
  t.equal(counterFailureCount, 0, 'ActiveConn/InActConn/persistent counters match a scan of the table after every datagram', { failures: counterFailures });
  t.ok(status.ok > 0 && status.ignored > 0 && status.malformed > 0, 'every status happened');
  t.ok(applied > 0 && unbound > 0 && skipped > 0 && peak === CAPACITY, 'entries applied, unbound and skipped; the table filled up');
});

t.test('the sync daemon counts every received datagram under one outcome', async (t) => {
  const rand = prng(SEED + 1);
  const { engine } = backup();
  const clock = new FakeClock();
  const routing = new RoutingTable([{ dst: ip('10.0.0.0'), prefixLen: 24, iface: 0, gateway: 0 }]);
  const runner = new SyncRunner(engine, routing, { syncid: SYNCID, localIp: u32(IP.lb), peer: u32('10.0.0.3'), maxDatagramsPerSec: 100 }, clock, () => undefined);
  const tick = () => (runner as unknown as { tick(): void }).tick();
  const N = 5000;
  for (let i = 0; i < N; i++) {
    if (i === 200) runner.setRole('backup');
    // The receive budget refills on ticks; none for a while, so it runs out.
    if (i % 50 === 0 && !(i >= 1000 && i < 1400)) {
      clock.advance(rand() * 800);
      tick();
    }
    let dg = validDatagram(rand);
    if (rand() < 0.6) dg = mutate(rand, dg);
    const from = pick(rand, ['10.0.0.3', '10.0.0.3', '10.0.0.3', IP.lb, '10.0.0.4']);
    const before = tableFingerprint(engine);
    runner.onMessage(dg, from);
    if (from !== '10.0.0.3' && tableFingerprint(engine) !== before) t.fail(`a datagram from ${from} changed the table`);
  }
  const s = runner.stats;
  t.comment(JSON.stringify(s));
  t.equal(s.datagramsReceived, N);
  t.equal(s.notBackup + s.foreign + s.rateLimited + s.malformed + s.ignored + s.datagramsApplied, N, 'not backup + foreign + rate limited + malformed + ignored + applied = received');
  t.ok(s.notBackup === 200 && s.foreign > 0 && s.rateLimited > 0 && s.malformed > 0 && s.ignored > 0 && s.datagramsApplied > 0, 'every outcome happened');
  t.same(scanCounters(engine), [], 'counters match the table');
  runner.stop();
});

t.test('known bug, smallest case: the same client tuple synced to another real server', async (t) => {
  const { engine } = backup();
  const base = { protocol: IPPROTO_TCP, flags: CONN_F_MASQ, state: 1, cport: 40000, vport: 80, dport: 80, fwmark: 0, timeout: 900, caddr: u32('198.51.100.10'), vaddr: u32(IP.vip) };
  // ESTABLISHED on rs1, then the master's connection is replaced: the same client port, now on rs2 (TIME_WAIT).
  t.match(applySyncToEngine(engine, encode({ syncid: SYNCID, conns: [{ ...base, daddr: u32(IP.rs1) }] }), SYNCID, 1000), { status: 'ok', applied: 1 });
  t.match(applySyncToEngine(engine, encode({ syncid: SYNCID, conns: [{ ...base, state: 5, daddr: u32(IP.rs2) }] }), SYNCID, 1000), { status: 'ok', applied: 1 });
  t.same(scanCounters(engine), [], 'counters match the table (rs2 went to -1 active)');
  const e = engine.table.findForward(IPPROTO_TCP, base.caddr | 0, base.cport, base.vaddr | 0, base.vport, false);
  t.equal(engine.table.daddr[e]! >>> 0, u32(IP.rs2), 'the connection now goes to rs2, as on the master');
});
