/**
 * Golden listings. Expected texts come from docs/ipvs-behaviour.md (§5.4, copied
 * verbatim, trailing spaces included) or are produced by applying ipvsadm's
 * documented printf formats (§5.3) through `cprintf`, a tiny C printf model
 * written here independently of the code under test.
 */
import t from 'tap';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2 } from '../../src/sched/types.js';
import { DEFAULT_TIMEOUTS, type ServiceSnapshot } from '../../src/control/snapshot-types.js';
import { listAllText, listFormat, listServiceText, saveText } from '../../src/control/ipvsadm/format.js';
import { connectionsText, renderReadOnly, timeoutText } from '../../src/control/ipvsadm/format-other.js';
import { parseServices } from '../../src/control/ipvsadm/services-file.js';
import { parseIpvsadmArgs } from '../../src/control/ipvsadm/args.js';
import { cprintf, dest, service, snap } from '../helpers/ipvsadm-model.js';


// docs/ipvs-behaviour.md §5.4: kernel list order is [.86, .185] (the last added first).
const st = (conns: number, inpkts: number, outpkts: number, inbytes: number, outbytes: number) => ({ conns, inpkts, outpkts, inbytes, outbytes });
const rt = (cps: number, inpps: number, outpps: number, inbps: number, outbps: number) => ({ cps, inpps, outpps, inbps, outbps });
const example = snap([
  service('10.0.0.127', 80, {
    scheduler: 'rr',
    stats: st(6, 36, 30, 2412, 3270),
    rates: rt(1, 6, 5, 402, 545),
    dests: [
      dest('10.0.0.86', 80, { stats: st(3, 18, 15, 1206, 1635), rates: rt(0, 3, 2, 201, 272) }),
      dest('10.0.0.185', 80, { stats: st(3, 18, 15, 1206, 1635), rates: rt(0, 3, 2, 201, 272) }),
    ],
  }),
]);

t.test('docs/ipvs-behaviour.md §5.4 worked example, verbatim', async (t) => {
  t.equal(listAllText(example, listFormat({ numeric: true })), [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'TCP  10.0.0.127:80 rr',
    '  -> 10.0.0.86:80                 Masq    1      0          0         ',
    '  -> 10.0.0.185:80                Masq    1      0          0         ',
    '',
  ].join('\n'));
  t.equal(listAllText(example, listFormat({ numeric: true, stats: true })), [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes',
    '  -> RemoteAddress:Port',
    'TCP  10.0.0.127:80                       6       36       30     2412     3270',
    '  -> 10.0.0.86:80                        3       18       15     1206     1635',
    '  -> 10.0.0.185:80                       3       18       15     1206     1635',
    '',
  ].join('\n'));
  t.equal(listAllText(example, listFormat({ numeric: true, rate: true })), [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS',
    '  -> RemoteAddress:Port',
    'TCP  10.0.0.127:80                       1        6        5      402      545',
    '  -> 10.0.0.86:80                        0        3        2      201      272',
    '  -> 10.0.0.185:80                       0        3        2      201      272',
    '',
  ].join('\n'));
  t.equal(saveText(example, true), [
    '-A -t 10.0.0.127:80 -s rr',
    '-a -t 10.0.0.127:80 -r 10.0.0.86:80 -m -w 1',
    '-a -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w 1',
    '',
  ].join('\n'));
  const conns = snap([], {
    conns: [
      { proto: 'TCP', expires: 898, state: 'ESTABLISHED', clientAddr: '10.0.0.1', clientPort: 51234, virtualAddr: '10.0.0.127', virtualPort: 80, destAddr: '10.0.0.86', destPort: 80 },
      { proto: 'TCP', expires: 117, state: 'TIME_WAIT', clientAddr: '10.0.0.1', clientPort: 51236, virtualAddr: '10.0.0.127', virtualPort: 80, destAddr: '10.0.0.185', destPort: 80 },
      { proto: 'TCP', expires: 59, state: 'SYN_RECV', clientAddr: '10.0.0.2', clientPort: 40000, virtualAddr: '10.0.0.127', virtualPort: 80, destAddr: '10.0.0.86', destPort: 80 },
    ],
  });
  t.equal(connectionsText(conns.conns, { numeric: true, persistentConn: false }), [
    'IPVS connection entries',
    'pro expire state       source             virtual            destination',
    'TCP 14:58  ESTABLISHED 10.0.0.1:51234     10.0.0.127:80      10.0.0.86:80',
    'TCP 01:57  TIME_WAIT   10.0.0.1:51236     10.0.0.127:80      10.0.0.185:80',
    'TCP 00:59  SYN_RECV    10.0.0.2:40000     10.0.0.127:80      10.0.0.86:80',
    '',
  ].join('\n'));
});

