/**
 * VRRPv3 for IPv6 VIPs (docs/ipv6.md step 11): keepalived.conf rules for an IPv6 instance
 * (one family per instance, version 3), two directors electing a master over IPv6 adverts,
 * the engine's IPv6 VIP activity and the unsolicited NAs at takeover, and the capture filter.
 * Expected frames are RFC 9568 §5 (advert to ff02::12 / 33:33:00:00:00:12, hop limit 255,
 * link-local source, checksum over the IPv6 pseudo-header with next header 112) and RFC 4861
 * §4.4 / §7.2.6 (unsolicited NA to ff02::1 with the target link-layer option), written by hand;
 * times are RFC 9568 §6.1's (Skew_Time = (256 - Priority) * Master_Adver_Interval / 256,
 * Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseKeepalivedText } from '../../src/config/keepalived/index.js';
import { vrrpInstanceFromConfig, type VrrpRunnerInstance } from '../../src/ha/vrrp-config.js';
import { VrrpRunner } from '../../src/ha/vrrp-runner.js';
import { vrrpCaptureFilter } from '../../src/ha/vrrp-capture.js';
import { MemoryPort } from '../../src/io/memory-port.js';
import { Engine } from '../../src/dataplane/engine.js';
import { parseMac } from '../../src/packet/addr.js';
import { formatIPv6 } from '../../src/packet/addr6.js';
import { encodePcap } from '../../src/io/pcap-file.js';
import { hex, internetChecksum, macBytes } from '../helpers/frame-ref.js';
import { ip6Bytes } from '../helpers/frame-ref6.js';
import { FakeClock } from './fake-clock.js';

const VIPS = ['2001:db8:0:1::127', '2001:db8:0:1::128'];

function conf(body: string): string {
  return `vrrp_instance VI_6 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 60\n${body}}\n`;
}

function instance(text: string, ll: string | null = 'fe80::a', file = 'keepalived.conf'): VrrpRunnerInstance {
  const r = parseKeepalivedText(text, file);
  const vi = r.config.vrrpInstances[0]!;
  return vrrpInstanceFromConfig(vi, (n) => (n === 'eth0' ? 0 : undefined), () => 0x0a000002, () => (ll !== null ? Uint8Array.from(ip6Bytes(ll)) : undefined));
}

t.test('keepalived.conf: an IPv6 instance runs VRRPv3 from the link-local address; one family per instance', (t) => {
  const s = instance(conf(`  priority 150\n  advert_int 1\n  virtual_ipaddress {\n    2001:DB8:0:1:0::127\n    ${VIPS[1]}\n  }\n`));
  t.match(s.machine, { version: 3, advertIntMs: 1000, priority: 150, vips: [0, 1], garpMasterRepeat: 5, garpMasterDelayMs: 5000 });
  t.same([...s.machine.primaryIp6!], ip6Bytes('fe80::a'));
  t.match(s.checks, { version: 3, adverInt: 100, vips: [0, 1], unicast: false });
  t.same(s.ipv6!.vips.map((v) => v.text), VIPS, 'inet_ntop text (RFC 5952)');
  t.equal(s.ipv6!.src, 'fe80::a');
  t.equal(formatIPv6(s.ipv6!.vips[0]!.words), VIPS[0]);

  const fractional = instance(conf(`  advert_int 0.5\n  virtual_ipaddress {\n    ${VIPS[0]}\n  }\n`));
  t.equal(fractional.machine.advertIntMs, 500, 'v3 carries centiseconds');
  const explicit3 = instance(conf(`  version 3\n  virtual_ipaddress {\n    ${VIPS[0]}\n  }\n`));
  t.equal(explicit3.machine.version, 3);
  const src = instance(conf(`  mcast_src_ip fe80::99\n  virtual_ipaddress {\n    ${VIPS[0]}\n  }\n`));
  t.equal(src.ipv6!.src, 'fe80::99', 'mcast_src_ip is the source when given');

  // The mixed address is on line 7 of the file: its own line is named.
  t.throws(() => instance(conf(`  virtual_ipaddress {\n    ${VIPS[0]}\n    10.0.0.5\n  }\n`)),
    /^keepalived\.conf:7: vrrp_instance VI_6: virtual_ipaddress 10\.0\.0\.5 is IPv4, but the instance is IPv6/);
  t.throws(() => instance(conf(`  virtual_ipaddress {\n    10.0.0.5\n    ${VIPS[0]}\n  }\n`)),
    /^keepalived\.conf:7: .*2001:db8:0:1::127 is IPv6, but the instance is IPv4/);
  t.throws(() => instance(conf(`  version 2\n  virtual_ipaddress {\n    ${VIPS[0]}\n  }\n`)), /^keepalived\.conf:1: .*version 3/);
  t.throws(() => instance(conf(`  virtual_ipaddress {\n    ${VIPS[0]}\n  }\n`), null), /no IPv6 link-local address/);
  t.throws(() => instance(conf(`  unicast_peer {\n    2001:db8::2\n  }\n  virtual_ipaddress {\n    ${VIPS[0]}\n  }\n`)), /unicast_peer/);
  const v4 = instance(conf(`  virtual_ipaddress {\n    10.0.0.5\n  }\n`));
  t.equal(v4.ipv6, undefined, 'an IPv4 instance stays as it was');
  t.equal(v4.machine.version ?? 2, 2);
  t.end();
});

const u16 = (v: number) => [v >> 8, v & 255];

/** RFC 9568 §5 advert frame, by hand. */
function advertFrame(srcMac: string, src: string, vrid: number, prio: number, centis: number, addrs: string[]): number[] {
  const len = 8 + 16 * addrs.length;
  const body = [0x31, vrid, prio, addrs.length, ...u16(centis & 0xfff), 0, 0, ...addrs.flatMap(ip6Bytes)];
  const pseudo = [...ip6Bytes(src), ...ip6Bytes('ff02::12'), 0, 0, ...u16(len), 0, 0, 0, 112];
  const c = internetChecksum([...pseudo, ...body]);
  body[6] = c >> 8;
  body[7] = c & 255;
  return [0x33, 0x33, 0, 0, 0, 0x12, ...macBytes(srcMac), 0x86, 0xdd, 0x60, 0, 0, 0, ...u16(len), 112, 255, ...ip6Bytes(src), ...ip6Bytes('ff02::12'), ...body];
}

