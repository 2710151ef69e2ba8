/**
 * Fuzz test (issue 15 item 3): forged, truncated, wrong-version, wrong-auth and random VRRP
 * frames into a running VrrpRunner (three instances: v2 with a password, v3, v2 unicast)
 * while time passes and the instances elect, take over and give up. Whatever arrives:
 * receive() never throws; every frame is counted under exactly one outcome (malformed,
 * another VRID, refused by the checks, accepted); only accepted adverts reach the state
 * machines; the checks themselves never throw on any advert/instance pair. Deterministic
 * (seeded PRNG); the first failures are reported with the frame.
 */
import t from 'tap';
import { MemoryPort } from '../../src/io/memory-port.js';
import { VrrpRunner } from '../../src/ha/vrrp-runner.js';
import type { VrrpRunnerInstance } from '../../src/ha/vrrp-config.js';
import { buildAdvertFrame, VRRP_MCAST_GROUP } from '../../src/vrrp/frame.js';
import { checkAdvert, type LocalInstance } from '../../src/vrrp/checks.js';
import { decode, passwordToAuthData, VRRP_AUTH_NONE, VRRP_AUTH_PASS, type VrrpAdvert } from '../../src/vrrp/packet.js';
import { checksum, pseudoHeaderSum } from '../../src/packet/checksum.js';
import { ip as parseIpv4, mac as parseMac } from '../helpers/addr.js';
import { FakeClock } from '../ha/fake-clock.js';
import { prng, randomBytes } from '../helpers/prng.js';
import { int, pick, type Rand } from '../helpers/fuzz-text.js';

const FRAMES = Number(process.env.TSLB_FUZZ_VRRP ?? 20_000);
const SEED = Number(process.env.TSLB_FUZZ_SEED ?? 0x5eed7);
const MAX_REPORTED = 10;

const ip = parseIpv4;
const SECRET = passwordToAuthData('secret');
const VIPS = { a: [ip('10.0.0.127')], b: [ip('10.0.0.128'), ip('10.0.0.129')], c: [ip('10.0.1.127')] };
const PEERS = ['10.0.0.3', '10.0.0.10', '10.0.1.3', '10.0.1.4'].map(ip);

function instance(name: string, ifIndex: number, machine: VrrpRunnerInstance['machine'], checks: Partial<LocalInstance>, unicastPeers: number[] = []): VrrpRunnerInstance {
  const version = machine.version ?? 2;
  const adverInt = version === 2 ? (machine.advertIntMs ?? 1000) / 1000 : (machine.advertIntMs ?? 1000) / 10;
  return {
    name, ifIndex, machine, unicastPeers, notify: {},
    checks: { version, vrid: machine.vrid, adverInt, vips: machine.vips, priority: machine.priority, ...(unicastPeers.length ? { unicast: true, unicastPeers } : {}), ...checks },
  };
}

const SPECS: VrrpRunnerInstance[] = [
  instance('VI_A', 0, { vrid: 51, priority: 100, advertIntMs: 1000, initialState: 'BACKUP', primaryIp: ip('10.0.0.2'), vips: VIPS.a, authType: VRRP_AUTH_PASS, authData: SECRET }, { authType: VRRP_AUTH_PASS, authData: SECRET }),
  instance('VI_B', 0, { vrid: 52, priority: 150, version: 3, advertIntMs: 500, initialState: 'MASTER', primaryIp: ip('10.0.0.2'), vips: VIPS.b }, {}),
  instance('VI_C', 1, { vrid: 53, priority: 50, advertIntMs: 2000, initialState: 'BACKUP', primaryIp: ip('10.0.1.2'), vips: VIPS.c }, {}, [ip('10.0.1.3')]),
];

