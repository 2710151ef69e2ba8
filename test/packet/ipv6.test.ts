// IPv6 addresses (text per RFC 5952 / inet_ntop, the int32-word slots), the fixed header
// (RFC 8200 section 3) and the extension-header walk of ipv6_find_hdr. Expected values are
// the RFCs' examples and offsets counted by hand from the header sizes.
import t from 'tap';
import * as ipv6 from '../../src/packet/ipv6.js';
import {
  FH_ERR_NOT_FOUND, FH_ERR_NOT_IPV6, FH_ERR_TOO_MANY, FH_ERR_TRUNCATED, FH_AUTH, FH_FRAG, UL_FLAGS, UL_FRAGOFF, UL_OFFSET, UL_SLOTS, findUpperLayer,
} from '../../src/packet/ipv6-ext.js';
import {
  canonicalIPv6, equalAddr6, foldAddr6, formatIPv6, formatIPv6Bytes, ipv6Bytes, isLinkLocal6, isMulticast6, isUnspecified6, parseIPv6,
  prefixToMask6, readAddr6, sameAddr6, writeAddr6,
} from '../../src/packet/addr6.js';
import { authHeader, fragmentHeader, optionsHeader, routingHeader, tcp6Frame, udp6Frame } from '../../src/packet/builder6.js';
import * as tcp from '../../src/packet/tcp.js';
import { Address6 } from 'ip-address';
import { prng } from '../helpers/prng.js';