class Node {
  readonly port: MemoryPort;
  readonly engine: Engine;
  readonly vip6 = new Map<string, boolean>();
  runner!: VrrpRunner;
  connected = true;
  constructor(readonly mac: string, readonly wire: Wire) {
    this.port = new MemoryPort('eth0', parseMac(mac)!);
    this.engine = new Engine({ ifaces: [{ name: 'eth0', mac: parseMac(mac)!, mtu: 1500, ip: 0 }], maxConns: 16 });
    const send = this.port.send.bind(this.port);
    this.port.send = (frame, len) => {
      const ok = send(frame, len);
      if (this.connected) wire.carry(this, Buffer.from(frame.subarray(0, len)));
      return ok;
    };
  }
}

class Wire {
  readonly nodes: Node[] = [];
  constructor(readonly clock: FakeClock) {}
  carry(from: Node, frame: Buffer): void {
    this.clock.setTimer(() => {
      if (!from.connected) return;
      // What the capture filter lets through: IPv6 with next header 112.
      for (const n of this.nodes) if (n !== from && n.connected && frame[12] === 0x86 && frame[13] === 0xdd && frame[20] === 112) n.runner.receive(0, frame, frame.length);
    }, 0);
  }
}

function node(wire: Wire, mac: string, ll: string, prio: number): Node {
  const n = new Node(mac, wire);
  const s = instance(conf(`  priority ${prio}\n  virtual_ipaddress {\n    ${VIPS[0]}\n    ${VIPS[1]}\n  }\n`), ll);
  n.runner = new VrrpRunner([s], {
    ports: [n.port],
    setVipActive: () => t.fail('no IPv4 VIP here'),
    setVipActive6: (w, on) => n.vip6.set(formatIPv6(w), on),
    unsolicitedNa: (w, ifi) => n.engine.unsolicitedNa(w, ifi),
    clock: wire.clock,
  });
  wire.nodes.push(n);
  return n;
}