t.test('persistence: -L and -S forms from docs/ipvs-behaviour.md §5.4', async (t) => {
  const s = snap([service('10.0.0.127', 80, { scheduler: 'rr', flags: SVC_F_PERSISTENT, timeout: 360 })]);
  t.match(listAllText(s, listFormat({ numeric: true })), /\nTCP {2}10\.0\.0\.127:80 rr persistent 360\n$/);
  t.equal(saveText(s, true), '-A -t 10.0.0.127:80 -s rr -p 360\n');
});

t.test('names without -n: /etc/services and reverse DNS, with fallbacks', async (t) => {
  const services = parseServices('http 80/tcp www\nhttp-alt 8080/tcp\n');
  const env = { services, hostByAddr: (a: string) => (a === '10.0.0.86' ? 'web1.example' : undefined) };
  t.equal(saveText(example, false, env), [
    '-A -t 10.0.0.127:http -s rr',
    '-a -t 10.0.0.127:http -r web1.example:http -m -w 1',
    '-a -t 10.0.0.127:http -r 10.0.0.185:http -m -w 1',
    '',
  ].join('\n'));
  // A name longer than the columns is cut: service label at 33, dest at 28 (IPv4).
  const long = 'a-very-long-host-name.example.com';
  const env2 = { services, hostByAddr: () => long };
  const lines = listAllText(example, listFormat(), env2).split('\n');
  t.equal(lines[3], `TCP  ${long}:http`.slice(0, 33) + ' rr');
  t.equal(lines[4], cprintf('  -> %-28s %-7s %-6d %-10u %-10u', `${long}:http`.slice(0, 28), 'Masq', 1, 0, 0));
});

t.test('-L -t: titles and the one service, no version line; unknown service', async (t) => {
  const cmd = parseIpvsadmArgs(['-L', '-n', '-t', '10.0.0.127:80']);
  t.ok(cmd.ok);
  if (!cmd.ok) return;
  const out = renderReadOnly(cmd.command, example);
  t.same(out, {
    stdout: listAllText(example, listFormat({ numeric: true })).split('\n').slice(1).join('\n'),
    stderr: '',
    status: 0,
  });
  t.equal(listServiceText(example.services[0] as ServiceSnapshot, listFormat({ numeric: true })).startsWith('Prot '), true);
  const missing = parseIpvsadmArgs(['-L', '-t', '10.9.9.9:80']);
  if (missing.ok) t.same(renderReadOnly(missing.command, example), { stdout: '', stderr: 'No such service\n', status: 1 });
});

t.test('--thresholds and --persistent-conn follow their printf formats', async (t) => {
  const s = snap([service('10.0.0.1', 80, {
    dests: [dest('10.0.0.2', 80, { uThreshold: 100, lThreshold: 50, activeConns: 7, inactConns: 3, persistConns: 2, weight: 5 })],
  })]);
  t.equal(listAllText(s, listFormat({ numeric: true, thresholds: true })),
    'IP Virtual Server version 1.2.1 (size=4096)\n' +
    cprintf('%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n', 'Prot LocalAddress:Port', 'Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn') +
    'TCP  10.0.0.1:80 wlc\n' +
    cprintf('  -> %-28s %-10u %-10u %-10u %-10u\n', '10.0.0.2:80', 100, 50, 7, 3));
  t.equal(listAllText(s, listFormat({ numeric: true, persistentConn: true })),
    'IP Virtual Server version 1.2.1 (size=4096)\n' +
    cprintf('%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n', 'Prot LocalAddress:Port', 'Weight', 'PersistConn', 'ActiveConn', 'InActConn') +
    'TCP  10.0.0.1:80 wlc\n' +
    cprintf('  -> %-28s %-9u %-11u %-10u %-10u\n', '10.0.0.2:80', 5, 2, 7, 3));
});

t.test('--timeout', async (t) => {
  t.equal(timeoutText(DEFAULT_TIMEOUTS), 'Timeout (tcp tcpfin udp): 900 120 300\n');
});