const base = { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', src: '2001:db8:1::10', dst: '2001:db8::1' };

t.test('text form: RFC 5952 section 4 examples, as inet_ntop prints them', async (t) => {
  const cases: [string, string][] = [
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'], // 4.2.1: shorten as much as possible
    ['2001:0db8::0001', '2001:db8::1'], // 4.1: no leading zeros
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2: one 0 group is not "::"
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3: the longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3: the first of equal runs
    ['2001:DB8::AbCd', '2001:db8::abcd'], // 4.3: lower case
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // 5: mapped addresses keep the dotted tail
    ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
    ['::c000:201', '::192.0.2.1'], // glibc's IPv4-compatible form
    ['ff02:0:0:0:0:1:ff00:10', 'ff02::1:ff00:10'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ];
  for (const [text, want] of cases) t.equal(canonicalIPv6(text), want, text);
});

t.test('random addresses: any spelling parses to its groups; the text matches ip-address\'s RFC 5952 form', async (t) => {
  const rand = prng(5952);
  let checked = 0;
  for (let i = 0; i < 3000; i++) {
    // Groups with many zeros, so that runs of every length and position occur.
    const g = Array.from({ length: 8 }, () => (rand() < 0.5 ? 0 : rand() < 0.5 ? (rand() * 16) | 0 : (rand() * 0x10000) | 0));
    const hex = g.map((v) => (rand() < 0.3 ? v.toString(16).padStart(4, '0') : v.toString(16))).map((h) => (rand() < 0.3 ? h.toUpperCase() : h));
    // Compress a random run of zero groups (any length >= 1), as a writer may.
    let text = hex.join(':');
    const zs = g.map((v, k) => (v === 0 ? k : -1)).filter((k) => k >= 0);
    if (zs.length > 0 && rand() < 0.7) {
      const a = zs[(rand() * zs.length) | 0]!;
      let b = a;
      while (b + 1 < 8 && g[b + 1] === 0 && rand() < 0.8) b++;
      text = `${hex.slice(0, a).join(':')}::${hex.slice(b + 1).join(':')}`;
    }
    const w = parseIPv6(text);
    if (w === null) {
      t.fail(`${text} refused`);
      continue;
    }
    t.same(Array.from({ length: 8 }, (_, k) => (k % 2 === 0 ? w[k >> 1]! >>> 16 : w[k >> 1]! & 0xffff)), g, text);
    // inet_ntop's dotted tail aside (::a.b.c.d, ::ffff:a.b.c.d), RFC 5952 text is unique.
    const dotted = g.slice(0, 5).every((v) => v === 0) && (g[5] === 0xffff || (g[5] === 0 && g[6] !== 0));
    if (!dotted) {
      t.equal(formatIPv6(w), new Address6(text).correctForm(), text);
      checked++;
    }
  }
  t.ok(checked > 2500);
});

t.test('parse refuses what is not a plain IPv6 address', async (t) => {
  for (const bad of ['10.0.0.1', '1::2::3', '02001::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'fe80::1%eth0', '2001:db8::/64', '[2001:db8::1]', 'g::1', '', ' ::1']) {
    t.equal(parseIPv6(bad), null, JSON.stringify(bad));
  }
});

t.test('int32-word slots: read, write, compare against a frame', async (t) => {
  const w = parseIPv6('ff02::1:ff00:10')!;
  // Words are signed, as IPv4 addresses are in the data plane: 0xff020000 reads as negative.
  t.same(Array.from(w), [0xff020000 | 0, 0, 1, 0xff000010 | 0]);
  const table = new Int32Array(8);
  const frame = new Uint8Array(40);
  frame.set(ipv6Bytes('2001:db8::abcd:1')!, 7);
  readAddr6(frame, 7, table, 1);
  t.equal(formatIPv6(table, 1), '2001:db8::abcd:1');
  t.ok(equalAddr6(frame, 7, table, 1));
  t.notOk(equalAddr6(frame, 7, table, 0));
  writeAddr6(frame, 20, w, 0);
  t.equal(formatIPv6Bytes(frame, 20), 'ff02::1:ff00:10');
  t.ok(isMulticast6(frame, 20));
  t.notOk(isMulticast6(frame, 7));
  table.set(w, 0);
  t.ok(sameAddr6(table, 0, w, 0));
  t.notOk(sameAddr6(table, 0, table, 1));
  t.ok(isUnspecified6(new Uint8Array(16), 0));
  t.ok(isLinkLocal6(ipv6Bytes('fe80::1')!, 0));
  t.ok(isLinkLocal6(ipv6Bytes('febf::1')!, 0));
  t.notOk(isLinkLocal6(ipv6Bytes('fec0::1')!, 0));
});

t.test('the fold IPVS hashes IPv6 addresses by', async (t) => {
  // 2001:0db8:0000:0001:0000:0000:abcd:0010: 0x20010db8 ^ 0x00000001 ^ 0x00000000 ^ 0xabcd0010
  t.equal(foldAddr6(parseIPv6('2001:db8:0:1::abcd:10')!, 0) >>> 0, (0x20010db8 ^ 0x00000001 ^ 0xabcd0010) >>> 0);
  t.equal(foldAddr6(parseIPv6('::ffff:10.0.0.1')!, 0) >>> 0, 0x0000ffff ^ 0x0a000001);
});

t.test('prefix masks', async (t) => {
  t.same(Array.from(prefixToMask6(128)), [-1, -1, -1, -1]);
  t.same(Array.from(prefixToMask6(64)), [-1, -1, 0, 0]);
  t.same(Array.from(prefixToMask6(56)), [-1, 0xffffff00 | 0, 0, 0]);
  t.same(Array.from(prefixToMask6(0)), [0, 0, 0, 0]);
});

t.test('fixed header: hand-laid bytes, round trip at an offset', async (t) => {
  const b = new Uint8Array(50);
  const end = ipv6.encode({ trafficClass: 0xab, flowLabel: 0x12345, nextHeader: 6, hopLimit: 7, src: '2001:db8::1', dst: 'ff02::1', payloadLength: 20 }, b, 10);
  t.equal(end, 50);
  // version 6 | tc 0xab | flow 0x12345 -> 6a b1 23 45; plen 0x0014; nh 6; hop 7
  t.same(Array.from(b.subarray(10, 18)), [0x6a, 0xb1, 0x23, 0x45, 0x00, 0x14, 0x06, 0x07]);
  t.same(Array.from(b.subarray(18, 22)), [0x20, 0x01, 0x0d, 0xb8]);
  t.same(ipv6.decode(b, 10), { version: 6, trafficClass: 0xab, flowLabel: 0x12345, payloadLength: 20, nextHeader: 6, hopLimit: 7, src: '2001:db8::1', dst: 'ff02::1' });
  t.equal(ipv6.packetEnd(b, 10, 50), -1, 'frame shorter than the payload length claims');
  t.equal(ipv6.packetEnd(b, 10, 49), -1, 'no whole fixed header');
  const f = tcp6Frame({ ...base, sport: 1, dport: 80, flags: tcp.SYN });
  t.equal(ipv6.packetEnd(f, 14, f.length + 6), 14 + 40 + 20, 'Ethernet padding after the packet is not part of it');
  ipv6.decrementHopLimit(f, 14);
  t.equal(ipv6.hopLimit(f, 14), 63);
});

t.test('ipv6_find_hdr walk: offsets counted from the header sizes', async (t) => {
  const out = new Int32Array(UL_SLOTS);
  const walk = (f: Uint8Array, o = 14, end = f.length): [number, number, number, number] => {
    const p = findUpperLayer(f, o, end, out);
    return [p, out[UL_OFFSET]!, out[UL_FRAGOFF]!, out[UL_FLAGS]!];
  };
  const tcpOf = (ext: ReturnType<typeof optionsHeader>[]) => tcp6Frame({ ...base, ext, sport: 40000, dport: 80, flags: tcp.SYN });
  t.same(walk(tcpOf([])), [6, 54, 0, 0], 'no extension headers: TCP at 14 + 40');
  t.same(walk(tcpOf([optionsHeader(0)])), [6, 62, 0, 0], 'hop-by-hop, 8 bytes');
  t.same(walk(tcpOf([optionsHeader(0, 1), optionsHeader(60, 2), routingHeader(0, 1)])), [6, 54 + 16 + 24 + 16, 0, 0], 'HBH 16 + DST 24 + RT 16');
  t.same(walk(tcpOf([routingHeader(2)])), [6, 62, 0, 0], 'routing with segments left is walked too (no IP6_FH_F_SKIP_RH)');
  t.same(walk(tcpOf([authHeader(4)])), [6, 54 + 24, 0, FH_AUTH], 'AH: (4 + 2) * 4 = 24 bytes');
  t.same(walk(tcpOf([optionsHeader(0), authHeader(1), optionsHeader(60)])), [6, 54 + 8 + 12 + 8, 0, FH_AUTH], 'AH in 4-byte units: 12 bytes');
  const firstFrag = udp6Frame({ ...base, ext: [fragmentHeader(0, true, 7)], sport: 1, dport: 53, payload: new Uint8Array(20) });
  t.same(walk(firstFrag), [17, 62, 0, FH_FRAG], 'first fragment: the walk goes on to UDP');
  const later = udp6Frame({ ...base, ext: [optionsHeader(60), fragmentHeader(1448, false, 7)], sport: 1, dport: 53 });
  t.same(walk(later), [17, 54 + 8 + 8, 1448, FH_FRAG], 'non-first fragment: the protocol it continues, offset of its data');
  const laterExt = udp6Frame({ ...base, ext: [fragmentHeader(8, false, 7), optionsHeader(60)], sport: 1, dport: 53 });
  t.equal(walk(laterExt)[0], FH_ERR_NOT_FOUND, 'non-first fragment naming an extension header: -ENOENT');
  const esp = tcpOf([]);
  esp[14 + ipv6.OFF_NEXT] = ipv6.NEXTHDR_ESP;
  t.same(walk(esp), [50, 54, 0, 0], 'ESP is an upper layer');
  const none = tcpOf([optionsHeader(60)]);
  none[54] = ipv6.NEXTHDR_NONE;
  t.same(walk(none), [59, 62, 0, 0], 'No Next Header after a destination options header');
  const hbh = tcpOf([optionsHeader(0, 3)]);
  t.equal(walk(hbh, 14, 54 + 16)[0], FH_ERR_TRUNCATED, 'an option header longer than the packet');
  t.equal(walk(hbh, 14, 54 + 4)[0], FH_ERR_TRUNCATED, 'not even 8 bytes of it');
  t.equal(walk(hbh, 14, 50)[0], FH_ERR_TRUNCATED, 'no fixed header');
  const v4ish = tcpOf([]);
  v4ish[14] = 0x45;
  t.equal(walk(v4ish)[0], FH_ERR_NOT_IPV6);
  const many = tcpOf(Array.from({ length: 17 }, () => optionsHeader(60)));
  t.equal(walk(many)[0], FH_ERR_TOO_MANY, '17 destination option headers');
  const sixteen = tcpOf(Array.from({ length: 16 }, () => optionsHeader(60)));
  t.same(walk(sixteen).slice(0, 2), [6, 54 + 16 * 8], '16 are still walked');
});

t.test('garbage in: the walk never reads past the packet and never throws', async (t) => {
  const rand = prng(8200);
  const out = new Int32Array(UL_SLOTS);
  const nexts = [0, 43, 44, 51, 60, 59, 6, 17, 58, 50, (rand() * 256) | 0];
  let ok = 0, refused = 0;
  for (let i = 0; i < 20000; i++) {
    const len = 40 + ((rand() * 120) | 0);
    const b = new Uint8Array(len + 8).fill(0xee); // bytes past `end` are poison
    for (let k = 0; k < len; k++) b[k] = (rand() * 256) | 0;
    b[0] = 0x60;
    b[6] = nexts[(rand() * nexts.length) | 0]!;
    // Make extension chains likely: next-header bytes at 8-byte steps, small lengths.
    for (let k = 40; k + 1 < len; k += 8) {
      if (rand() < 0.7) b[k] = nexts[(rand() * nexts.length) | 0]!;
      if (rand() < 0.7) b[k + 1] = (rand() * 3) | 0;
    }
    const p = findUpperLayer(b, 0, len, out);
    if (p < 0) {
      refused++;
      continue;
    }
    if (p > 255 || out[UL_OFFSET]! < 40 || out[UL_OFFSET]! > len) t.fail(`walk ${i}: protocol ${p} at ${out[UL_OFFSET]} of ${len}`);
    else ok++;
  }
  t.ok(ok > 1000 && refused > 1000, `${ok} walked, ${refused} refused`);
});
