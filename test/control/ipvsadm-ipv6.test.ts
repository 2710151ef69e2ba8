/**
 * IPv6 in ipvsadm's syntax and listings (ipvsadm 1.31): parse_service's "[addr]:port",
 * -6 with -f, and every listing form of a dual-stack table. Expected text is produced
 * from the printf formats of print_service_entry / print_title / print_conn (the
 * `cprintf` model below, written independently of src/) and libipvs's sort order
 * (ipvs_cmp_services: fwmark, family, protocol, address, port).
 */
import t from 'tap';
import { SVC_F_PERSISTENT } from '../../src/sched/types.js';
import { listAllText, listFormat, saveText } from '../../src/control/ipvsadm/format.js';
import { connectionsText, renderReadOnly } from '../../src/control/ipvsadm/format-other.js';
import { parseIpvsadmArgs } from '../../src/control/ipvsadm/args.js';
import { planRestore } from '../../src/control/ipvsadm/restore.js';
import { parseServices } from '../../src/control/ipvsadm/services-file.js';
import { cprintf, dest, service, snap } from '../helpers/ipvsadm-model.js';


const LONG = '2001:db8:1234:5678:9abc:def0:1234:5678';
const st = (conns: number, inpkts: number, outpkts: number, inbytes: number, outbytes: number) => ({ conns, inpkts, outpkts, inbytes, outbytes });
// Kernel order (last added first); the listing sorts it.
const dual = snap([
  service('2001:db8::1', 80, {
    scheduler: 'rr', stats: st(5, 40, 30, 3200, 45000),
    dests: [
      dest('2001:db8::11', 80, { fwd: 'Route', weight: 2, activeConns: 1 }),
      dest('2001:db8::10', 8080, { activeConns: 2, inactConns: 1, stats: st(5, 40, 30, 3200, 45000) }),
      dest('10.0.0.5', 80, { fwd: 'Tunnel', tunnel: { type: 'ipip', port: 0, csum: 'nocsum' } }),
    ],
  }),
  service('::', 0, { fwmark: 7, scheduler: 'sh', dests: [dest('2001:db8::12', 0, { fwd: 'Route' })] }),
  service('2001:db8::1', 53, { proto: 'UDP', scheduler: 'rr', dests: [dest('2001:db8::10', 53)] }),
  service(LONG, 443, { flags: SVC_F_PERSISTENT, timeout: 300, netmask: 64, dests: [dest(`${LONG.slice(0, -4)}9999`, 443)] }),
  service('10.0.0.127', 53, { proto: 'UDP', scheduler: 'rr', dests: [dest('10.0.0.86', 53)] }),
  service('10.0.0.127', 80, { scheduler: 'rr', dests: [dest('10.0.0.86', 80)] }),
]);

t.test('-L -n of a dual-stack table: order, brackets, columns', async (t) => {
  const svc = (proto: string, name: string, rest: string) => `${cprintf('%-4s %s', proto, name)} ${rest}`;
  const d = (name: string, fwd: string, w: number, a: number, i: number) => cprintf('  -> %-28s %-7s %-6d %-10u %-10u', name, fwd, w, a, i);
  t.equal(listAllText(dual, listFormat({ numeric: true })), [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    // AF_INET (2) before AF_INET6 (10), then TCP (6) before UDP (17): the v4 UDP service comes before every v6 one.
    svc('TCP', '10.0.0.127:80', 'rr'),
    d('10.0.0.86:80', 'Masq', 1, 0, 0),
    svc('UDP', '10.0.0.127:53', 'rr'),
    d('10.0.0.86:53', 'Masq', 1, 0, 0),
    svc('TCP', '[2001:db8::1]:80', 'rr'),
    // dests by address words (ipvs_cmp_dests): the IPv4 tunnel dest's 0x0a000005 is below 0x20010db8.
    d('10.0.0.5:80', 'Tunnel', 1, 0, 0),
    d('[2001:db8::10]:8080', 'Masq', 1, 2, 1),
    d('[2001:db8::11]:80', 'Route', 2, 1, 0),
    // An IPv6 label is not cut at 33 characters nor a dest at 28.
    svc('TCP', `[${LONG}]:443`, 'wlc persistent 300 mask 64'),
    d(`[${LONG.slice(0, -4)}9999]:443`, 'Masq', 1, 0, 0),
    svc('UDP', '[2001:db8::1]:53', 'rr'),
    d('[2001:db8::10]:53', 'Masq', 1, 0, 0),
    'FWM  7 IPv6 sh',
    d('[2001:db8::12]:0', 'Route', 1, 0, 0),
    '',
  ].join('\n'));
});