const skew = (p: number, adv = 1000) => ((256 - p) * adv) / 256;
const mdi = (p: number, adv = 1000) => 3 * adv + skew(p, adv);
const adverts = (n: Node) => n.port.sent.filter((f) => f[12] === 0x86 && f[20] === 112);
const nas = (n: Node) => n.port.sent.filter((f) => f[12] === 0x86 && f[20] === 58 && f[54] === 136);

t.test('two directors over IPv6: election, adverts, VIPs active on the master, unsolicited NAs, takeover', (t) => {
  const clock = new FakeClock();
  const wire = new Wire(clock);
  const a = node(wire, '02:00:00:00:00:0a', 'fe80::a', 150);
  const b = node(wire, '02:00:00:00:00:0b', 'fe80::b', 100);
  a.runner.start();
  b.runner.start();
  t.same([...a.vip6.values()], [false, false], 'passive at start');
  clock.advanceTo(mdi(150) - 1);
  t.equal(a.runner.state('VI_6'), 'BACKUP');
  clock.advanceTo(mdi(150));
  t.equal(a.runner.state('VI_6'), 'MASTER', `master at ${mdi(150)} ms`);
  t.same(Object.fromEntries(a.vip6), { [VIPS[0]!]: true, [VIPS[1]!]: true }, 'both IPv6 VIPs active in the engine');
  t.equal(hex([...adverts(a)[0]!]), hex(advertFrame('02:00:00:00:00:0a', 'fe80::a', 60, 150, 100, VIPS)), 'RFC 9568 advert');
  // garp_master_repeat (5) NAs per VIP at once.
  const first = nas(a);
  t.equal(first.length, 10);
  const na = first[0]!;
  t.equal(hex([...na.subarray(0, 6)]), '333300000001', 'to all-nodes 33:33:00:00:00:01');
  t.equal(na[21], 255, 'hop limit 255 (RFC 4861 7.1.2)');
  t.equal(hex([...na.subarray(22, 38)]), hex(ip6Bytes(VIPS[0]!)), 'from the VIP');
  t.equal(hex([...na.subarray(38, 54)]), hex(ip6Bytes('ff02::1')));
  t.ok(na[58]! & 0x20, 'Override set (RFC 9568 6.4.2 / RFC 4861 7.2.6)');
  t.equal(hex([...na.subarray(62, 78)]), hex(ip6Bytes(VIPS[0]!)), 'target = the VIP');
  t.equal(hex([...na.subarray(78, 86)]), hex([2, 1, ...macBytes('02:00:00:00:00:0a')]), 'target link-layer option: our MAC');
  t.equal(hex([...first[1]!.subarray(62, 78)]), hex(ip6Bytes(VIPS[1]!)), 'then the second VIP');
  clock.advanceTo(mdi(150) + 5000);
  t.equal(nas(a).length, 20, 'and again after garp_master_delay 5 s');

  clock.advanceTo(20_000);
  t.equal(b.runner.state('VI_6'), 'BACKUP', 'the lower priority hears the adverts');
  t.same(Object.fromEntries(b.vip6), { [VIPS[0]!]: false, [VIPS[1]!]: false });
  t.match(b.runner.status()[0], { vips6: VIPS, master6: 'fe80::a', stats: { advertsReceived: 17 } });
  t.equal(b.runner.rx.rejected, 0);

  // The master dies: the backup takes over Master_Down_Interval after the last advert.
  const last = 20_000 - ((20_000 - mdi(150)) % 1000);
  a.connected = false;
  clock.advanceTo(last + mdi(100) - 1);
  t.equal(b.runner.state('VI_6'), 'BACKUP');
  clock.advanceTo(last + mdi(100));
  t.equal(b.runner.state('VI_6'), 'MASTER');
  t.same(Object.fromEntries(b.vip6), { [VIPS[0]!]: true, [VIPS[1]!]: true });
  t.equal(nas(b).length, 10);
  t.equal(b.runner.status()[0]!.stats.nasSent, 10);
  t.end();
});