/** A well-formed advert for one of the instances (or a neighbour's VRID), from a peer. */
function validFrame(rand: Rand): { frame: Uint8Array; ifIndex: number } {
  const s = pick(rand, SPECS);
  const v3 = (s.machine.version ?? 2) === 3;
  const right = rand() < 0.75; // the fields the checks compare: mostly right
  const advert: VrrpAdvert = {
    version: v3 ? 3 : 2,
    vrid: rand() < 0.9 ? s.machine.vrid : int(rand, 1, 255),
    priority: pick(rand, [0, 1, 50, 100, 149, 150, 151, 254, 255, int(rand, 0, 255)]),
    adverInt: right ? s.checks.adverInt : v3 ? int(rand, 1, 4095) : int(rand, 1, 255),
    addresses: right ? [...s.machine.vips] : Array.from({ length: int(rand, 0, 4) }, () => pick(rand, [...VIPS.a, ...VIPS.b, ip('10.9.9.9')])),
  };
  if (!v3) {
    advert.authType = right || rand() < 0.5 ? (s.checks.authType ?? VRRP_AUTH_NONE) : int(rand, 0, 3);
    if (advert.authType === VRRP_AUTH_PASS) advert.authData = right || rand() < 0.5 ? SECRET : passwordToAuthData(pick(rand, ['nope', 'secreT', '', 'secret!!x']));
  }
  const unicast = s.unicastPeers.length > 0;
  const srcIp = unicast && right ? s.unicastPeers[0]! : pick(rand, PEERS);
  const dstIp = unicast === right ? s.machine.primaryIp : VRRP_MCAST_GROUP;
  const frame = buildAdvertFrame(advert, { srcMac: '02:00:00:00:00:33', srcIp, dstIp, dstMac: '02:00:00:00:00:02', ttl: right || rand() < 0.5 ? 255 : int(rand, 1, 255) });
  if (rand() < 0.1) frame[14 + 1] = int(rand, 0, 255); // TOS: not checked
  return { frame, ifIndex: rand() < 0.95 ? s.ifIndex : 1 - s.ifIndex };
}

/** IPv4 header and VRRP checksums made right again after a mutation (as a forger would). */
function fixChecksums(b: Uint8Array): void {
  if (b.length < 34 || b[12] !== 0x08 || b[13] !== 0x00) return;
  const ihl = (b[14]! & 0x0f) * 4;
  if (ihl < 20 || 14 + ihl > b.length) return;
  b[24] = 0;
  b[25] = 0;
  const c = checksum(b, 14, ihl);
  b[24] = c >>> 8;
  b[25] = c & 0xff;
  const v = 14 + ihl;
  const total = (b[16]! << 8) | b[17]!;
  const len = Math.min(b.length, 14 + total) - v;
  if (len < 8) return;
  b[v + 6] = 0;
  b[v + 7] = 0;
  const src = ((b[26]! << 24) | (b[27]! << 16) | (b[28]! << 8) | b[29]!) >>> 0;
  const dst = ((b[30]! << 24) | (b[31]! << 16) | (b[32]! << 8) | b[33]!) >>> 0;
  const init = b[v]! >> 4 === 3 ? pseudoHeaderSum(src, dst, 112, len) : 0;
  const vc = checksum(b, v, len, init);
  b[v + 6] = vc >>> 8;
  b[v + 7] = vc & 0xff;
}

