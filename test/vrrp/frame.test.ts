import t from 'tap';
import { ip as parseIpv4 } from '../helpers/addr.js';
import { buildAdvertFrame, buildGarpFrame, ipv4MulticastMac, parseAdvertFrame } from '../../src/vrrp/frame.js';
import type { VrrpAdvert } from '../../src/vrrp/packet.js';
import { loadHexFixture, refChecksum } from './helpers.js';

const MAC = '52:54:00:12:34:56';
const SRC = parseIpv4('192.168.0.10');
const VIP = parseIpv4('192.168.0.141');
const seedV2: VrrpAdvert = { version: 2, vrid: 51, priority: 100, adverInt: 3, addresses: [VIP] };

t.test('the v2 frame is byte-identical to the hand-built fixture', (t) => {
  const fixture = loadHexFixture('advert-v2-vrid51.hex');
  t.equal(fixture.length, 54);
  const frame = buildAdvertFrame(seedV2, { srcMac: MAC, srcIp: SRC });
  t.same(Array.from(frame), Array.from(fixture));
  t.equal(refChecksum(frame.subarray(14, 34)), 0, 'IP header checksum verifies independently');
  const p = parseAdvertFrame(fixture);
  t.match(p, { dstMac: '01:00:5e:00:00:12', srcMac: MAC, srcIp: SRC, dstIp: parseIpv4('224.0.0.18'), ttl: 255, tos: 0xc0 });
  t.ok(p.ipChecksumOk);
  t.ok(p.vrrpChecksumOk);
  t.equal(p.vrrpOffset, 34);
  t.equal(p.vrrpLength, 20);
  t.match(p.advert, { vrid: 51, priority: 100, adverInt: 3, addresses: [VIP] });
  t.end();
});

t.test('the v3 frame matches its fixture', (t) => {
  const fixture = loadHexFixture('advert-v3-vrid51.hex');
  const frame = buildAdvertFrame({ ...seedV2, version: 3, adverInt: 300 }, { srcMac: MAC, srcIp: SRC });
  t.same(Array.from(frame), Array.from(fixture));
  const p = parseAdvertFrame(fixture);
  t.ok(p.vrrpChecksumOk, 'v3 checksum verified with the pseudo-header');
  t.equal(p.advert.adverInt, 300);
  t.end();
});

t.test('Ethernet padding, VLAN tags and unicast peers', (t) => {
  const fixture = loadHexFixture('advert-v2-vrid51.hex');
  const padded = new Uint8Array(60);
  padded.set(fixture);
  t.equal(parseAdvertFrame(padded).vrrpLength, 20, 'the IP total length bounds the message, not the frame');

  const tagged = new Uint8Array(fixture.length + 4);
  tagged.set(fixture.subarray(0, 12));
  tagged.set([0x81, 0x00, 0x00, 0x64], 12); // VLAN 100
  tagged.set(fixture.subarray(12), 16);
  const pt = parseAdvertFrame(tagged);
  t.equal(pt.vlan, 100);
  t.ok(pt.vrrpChecksumOk);

  t.throws(() => buildAdvertFrame(seedV2, { srcMac: MAC, srcIp: SRC, dstIp: parseIpv4('192.168.0.11') }), /needs dstMac/);
  const uni = buildAdvertFrame(seedV2, { srcMac: MAC, srcIp: SRC, dstIp: parseIpv4('192.168.0.11'), dstMac: '52:54:00:aa:bb:cc' });
  const pu = parseAdvertFrame(uni);
  t.equal(pu.dstMac, '52:54:00:aa:bb:cc');
  t.equal(pu.dstIp, parseIpv4('192.168.0.11'));
  t.ok(pu.ipChecksumOk);
  t.same(Array.from(ipv4MulticastMac(parseIpv4('239.129.0.18'))), [0x01, 0x00, 0x5e, 0x01, 0x00, 0x12], 'only 23 bits map');
  t.end();
});

t.test('frames that are not VRRP adverts are refused with a reason', (t) => {
  const good = loadHexFixture('advert-v2-vrid51.hex');
  const mutate = (f: (b: Uint8Array) => void): Uint8Array => {
    const b = good.slice();
    f(b);
    return b;
  };
  t.throws(() => parseAdvertFrame(good.subarray(0, 30)), /truncated/);
  t.throws(() => parseAdvertFrame(mutate((b) => (b[13] = 0x06))), /not IPv4/);
  t.throws(() => parseAdvertFrame(mutate((b) => (b[23] = 6))), /IP protocol 6/);
  t.throws(() => parseAdvertFrame(mutate((b) => (b[23] = 51))), /AH/);
  t.throws(() => parseAdvertFrame(mutate((b) => (b[20] = 0x20))), /fragmented/);
  t.throws(() => parseAdvertFrame(mutate((b) => (b[17] = 0x50))), /total length/);
  t.throws(() => parseAdvertFrame(mutate((b) => (b[37] = 9))), /truncated/, 'address count larger than the packet');
  t.notOk(parseAdvertFrame(mutate((b) => (b[22] = 64))).ipChecksumOk, 'TTL change breaks the IP checksum');
  t.end();
});

t.test('gratuitous ARP matches the fixture', (t) => {
  const fixture = loadHexFixture('garp-192.168.0.141.hex');
  t.equal(fixture.length, 42);
  t.same(Array.from(buildGarpFrame(VIP, MAC)), Array.from(fixture));
  const big = new Uint8Array(60);
  buildGarpFrame(VIP, MAC, big, 4);
  t.same(Array.from(big.subarray(4, 46)), Array.from(fixture), 'into a buffer at an offset');
  t.throws(() => buildGarpFrame(VIP, 'zz:00:00:00:00:00'), /invalid MAC/);
  t.end();
});
