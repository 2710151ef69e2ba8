// keepalived's IPv6 forms in virtual_server_group (check_data.c alloc_vsg_entry, utils.c
// inet_stor: a range end is the last 16-bit group in hex, or a whole address; ADDR/LEN
// sets every host bit in the end), the addresses keepalived's ipvs_group_range_cmd walks
// for them (only the last group moves), and the plan's refusal, which names the line and
// says what is supported (issue 16: parsing is ready, forwarding is not).
import t from 'tap';
import { join } from 'node:path';
import { ConfigError, loadKeepalivedConfig, parseKeepalivedText } from '../../src/config/keepalived/index.js';
import { FEATURES } from './paths.js';
import { expandGroupEntry } from '../../src/config/keepalived/group-range.js';
import { planFromKeepalived } from '../../src/control/keepalived-plan.js';

const conf = (entry: string) => ['virtual_server_group v6 {', `    ${entry}`, '}', 'virtual_server group v6 {', '    lvs_sched rr', '    protocol TCP', '}', ''].join('\n');
const entryOf = (entry: string) => parseKeepalivedText(conf(entry), 'v6.conf').config.virtualServerGroups[0]!.entries[0]!;

t.test('ae00::2-9 and friends parse to a start and an end address', async (t) => {
  const cases: [string, string, string][] = [
    ['ae00::2-9 80', 'ae00::2', 'ae00::9'],
    ['ae00::2-1f 80', 'ae00::2', 'ae00::1f'],
    ['2001:db8:0:0:1:0:0:10-FFFF 443', '2001:db8::1:0:0:10', '2001:db8::1:0:0:ffff'], // canonical text, as keepalived prints it
    ['::2-3 80', '::2', '::3'],
    ['ae00::2-ae00::9 80', 'ae00::2', 'ae00::9'],
    ['2001:db8::1-2001:DB8:0:0:0:0:1:0 80', '2001:db8::1', '2001:db8::1:0'],
    ['2001:db8::ab00/120 80', '2001:db8::ab00', '2001:db8::abff'],
    ['2001:db8::/64 80', '2001:db8::', '2001:db8::ffff:ffff:ffff:ffff'],
    ['2001:db8::5/128 80', '2001:db8::5', '2001:db8::5'],
  ];
  for (const [entry, start, end] of cases) {
    const e = entryOf(entry);
    t.same([e.family, e.address, e.addressEnd], ['inet6', start, end], entry);
  }
});

t.test('bad IPv6 range ends: a ConfigError at the line', async (t) => {
  const bad = [
    ['ae00::2-g 80', /in hex/], ['ae00::9-2 80', /greater than the start/], ['ae00::2-10000 80', /in hex/],
    ['ae00::9-ae00::2 80', /not below the start/], ['ae00::2-ae00:: 80', /not below the start/],
    ['2001:db8::1/64 80', /no host bits set/], ['2001:db8::101/120 80', /no host bits set/], ['ae00::/129 80', /prefix length/],
  ] as const;
  for (const [entry, why] of bad) {
    try {
      parseKeepalivedText(conf(entry), 'v6.conf');
      t.fail(`${entry}: accepted`);
    } catch (err) {
      t.ok(err instanceof ConfigError, entry);
      t.equal((err as ConfigError).line, 2);
      t.match((err as Error).message, why);
    }
  }
});