t.test('-S -n: the rules restore the same table', async (t) => {
  const saved = saveText(dual, true);
  t.equal(saved, [
    '-A -t 10.0.0.127:80 -s rr',
    '-a -t 10.0.0.127:80 -r 10.0.0.86:80 -m -w 1',
    '-A -u 10.0.0.127:53 -s rr',
    '-a -u 10.0.0.127:53 -r 10.0.0.86:53 -m -w 1',
    '-A -t [2001:db8::1]:80 -s rr',
    '-a -t [2001:db8::1]:80 -r 10.0.0.5:80 -i -w 1 --tun-type ipip',
    '-a -t [2001:db8::1]:80 -r [2001:db8::10]:8080 -m -w 1',
    '-a -t [2001:db8::1]:80 -r [2001:db8::11]:80 -g -w 2',
    `-A -t [${LONG}]:443 -s wlc -p 300 -M 64`,
    `-a -t [${LONG}]:443 -r [${LONG.slice(0, -4)}9999]:443 -m -w 1`,
    '-A -u [2001:db8::1]:53 -s rr',
    '-a -u [2001:db8::1]:53 -r [2001:db8::10]:53 -m -w 1',
    '-A -f 7 -6 -s sh',
    '-a -f 7 -6 -r [2001:db8::12]:0 -g -w 1',
    '',
  ].join('\n'));
  // Every saved line parses back to the same service and dest.
  const plan = planRestore(saved, {});
  t.equal(plan.stop, null);
  const cmds = plan.lines.map((l) => (l.result.ok ? l.result.command : null));
  t.notOk(cmds.includes(null));
  t.match(cmds[4], { cmd: 'add-service', service: { af: 'inet6', proto: 'TCP', addr: '2001:db8::1', port: 80 }, settings: { scheduler: 'rr', netmask: 128 } });
  t.match(cmds[5], { cmd: 'add-server', dest: { af: 'inet', addr: '10.0.0.5', port: 80, fwd: 'Tunnel' } });
  t.match(cmds[8], { service: { af: 'inet6', addr: LONG, port: 443 }, settings: { timeout: 300, netmask: 64 } });
  t.match(cmds[12], { cmd: 'add-service', service: { fwmark: 7, af: 'inet6', addr: '::' } });
  t.match(cmds[13], { cmd: 'add-server', service: { fwmark: 7, af: 'inet6' }, dest: { af: 'inet6', addr: '2001:db8::12', fwd: 'Route' } });
});