t.test('equal priorities: the higher link-local source stays master (vrrp_saddr_cmp)', (t) => {
  const clock = new FakeClock();
  const wire = new Wire(clock);
  const low = node(wire, '02:00:00:00:00:0a', 'fe80::a', 100);
  const high = node(wire, '02:00:00:00:00:0b', 'fe80::1:0:0:0', 100);
  // Both start as masters (no peer heard yet): the two meet as masters.
  low.connected = high.connected = false;
  low.runner.start();
  high.runner.start();
  clock.advanceTo(mdi(100));
  t.equal(low.runner.state('VI_6'), 'MASTER');
  t.equal(high.runner.state('VI_6'), 'MASTER');
  low.connected = high.connected = true;
  clock.advanceTo(mdi(100) + 3000);
  t.equal(high.runner.state('VI_6'), 'MASTER', 'fe80::1:0:0:0 > fe80::a in word order');
  t.equal(low.runner.state('VI_6'), 'BACKUP');
  t.end();
});

t.test('bad adverts are refused by reason; another VRID is not ours', (t) => {
  const clock = new FakeClock();
  const wire = new Wire(clock);
  const b = node(wire, '02:00:00:00:00:0b', 'fe80::b', 100);
  b.runner.start();
  const good = advertFrame('02:00:00:00:00:0c', 'fe80::c', 60, 200, 100, VIPS);
  const feed = (f: number[]) => b.runner.receive(0, Uint8Array.from(f), f.length);
  const hop = [...good];
  hop[21] = 64; // hop limit 64 (checked before the checksum: RFC 9568 7.1)
  feed(hop);
  const sum = [...good];
  sum[61] = sum[61]! ^ 1;
  feed(sum);
  feed(advertFrame('02:00:00:00:00:0c', 'fe80::c', 61, 200, 100, VIPS));
  t.match(b.runner.rx, { malformed: 2, otherVrid: 1, accepted: 0 });
  feed(advertFrame('02:00:00:00:00:0c', 'fe80::c', 60, 200, 100, [VIPS[0]!, '2001:db8::99']));
  t.equal(b.runner.rx.accepted, 1, 'an address list mismatch is only a warning (keepalived without strict mode)');
  t.same(b.runner.status()[0]!.stats.rejected, { malformed: 2 });
  t.end();
});

t.test('capture filter: IPv4 and IPv6 VRRP, never our own frames (checked with tcpdump)', (t) => {
  const own = '02:00:00:00:00:0a';
  const v4 = [0x01, 0, 0x5e, 0, 0, 0x12, ...macBytes('02:00:00:00:00:0b'), 8, 0, 0x45, 0xc0, 0, 40, 0, 0, 0, 0, 255, 112, 0, 0, 10, 0, 0, 11, 224, 0, 0, 18, ...new Array<number>(20).fill(0)];
  const frames: [string, number[]][] = [
    ['peer IPv6 advert', advertFrame('02:00:00:00:00:0b', 'fe80::b', 60, 100, 100, VIPS)],
    ['own IPv6 advert', advertFrame(own, 'fe80::a', 60, 100, 100, VIPS)],
    ['peer IPv4 advert', v4],
    ['IPv6 TCP', [0x33, 0x33, 0, 0, 0, 1, ...macBytes('02:00:00:00:00:0b'), 0x86, 0xdd, 0x60, 0, 0, 0, 0, 20, 6, 64, ...ip6Bytes('fe80::b'), ...ip6Bytes('ff02::1'), ...new Array<number>(20).fill(0)]],
  ];
  const dir = mkdtempSync(path.join(tmpdir(), 'tslb-vrrp6-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pcap = path.join(dir, 'f.pcap');
  writeFileSync(pcap, encodePcap(frames.map(([, f], i) => ({ frame: Uint8Array.from(f), time: i + 1 }))));
  const passed = (expr: string) => execFileSync('tcpdump', ['-r', pcap, '-n', '-q', '-tt', expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .split('\n').filter((l) => /^\d+\.\d+ /.test(l)).map((l) => frames[Number(l.split('.')[0]) - 1]![0]);
  const mac = parseMac(own)!;
  t.same(passed(vrrpCaptureFilter(mac)), ['peer IPv4 advert'], vrrpCaptureFilter(mac));
  t.same(passed(vrrpCaptureFilter(mac, { ipv4: false, ipv6: true })), ['peer IPv6 advert']);
  t.same(passed(vrrpCaptureFilter(mac, { ipv4: true, ipv6: true })), ['peer IPv6 advert', 'peer IPv4 advert']);
  t.equal(vrrpCaptureFilter(mac), `ip proto 112 and not ether src ${own}`, 'the IPv4 filter as before');
  t.end();
});
