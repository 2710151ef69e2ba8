import t from 'tap';
const tap = t;
import { ip as parseIpv4 } from '../helpers/addr.js';
import { checksumOk, decode, encode, encodingLength, passwordToAuthData, type VrrpAdvert } from '../../src/vrrp/packet.js';
import { refChecksum, u32Bytes } from './helpers.js';

const VIP = parseIpv4('192.168.0.141');
const SRC = parseIpv4('192.168.0.10');
const GROUP = parseIpv4('224.0.0.18');

/** dns-packet style round trip: encode, decode, re-encode; length; encode at offset 10 of a bigger buffer. */
function testEncoder(t: Pick<typeof tap, 'equal' | 'same'>, adv: VrrpAdvert, ipv4?: { src: number; dst: number }): Uint8Array {
  const buf = encode(adv, undefined, 0, ipv4);
  t.equal(buf.length, encodingLength(adv), 'encodingLength matches');
  t.equal(encode.bytes, buf.length, 'encode.bytes');
  const back = decode(buf);
  t.equal(decode.bytes, buf.length, 'decode.bytes');
  const again = encode(back, undefined, 0, ipv4);
  t.same(Array.from(again), Array.from(buf), 're-encoding the decoded object gives the same bytes');
  const big = new Uint8Array(buf.length + 20);
  encode(adv, big, 10, ipv4);
  t.same(Array.from(big.subarray(10, 10 + buf.length)), Array.from(buf), 'encoding at offset 10');
  t.same(decode(big, 10, buf.length).addresses, adv.addresses, 'decoding at offset 10');
  return buf;
}

t.test('VRRPv2 seed values encode to the hand-computed bytes', (t) => {
  const adv: VrrpAdvert = { version: 2, vrid: 51, priority: 100, adverInt: 3, addresses: [VIP] };
  const buf = testEncoder(t, adv);
  t.same(Array.from(buf), [0x21, 0x33, 0x64, 0x01, 0x00, 0x03, 0xb9, 0x92, 0xc0, 0xa8, 0x00, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0]);
  t.equal(refChecksum(buf), 0, 'independent RFC 1071 sum over the message is zero');
  const d = decode(buf);
  t.match(d, { version: 2, type: 1, vrid: 51, priority: 100, adverInt: 3, authType: 0, checksum: 0xb992 });
  t.ok(checksumOk(buf, 0, buf.length));
  t.end();
});

t.test('VRRPv2 with a PASS password and several addresses', (t) => {
  const addrs = ['10.0.0.1', '10.0.0.2', '172.16.5.9'].map(parseIpv4);
  const adv: VrrpAdvert = { version: 2, vrid: 7, priority: 254, adverInt: 1, addresses: addrs, authType: 1, authData: passwordToAuthData('secret') };
  const buf = testEncoder(t, adv);
  t.equal(buf.length, 8 + 12 + 8);
  t.same(Array.from(buf.subarray(20)), [...Buffer.from('secret'), 0, 0], 'password zero-padded to 8 bytes');
  const zeroed = Array.from(buf);
  zeroed[6] = 0;
  zeroed[7] = 0;
  t.equal((buf[6]! << 8) | buf[7]!, refChecksum(zeroed), 'checksum equals an independent recomputation');
  t.same(Array.from(passwordToAuthData('longer-than-8')), [...Buffer.from('longer-t')], 'passwords are cut at 8 bytes');
  t.end();
});

t.test('VRRPv3 checksum includes the IPv4 pseudo-header', (t) => {
  const adv: VrrpAdvert = { version: 3, vrid: 51, priority: 100, adverInt: 300, addresses: [VIP] };
  const ipv4 = { src: SRC, dst: GROUP };
  const buf = testEncoder(t, adv, ipv4);
  t.same(Array.from(buf), [0x31, 0x33, 0x64, 0x01, 0x01, 0x2c, 0x07, 0x28, 0xc0, 0xa8, 0x00, 0x8d]);
  const pseudo = [...u32Bytes(SRC), ...u32Bytes(GROUP), 0, 112, 0, buf.length];
  t.equal(refChecksum([...pseudo, ...buf]), 0, 'pseudo-header + message sums to zero');
  t.ok(checksumOk(buf, 0, buf.length, ipv4));
  t.notOk(checksumOk(buf, 0, buf.length, { src: SRC + 1, dst: GROUP }), 'another source breaks it');
  t.throws(() => encode(adv), /pseudo-header/, 'v3 encode without addresses is refused');
  const reserved = buf.slice();
  reserved[4] = 0xf1; // reserved bits set: ignored on decode
  t.equal(decode(reserved).adverInt, 300);
  t.end();
});

t.test('a flipped byte fails the checksum', (t) => {
  const buf = encode({ version: 2, vrid: 1, priority: 100, adverInt: 1, addresses: [VIP] });
  buf[2] = 101;
  t.notOk(checksumOk(buf, 0, buf.length));
  t.end();
});

t.test('encode rejects invalid objects with clear errors', (t) => {
  const base: VrrpAdvert = { version: 2, vrid: 1, priority: 100, adverInt: 1, addresses: [] };
  t.throws(() => encode({ ...base, vrid: 0 }), /VRID must be 1..255/);
  t.throws(() => encode({ ...base, priority: 256 }), /priority/);
  t.throws(() => encode({ ...base, adverInt: 0 }), /interval must be 1..255/);
  t.throws(() => encode({ ...base, adverInt: 256 }), /interval/);
  t.throws(() => encode({ ...base, version: 3, adverInt: 4096 }, undefined, 0, { src: 1, dst: 2 }), /1..4095/);
  t.throws(() => encode({ ...base, authData: new Uint8Array(9) }), /at most 8/);
  t.throws(() => encode({ ...base, addresses: new Array<number>(256).fill(1) }), /255 addresses/);
  t.throws(() => encode(base, new Uint8Array(10)), RangeError);
  t.end();
});

t.test('decode rejects what it cannot parse', (t) => {
  t.throws(() => decode(new Uint8Array([0x21, 1, 100])), /truncated/);
  t.throws(() => decode(Uint8Array.from([0x41, 1, 100, 0, 0, 1, 0, 0])), /unsupported VRRP version 4/);
  const buf = encode({ version: 2, vrid: 1, priority: 100, adverInt: 1, addresses: [VIP, VIP + 1] });
  t.throws(() => decode(buf, 0, buf.length - 1), /2 addresses need 24/);
  const padded = new Uint8Array(buf.length + 6);
  padded.set(buf);
  t.equal(decode(padded).addresses.length, 2, 'trailing padding is allowed');
  t.equal(decode.bytes, buf.length, 'and not consumed');
  t.end();
});