t.test('--stats, --rate, --thresholds, --persistent-conn, --tun-info columns with IPv6 names', async (t) => {
  const one = snap([dual.services[0]!]);
  const rows = (f: Parameters<typeof listFormat>[0]) => listAllText(one, listFormat({ numeric: true, ...f })).split('\n').slice(3, -1);
  const big = (n: number) => cprintf('%9llu', n);
  t.same(rows({ stats: true }), [
    cprintf('%-33s', 'TCP  [2001:db8::1]:80') + [5, 40, 30, 3200, 45000].map(big).join(''),
    cprintf('  -> %-28s', '10.0.0.5:80') + [0, 0, 0, 0, 0].map(big).join(''),
    cprintf('  -> %-28s', '[2001:db8::10]:8080') + [5, 40, 30, 3200, 45000].map(big).join(''),
    cprintf('  -> %-28s', '[2001:db8::11]:80') + [0, 0, 0, 0, 0].map(big).join(''),
  ]);
  t.same(rows({ rate: true })[2], cprintf('  -> %-28s %8llu %8llu %8llu', '[2001:db8::10]:8080', 0, 0, 0) + big(0) + big(0));
  t.same(rows({ thresholds: true })[2], cprintf('  -> %-28s %-10u %-10u %-10u %-10u', '[2001:db8::10]:8080', 0, 0, 2, 1));
  t.same(rows({ persistentConn: true })[2], cprintf('  -> %-28s %-9u %-11u %-10u %-10u', '[2001:db8::10]:8080', 1, 0, 2, 1));
  t.same(rows({ tunInfo: true }).slice(1, 3), [
    cprintf('  -> %-28s %-7s %-13s %-6d %-10u %-10u', '10.0.0.5:80', 'Tunnel', 'ipip', 1, 0, 0),
    cprintf('  -> %-28s %-7s %-13s %-6d %-10u %-10u', '[2001:db8::10]:8080', 'Masq', 'n/a', 1, 2, 1),
  ]);
});

t.test('-L -c -n: IPv6 connections, an IPv4 tunnel destination', async (t) => {
  const conns = [
    { proto: 'TCP' as const, expires: 899, state: 'ESTABLISHED', clientAddr: '2001:db8:1::77', clientPort: 50000, virtualAddr: '2001:db8::1', virtualPort: 80, destAddr: '2001:db8::10', destPort: 8080 },
    { proto: 'TCP' as const, expires: 61, state: 'SYN_RECV', clientAddr: '2001:db8:1::78', clientPort: 50001, virtualAddr: '2001:db8::1', virtualPort: 80, destAddr: '10.0.0.5', destPort: 80 },
  ];
  t.equal(connectionsText(conns, { numeric: true, persistentConn: false }), [
    'IPVS connection entries',
    cprintf('pro expire %-11s %-18s %-18s %s', 'state', 'source', 'virtual', 'destination'),
    cprintf('%-3s %-6s %-11s %-18s %-18s %s', 'TCP', '14:59', 'ESTABLISHED', '[2001:db8:1::77]:50000', '[2001:db8::1]:80', '[2001:db8::10]:8080'),
    cprintf('%-3s %-6s %-11s %-18s %-18s %s', 'TCP', '01:01', 'SYN_RECV', '[2001:db8:1::78]:50001', '[2001:db8::1]:80', '10.0.0.5:80'),
    '',
  ].join('\n'));
});

