/**
 * Parsing `ip -j` output for IPv6 (no `ip` run): the JSON below is written by hand in the
 * shape iproute2 6.1 prints it (ipaddress.c print_addrinfo, iproute.c print_route, ipneigh.c
 * print_neigh): `type` only for non-unicast routes, no "/128" on host routes, `nexthops` for
 * multipath, `state` as an array, `router` as null.
 */
import t from 'tap';
import { hostAddresses6Of, interfacesOf, neighbours6Of, routes6Of, type IpAddrJson } from '../../src/io/sysinfo.js';

const life = { valid_life_time: 4294967295, preferred_life_time: 4294967295 };
const addrShow = [
  {
    ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, operstate: 'UNKNOWN', link_type: 'loopback',
    address: '00:00:00:00:00:00',
    addr_info: [
      { family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', label: 'lo', ...life },
      { family: 'inet6', local: '::1', prefixlen: 128, scope: 'host', ...life },
      { family: 'inet6', local: '2001:DB8::0:1', prefixlen: 128, scope: 'global', ...life },
    ],
  },
  {
    ifindex: 2, ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', link_type: 'ether',
    address: '02:00:0a:00:00:02',
    addr_info: [
      { family: 'inet', local: '10.0.0.2', prefixlen: 24, broadcast: '10.0.0.255', scope: 'global', label: 'eth0', ...life },
      { family: 'inet6', local: '2001:db8:1::2', prefixlen: 64, scope: 'global', ...life },
      { family: 'inet6', local: 'fe80::ff:fe00:2', prefixlen: 64, scope: 'link', tentative: true, ...life },
      { family: 'inet6', local: 'fe80::2', prefixlen: 64, scope: 'link', ...life },
      { family: 'inet6', local: 'fe80::3', prefixlen: 64, scope: 'link', ...life },
    ],
  },
  {
    ifindex: 3, ifname: 'eth1', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 9000, operstate: 'UP', link_type: 'ether',
    address: '02:00:0a:00:01:02',
    addr_info: [{ family: 'inet', local: '192.168.1.2', prefixlen: 24, scope: 'global', label: 'eth1', ...life }],
  },
  {
    ifindex: 4, ifname: 'eth2', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', link_type: 'ether',
    address: '02:00:0a:00:02:02',
    addr_info: [{ family: 'inet6', local: 'fe80::4', prefixlen: 64, scope: 'link', dadfailed: true, tentative: true, ...life }],
  },
] as unknown as IpAddrJson[];

t.test('interfaces: ll6 is the first usable scope-link address, 16 bytes', async (t) => {
  const [eth0, eth1, eth2] = interfacesOf(addrShow);
  t.equal(eth0!.name, 'eth0', 'lo is not an engine interface');
  t.same(Array.from(eth0!.ll6!), [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 'fe80::2: the tentative one is skipped');
  t.equal(eth0!.ip, 0x0a000002);
  t.equal(eth1!.ll6, undefined, 'no IPv6 address: no ll6 field');
  t.equal(eth2!.ll6, undefined, 'DAD failed');
  t.equal(eth1!.mtu, 9000);
});

t.test('host addresses: every inet6 address, canonical text, once', async (t) => {
  t.same(hostAddresses6Of(addrShow), ['::1', '2001:db8::1', '2001:db8:1::2', 'fe80::ff:fe00:2', 'fe80::2', 'fe80::3', 'fe80::4']);
  t.same(hostAddresses6Of([...addrShow, addrShow[1]!]).length, 7, 'an address listed twice appears once');
});

t.test('routes: unicast only, default as ::, /128 when no length, first hop of multipath', async (t) => {
  const json = [
    { dst: '2001:db8:1::/64', dev: 'eth0', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
    { dst: 'fe80::/64', dev: 'eth0', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
    { dst: '2001:db8:2:0::/64', gateway: 'FE80::1', dev: 'eth0', metric: 1024, flags: [], pref: 'medium' },
    { dst: '2001:db8:9::5', gateway: '2001:db8:1::1', dev: 'eth0', metric: 1024, flags: [], pref: 'medium' },
    { type: 'unreachable', dst: '2001:db8:dead::/48', dev: 'lo', metric: 1024, flags: [], pref: 'medium' },
    { type: 'blackhole', dst: '2001:db8:beef::/48', dev: 'lo', metric: 1024, flags: [], pref: 'medium' },
    { type: 'anycast', dst: '2001:db8:1::', dev: 'eth0', table: 'local', protocol: 'kernel', metric: 0, flags: [], pref: 'medium' },
    { type: 'local', dst: '2001:db8:1::2', dev: 'eth0', table: 'local', protocol: 'kernel', metric: 0, flags: [], pref: 'medium' },
    { type: 'multicast', dst: 'ff00::/8', dev: 'eth0', table: 'local', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
    { dst: 'ff00::/8', dev: 'eth0', metric: 256, flags: [], pref: 'medium' },
    { dst: 'default', gateway: 'fe80::1', dev: 'eth0', protocol: 'ra', metric: 1024, flags: [], expires: 1790, pref: 'medium' },
    {
      dst: '2001:db8:7::/48', metric: 1024, flags: [], pref: 'medium',
      nexthops: [{ gateway: 'fe80::7', dev: 'eth1', weight: 1, flags: [] }, { gateway: 'fe80::8', dev: 'eth0', weight: 1, flags: [] }],
    },
  ] as unknown as Parameters<typeof routes6Of>[0];
  t.same(routes6Of(json), [
    { dst: '2001:db8:1::', prefixLen: 64, dev: 'eth0', gateway: null },
    { dst: 'fe80::', prefixLen: 64, dev: 'eth0', gateway: null },
    { dst: '2001:db8:2::', prefixLen: 64, dev: 'eth0', gateway: 'fe80::1' },
    { dst: '2001:db8:9::5', prefixLen: 128, dev: 'eth0', gateway: '2001:db8:1::1' },
    { dst: '::', prefixLen: 0, dev: 'eth0', gateway: 'fe80::1' },
    { dst: '2001:db8:7::', prefixLen: 48, dev: 'eth1', gateway: 'fe80::7' },
  ]);
  t.same(routes6Of([]), []);
});

t.test('neighbours: usable states with a link-layer address', async (t) => {
  const json = [
    { dst: 'fe80::1', dev: 'eth0', lladdr: '02:00:00:00:00:01', router: null, state: ['REACHABLE'] },
    { dst: '2001:DB8:1::10', dev: 'eth0', lladdr: '02:00:00:00:00:10', state: ['STALE'] },
    { dst: '2001:db8:1::11', dev: 'eth0', lladdr: '02:00:00:00:00:11', state: ['DELAY'] },
    { dst: '2001:db8:1::12', dev: 'eth1', lladdr: '02:00:00:00:00:12', state: ['PERMANENT'] },
    { dst: '2001:db8:1::13', dev: 'eth0', state: ['FAILED'] },
    { dst: '2001:db8:1::14', dev: 'eth0', state: ['INCOMPLETE'] },
    { dst: '2001:db8:1::15', dev: 'eth0', lladdr: '02:00:00:00:00:15', state: ['FAILED'] },
    { dst: 'ff02::16', dev: 'eth0', lladdr: '33:33:00:00:00:16', state: ['NOARP'] },
  ];
  const n = neighbours6Of(json);
  t.same(n.map((x) => [x.ip, x.dev]), [['fe80::1', 'eth0'], ['2001:db8:1::10', 'eth0'], ['2001:db8:1::11', 'eth0'], ['2001:db8:1::12', 'eth1']]);
  t.same(Array.from(n[1]!.mac), [2, 0, 0, 0, 0, 0x10]);
});
