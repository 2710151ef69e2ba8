// TCP/UDP/ICMPv6 checksums over the IPv6 pseudo-header (RFC 8200 8.1), the RFC 1624 update
// for a 128-bit address, ICMPv6 errors (RFC 4443). Expected checksums come from a hand
// computation and from `refChecksum` below: a plain sum over the pseudo-header laid out as
// bytes exactly as RFC 8200 8.1 draws it, written independently of src/packet.
import t from 'tap';
import * as ipv6 from '../../src/packet/ipv6.js';
import * as icmpv6 from '../../src/packet/icmpv6.js';
import { ADDR_DST, ADDR_SRC, csumReplace128, fillChecksum6, setAddr6, verifyChecksum6 } from '../../src/packet/l4v6.js';
import { UL_OFFSET, UL_SLOTS, findUpperLayer } from '../../src/packet/ipv6-ext.js';
import { ipv6Bytes, parseIPv6, formatIPv6Bytes } from '../../src/packet/addr6.js';
import { fragmentHeader, icmp6Frame, optionsHeader, quote6, tcp6Frame, udp6Frame } from '../../src/packet/builder6.js';
import * as tcp from '../../src/packet/tcp.js';
import { prng, randomBytes } from '../helpers/prng.js';
import { looksPartial6, partialSeed6 } from '../../src/packet/partial-csum.js';

