/**
 * The IPv6 rules of the nft netdev guard (text only, no root): the drops mirror the IPv4 ones,
 * and ND/MLD (ICMPv6 130-137, 143) is accepted before any IPv6 drop, since nft evaluates a
 * chain's rules in order and the first verdict ends it.
 */
import t from 'tap';
import { HostGuard } from '../../src/io/host-guard.js';
import { parseIPv4 } from '../../src/packet/addr.js';

const ip = (s: string) => parseIPv4(s)!;
const v4 = { devices: ['eth0'], vips: [ip('10.0.0.127')], natServers: [{ proto: 'tcp' as const, addr: ip('10.0.0.185'), port: 80 }], localAddrs: [], hostAddrs: [ip('10.0.0.2')] };
const v6 = {
  vips6: ['2001:db8::80'],
  localServices6: [{ proto: 'tcp' as const, addr: '2001:db8::1', port: 443 }, { proto: 'udp' as const, addr: '2001:db8::1', port: 53 }],
  natServers6: [{ proto: 'tcp' as const, addr: '2001:db8:1::10', port: 80 }],
  hostAddrs6: ['2001:db8:1::2', 'fe80::aa'],
};

t.test('IPv6 drops after an ND/MLD accept, in every chain', async (t) => {
  const g = new HostGuard();
  const s = g.script({ ...v4, devices: ['eth0', 'eth1'], ...v6 });
  const chain = (i: number) => s.split(`chain ingress_${i} {\n`)[1]!.split('\n  }')[0]!.split('\n').map((l) => l.trim());
  for (const i of [0, 1]) {
    t.same(chain(i).slice(1), [
      'ip daddr 10.0.0.127 counter drop',
      'ip daddr != { 10.0.0.2 } ip saddr 10.0.0.185 tcp sport 80 counter drop',
      'icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, nd-router-solicit, nd-router-advert, ' +
        'nd-neighbor-solicit, nd-neighbor-advert, nd-redirect, mld2-listener-report } accept',
      'ip6 daddr 2001:db8::80 counter drop',
      'ip6 daddr 2001:db8::1 tcp dport 443 counter drop',
      'ip6 daddr 2001:db8::1 udp dport 53 counter drop',
      'ip6 daddr != { 2001:db8:1::2, fe80::aa } ip6 saddr 2001:db8:1::10 tcp sport 80 counter drop',
    ], `chain ${i}`);
  }
  const lines = s.split('\n');
  const accept = lines.findIndex((l) => l.includes('icmpv6 type'));
  const firstDrop6 = lines.findIndex((l) => /ip6 .*drop/.test(l));
  t.ok(accept >= 0 && accept < firstDrop6, 'the accept comes first');
});

t.test('the accepted ICMPv6 types are exactly ND and MLD', async (t) => {
  // nft's names (src/proto.c icmp6_type_tbl) and their numbers (RFC 4443, 2710, 3810, 4861).
  const numbers: Record<string, number> = {
    'mld-listener-query': 130, 'mld-listener-report': 131, 'mld-listener-done': 132, 'nd-router-solicit': 133,
    'nd-router-advert': 134, 'nd-neighbor-solicit': 135, 'nd-neighbor-advert': 136, 'nd-redirect': 137, 'mld2-listener-report': 143,
  };
  const s = new HostGuard().script({ ...v4, ...v6 });
  const set = /icmpv6 type \{ ([^}]*) \} accept/.exec(s)![1]!.split(', ');
  t.same(set.map((n) => numbers[n]).sort((a, b) => a! - b!), [130, 131, 132, 133, 134, 135, 136, 137, 143]);
  t.notMatch(s, /echo-request|destination-unreachable|packet-too-big/, 'echo and errors to the VIPs are the engine\'s');
});

t.test('no IPv6 rules: the IPv4 script is unchanged, no ICMPv6 accept', async (t) => {
  const g = new HostGuard();
  const plain = g.script(v4);
  t.equal(g.script({ ...v4, vips6: [], localServices6: [], natServers6: [], hostAddrs6: ['fe80::aa'] }), plain);
  t.notMatch(plain, /ip6|icmpv6/);
});

t.test('NAT servers without host addresses: no daddr set', async (t) => {
  const s = new HostGuard().script({ ...v4, natServers6: v6.natServers6 });
  t.match(s, /\n {4}ip6 saddr 2001:db8:1::10 tcp sport 80 counter drop\n/);
  t.notMatch(s, /ip6 daddr/);
});
