/**
 * Fuzz test (issue 2 item 10): over a million random and mutated frames through one
 * engine carrying a NAT, a DR and a UDP service. Whatever arrives, the engine must not
 * throw, must return a known verdict, must emit only well-formed frames, must account
 * for every drop under a reason, and must keep its table and per-server counters sound.
 * Deterministic (seeded PRNG); the first failures are reported with a reproducer.
 */
import t from 'tap';
import { scanCounters } from '../helpers/table-scan.js';
import { oneArm, destSpec, svcSpec, ip, IP, MAC } from '../helpers/lab-engine.js';
import { prng } from '../helpers/prng.js';
import { PORT_DR, PORT_EMPTY, PORT_UDP, fixChecksums, mutate, validFrame } from '../helpers/fuzz-frames.js';
import { parseMac } from '../../src/packet/addr.js';
import { checksum } from '../../src/packet/checksum.js';
import { equal6 } from '../../src/packet/bytes.js';
import * as l4 from '../../src/packet/l4.js';
import { PROTO_ICMP, PROTO_TCP, PROTO_UDP } from '../../src/packet/ipv4.js';
import { FWD_DR } from '../../src/dataplane/model.js';
import { DROP, DROP_REASONS, V_CONSUMED, V_DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import type { Engine } from '../../src/dataplane/engine.js';
import type { ServiceRegistry } from '../../src/control/service-registry.js';
import { applyDefense, DEFENSE_DEFAULTS } from '../../src/defense/options.js';

const FRAMES = Number(process.env.TSLB_FUZZ_FRAMES ?? 1_000_000);
const SEED = Number(process.env.TSLB_FUZZ_SEED ?? 0x5eed2);
/** TSLB_FUZZ_DEFENSE=1: every defence of src/defense always on (scripts/fuzz-long runs both). */
const DEFENSE = process.env.TSLB_FUZZ_DEFENSE === '1';
/** Small on purpose: the table fills up and "table full" is exercised. */
const CAPACITY = 48;
const CORPUS = 4000;
const SCAN_EVERY = 25_000;
const MAX_REPORTED = 10;
const LB_MAC = parseMac(MAC.lb)!;

const NAT = svcSpec();
const DR = svcSpec({ port: PORT_DR, persistent: 60, netmask: 0xffffff00 });
const UDP = svcSpec({ proto: PROTO_UDP, port: PORT_UDP });
const EMPTY = svcSpec({ port: PORT_EMPTY });

/**
 * NAT (rs1, rs2), persistent DR (rs1), UDP NAT (rs1, rs2@2) and a service whose only
 * server is quiesced. ICMP errors are rate limited hard so the limit is reached.
 */
function buildEngine(): { engine: Engine; registry: ServiceRegistry } {
  const { engine, registry } = oneArm({ maxConns: CAPACITY, icmpPerSecond: 2 });
  registry.addService(DR);
  registry.addDest(DR, destSpec(IP.rs1, { fwd: FWD_DR }));
  registry.addService(UDP);
  registry.addDest(UDP, destSpec(IP.rs1, { port: PORT_UDP }));
  registry.addDest(UDP, destSpec(IP.rs2, { port: PORT_UDP, weight: 2 }));
  registry.addService(EMPTY);
  registry.addDest(EMPTY, destSpec(IP.rs2, { port: PORT_EMPTY, weight: 0 }));
  if (DEFENSE) {
    applyDefense(engine.guard, {
      ...DEFENSE_DEFAULTS, dropEntry: 3, dropPacket: 3, secureTcp: 3, amDroprate: 7, svcConnRate: 12, clientConnRate: 4, clientPrefixLen: 30,
    }, CAPACITY);
  }
  return { engine, registry };
}

/**
 * Control-plane changes between frames, as an operator or a health checker makes them:
 * delete and re-add a server (its connections keep it in the "trash"), quiesce one,
 * flip expire_nodest_conn. The counters must survive all of it.
 */
function controlPlaneEvent(rand: () => number, engine: Engine, registry: ServiceRegistry, rs2InNat: { on: boolean }): void {
  const r = rand();
  if (r < 0.4) {
    if (rs2InNat.on) registry.delDest(NAT, ip(IP.rs2), 80);
    else registry.addDest(NAT, destSpec(IP.rs2));
    rs2InNat.on = !rs2InNat.on;
  } else if (r < 0.7) {
    registry.editDest(NAT, destSpec(IP.rs1, { weight: rand() < 0.5 ? 0 : 1 + Math.floor(rand() * 3) }));
  } else if (r < 0.85) {
    engine.settings.expireNodestConn = !engine.settings.expireNodestConn;
  } else {
    registry.editDest(UDP, destSpec(IP.rs1, { port: PORT_UDP, weight: rand() < 0.5 ? 0 : 1 }));
  }
}

/** L3 offset as the engine reads it (one optional 802.1Q tag), -1 if none fits. */
function l3Of(b: Uint8Array, len: number): number {
  if (len < 14) return -1;
  return b[12] === 0x81 && b[13] === 0x00 ? (len < 18 ? -1 : 18) : 14;
}

function isIPv4(b: Uint8Array, l3: number): boolean {
  return b[l3 - 2] === 0x08 && b[l3 - 1] === 0x00;
}

/** Is the frame an IPv4 TCP/UDP datagram that fits and carries a correct L4 checksum? */
function l4ChecksumValid(b: Uint8Array, len: number): boolean {
  const l3 = l3Of(b, len);
  if (l3 < 0 || l3 + 20 > len || !isIPv4(b, l3) || b[l3]! >>> 4 !== 4) return false;
  const hl = (b[l3]! & 0x0f) << 2;
  const total = (b[l3 + 2]! << 8) | b[l3 + 3]!;
  const proto = b[l3 + 9];
  const min = proto === PROTO_TCP ? 20 : proto === PROTO_UDP ? 8 : -1;
  if (min < 0 || hl < 20 || total < hl + min || l3 + total > len) return false;
  return l4.verifyChecksum(b, l3);
}

function sumDrops(e: Engine): number {
  let s = 0;
  for (let i = 0; i < e.counters.drops.length; i++) s += e.counters.drops[i]!;
  return s;
}

/** Problems with an emitted frame (empty when it is well-formed). */
function checkEmit(e: Engine, input: Uint8Array, inputL4Valid: boolean): string | null {
  const out = e.verdict.buf;
  const len = e.verdict.len;
  if (out !== input && out !== e.scratch) return 'verdict.buf is neither the input frame nor the scratch buffer';
  if (!(len > 0 && len <= out.length)) return `txLen ${len} outside the buffer (${out.length})`;
  if (!equal6(out, 6, LB_MAC, 0)) return 'source MAC is not the interface MAC';
  const l3 = l3Of(out, len);
  if (l3 < 0) return 'emitted frame shorter than an Ethernet header';
  if (out[l3 - 2] === 0x08 && out[l3 - 1] === 0x06) return len - l3 >= 28 ? null : 'ARP frame truncated';
  if (!isIPv4(out, l3)) return `emitted EtherType ${out[l3 - 2]}:${out[l3 - 1]}`;
  const hl = (out[l3]! & 0x0f) << 2;
  if (out[l3]! >>> 4 !== 4 || hl < 20 || l3 + hl > len) return 'emitted IPv4 header malformed';
  if (checksum(out, l3, hl) !== 0) return 'emitted IPv4 header checksum wrong';
  const total = (out[l3 + 2]! << 8) | out[l3 + 3]!;
  if (total < hl || l3 + total > len) return `IP total length ${total} does not fit txLen ${len}`;
  if (out[l3 + 8] === 0) return 'emitted with TTL 0';
  const proto = out[l3 + 9];
  if (proto === PROTO_ICMP && checksum(out, l3 + hl, total - hl) !== 0) return 'emitted ICMP checksum wrong';
  // NAT rewrites update the L4 checksum incrementally: a correct one must stay correct.
  if (out === input && inputL4Valid && (proto === PROTO_TCP || proto === PROTO_UDP) && !l4.verifyChecksum(out, l3)) {
    return 'L4 checksum broken by the rewrite';
  }
  return null;
}

// Long runs (scripts/fuzz-long: 10^7 frames) need more than tap's default 30 s.
if (FRAMES > 1_000_000) t.setTimeout(Math.max(30_000, FRAMES / 20));

t.test(`fuzz: ${FRAMES} random and mutated frames${DEFENSE ? ', every defence on' : ''}`, async (t) => {
  const started = performance.now();
  const rand = prng(SEED);
  const { engine, registry } = buildEngine();
  const rs2InNat = { on: true };
  const noise = new Uint8Array(1 << 20);
  for (let i = 0; i < noise.length; i += 4) {
    const x = (rand() * 4294967296) >>> 0;
    noise[i] = x; noise[i + 1] = x >>> 8; noise[i + 2] = x >>> 16; noise[i + 3] = x >>> 24;
  }
  const corpus: Buffer[] = [];
  for (let i = 0; i < CORPUS; i++) corpus.push(validFrame(rand));
  const work = Buffer.alloc(4096);
  const original = Buffer.alloc(4096);

  const verdicts = [0, 0, 0];
  let replacedEmits = 0; // an ICMP error or ARP request sent instead of a dropped frame
  let prevDrops = 0;
  const failures: string[] = [];
  let failureCount = 0;
  let maxCount = 0;
  let now = 1_000_000;
  const fail = (i: number, len: number, what: string) => {
    failureCount++;
    if (failures.length < MAX_REPORTED) {
      failures.push(`frame #${i} (seed ${SEED}, len ${len}, now ${now}): ${what}\n  in: ${original.subarray(0, Math.min(len, 96)).toString('hex')}`);
    }
  };

  for (let i = 0; i < FRAMES; i++) {
    // Time moves on ~1 ms per frame, with rare long gaps that expire most of the table.
    now += rand() * 2;
    if (rand() < 1 / 40_000) now += 400_000 + rand() * 600_000;
    if (rand() < 1 / 5_000) controlPlaneEvent(rand, engine, registry, rs2InNat);
    let len: number;
    const kind = rand();
    if (kind < 0.2) {
      len = Math.floor(rand() * 1601);
      const from = Math.floor(rand() * (noise.length - len));
      work.set(noise.subarray(from, from + len), 0);
    } else {
      const f = corpus[Math.floor(rand() * corpus.length)]!;
      work.set(f, 0);
      len = f.length;
      if (kind >= 0.35) {
        const n = 1 + Math.floor(rand() * 3);
        for (let k = 0; k < n; k++) len = mutate(rand, work, len, noise);
        fixChecksums(rand, work, len);
      }
    }
    original.set(work.subarray(0, len), 0);
    const frame = work.subarray(0, len);
    const inputL4Valid = l4ChecksumValid(frame, len);

    let v: number;
    try {
      v = engine.process(frame, len, 0, now);
    } catch (err) {
      fail(i, len, `threw ${(err as Error).stack ?? String(err)}`);
      continue;
    }
    if (v !== V_DROP && v !== V_EMIT && v !== V_CONSUMED) {
      fail(i, len, `unknown verdict ${v}`);
      continue;
    }
    verdicts[v]!++;

    // Drop accounting, frame by frame: exactly one reason per dropped frame. A frame the
    // engine replaces by one it writes itself (ICMP error, ARP request) is a dropped frame
    // too (an ICMP error withheld by the rate limit leaves a V_DROP with its reason).
    const drops = sumDrops(engine);
    const delta = drops - prevDrops;
    prevDrops = drops;
    const replaced = v === V_EMIT && engine.verdict.buf === engine.scratch;
    if (replaced) replacedEmits++;
    const expected = v === V_DROP || replaced ? 1 : 0;
    if (delta !== expected) fail(i, len, `verdict ${v} changed the drop counters by ${delta} (reason ${DROP_REASONS[engine.verdict.reason]})`);

    if (v === V_EMIT) {
      const problem = checkEmit(engine, frame, inputL4Valid);
      if (problem !== null) fail(i, len, problem);
    }
    const count = engine.table.count;
    if (count > engine.table.capacity || count < 0) fail(i, len, `table count ${count}`);
    if (count > maxCount) maxCount = count;
    for (const d of engine.dests) {
      if (d !== null && (d.activeConns < 0 || d.inactConns < 0 || d.persistConns < 0)) {
        fail(i, len, `dest ${d.id} counters ${d.activeConns}/${d.inactConns}/${d.persistConns}`);
      }
    }
    if (i % SCAN_EVERY === SCAN_EVERY - 1) for (const p of scanCounters(engine)) fail(i, len, p);
    if (failureCount > 1000) break;
  }

  const elapsed = (performance.now() - started) / 1000;
  const byReason = Object.fromEntries(DROP_REASONS.map((r, i) => [r, engine.counters.drops[i]]).filter(([, n]) => n !== 0));
  t.comment(`${FRAMES} frames in ${elapsed.toFixed(1)} s: drop ${verdicts[V_DROP]}, emit ${verdicts[V_EMIT]}, consumed ${verdicts[V_CONSUMED]}; table peak ${maxCount}/${CAPACITY}`);
  t.comment(`drops by reason: ${JSON.stringify(byReason)}`);

  t.equal(failureCount, 0, 'no exception, unknown verdict, malformed emission or counter error', { failures });
  t.equal(verdicts[0]! + verdicts[1]! + verdicts[2]!, FRAMES, 'every frame got a verdict');
  t.equal(
    sumDrops(engine), verdicts[V_DROP]! + replacedEmits,
    'per-reason drop counters add up to the dropped frames (V_DROP, plus frames answered by an ICMP error or ARP request)',
  );
  t.same(scanCounters(engine), [], 'ActiveConn/InActConn of every server match a scan of the table at the end');
  t.ok(engine.table.count <= CAPACITY, 'table within capacity');

  // The corpus reaches deep: every one of these outcomes happened at least once.
  for (const r of [
    'runt_frame', 'unknown_ethertype', 'ip_truncated', 'ip_bad_version', 'ip_bad_ihl', 'ip_bad_length', 'ip_bad_checksum',
    'ip_fragment', 'l4_truncated', 'l4_bad_header', 'unsupported_protocol', 'not_ours', 'no_service', 'tcp_no_conn',
    'table_full', 'ttl_exceeded', 'oversize', 'icmp_bad_checksum', 'icmp_unrelated', 'arp_malformed',
    'arp_ignored', 'loop_guard', 'no_destination', 'dest_unavailable',
  ] as const) {
    t.ok(engine.counters.drops[DROP[r]]! > 0, `exercised: ${r}`);
  }
  t.ok(maxCount === CAPACITY, 'the table was full at some point');
  t.ok(engine.counters.icmpRateLimited > 0, 'ICMP errors were rate limited');
  t.ok(engine.counters.arpReplies > 0 && engine.counters.icmpSent > 0 && engine.counters.stats.conns > 0 && engine.counters.stats.outPkts > 0, 'ARP answers, ICMP errors, new connections and NAT replies happened');
  t.ok(engine.counters.vipArpConflicts > 0, 'VIP ARP conflicts were seen');
  if (DEFENSE) {
    for (const r of ['defense_drop_packet', 'svc_conn_rate', 'client_conn_rate'] as const) t.ok(engine.counters.drops[DROP[r]]! > 0, `exercised: ${r}`);
    t.ok(engine.guard.dropEntry.dropped > 0, `drop_entry freed ${engine.guard.dropEntry.dropped} entries`);
  }
});
