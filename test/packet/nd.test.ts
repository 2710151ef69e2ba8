// Neighbour Discovery (RFC 4861): NS parsing and its validity checks (7.1.1), the NA that
// answers it (7.2.4), the unsolicited NA of a VRRPv3 takeover (RFC 9568 6.4.2) and the NS
// for a next hop to its solicited-node group (RFC 4291 2.7.1, RFC 2464 7). Expected frames
// are laid out byte by byte from the RFCs; checksums come from a plain reference sum.
import t from 'tap';
import * as nd from '../../src/packet/nd.js';
import * as icmpv6 from '../../src/packet/icmpv6.js';
import { ipv6Bytes } from '../../src/packet/addr6.js';
import { parseMac } from '../../src/packet/addr.js';
import { icmp6Frame } from '../../src/packet/builder6.js';
import { prng } from '../helpers/prng.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const MY_MAC = parseMac('02:00:00:00:00:fe')!;
const VIP = '2001:db8::100';

/** One's-complement checksum over pseudo-header bytes + message (independent of src/packet). */
function refIcmp6(f: Uint8Array): number {
  const msg = f.subarray(54);
  const b = new Uint8Array(40 + msg.length + (msg.length & 1));
  b.set(f.subarray(22, 54), 0);
  new DataView(b.buffer).setUint32(32, msg.length);
  b[39] = 58;
  b.set(msg, 40);
  b[42] = 0;
  b[43] = 0;
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += b[i]! * 256 + b[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return 0xffff - s;
}
/** The frame with its checksum field blanked, for comparison with a hand-laid one. */
const blank = (f: Uint8Array) => {
  const c = Buffer.from(f);
  c[56] = 0;
  c[57] = 0;
  return hex(c);
};

/** An NS as a host sends it: from `src` for VIP, with an SLLA option unless src is ::. */
function solicitation(o: { src?: string; dst?: string; hopLimit?: number; target?: string; options?: number[] } = {}) {
  const target = ipv6Bytes(o.target ?? VIP)!;
  const opts = o.options ?? [1, 1, 0x02, 0, 0, 0, 0, 0x01];
  return icmp6Frame({
    srcMac: '02:00:00:00:00:01', dstMac: '33:33:ff:00:01:00', src: o.src ?? '2001:db8::1', dst: o.dst ?? 'ff02::1:ff00:100',
    hopLimit: o.hopLimit ?? 255, type: icmpv6.NEIGHBOUR_SOLICIT, code: 0, rest: 0, payload: Uint8Array.from([...target, ...opts]),
  });
}

t.test('a valid NS: target and source link-layer address located', async (t) => {
  const ns = solicitation();
  const out = new Int32Array(nd.NS_SLOTS);
  t.equal(nd.parseSolicit(ns, 14, 54, ns.length, out), 0);
  t.equal(out[nd.NS_TARGET], 62);
  t.equal(out[nd.NS_SLLA], 80, 'MAC after the option type and length');
  t.ok(nd.isSolicitedNodeOf(ns, 38, ns, 62));
  const noOpt = solicitation({ options: [] });
  t.equal(nd.parseSolicit(noOpt, 14, 54, noOpt.length, out), 0);
  t.equal(out[nd.NS_SLLA], -1);
  const nonce = solicitation({ options: [14, 1, 1, 2, 3, 4, 5, 6, 1, 1, 0x02, 0, 0, 0, 0, 0x01] });
  t.equal(nd.parseSolicit(nonce, 14, 54, nonce.length, out), 0, 'a nonce option (RFC 3971) before the SLLA');
  t.equal(out[nd.NS_SLLA], 88);
  const dad = solicitation({ src: '::', options: [] });
  t.equal(nd.parseSolicit(dad, 14, 54, dad.length, out), 0, 'DAD probe: from :: to the solicited-node group');
});

t.test('invalid NS are refused with the RFC 4861 7.1.1 reason', async (t) => {
  const out = new Int32Array(nd.NS_SLOTS);
  const check = (f: Uint8Array, want: number, what: string) => t.equal(nd.parseSolicit(f, 14, 54, f.length, out), want, what);
  check(solicitation({ hopLimit: 64 }), nd.NS_ERR_HOPLIMIT, 'hop limit not 255 (it crossed a router)');
  const badCode = solicitation();
  badCode[55] = 1;
  check(badCode, nd.NS_ERR_CODE, 'code not 0');
  const sum = solicitation();
  sum[70]! ^= 1;
  check(sum, nd.NS_ERR_CHECKSUM, 'checksum');
  const short = solicitation({ options: [] });
  t.equal(nd.parseSolicit(short, 14, 54, short.length - 1, out), nd.NS_ERR_LENGTH, 'under 24 bytes');
  check(solicitation({ target: 'ff02::1' }), nd.NS_ERR_TARGET_MULTICAST, 'multicast target');
  check(solicitation({ options: [1, 0, 0, 0, 0, 0, 0, 0] }), nd.NS_ERR_OPTION, 'option of length 0');
  check(solicitation({ options: [1, 2, 0, 0, 0, 0, 0, 0] }), nd.NS_ERR_OPTION, 'option running past the end');
  check(solicitation({ src: '::' }), nd.NS_ERR_DAD, 'DAD with a source link-layer address');
  check(solicitation({ src: '::', dst: VIP, options: [] }), nd.NS_ERR_DAD, 'DAD not to the solicited-node group');
});

t.test('NA answering an NS for a VIP, byte by byte', async (t) => {
  const ns = solicitation();
  const info = new Int32Array(nd.NS_SLOTS);
  nd.parseSolicit(ns, 14, 54, ns.length, info);
  const out = new Uint8Array(128);
  const len = nd.writeAdvertFor(out, ns, 14, info, MY_MAC, nd.NA_OVERRIDE);
  t.equal(len, 86);
  const want =
    '020000000001' + '0200000000fe' + '86dd' + // to the SLLA, from us, IPv6
    '60000000' + '0020' + '3a' + 'ff' + // 32 bytes of ICMPv6, hop limit 255
    '20010db8000000000000000000000100' + '20010db8000000000000000000000001' + // from the target to the soliciter
    '88' + '00' + '0000' + '60000000' + '20010db8000000000000000000000100' + // NA, S|O, target
    '0201' + '0200000000fe'; // target link-layer address option
  t.equal(blank(out.subarray(0, len)), want);
  t.equal((out[56]! << 8) | out[57]!, refIcmp6(out.subarray(0, len)));
  t.equal(nd.advertFlags(out, 54), nd.NA_SOLICITED | nd.NA_OVERRIDE);
  t.equal(nd.advertTargetMac(out, 54, len), 80);

  const noSlla = solicitation({ options: [] });
  nd.parseSolicit(noSlla, 14, 54, noSlla.length, info);
  nd.writeAdvertFor(out, noSlla, 14, info, MY_MAC, nd.NA_OVERRIDE);
  t.equal(hex(out.subarray(0, 6)), '020000000001', 'no SLLA: back to the frame source MAC');

  const dad = solicitation({ src: '::', options: [] });
  nd.parseSolicit(dad, 14, 54, dad.length, info);
  const dl = nd.writeAdvertFor(out, dad, 14, info, MY_MAC, nd.NA_OVERRIDE | nd.NA_ROUTER);
  t.equal(hex(out.subarray(0, 6)), '333300000001', 'DAD answer to all-nodes');
  t.equal(hex(out.subarray(38, 54)), 'ff020000000000000000000000000001');
  t.equal(nd.advertFlags(out, 54), nd.NA_ROUTER | nd.NA_OVERRIDE, 'S clear for a DAD answer');
  t.equal((out[56]! << 8) | out[57]!, refIcmp6(out.subarray(0, dl)));
});

t.test('unsolicited NA on takeover (RFC 9568 6.4.2)', async (t) => {
  const out = new Uint8Array(100);
  const vip = ipv6Bytes(VIP)!;
  const len = nd.writeUnsolicitedAdvert(out, MY_MAC, vip, 0);
  const want =
    '333300000001' + '0200000000fe' + '86dd' + '60000000' + '0020' + '3a' + 'ff' +
    '20010db8000000000000000000000100' + 'ff020000000000000000000000000001' +
    '88' + '00' + '0000' + 'a0000000' + '20010db8000000000000000000000100' + '0201' + '0200000000fe'; // R|O
  t.equal(blank(out.subarray(0, len)), want);
  t.equal((out[56]! << 8) | out[57]!, refIcmp6(out.subarray(0, len)));
  nd.writeUnsolicitedAdvert(out, MY_MAC, vip, 0, false);
  t.equal(nd.advertFlags(out, 54), nd.NA_OVERRIDE, 'R clear when the interface does not forward');
  t.ok(icmpv6.verifyChecksum(out, 14, 54, 32));
});

t.test('NS resolving a next hop: solicited-node group and its MAC', async (t) => {
  const out = new Uint8Array(100);
  const me = ipv6Bytes('2001:db8::1')!;
  const gw = ipv6Bytes('2001:db8::abcd:10')!;
  const len = nd.writeSolicit(out, MY_MAC, me, 0, gw, 0);
  const want =
    '3333ffcd0010' + '0200000000fe' + '86dd' + '60000000' + '0020' + '3a' + 'ff' +
    '20010db8000000000000000000000001' + 'ff0200000000000000000001ffcd0010' + // ff02::1:ffcd:10
    '87' + '00' + '0000' + '00000000' + '20010db80000000000000000abcd0010' +
    '0101' + '0200000000fe'; // source link-layer address option
  t.equal(blank(out.subarray(0, len)), want);
  t.equal((out[56]! << 8) | out[57]!, refIcmp6(out.subarray(0, len)));
  // Our own NS passes our own validity check.
  const info = new Int32Array(nd.NS_SLOTS);
  t.equal(nd.parseSolicit(out, 14, 54, len, info), 0);
  t.equal(info[nd.NS_SLLA], 80);
});

t.test('garbage in: parseSolicit never points past the message and never throws', async (t) => {
  const rand = prng(4861);
  const info = new Int32Array(nd.NS_SLOTS);
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    const base = solicitation({ options: rand() < 0.5 ? [] : [1, 1, 2, 0, 0, 0, 0, 1] });
    const f = Buffer.from(base);
    // Mutate option bytes and sometimes cut the message short.
    for (let k = 78; k < f.length; k++) if (rand() < 0.3) f[k] = (rand() * 4) | 0;
    const end = rand() < 0.3 ? 54 + ((rand() * (f.length - 54)) | 0) : f.length;
    icmpv6.fillChecksum(f, 14, 54, end - 54);
    const r = nd.parseSolicit(f, 14, 54, end, info);
    if (r === 0) {
      accepted++;
      if (info[nd.NS_TARGET]! + 16 > end || (info[nd.NS_SLLA]! >= 0 && info[nd.NS_SLLA]! + 6 > end)) t.fail(`NS ${i}: offsets past ${end}`);
    } else if (r > 0) {
      t.fail(`NS ${i}: result ${r}`);
    }
  }
  t.ok(accepted > 1000, `${accepted} accepted`);
});