t.test('parse_service: IPv6 forms and quirks', async (t) => {
  const parse = (argv: string[]) => parseIpvsadmArgs(argv);
  const ok = (argv: string[]) => {
    const r = parse(argv);
    if (!r.ok) throw new Error(`${argv.join(' ')}: ${r.error.stderr}`);
    return r.command;
  };
  t.match(ok(['-A', '-t', '[2001:0DB8::0001]:80']), { service: { af: 'inet6', addr: '2001:db8::1', port: 80 }, settings: { netmask: 128 } });
  t.match(ok(['-A', '-u', '[::ffff:10.0.0.1]:53']), { service: { af: 'inet6', addr: '::ffff:10.0.0.1', port: 53 } });
  t.match(ok(['-a', '-t', '[2001:db8::1]:80', '-r', '[2001:db8::10]:8080', '-m']), { dest: { af: 'inet6', addr: '2001:db8::10', port: 8080, fwd: 'Masq' } });
  // DR and TUN cannot change the port: it becomes the service's.
  t.match(ok(['-a', '-t', '[2001:db8::1]:80', '-r', '[2001:db8::10]:8080', '-g']), { dest: { port: 80, fwd: 'Route' } });
  // An unbracketed IPv6 address has no port (the colons belong to the address).
  t.match(ok(['-a', '-t', '[2001:db8::1]:80', '-r', '2001:db8::10', '-g']), { dest: { af: 'inet6', addr: '2001:db8::10', port: 80 } });
  t.match(ok(['-A', '-t', '[2001:db8::1]:80', '-p', '60', '-M', '64']), { settings: { netmask: 64 } });
  t.match(ok(['-A', '-f', '7', '-6']), { service: { fwmark: 7, af: 'inet6', addr: '::' }, settings: { netmask: 128 } });
  const err = (argv: string[]) => {
    const r = parse(argv);
    return r.ok ? 'accepted' : r.error.stderr;
  };
  t.match(err(['-A', '-t', '2001:db8::1']), /Zero port specified for non-persistent service/, 'no port without brackets');
  t.match(err(['-A', '-t', '[2001:db8::1]80']), /illegal virtual server address/, 'bracket not followed by a colon');
  t.match(err(['-A', '-t', '[2001:db8::1:80']), /illegal virtual server address/, 'no closing bracket');
  t.match(err(['-A', '-t', '[2001:db8::1]:80', '-p', '60', '-M', '129']), /illegal ipv6 netmask/);
  t.match(err(['-a', '-t', '[2001:db8::1]:80', '-r', '10.0.0.5:80', '-m']), /Different address family is allowed only for tunneling servers/);
  t.equal(err(['-a', '-t', '[2001:db8::1]:80', '-r', '10.0.0.5:80', '-i']), 'accepted', 'IPv4 real server of an IPv6 service, tunnelled');
});

t.test('-L -n -u [v6]:port finds the service by its canonical address', async (t) => {
  const run = (argv: string[]) => {
    const r = parseIpvsadmArgs(argv);
    if (!r.ok) throw new Error(r.error.stderr);
    return renderReadOnly(r.command, dual)!;
  };
  t.same(run(['-L', '-n', '-u', '[2001:DB8:0::1]:53']), {
    stdout: 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
      'UDP  [2001:db8::1]:53 rr\n' + cprintf('  -> %-28s %-7s %-6d %-10u %-10u\n', '[2001:db8::10]:53', 'Masq', 1, 0, 0),
    stderr: '', status: 0,
  });
  t.same(run(['-L', '-n', '-t', '[2001:db8::1]:53']), { stdout: '', stderr: 'No such service\n', status: 1 });
  t.match(run(['-L', '-n', '-f', '7', '-6']).stdout, /\nFWM  7 IPv6 sh\n/);
  t.same(run(['-L', '-n', '-f', '7']), { stdout: '', stderr: 'No such service\n', status: 1 }, 'fwmark 7 exists for IPv6 only');
});

t.test('names without -n: [host]:service, cut at 59 characters (the 60-byte buffer), never at 28/33', async (t) => {
  const services = parseServices('http 80/tcp www\ndomain 53/udp\nhttp-alt 8080/tcp\n');
  const long = `${'a'.repeat(60)}.example`;
  const hosts: Record<string, string> = { '2001:db8::1': 'vip6.example', '2001:db8::10': 'web-v6.example', '2001:db8::11': long };
  const env = { services, hostByAddr: (a: string) => hosts[a] };
  const one = snap([dual.services[0]!]);
  const lines = listAllText(one, listFormat(), env).split('\n');
  t.equal(lines[3], 'TCP  [vip6.example]:http rr');
  t.equal(lines[4], cprintf('  -> %-28s %-7s %-6d %-10u %-10u', '10.0.0.5:http', 'Tunnel', 1, 0, 0));
  t.equal(lines[5], cprintf('  -> %-28s %-7s %-6d %-10u %-10u', '[web-v6.example]:http-alt', 'Masq', 1, 2, 1));
  t.equal(lines[6], cprintf('  -> %-28s %-7s %-6d %-10u %-10u', `[${long}]:http`.slice(0, 59), 'Route', 2, 1, 0));
  t.equal(saveText(one, false, env).split('\n')[3], `-a -t [vip6.example]:http -r ${`[${long}]:http`.slice(0, 59)} -g -w 2`);
});
