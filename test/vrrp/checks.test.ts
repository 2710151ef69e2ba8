import t from 'tap';
import { ip as parseIpv4 } from '../helpers/addr.js';
import { checkAdvert, type LocalInstance, type ReceivedAdvert } from '../../src/vrrp/checks.js';
import { passwordToAuthData, type VrrpAdvert } from '../../src/vrrp/packet.js';

const VIP = parseIpv4('192.168.0.141');
const GROUP = parseIpv4('224.0.0.18');
const PEER = parseIpv4('192.168.0.11');
const local: LocalInstance = { version: 2, vrid: 51, adverInt: 3, vips: [VIP] };
const advert: VrrpAdvert = { version: 2, type: 1, vrid: 51, priority: 100, adverInt: 3, addresses: [VIP], authType: 0 };
const rx = (a: Partial<VrrpAdvert> = {}, r: Partial<ReceivedAdvert> = {}): ReceivedAdvert => ({
  advert: { ...advert, ...a },
  srcIp: PEER,
  dstIp: GROUP,
  ttl: 255,
  checksumOk: true,
  vrrpLength: 20,
  ...r,
});

t.test('a well-formed advert passes', (t) => {
  t.same(checkAdvert(rx(), local), { verdict: 'ok', warnings: [] });
  t.end();
});

t.test('rejections and drops in keepalived order', (t) => {
  const cases: [string, ReceivedAdvert, LocalInstance, string, string][] = [
    ['other VRID', rx({ vrid: 52 }), local, 'drop', 'vrid'],
    ['length mismatch', rx({}, { vrrpLength: 24 }), local, 'reject', 'length'],
    ['TTL 254 on multicast', rx({}, { ttl: 254 }), local, 'reject', 'ttl'],
    ['version 3 to a v2 instance', rx({ version: 3 }, { vrrpLength: 12 }), local, 'reject', 'version'],
    ['auth type 5', rx({ authType: 5 }), local, 'reject', 'auth-type-invalid'],
    ['PASS to a no-auth instance', rx({ authType: 1 }), local, 'reject', 'auth-type-mismatch'],
    ['wrong password', rx({ authType: 1, authData: passwordToAuthData('nope') }), { ...local, authType: 1, authData: passwordToAuthData('secret') }, 'reject', 'auth-password'],
    ['v2 interval differs', rx({ adverInt: 1 }), local, 'drop', 'adver-int'],
    ['type 2', rx({ type: 2 }), local, 'reject', 'type'],
    ['bad checksum', rx({}, { checksumOk: false }), local, 'reject', 'checksum'],
    ['unicast packet on multicast instance', rx({}, { dstIp: parseIpv4('192.168.0.10') }), local, 'reject', 'cast-mismatch'],
    ['multicast packet on unicast instance', rx(), { ...local, unicast: true }, 'reject', 'cast-mismatch'],
    ['unknown unicast source', rx({}, { dstIp: parseIpv4('192.168.0.10'), ttl: 64 }), { ...local, unicast: true, unicastPeers: [parseIpv4('192.168.0.12')] }, 'reject', 'unicast-src'],
    ['owner ignoring adverts', rx(), { ...local, priority: 255, ownerIgnoreAdverts: true }, 'drop', 'owner-ignore'],
  ];
  for (const [name, r, l, verdict, code] of cases) t.match(checkAdvert(r, l), { verdict, code }, name);
  t.end();
});

t.test('accepted variants', (t) => {
  t.equal(checkAdvert(rx({ authType: 1, authData: passwordToAuthData('secret') }), { ...local, authType: 1, authData: passwordToAuthData('secret') }).verdict, 'ok', 'right password');
  t.equal(checkAdvert(rx({}, { dstIp: parseIpv4('192.168.0.10'), ttl: 64 }), { ...local, unicast: true, unicastPeers: [PEER] }).verdict, 'ok', 'unicast peers: TTL not checked');
  const v3 = checkAdvert(rx({ version: 3, adverInt: 100 }, { vrrpLength: 12 }), { version: 3, vrid: 51, adverInt: 300, vips: [VIP] });
  t.match(v3, { verdict: 'ok', warnings: [{ code: 'adver-int' }] }, 'v3 interval difference is only a warning');
  t.end();
});

t.test('address list: warning like keepalived, or reject with strictAddressList', (t) => {
  const other = parseIpv4('192.168.0.142');
  t.match(checkAdvert(rx({ addresses: [other] }), local), { verdict: 'ok', warnings: [{ code: 'addr-list' }] });
  t.match(checkAdvert(rx({ addresses: [VIP, other] }, { vrrpLength: 24 }), local), { verdict: 'ok', warnings: [{ code: 'addr-count' }] });
  t.equal(checkAdvert(rx({ addresses: [other] }), { ...local, skipCheckAdvAddr: true }).warnings.length, 0, 'skip_check_adv_addr');
  t.match(checkAdvert(rx({ addresses: [other] }), { ...local, strictAddressList: true }), { verdict: 'reject', code: 'addr-list' });
  t.equal(checkAdvert(rx({ addresses: [other], priority: 255 }), { ...local, strictAddressList: true }).verdict, 'ok', 'RFC: the owner is still accepted');
  t.end();
});