const base = { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', src: '2001:db8:1::10', dst: '2001:db8::1' };

/** RFC 8200 8.1 pseudo-header (src 16, dst 16, length 4, zero 3, next header 1) + segment, summed word by word. */
function refChecksum(src: Uint8Array, dst: Uint8Array, nh: number, seg: Uint8Array, csumAt: number): number {
  const ph = new Uint8Array(40 + seg.length + (seg.length & 1));
  ph.set(src, 0);
  ph.set(dst, 16);
  new DataView(ph.buffer).setUint32(32, seg.length);
  ph[39] = nh;
  ph.set(seg, 40);
  ph[40 + csumAt] = 0;
  ph[41 + csumAt] = 0;
  let s = 0;
  for (let i = 0; i < ph.length; i += 2) s += ph[i]! * 256 + ph[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return 0xffff - s;
}

/** refChecksum of the segment at l4 of the frame's IPv6 packet at 14. */
function refOf(f: Uint8Array, l4: number, nh: number, csumAt: number): number {
  const end = 14 + 40 + ipv6.payloadLength(f, 14);
  return refChecksum(f.subarray(22, 38), f.subarray(38, 54), nh, f.subarray(l4, end), csumAt);
}
const csum = (f: Uint8Array, at: number) => (f[at]! << 8) | f[at + 1]!;

t.test('UDP ::1 -> ::2, ports 1 -> 2, no payload: 0xffd8 by hand', async (t) => {
  // pseudo-header: 1 + 2 + length 8 + next header 17; UDP: 1 + 2 + 8 + 0 -> 39 = 0x27; ~0x0027 = 0xffd8
  const f = udp6Frame({ ...base, src: '::1', dst: '::2', sport: 1, dport: 2 });
  t.equal(csum(f, 54 + 6), 0xffd8);
  t.ok(verifyChecksum6(f, 14, 54, 8, 17));
});

t.test('full checksums agree with the reference, extension headers included', async (t) => {
  const payload = Buffer.from('hello, dual stack');
  const cases = [
    tcp6Frame({ ...base, sport: 40000, dport: 80, seq: 1, flags: tcp.SYN, options: Uint8Array.from([2, 4, 5, 0xa0]) }),
    tcp6Frame({ ...base, ext: [optionsHeader(0), optionsHeader(60, 1)], sport: 40000, dport: 80, flags: tcp.ACK, payload }),
    udp6Frame({ ...base, sport: 5353, dport: 53, payload }),
    udp6Frame({ ...base, ext: [fragmentHeader(0, true, 9)], sport: 5353, dport: 53, payload: payload.subarray(0, 3) }), // odd length
  ];
  const out = new Int32Array(UL_SLOTS);
  for (const f of cases) {
    const proto = findUpperLayer(f, 14, f.length, out);
    const l4 = out[UL_OFFSET]!;
    const co = proto === 6 ? 16 : 6;
    t.equal(csum(f, l4 + co), refOf(f, l4, proto, co), `proto ${proto} at ${l4}`);
    t.ok(verifyChecksum6(f, 14, l4, f.length - l4, proto));
    f[f.length - 1]! ^= 0x10;
    t.notOk(verifyChecksum6(f, 14, l4, f.length - l4, proto), 'a flipped bit is caught');
  }
});

t.test('UDP over IPv6: a computed 0 goes out as 0xffff, a received 0 is refused', async (t) => {
  // Choose the payload so that the sum is 0xffff, i.e. the checksum would be 0.
  const f = udp6Frame({ ...base, sport: 1000, dport: 2000, payload: new Uint8Array(2) });
  const want = refOf(f, 54, 17, 6); // checksum with payload 0000
  // Adding the value `want` as a payload word makes the sum 0xffff (one's complement): checksum 0.
  f[62] = want >>> 8;
  f[63] = want & 0xff;
  t.equal(refOf(f, 54, 17, 6), 0, 'the reference sum is 0 for this payload');
  fillChecksum6(f, 14, 54, 10, 17);
  t.equal(csum(f, 60), 0xffff);
  t.ok(verifyChecksum6(f, 14, 54, 10, 17));
  f[60] = 0;
  f[61] = 0;
  t.notOk(verifyChecksum6(f, 14, 54, 10, 17), 'zero UDP checksum is invalid over IPv6');
});

t.test('RFC 1624 update for a 128-bit address change equals a full recompute', async (t) => {
  const rand = prng(16);
  for (let i = 0; i < 300; i++) {
    const isUdp = i % 2 === 1;
    const payload = randomBytes(rand, (rand() * 60) | 0);
    const f = isUdp
      ? udp6Frame({ ...base, sport: 1 + i, dport: 53, payload })
      : tcp6Frame({ ...base, sport: 1 + i, dport: 443, seq: i * 7919, flags: tcp.ACK | tcp.PSH, payload });
    const co = isUdp ? 6 : 16;
    const words = new Int32Array(8);
    for (let k = 0; k < 8; k++) words[k] = (rand() * 2 ** 32) | 0;
    setAddr6(f, 14, ADDR_DST, words, 0, 54 + co, isUdp); // DNAT
    setAddr6(f, 14, ADDR_SRC, words, 1, 54 + co, isUdp); // full-NAT source too
    t.equal(csum(f, 54 + co), refOf(f, 54, isUdp ? 17 : 6, co) || (isUdp ? 0xffff : 0));
    if (!verifyChecksum6(f, 14, 54, f.length - 54, isUdp ? 17 : 6)) t.fail(`frame ${i} no longer verifies`);
  }
  const f = tcp6Frame({ ...base, sport: 1, dport: 2, flags: tcp.SYN });
  const before = csum(f, 70);
  const same = parseIPv6(base.dst)!;
  t.equal(csumReplace128(before, f, 14 + ADDR_DST, same, 0), before, 'the same address changes nothing');
  setAddr6(f, 14, ADDR_DST, parseIPv6('2001:db8::a')!, 0, -1, false);
  t.equal(formatIPv6Bytes(f, 14 + ADDR_DST), '2001:db8::a', 'address written without a checksum (-1)');
  t.equal(csum(f, 70), before);
});

t.test('UDP address rewrite landing on checksum 0 writes 0xffff', async (t) => {
  // Search the last group of the new destination for the value that makes the checksum 0.
  const f0 = udp6Frame({ ...base, sport: 7, dport: 9, payload: Buffer.from('x') });
  let found = -1;
  for (let g = 0; g < 0x10000 && found < 0; g++) {
    const f = Buffer.from(f0);
    f[14 + ADDR_DST + 14] = g >>> 8;
    f[14 + ADDR_DST + 15] = g & 0xff;
    if (refOf(f, 54, 17, 6) === 0) found = g;
  }
  t.ok(found >= 0);
  const w = parseIPv6(`2001:db8::${found.toString(16)}`)!;
  setAddr6(f0, 14, ADDR_DST, w, 0, 60, true);
  t.equal(csum(f0, 60), 0xffff);
  t.ok(verifyChecksum6(f0, 14, 54, f0.length - 54, 17));
});

t.test('ICMPv6: echo checksum, error classes, quoted packet, Packet Too Big', async (t) => {
  const echo = icmp6Frame({ ...base, type: icmpv6.ECHO_REQUEST, code: 0, rest: 0x12340001, payload: Buffer.from('abcdefgh') });
  t.equal(csum(echo, 56), refOf(echo, 54, 58, 2));
  t.ok(icmpv6.verifyChecksum(echo, 14, 54, echo.length - 54));
  t.same(icmpv6.decode(echo, 54), { type: 128, code: 0, checksum: csum(echo, 56), rest: 0x12340001 });
  for (const ty of [icmpv6.DEST_UNREACH, icmpv6.PKT_TOOBIG, icmpv6.TIME_EXCEED, icmpv6.PARAMPROB]) t.ok(icmpv6.isRelatedError6(ty), `type ${ty}`);
  for (const ty of [icmpv6.ECHO_REQUEST, icmpv6.ECHO_REPLY, icmpv6.NEIGHBOUR_SOLICIT, icmpv6.NEIGHBOUR_ADVERT]) t.notOk(icmpv6.isRelatedError6(ty), `type ${ty}`);

  // A real server's TCP reply (with a destination options header) refused by a router: PTB, MTU 1400.
  const reply = tcp6Frame({ ...base, src: '2001:db8::10', dst: '2001:db8:1::10', ext: [optionsHeader(60)], sport: 80, dport: 40000, flags: tcp.ACK, payload: new Uint8Array(1400) });
  const ptb = icmp6Frame({ ...base, src: '2001:db8::fe', dst: '2001:db8::10', type: icmpv6.PKT_TOOBIG, code: 0, rest: 1400, payload: quote6(reply, 1280 - 48) });
  t.equal(ptb.length, 14 + 1280);
  t.equal(icmpv6.mtu(ptb, 54), 1400);
  const inner = icmpv6.innerOffset(ptb, 54, ptb.length);
  t.equal(inner, 62);
  const out = new Int32Array(UL_SLOTS);
  t.equal(findUpperLayer(ptb, inner, ptb.length, out), 6, 'quoted TCP behind the quoted destination options');
  t.equal(out[UL_OFFSET], 62 + 40 + 8);
  t.equal((ptb[110]! << 8) | ptb[111]!, 80, 'quoted source port');
  t.equal(icmpv6.innerOffset(ptb, 54, 54 + 8 + 39), -1, 'a quote shorter than an IPv6 header');
  icmpv6.setMtu(ptb, 54, 1280);
  t.notOk(icmpv6.verifyChecksum(ptb, 14, 54, 1280 - 40), 'setMtu leaves the checksum to the caller');
  icmpv6.fillChecksum(ptb, 14, 54, 1280 - 40);
  t.equal(csum(ptb, 56), refOf(ptb, 54, 58, 2));
});

t.test('writeError: the director\'s own Packet Too Big, cut to 1280 bytes', async (t) => {
  const big = tcp6Frame({ ...base, sport: 40000, dport: 80, flags: tcp.ACK, payload: new Uint8Array(1440) });
  const out = new Uint8Array(1600);
  const me = ipv6Bytes('2001:db8::1')!;
  const end = icmpv6.writeError(out, 14, me, 0, icmpv6.PKT_TOOBIG, 0, 1300, big, 14, big.length - 14);
  t.equal(end - 14, 1280, 'the whole message is the minimum MTU');
  const h = ipv6.decode(out, 14);
  t.same([h.nextHeader, h.payloadLength, h.hopLimit, h.src, h.dst], [58, 1240, 64, '2001:db8::1', base.src]);
  t.same(icmpv6.decode(out, 54), { type: 2, code: 0, checksum: csum(out, 56), rest: 1300 });
  t.same(Buffer.from(out.subarray(62, 62 + 1232)), big.subarray(14, 14 + 1232), 'the first 1232 bytes of the invoking packet');
  t.equal(csum(out, 56), refChecksum(out.subarray(22, 38), out.subarray(38, 54), 58, out.subarray(54, end), 2));
  const small = udp6Frame({ ...base, sport: 1, dport: 2, payload: Buffer.from('x') });
  const e2 = icmpv6.writeError(out, 14, me, 0, icmpv6.DEST_UNREACH, icmpv6.CODE_PORT_UNREACH, 0, small, 14, small.length - 14);
  t.equal(e2 - 54, 8 + 40 + 9, 'a short packet is quoted whole');
  t.ok(icmpv6.verifyChecksum(out, 14, 54, e2 - 54));
});

t.test('CHECKSUM_PARTIAL over IPv6: the field holds the folded pseudo-header sum, completing it gives the full checksum', async (t) => {
  const f = tcp6Frame({ ...base, sport: 40000, dport: 443, flags: tcp.ACK | tcp.PSH, payload: Buffer.from('partial') });
  const full = csum(f, 70);
  const len = f.length - 54;
  // Reference: the pseudo-header words (addresses, length, next header) summed and folded.
  const pseudoOnly = (() => {
    let s = 6 + len;
    for (let k = 22; k < 54; k += 2) s += f[k]! * 256 + f[k + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
    return s;
  })();
  t.equal(partialSeed6(f, 14, 6, len), pseudoOnly);
  // What a sender with tx checksum offload leaves in the field:
  f[70] = pseudoOnly >>> 8;
  f[71] = pseudoOnly & 0xff;
  t.ok(looksPartial6(f, 14, 70, 6, len));
  // Completing it as the device does: checksum over the segment with the seed in the field.
  let s = 0;
  for (let k = 54; k < f.length; k += 2) s += f[k]! * 256 + (k + 1 < f.length ? f[k + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  t.equal(0xffff - s, full);
});