t.test('-S and -L with -p -M -o -b, fwmark, FNAT', async (t) => {
  const s = snap([
    service('10.0.0.5', 53, {
      proto: 'UDP', scheduler: 'rr', flags: SVC_F_PERSISTENT | SVC_F_ONEPACKET, timeout: 60, netmask: 0xffffff00,
      dests: [dest('10.0.0.6', 53, { fwd: 'Route', weight: 3 })],
    }),
    service('10.0.0.5', 80, {
      scheduler: 'sh', flags: SVC_F_SCHED1 | SVC_F_SCHED2,
      dests: [dest('10.0.0.7', 8080, { fwd: 'FNAT' })],
    }),
    service('0.0.0.0', 0, { fwmark: 7, scheduler: 'wrr', flags: SVC_F_PERSISTENT, timeout: 360, dests: [dest('10.0.0.8', 0, { fwd: 'Local' })] }),
  ]);
  t.equal(saveText(s, true), [
    // TCP (6) sorts before UDP (17); fwmark 0 before fwmark 7.
    '-A -t 10.0.0.5:80 -s sh -b sh-fallback,sh-port',
    '-a -t 10.0.0.5:80 -r 10.0.0.7:8080 --fnat -w 1',
    '-A -u 10.0.0.5:53 -s rr -p 60 -M 255.255.255.0 -o',
    '-a -u 10.0.0.5:53 -r 10.0.0.6:53 -g -w 3',
    '-A -f 7 -s wrr -p 360',
    '-a -f 7 -r 10.0.0.8:0 -g -w 1',
    '',
  ].join('\n'));
  const lines = listAllText(s, listFormat({ numeric: true })).split('\n');
  t.same(lines.slice(3), [
    'TCP  10.0.0.5:80 sh (sh-fallback,sh-port)',
    cprintf('  -> %-28s %-7s %-6d %-10u %-10u', '10.0.0.7:8080', 'FNAT', 1, 0, 0),
    'UDP  10.0.0.5:53 rr persistent 60 mask 255.255.255.0 ops',
    cprintf('  -> %-28s %-7s %-6d %-10u %-10u', '10.0.0.6:53', 'Route', 3, 0, 0),
    'FWM  7 wrr persistent 360',
    cprintf('  -> %-28s %-7s %-6d %-10u %-10u', '10.0.0.8:0', 'Local', 1, 0, 0),
    '',
  ]);
});

t.test('print_largenum: K/M/G/T thresholds and --exact', async (t) => {
  // [value, expected 9-column text] from the documented rules.
  const cases: [number, string, string][] = [
    [0, '        0', '        0'],
    [99999999, ' 99999999', ' 99999999'],
    [100000000, '  100000K', ' 100000000'],
    [999999999, '  999999K', ' 999999999'],
    [1000000000, '    1000M', ' 1000000000'],
    [99999999999, '   99999M', ' 99999999999'],
    [100000000000, '     100G', ' 100000000000'],
    [99999999999999, '   99999G', ' 99999999999999'],
    [100000000000000, '     100T', ' 100000000000000'],
  ];
  for (const [v, normal, exact] of cases) {
    const s = snap([service('10.0.0.1', 80, { stats: st(v, 0, 0, 0, 0) })]);
    const line = (ex: boolean) => listAllText(s, listFormat({ numeric: true, stats: true, exact: ex })).split('\n')[3];
    t.equal(line(false), cprintf('%-33s', 'TCP  10.0.0.1:80') + normal + '        0'.repeat(4), `${v}`);
    t.equal(line(true), cprintf('%-33s', 'TCP  10.0.0.1:80') + exact + '        0'.repeat(4), `${v} exact`);
  }
});

t.test('sort order: wrapping signed 32-bit differences', async (t) => {
  // int(0x0a000001 - 0xc0a80001) = int(0x49580000) > 0, so 10.x sorts after 192.x.
  const s = snap([service('10.0.0.2', 80), service('10.0.0.1', 80), service('192.168.0.1', 80), service('10.0.0.1', 80, { proto: 'UDP' })]);
  t.same(saveText(s, true).split('\n'), ['-A -t 192.168.0.1:80 -s wlc', '-A -t 10.0.0.1:80 -s wlc', '-A -t 10.0.0.2:80 -s wlc', '-A -u 10.0.0.1:80 -s wlc', '']);
  // --nosort keeps the kernel order.
  t.match(listAllText(s, listFormat({ numeric: true, nosort: true })), /10\.0\.0\.2:80 wlc\nTCP {2}10\.0\.0\.1:80 wlc\nTCP {2}192/);
  // a=1.0.0.0, b=100.0.0.0, c=200.0.0.0: a<b, b<c but c<a (0xc7000000 is negative).
  // glibc msort on [c,b,a]: left [c], right [b,a] -> [a,b]; merge: c<a so c, then a, b.
  const cyc = snap([service('0.0.0.0', 0, { fwmark: 1, dests: [dest('200.0.0.0', 80), dest('100.0.0.0', 80), dest('1.0.0.0', 80)] })]);
  t.same(saveText(cyc, true).split('\n').slice(1, 4).map((l) => l.split(' ')[4]), ['200.0.0.0:80', '1.0.0.0:80', '100.0.0.0:80']);
  // Same address: ports ascending.
  const ports = snap([service('10.0.0.1', 80, { dests: [dest('10.0.0.9', 90), dest('10.0.0.9', 81)] })]);
  t.same(saveText(ports, true).split('\n').slice(1, 3).map((l) => l.split(' ')[4]), ['10.0.0.9:81', '10.0.0.9:90']);
});