function mutate(rand: Rand, f: Uint8Array): Uint8Array {
  let b = Buffer.from(f);
  const v = 34; // VRRP offset without IP options
  switch (int(rand, 0, 10)) {
    case 0: // flip bytes anywhere
    case 1:
      for (let k = int(rand, 1, 4); k > 0 && b.length > 0; k--) b[int(rand, 0, b.length - 1)] = int(rand, 0, 255);
      break;
    case 2: b = b.subarray(0, int(rand, 0, b.length)); break; // truncated
    case 3: b = Buffer.concat([b, randomBytes(rand, int(rand, 1, 40))]); break; // Ethernet padding / trailing bytes
    case 4: if (b.length > v) b[v] = (pick(rand, [0, 1, 2, 3, 4, 15]) << 4) | pick(rand, [1, 1, 0, 2, 15]); break; // version / type
    case 5: if (b.length > v + 3) b[v + 3] = pick(rand, [0, 1, 2, 3, 200, 255]); break; // address count
    case 6: if (b.length > v + 5) b[v + 4] = int(rand, 0, 255); break; // v2 auth type, v3 interval high bits
    case 7: if (b.length > 22) b[22] = pick(rand, [0, 1, 64, 254, 255]); break; // TTL
    case 8: // IP total length, IHL, protocol, fragment bits
      if (b.length >= 34) {
        const w = int(rand, 0, 3);
        if (w === 0) b.writeUInt16BE(int(rand, 0, 200), 16);
        else if (w === 1) b[14] = 0x40 | int(rand, 0, 15);
        else if (w === 2) b[23] = pick(rand, [112, 51, 17, int(rand, 0, 255)]);
        else b.writeUInt16BE(pick(rand, [0x2000, 0x0001, 0x4000]), 20);
      }
      break;
    case 9: // 802.1Q tag inserted
      b = Buffer.concat([b.subarray(0, 12), Buffer.from([0x81, 0x00, 0x00, int(rand, 0, 255)]), b.subarray(12)]);
      break;
    default: // auth data (the password) changed
      if (b.length > v + 12) b[v + 8 + 4 * (b[v + 3] ?? 0) + int(rand, 0, 7)] = int(rand, 0, 255);
  }
  if (rand() < 0.6) fixChecksums(b);
  return b;
}

t.test(`fuzz: ${FRAMES} forged, mutated and random VRRP frames into running instances`, async (t) => {
  const started = performance.now();
  const rand = prng(SEED);
  const clock = new FakeClock();
  const ports = [new MemoryPort('eth0', parseMac('02:00:00:00:00:02')), new MemoryPort('eth1', parseMac('02:00:00:00:01:02'))];
  const runner = new VrrpRunner(SPECS, { ports, setVipActive: () => undefined, clock });
  // Count what reaches the state machines.
  let advertsDelivered = 0;
  for (const i of (runner as unknown as { inst: { sm: { handle(ev: { type: string }, now: number): unknown } }[] }).inst) {
    const handle = i.sm.handle.bind(i.sm);
    i.sm.handle = (ev, now) => {
      if (ev.type === 'advert') advertsDelivered++;
      return handle(ev, now);
    };
  }
  runner.receive(0, new Uint8Array(10), 10); // before start: counted as not running
  runner.start();
  const failures: string[] = [];
  let failureCount = 0;
  const states = new Set<string>();
  for (let i = 0; i < FRAMES; i++) {
    clock.advance(rand() * 400);
    if (rand() < 1 / 2000) clock.advance(10_000); // silence: backups take over
    if (rand() < 1 / 3000) runner.setLink(int(rand, 0, 1), rand() < 0.5);
    let frame: Uint8Array;
    let ifIndex: number;
    const r = rand();
    if (r < 0.15) {
      frame = randomBytes(rand, int(rand, 0, 120));
      ifIndex = int(rand, 0, 1);
    } else {
      ({ frame, ifIndex } = validFrame(rand));
      if (r >= 0.4) for (let k = int(rand, 1, 3); k > 0; k--) frame = mutate(rand, frame);
    }
    const len = rand() < 0.05 ? int(rand, 0, frame.length) : frame.length;
    try {
      runner.receive(ifIndex, frame, len);
    } catch (err) {
      failureCount++;
      if (failures.length < MAX_REPORTED) failures.push(`frame #${i} (seed ${SEED}, if ${ifIndex}, len ${len}): threw ${(err as Error).stack}\n  ${Buffer.from(frame.subarray(0, 80)).toString('hex')}`);
    }
    for (const s of runner.status()) states.add(`${s.name} ${s.state}`);
    if (i % 1000 === 0) for (const p of ports) p.sent.length = 0;
  }
  const rx = runner.rx;
  const inst = runner.status();
  const elapsed = (performance.now() - started) / 1000;
  t.comment(`${FRAMES} frames in ${elapsed.toFixed(1)} s: ${JSON.stringify(rx)}; states seen ${[...states].sort().join(', ')}`);
  t.comment(`refused by reason: ${JSON.stringify(inst.map((s) => [s.name, s.stats.rejected]))}`);
  t.equal(failureCount, 0, 'receive() never throws', { failures });
  t.equal(rx.frames, FRAMES + 1, 'every frame seen');
  t.equal(rx.notRunning + rx.malformed + rx.otherVrid + rx.rejected + rx.accepted, rx.frames, 'not running + malformed + other VRID + refused + accepted = frames');
  t.equal(inst.reduce((n, s) => n + s.stats.advertsReceived, 0), rx.accepted, 'per-instance accepted adverts add up');
  t.equal(inst.reduce((n, s) => n + Object.entries(s.stats.rejected).reduce((m, [k, v]) => m + (k === 'malformed' ? 0 : v ?? 0), 0), 0), rx.rejected, 'per-instance refusals add up');
  t.equal(advertsDelivered, rx.accepted, 'only accepted adverts reach the state machines');
  t.ok(rx.notRunning === 1 && rx.malformed > 0 && rx.otherVrid > 0 && rx.rejected > 0 && rx.accepted > 0, 'every outcome happened');
  for (const code of ['ttl', 'version', 'auth-type-invalid', 'auth-type-mismatch', 'auth-password', 'adver-int', 'type', 'checksum', 'cast-mismatch', 'length', 'unicast-src']) {
    t.ok(inst.some((s) => (s.stats.rejected as Record<string, number>)[code]! > 0), `exercised: ${code}`);
  }
  t.ok(['VI_A MASTER', 'VI_A BACKUP', 'VI_B MASTER', 'VI_B BACKUP', 'VI_C MASTER', 'VI_C FAULT'].every((s) => states.has(s)), 'the instances moved between states');
  runner.stop();
});