t.test('the addresses keepalived adds for an entry: only the last group moves', async (t) => {
  t.same(expandGroupEntry(entryOf('ae00::2-9 80')), ['ae00::2', 'ae00::3', 'ae00::4', 'ae00::5', 'ae00::6', 'ae00::7', 'ae00::8', 'ae00::9']);
  t.same(expandGroupEntry(entryOf('2001:db8::fffe-ffff 80')), ['2001:db8::fffe', '2001:db8::ffff']);
  t.same(expandGroupEntry(entryOf('2001:0db8::0001 80')), ['2001:db8::1'], 'one address, canonical text');
  const p120 = expandGroupEntry(entryOf('2001:db8::ab00/120 80'));
  t.same([p120.length, p120[0], p120[255]], [256, '2001:db8::ab00', '2001:db8::abff']);
  // A /64 ends at ffff:ffff:ffff:ffff, but keepalived compares and steps the last group only.
  const p64 = expandGroupEntry(entryOf('2001:db8::/64 80'));
  t.same([p64.length, p64[0], p64[1], p64[65535]], [65536, '2001:db8::', '2001:db8::1', '2001:db8::ffff']);
  t.same(expandGroupEntry(entryOf('2001:db8::1:5-2001:db8::2:7 80')), ['2001:db8::1:5', '2001:db8::1:6', '2001:db8::1:7'], 'upper groups of the end are not walked');
  t.throws(() => expandGroupEntry(entryOf('2001:db8::1:5-2001:db8::2:3 80')), /v6\.conf:2: .*steps only the last group, and 3 is below 5/);
  // IPv4 for comparison: the last octet only, and an end elsewhere is refused (keepalived never reaches it).
  t.same(expandGroupEntry(entryOf('10.0.1.1-3 80')), ['10.0.1.1', '10.0.1.2', '10.0.1.3']);
  t.equal(expandGroupEntry(entryOf('10.0.2.0/24 80')).length, 256);
  t.throws(() => expandGroupEntry(entryOf('10.0.0.250-10.0.1.5 80')), /steps only the last octet/);
  t.throws(() => expandGroupEntry(entryOf('10.0.0.0/23 80')), /steps only the last octet/);
});

t.test('the plan: a group range gives one IPv6 service per address, in keepalived\'s order, sharing the real servers and one health spec', async (t) => {
  const text = ['virtual_server_group v6 {', '    ae00::2-4 80', '    ae00::1 443', '}', 'virtual_server group v6 {', '    lvs_sched rr', '    lvs_method DR', '    protocol TCP',
    '    real_server ae00::10 80 {', '        weight 3', '    }', '}', ''].join('\n');
  const { config } = parseKeepalivedText(text, 'v6.conf');
  const plan = planFromKeepalived(config);
  t.same(plan.services.map((s) => s.key), ['TCP ae00::2:80', 'TCP ae00::3:80', 'TCP ae00::4:80', 'TCP ae00::1:443']);
  t.same(plan.services.map((s) => [...s.spec.addr6!]), [
    [0xae000000 | 0, 0, 0, 2], [0xae000000 | 0, 0, 0, 3], [0xae000000 | 0, 0, 0, 4], [0xae000000 | 0, 0, 0, 1],
  ], 'four words, network order');
  t.same(new Set(plan.services.map((s) => s.healthKey)), new Set(['TCP group v6']));
  t.same(plan.services[0]!.dests.map((d) => ({ port: d.spec.port, weight: d.spec.weight, fwd: d.spec.fwd, addr6: [...d.spec.addr6!] })), [
    { port: 80, weight: 3, fwd: 1, addr6: [0xae000000 | 0, 0, 0, 0x10] },
  ]);
  t.same(plan.health.map((h) => h.key), ['TCP group v6'], 'the checkers run once for the group, as keepalived\'s');
});

t.test('the plan: a backwards range is an error at its line; errors are collected', async (t) => {
  const { config } = parseKeepalivedText(conf('ae00::2 80'), 'v6.conf');
  const bad = { ...config, virtualServerGroups: [{ ...config.virtualServerGroups[0]!, entries: [{ ...config.virtualServerGroups[0]!.entries[0]!, addressEnd: 'ae00:1::1' }] }] };
  t.throws(() => planFromKeepalived(bad), /v6\.conf:2: keyword 'virtual_server_group': range ae00::2 to ae00:1::1: keepalived steps only the last group, and 1 is below 2/);
  const errors: ConfigError[] = [];
  planFromKeepalived(bad, errors);
  t.same(errors.map((e) => e.line), [2]);
});

