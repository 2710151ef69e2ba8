// VRRPv3 over IPv6 (RFC 9568 §5): the message laid out byte by byte, its checksum over
// the IPv6 pseudo-header with next header 112 from a plain reference sum, and the frame
// (ff02::12, 33:33:00:00:00:12, hop limit 255) with the receiver's checks of §7.1.
import t from 'tap';
import * as v6 from '../../src/vrrp/packet6.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const pair = { src: 'fe80::2', dst: 'ff02::12' };

/** One's-complement sum of pseudo-header (src, dst, length, 0, 112) + message, written from RFC 8200 §8.1. */
function ref(src: string, dst: string, msg: Uint8Array): number {
  const words = (a: string) => {
    const [h = '', tl = ''] = a.split('::');
    const hs = h ? h.split(':') : [];
    const ts = tl ? tl.split(':') : [];
    return [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts].map((g) => parseInt(g, 16));
  };
  let s = [...words(src), ...words(dst)].reduce((a, b) => a + b, 0) + msg.length + 112;
  for (let i = 0; i < msg.length; i += 2) s += (msg[i]! << 8) | (i + 1 < msg.length ? msg[i + 1]! : 0);
  s -= (msg[6]! << 8) | msg[7]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return 0xffff - s;
}

t.test('message bytes and checksum', async (t) => {
  const adv = { vrid: 51, priority: 100, adverInt: 100, addresses: ['fe80::1', '2001:db8::100'] };
  const m = v6.encode(adv, pair);
  t.equal(v6.encode.bytes, 8 + 32);
  t.equal(hex(m.subarray(0, 6)), '313364020064', 'v3 | type 1, VRID 51, priority 100, 2 addresses, 100 cs');
  t.equal(hex(m.subarray(8)), 'fe800000000000000000000000000001' + '20010db8000000000000000000000100');
  t.equal((m[6]! << 8) | m[7]!, ref(pair.src, pair.dst, m));
  t.same(v6.decode(m), { type: 1, vrid: 51, priority: 100, adverInt: 100, addresses: ['fe80::1', '2001:db8::100'], checksum: (m[6]! << 8) | m[7]! });
  // Encoding at an offset into a bigger buffer gives the same bytes.
  const big = new Uint8Array(60);
  v6.encode(adv, pair, big, 10);
  t.equal(hex(big.subarray(10, 50)), hex(m));
  t.throws(() => v6.encode({ ...adv, adverInt: 4096 }, pair), /1\.\.4095/);
  t.throws(() => v6.encode({ ...adv, addresses: ['10.0.0.1'] }, pair), /not an IPv6 address/);
  t.throws(() => v6.decode(m.subarray(0, 30)), /truncated/);
  const v2 = Uint8Array.from(m);
  v2[0] = 0x21;
  t.throws(() => v6.decode(v2), /version 3 only/);
});

t.test('frame: ff02::12 from the link-local address, hop limit 255; receiver checks', async (t) => {
  const mac = v6.ipv6VirtualRouterMac(51);
  t.equal(hex(mac), '00005e000233');
  const f = v6.buildAdvert6Frame({ vrid: 51, priority: 255, adverInt: 100, addresses: ['fe80::1', '2001:DB8::100'] }, { srcMac: mac, srcIp: 'fe80::2' });
  t.equal(hex(f.subarray(0, 14)), '333300000012' + '00005e000233' + '86dd');
  t.equal(hex(f.subarray(14, 22)), '60000000' + '0028' + '70' + 'ff', 'payload 40, next header 112, hop limit 255');
  t.equal(hex(f.subarray(38, 54)), 'ff020000000000000000000000000012');
  const p = v6.parseAdvert6Frame(f);
  t.same([p.srcIp, p.dstIp, p.advert.priority, p.advert.addresses], ['fe80::2', 'ff02::12', 255, ['fe80::1', '2001:db8::100']]);
  const hop = Uint8Array.from(f);
  hop[21] = 64;
  t.throws(() => v6.parseAdvert6Frame(hop), /hop limit 64 is not 255/);
  const sum = Uint8Array.from(f);
  sum[f.length - 1]! ^= 1;
  t.throws(() => v6.parseAdvert6Frame(sum), /bad VRRP checksum/);
  const src = Uint8Array.from(f);
  src[37]! ^= 1;
  t.throws(() => v6.parseAdvert6Frame(src), /bad VRRP checksum/, 'the pseudo-header covers the source address');
});