t.test('the checks never throw on any advert and instance', async (t) => {
  const rand = prng(SEED + 1);
  let thrown = 0;
  const verdicts = { ok: 0, reject: 0, drop: 0 };
  for (let i = 0; i < 20_000; i++) {
    const b = randomBytes(rand, int(rand, 8, 60));
    b[0] = (pick(rand, [2, 3]) << 4) | int(rand, 0, 15);
    if (rand() < 0.5) b[3] = int(rand, 0, Math.floor((b.length - 16) / 4));
    let advert: VrrpAdvert;
    try {
      advert = decode(b);
    } catch {
      continue; // decode refuses what does not fit; the runner counts it malformed
    }
    // Mostly matching the advert, so the checks get past the first few.
    const local: LocalInstance = {
      version: rand() < 0.8 ? advert.version : pick(rand, [2, 3] as const), vrid: advert.vrid,
      adverInt: rand() < 0.6 ? advert.adverInt : int(rand, 1, 255), vips: advert.addresses.slice(0, int(rand, 0, 3)),
      authType: rand() < 0.6 ? (advert.authType ?? 0) : int(rand, 0, 2), ...(rand() < 0.5 ? { authData: SECRET } : {}), unicast: rand() < 0.3, ...(rand() < 0.3 ? { unicastPeers: [ip('10.0.0.3')] } : {}),
      priority: int(rand, 1, 255), ownerIgnoreAdverts: rand() < 0.2, skipCheckAdvAddr: rand() < 0.2, strictAddressList: rand() < 0.3,
    };
    try {
      const v = checkAdvert({ advert, srcIp: pick(rand, PEERS), dstIp: pick(rand, [VRRP_MCAST_GROUP, ip('10.0.0.2')]), ttl: rand() < 0.8 ? 255 : int(rand, 0, 255), checksumOk: rand() < 0.8, vrrpLength: rand() < 0.8 ? undefined : int(rand, 0, 80) }, local);
      verdicts[v.verdict]++;
      if (v.verdict !== 'ok' && v.code === undefined) throw new Error('a refusal without a code');
    } catch (err) {
      thrown++;
      if (thrown < 5) t.fail(`checkAdvert threw ${(err as Error).stack}`);
    }
  }
  t.comment(JSON.stringify(verdicts));
  t.equal(thrown, 0);
  t.ok(verdicts.ok > 0 && verdicts.reject > 0 && verdicts.drop > 0);
});