t.test('IPv6 virtual and real servers load; an IPv6 server under an IPv4 service (tunnel) is refused at its line', async (t) => {
  const text = [
    'virtual_server 2001:db8::1 80 {', '    lvs_sched rr', '    lvs_method NAT', '    protocol TCP', '    persistence_timeout 50', '    persistence_granularity 64',
    '    real_server 2001:db8::10 8080 {', '        weight 2', '        TCP_CHECK {', '            connect_timeout 3', '        }', '    }',
    '}',
    'virtual_server 10.0.0.1 80 {', '    lvs_sched rr', '    lvs_method TUN', '    protocol TCP',
    '    real_server 2001:DB8:0::0020 80 {', '    }',
    '}', '',
  ].join('\n');
  const { config } = parseKeepalivedText(text, 'dual.conf');
  const [v6, v4] = config.virtualServers;
  t.match(v6, { address: '2001:db8::1', family: 'inet6', port: 80, realServers: [{ address: '2001:db8::10', family: 'inet6', port: 8080, weight: 2 }] });
  t.match(v4!.realServers[0], { address: '2001:db8::20' }, 'written 2001:DB8:0::0020, kept canonical');
  t.match(v6!.realServers[0]!.checkers[0], { type: 'TCP_CHECK', connectIp: '2001:db8::10', connectPort: 8080 });
  const errors: ConfigError[] = [];
  const plan = planFromKeepalived(config, errors);
  t.same(errors.map((e) => e.message), [
    "dual.conf:18: keyword 'real_server': real_server 2001:db8::20 of virtual_server 10.0.0.1:80/TCP is IPv6 and its virtual server IPv4 " +
      '(IPv6 services are forwarded to IPv6 servers by NAT (-m), direct routing (-g), full-NAT (--fnat) and ip6ip6 tunnel (-i); tunnels between address families are not built)',
  ]);
  t.equal(plan.services.length, 1);
  t.match(plan.services[0]!.spec, { proto: 6, port: 80, persistent: 50, netmask: 64, scheduler: 'rr' }, 'persistence_granularity is a prefix length for IPv6 (ipvsadm -M 64)');
  t.same([...plan.services[0]!.spec.addr6!], [0x20010db8, 0, 0, 1]);
  t.same([...plan.services[0]!.dests[0]!.spec.addr6!], [0x20010db8, 0, 0, 0x10]);
});

t.test('fixtures/keepalived/features/ipv6-group-nat.conf (the IPv6 sample\'s shape) loads into services', async (t) => {
  const { config, warnings } = loadKeepalivedConfig(join(FEATURES, 'ipv6-group-nat.conf'));
  t.same(warnings.map((w) => w.message), []);
  const [group] = config.virtualServerGroups;
  t.same(group!.entries.map((e) => expandGroupEntry(e).length), [8, 1]);
  const [single, byGroup] = config.virtualServers;
  t.match(single, { address: '2001:db8:ae::1', family: 'inet6', port: 80, scheduler: 'rr', forwarding: { method: 'NAT' }, persistenceTimeout: 50 });
  t.match(single!.realServers[0]!.checkers[0], { type: 'TCP_CHECK', connectIp: '2001:db8:ae::10', connectPort: 80, bindTo: '2001:db8:ae::2' });
  t.match(byGroup, { kind: 'group', group: 'V6_GROUP', forwarding: { method: 'DR' } });
  t.match(byGroup!.realServers[0]!.checkers[0], { type: 'HTTP_GET', connectIp: '2001:db8:ae::11', connectPort: 8080 });
  const plan = planFromKeepalived(config);
  // The single NAT service, then the group's nine (2-9, then 1) in the order of its entries;
  // the group's ::1:80 has the single one's key, so the control plane adds that service once.
  t.same(plan.services.map((s) => s.key), [
    'TCP 2001:db8:ae::1:80', ...[2, 3, 4, 5, 6, 7, 8, 9].map((n) => `TCP 2001:db8:ae::${n}:80`), 'TCP 2001:db8:ae::1:80',
  ]);
  t.same(plan.health.map((h) => h.key), ['TCP 2001:db8:ae::1:80', 'TCP group V6_GROUP']);
});
