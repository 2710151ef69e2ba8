import t from 'tap';
import * as eth from '../../src/packet/ethernet.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import * as udp from '../../src/packet/udp.js';
import * as icmp from '../../src/packet/icmp.js';
import * as arp from '../../src/packet/arp.js';
import * as l4 from '../../src/packet/l4.js';
import { arpFrame, icmpFrame, quote, tcpFrame, udpFrame } from '../../src/packet/builder.js';
import { formatIPv4, parseIPv4, parseMac, formatMac } from '../../src/packet/addr.js';

const base = { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', src: '198.51.100.10', dst: '10.0.0.127' };

t.test('addresses', async (t) => {
  t.equal(parseIPv4('10.0.0.1'), 0x0a000001);
  t.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  t.equal(parseIPv4('256.0.0.1'), null);
  t.equal(parseIPv4('1.2.3'), null);
  t.equal(formatIPv4(0xc0a80001), '192.168.0.1');
  t.equal(formatMac(parseMac('0A:1b:2c:3d:4e:5f')!), '0a:1b:2c:3d:4e:5f');
  t.equal(parseMac('0a:1b:2c:3d:4e'), null);
});

t.test('Ethernet II with and without one 802.1Q tag', async (t) => {
  const plain = tcpFrame({ ...base, sport: 1, dport: 2, flags: tcp.SYN });
  t.equal(eth.l3Offset(plain, plain.length), 14);
  t.same(eth.decode(plain), { dst: base.dstMac, src: base.srcMac, etherType: eth.ETHERTYPE_IPV4 });
  const tagged = tcpFrame({ ...base, vlan: 100, sport: 1, dport: 2, flags: tcp.SYN });
  t.equal(eth.l3Offset(tagged, tagged.length), 18);
  t.equal(eth.decode(tagged).vlan, 100);
  t.equal(eth.etherType(tagged, 18), eth.ETHERTYPE_IPV4);
  t.equal(eth.l3Offset(tagged, 16), -1, 'tag cut short');
  t.equal(eth.l3Offset(plain, 10), -1, 'runt');
});

t.test('IPv4 round trip with options, fragment fields, checksum', async (t) => {
  const opts = Uint8Array.from([0x94, 0x04, 0, 0]); // router alert
  const f = udpFrame({ ...base, ipOptions: opts, id: 0x1234, frag: ipv4.FLAG_MF | 3, ttl: 7, sport: 5, dport: 53, payload: Buffer.from('hi') });
  const h = ipv4.decode(f, 14);
  t.equal(h.headerLength, 24);
  t.equal(h.id, 0x1234);
  t.equal(h.mf, true);
  t.equal(h.df, false);
  t.equal(h.fragmentOffset, 24);
  t.equal(h.ttl, 7);
  t.equal(h.totalLength, 24 + 8 + 2);
  t.ok(ipv4.verifyHeader(f, 14, 24));
  t.ok(ipv4.isFragment(f, 14));
  ipv4.decrementTtl(f, 14);
  t.equal(ipv4.ttl(f, 14), 6);
  t.ok(ipv4.verifyHeader(f, 14, 24), 'incremental TTL checksum update');
  ipv4.setDst(f, 14, 0x0a000056);
  t.equal(ipv4.decode(f, 14).dst, '10.0.0.86');
  t.ok(ipv4.verifyHeader(f, 14, 24));
});

t.test('TCP and UDP headers and full checksums', async (t) => {
  const f = tcpFrame({ ...base, sport: 40000, dport: 80, seq: 7, ack: 9, flags: tcp.SYN | tcp.ACK, options: Uint8Array.from([2, 4, 5, 0xb4]), payload: Buffer.from('abc') });
  const h = tcp.decode(f, 34);
  t.same([h.sport, h.dport, h.seq, h.ack, h.flags, h.dataOffset], [40000, 80, 7, 9, tcp.SYN | tcp.ACK, 24]);
  t.ok(l4.verifyChecksum(f, 14));
  f[f.length - 1]! ^= 1;
  t.notOk(l4.verifyChecksum(f, 14), 'payload change detected');
  const u = udpFrame({ ...base, sport: 1234, dport: 9000, payload: Buffer.from('ping') });
  t.same(udp.decode(u, 34).length, 12);
  t.ok(l4.verifyChecksum(u, 14));
  const none = udpFrame({ ...base, sport: 1, dport: 2, noChecksum: true });
  t.equal(udp.decode(none, 34).checksum, 0);
  t.ok(l4.verifyChecksum(none, 14), 'UDP checksum 0 means none');
});

t.test('ICMP error quoting a datagram, ARP', async (t) => {
  const inner = udpFrame({ ...base, sport: 1, dport: 2, payload: Buffer.from('0123456789') });
  const q = quote(inner);
  t.equal(q.length, 28);
  const e = icmpFrame({ ...base, type: icmp.DEST_UNREACH, code: icmp.CODE_PORT_UNREACH, rest: 0, payload: q });
  const d = icmp.decode(e, 34);
  t.same([d.type, d.code], [3, 3]);
  t.ok(icmp.isRelatedError(d.type));
  t.notOk(icmp.isRelatedError(icmp.ECHO_REQUEST));
  const a = arpFrame({ srcMac: base.srcMac, dstMac: 'ff:ff:ff:ff:ff:ff', op: 1, senderMac: base.srcMac, senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.127' });
  t.same(arp.decode(a, 14), { op: 1, senderMac: base.srcMac, senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.127' });
});