t.test('-c with names and --persistent-conn header', async (t) => {
  const conns = [{
    proto: 'IP' as const, expires: 3725, state: 'NONE', clientAddr: '10.0.0.10', clientPort: 0,
    virtualAddr: '0.0.0.7', virtualPort: 0, destAddr: '10.0.1.3', destPort: 80,
  }];
  t.equal(connectionsText(conns, { numeric: false, persistentConn: true }, { services: parseServices('http 80/tcp\n') }),
    'IPVS connection entries\n' +
    cprintf('pro expire %-11s %-18s %-18s %-18s %-16s %s\n', 'state', 'source', 'virtual', 'destination', 'pe name', 'pe_data') +
    // "IP" rows have no protocol, so ports stay numbers even without -n.
    cprintf('%-3s %-6s %-11s %-18s %-18s %s\n', 'IP', '62:05', 'NONE', '10.0.0.10:0', '0.0.0.7:0', '10.0.1.3:80'));
});

t.test('IPv6 service: brackets, no truncation, prefix mask', async (t) => {
  const s = snap([service('2001:db8::1', 443, { flags: SVC_F_PERSISTENT, timeout: 30, netmask: 64, dests: [dest('2001:db8::2', 443)] })]);
  t.equal(saveText(s, true), '-A -t [2001:db8::1]:443 -s wlc -p 30 -M 64\n-a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -m -w 1\n');
  t.match(listAllText(s, listFormat({ numeric: true })), /TCP {2}\[2001:db8::1\]:443 wlc persistent 30 mask 64\n/);
});

t.test('--tun-info, --daemon and renderReadOnly dispatch', async (t) => {
  const s = snap([service('10.0.0.1', 80, {
    dests: [
      dest('10.0.0.2', 80, { fwd: 'Tunnel', tunnel: { type: 'gue', port: 6080, csum: 'csum' } }),
      dest('10.0.0.3', 80, { fwd: 'Route' }),
    ],
  })], {
    daemons: [{ state: 'backup', mcastIfn: 'eth1', syncid: 3, syncMaxlen: 1472, mcastGroup: '224.0.0.81', mcastPort: 8848, mcastTtl: 1 }],
  });
  t.equal(listAllText(s, listFormat({ numeric: true, tunInfo: true })),
    'IP Virtual Server version 1.2.1 (size=4096)\n' +
    'Prot LocalAddress:Port Scheduler Flags\n' +
    '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n' +
    'TCP  10.0.0.1:80 wlc\n' +
    cprintf('  -> %-28s %-7s %-13s %-6d %-10u %-10u\n', '10.0.0.2:80', 'Tunnel', 'gue:6080:+c', 1, 0, 0) +
    cprintf('  -> %-28s %-7s %-13s %-6d %-10u %-10u\n', '10.0.0.3:80', 'Route', 'n/a', 1, 0, 0));
  t.equal(saveText(s, true).split('\n')[1], '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum');
  const run = (argv: string[]) => {
    const r = parseIpvsadmArgs(argv);
    return r.ok ? renderReadOnly(r.command, s) : null;
  };
  t.same(run(['-L', '--daemon']), { stdout: 'backup sync daemon (mcast=eth1, syncid=3, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n', stderr: '', status: 0 });
  t.same(run(['-L', '--timeout']), { stdout: 'Timeout (tcp tcpfin udp): 900 120 300\n', stderr: '', status: 0 });
  t.same(run(['-S', '-n']), { stdout: saveText(s, true), stderr: '', status: 0 });
  t.same(run(['-L', '-c']), { stdout: 'IPVS connection entries\npro expire state       source             virtual            destination\n', stderr: '', status: 0 });
  t.equal(run(['-A', '-t', '10.0.0.9:80']), null);
});
