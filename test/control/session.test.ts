/**
 * ControlSession: ipvsadm command lines against a real Engine + Rules (no root).
 * Expected texts are ipvsadm 1.31's documented output (docs/ipvs-behaviour.md §5.3/§5.4,
 * copied verbatim or produced from the printf formats by `cprintf` below), the error
 * strings of libipvs ipvs_strerror (§5.2), and kernel semantics (§2, §9) — never
 * captured from this program.
 */
import t from 'tap';
import { parseIPv6 } from '../../src/packet/addr6.js';
import { Engine } from '../../src/dataplane/engine.js';
import { ServiceRegistry } from '../../src/control/service-registry.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { parseMac } from '../../src/packet/addr.js';
import { tcpFrame, udpFrame } from '../../src/packet/builder.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import { V_EMIT } from '../../src/dataplane/verdict.js';
import { ControlSession } from '../../src/control/session.js';
import { RateEstimator } from '../../src/control/estimator.js';
import { IP, MAC, ip } from '../helpers/lab-engine.js';
import { cprintf } from '../helpers/ipvsadm-model.js';


/** print_largenum for values below 10^8: "%9llu". */
const largenum = (n: number) => cprintf('%9llu', n);

/** The seed-000 one-arm engine with NO registry (everything comes from ipvsadm commands). */
function fresh(): { engine: Engine; registry: ServiceRegistry; session: ControlSession; clock: { now: number }; changes: { n: number } } {
  const engine = new Engine({ ifaces: [{ name: 'eth0', mac: parseMac(MAC.lb)!, mtu: 1500, ip: ip(IP.lb) }], maxConns: 1024 });
  const routing = new RoutingTable([
    { dst: ip('10.0.0.0'), prefixLen: 24, iface: 0, gateway: 0 },
    { dst: 0, prefixLen: 0, iface: 0, gateway: ip(IP.router) },
  ], [{ dst: parseIPv6('2001:db8::')!, prefixLen: 32, iface: 0, gateway: null }]);
  const registry = new ServiceRegistry(engine, routing);
  const clock = { now: 1000 };
  const changes = { n: 0 };
  const session = new ControlSession(registry, new RateEstimator(), {}, () => changes.n++, () => clock.now);
  return { engine, registry, session, clock, changes };
}

/** Pin the MACs of the lab's hosts (what ARP would learn) so frames can be forwarded. */
function primeNeighbours(engine: Engine): void {
  const known: Record<string, string> = { [IP.rs1]: MAC.rs1, [IP.rs2]: MAC.rs2, [IP.router]: MAC.router };
  for (let n = 0; n < engine.neigh.size; n++) {
    const a = engine.neigh.ip[n]!;
    const mac = known[`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`];
    if (mac) engine.neigh.set(n, parseMac(mac)!, 0);
  }
}

const VS = '10.0.0.127:80';
/** The three commands of docs/ipvs-behaviour.md §5.4. */
function seed000(s: ControlSession): void {
  for (const argv of [
    ['-A', '-t', VS, '-s', 'rr'],
    ['-a', '-t', VS, '-r', '10.0.0.185:80', '-m', '-w', '1'],
    ['-a', '-t', VS, '-r', '10.0.0.86:80', '-m', '-w', '1'],
  ]) {
    const out = s.run(argv);
    if (out.status !== 0) throw new Error(`${argv.join(' ')}: ${out.stderr}`);
  }
}

// docs/ipvs-behaviour.md §5.4, verbatim (dest lines end with 9 spaces: the last field is %-10u).
const GOLDEN_LIST = [
  'IP Virtual Server version 1.2.1 (size=4096)',
  'Prot LocalAddress:Port Scheduler Flags',
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  'TCP  10.0.0.127:80 rr',
  '  -> 10.0.0.86:80                 Masq    1      0          0         ',
  '  -> 10.0.0.185:80                Masq    1      0          0         ',
  '',
].join('\n');

const GOLDEN_SAVE = ['-A -t 10.0.0.127:80 -s rr', '-a -t 10.0.0.127:80 -r 10.0.0.86:80 -m -w 1', '-a -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w 1', ''].join('\n');

function syn(sport: number, src = IP.client) {
  return tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src, dst: IP.vip, sport, dport: 80, flags: tcp.SYN, seq: 1000, ttl: 63 });
}

/** Sends a client SYN; returns the real server it was forwarded to. */
function sendSyn(engine: Engine, sport: number, now: number): string {
  const f = syn(sport);
  if (engine.process(f, f.length, 0, now) !== V_EMIT) throw new Error('SYN not forwarded');
  return ipv4.decode(engine.verdict.buf, 14).dst;
}

t.test('docs/ipvs-behaviour.md §5.4: -A, two -a -m -w 1, then -L -n and -S -n are the golden texts', async (t) => {
  const { session, changes } = fresh();
  seed000(session);
  t.equal(changes.n, 3, 'each state-changing command reports a change (runtime filter refresh)');
  const list = session.run(['-L', '-n']);
  t.equal(list.status, 0);
  t.equal(list.stderr, '');
  t.equal(list.stdout, GOLDEN_LIST);
  t.equal(session.run(['-l', '-n']).stdout, GOLDEN_LIST, '-l is -L');
  const save = session.run(['-S', '-n']);
  t.equal(save.status, 0);
  t.equal(save.stdout, GOLDEN_SAVE);
  t.equal(session.run(['--save', '-n']).stdout, GOLDEN_SAVE, '--save is -S');
  // Listing a single service: the two title lines and that service, no version line (docs/ipvs-behaviour.md §5.3).
  t.equal(session.run(['-L', '-n', '-t', VS]).stdout, GOLDEN_LIST.split('\n').slice(1).join('\n'));
});

t.test('round trip -S -n, -C, -R restores an identical listing; servers come back in sorted order (docs/ipvs-behaviour.md §9)', async (t) => {
  const { engine, session, clock } = fresh();
  seed000(session);
  primeNeighbours(engine);
  // Kernel list is [.86, .185] (-a inserts at the head): rr picks .86 first.
  t.equal(sendSyn(engine, 41000, clock.now), IP.rs2, 'before: .86 (added last) first');
  const saved = session.run(['-S', '-n']).stdout;
  t.equal(saved, GOLDEN_SAVE);
  const listBefore = session.run(['-L', '-n']).stdout;

  const clear = session.run(['-C']);
  t.equal(clear.status, 0);
  t.equal(session.run(['-L', '-n']).stdout, GOLDEN_LIST.split('\n').slice(0, 3).join('\n') + '\n', 'after -C only the titles');
  t.equal(session.run(['-S', '-n']).stdout, '', '-S of nothing is empty');

  const restored = session.run(['-R'], saved);
  t.equal(restored.status, 0, restored.stderr);
  t.equal(restored.stderr, '');
  const listAfter = session.run(['-L', '-n']).stdout;
  // Before the round trip one connection existed (to .86, SYN_RECV = active). -C moved .86 to
  // the dest trash with that connection; re-adding the same RIP:port to a service with the same
  // protocol, VIP and port takes it back with its counters (ip_vs_trash_get_dest, docs/ipvs-behaviour.md §2.7).
  t.equal(listAfter, GOLDEN_LIST.replace(/(-> 10\.0\.0\.86:80 {17}Masq {4}1 {6})0/, '$11'));
  t.equal(session.run(['-S', '-n']).stdout, saved, '-S after restore is what was saved');
  t.not(listBefore, '', 'a listing was taken before');

  // -R re-added .86 then .185, so the kernel list is now [.185, .86]: rr picks .185 first.
  primeNeighbours(engine);
  t.equal(sendSyn(engine, 41001, clock.now), IP.rs1, 'after -R: .185 (re-added last) first');
  t.equal(sendSyn(engine, 41002, clock.now), IP.rs2);
});

t.test('ipvsadm errors: libipvs wording, non-zero exit, rules unchanged', async (t) => {
  const { session } = fresh();
  const unknownSvc = session.run(['-a', '-t', VS, '-r', '10.0.0.185:80', '-m']);
  t.equal(unknownSvc.stderr, 'Service not defined\n');
  t.not(unknownSvc.status, 0);
  t.equal(unknownSvc.stdout, '');

  seed000(session);
  const dup = session.run(['-a', '-t', VS, '-r', '10.0.0.185:80', '-m', '-w', '3']);
  t.equal(dup.stderr, 'Destination already exists\n');
  t.not(dup.status, 0);

  const missing = session.run(['-d', '-t', VS, '-r', '10.0.0.99:80']);
  t.equal(missing.stderr, 'No such destination\n');
  t.not(missing.status, 0);

  const twice = session.run(['-A', '-t', VS, '-s', 'wlc']);
  t.equal(twice.stderr, 'Service already exists\n');
  t.not(twice.status, 0);

  const edNoSvc = session.run(['-E', '-t', '10.0.0.127:81', '-s', 'rr']);
  t.equal(edNoSvc.stderr, 'No such service\n', '-E of an unknown service');
  t.not(edNoSvc.status, 0);

  // -i is accepted (ipip); the other tunnel types are refused with a message naming them.
  const gre = session.run(['-a', '-t', VS, '-r', '10.0.0.50:80', '-i', '--tun-type', 'gre']);
  t.not(gre.status, 0, '--tun-type gre refused');
  t.match(gre.stderr, /Tunnel type gre is not supported: use ipip/);

  const badSched = session.run(['-A', '-t', '10.0.0.127:8080', '-s', 'nosuch']);
  t.equal(badSched.stderr, 'Scheduler or persistence engine not found\n');
  t.not(badSched.status, 0);

  const badEdit = session.run(['-E', '-t', VS, '-s', 'nosuch']);
  t.equal(badEdit.stderr, 'Scheduler or persistence engine not found\n');
  t.not(badEdit.status, 0);

  t.equal(session.run(['-L', '-n']).stdout, GOLDEN_LIST, 'none of the failed commands changed the rules');

  const noCmd = session.run(['-t', VS]);
  t.equal(noCmd.status, 255, 'no command: exit(-1)');
  t.match(noCmd.stderr, /Try `ipvsadm -h' or 'ipvsadm --help' for more information\./);
});

t.test('-E changes the scheduler, -e the weight, -d removes', async (t) => {
  const { session } = fresh();
  seed000(session);
  t.equal(session.run(['-E', '-t', VS, '-s', 'wlc']).status, 0);
  t.equal(session.run(['-e', '-t', VS, '-r', '10.0.0.185:80', '-m', '-w', '5']).status, 0);
  const dest = (a: string, fwd: string, w: number) => cprintf('  -> %-28s %-7s %-6d %-10u %-10u', a, fwd, w, 0, 0);
  t.equal(
    session.run(['-L', '-n']).stdout,
    [...GOLDEN_LIST.split('\n').slice(0, 3), 'TCP  10.0.0.127:80 wlc', dest('10.0.0.86:80', 'Masq', 1), dest('10.0.0.185:80', 'Masq', 5), ''].join('\n'),
  );
  t.equal(session.run(['-d', '-t', VS, '-r', '10.0.0.86:80']).status, 0);
  t.equal(
    session.run(['-S', '-n']).stdout,
    '-A -t 10.0.0.127:80 -s wlc\n-a -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w 5\n',
  );
  t.equal(session.run(['-E', '-t', VS, '-s', 'rr', '-p', '360']).status, 0);
  t.match(session.run(['-L', '-n']).stdout, /^TCP  10\.0\.0\.127:80 rr persistent 360$/m, 'docs/ipvs-behaviour.md §5.4: -p 360 in -L');
  t.equal(session.run(['-S', '-n']).stdout.split('\n')[0], '-A -t 10.0.0.127:80 -s rr -p 360', 'docs/ipvs-behaviour.md §5.4: -p 360 in -S');
  t.equal(session.run(['-D', '-t', VS]).status, 0);
  t.equal(session.run(['-S', '-n']).stdout, '');
  t.equal(session.run(['-D', '-t', VS]).stderr, 'No such service\n');
});

t.test('--set 100 0 0 then -L --timeout (0 = unchanged)', async (t) => {
  const { session } = fresh();
  t.equal(session.run(['-L', '--timeout']).stdout, 'Timeout (tcp tcpfin udp): 900 120 300\n', 'kernel defaults');
  const set = session.run(['--set', '100', '0', '0']);
  t.equal(set.status, 0, set.stderr);
  t.equal(session.run(['-L', '--timeout']).stdout, 'Timeout (tcp tcpfin udp): 100 120 300\n');
  t.equal(session.run(['--set', '0', '30', '60']).status, 0);
  t.equal(session.run(['-L', '-n', '--timeout']).stdout, 'Timeout (tcp tcpfin udp): 100 30 60\n');
});

/** Byte count IPVS uses: the IP total length (skb->len from the IP header, docs/ipvs-behaviour.md §4.6). */
const ipLen = (f: Buffer) => f.readUInt16BE(14 + 2);

t.test('--stats counts the traffic fed through the engine; -Z zeroes it', async (t) => {
  const { engine, session, clock } = fresh();
  seed000(session);
  primeNeighbours(engine);
  // Two connections: SYN to each server (rr), one SYN-ACK back from .86.
  const s1 = syn(42000);
  const s2 = syn(42001);
  t.equal(engine.process(s1, s1.length, 0, clock.now), V_EMIT);
  const first = ipv4.decode(engine.verdict.buf, 14).dst;
  t.equal(engine.process(s2, s2.length, 0, clock.now), V_EMIT);
  t.equal(first, IP.rs2);
  const synack = tcpFrame({ srcMac: MAC.rs2, dstMac: MAC.lb, src: IP.rs2, dst: IP.client, sport: 80, dport: 42000, flags: tcp.SYN | tcp.ACK, seq: 5000, ack: 1001, ttl: 64 });
  t.equal(engine.process(synack, synack.length, 0, clock.now), V_EMIT);

  const head = cprintf('%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n', 'Prot LocalAddress:Port', 'Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes');
  const row = (label: string, c: number, ip: number, op: number, ib: number, ob: number) => cprintf('%-33s', label) + [c, ip, op, ib, ob].map(largenum).join('') + '\n';
  const drow = (a: string, c: number, ip: number, op: number, ib: number, ob: number) => cprintf('  -> %-28s', a) + [c, ip, op, ib, ob].map(largenum).join('') + '\n';
  const L = ipLen(s1);
  const R = ipLen(synack);
  const expected =
    'IP Virtual Server version 1.2.1 (size=4096)\n' + head +
    row('TCP  10.0.0.127:80', 2, 2, 1, 2 * L, R) +
    drow('10.0.0.86:80', 1, 1, 1, L, R) +
    drow('10.0.0.185:80', 1, 1, 0, L, 0);
  t.equal(session.run(['-L', '-n', '--stats']).stdout, expected);
  // Both connections are SYN_RECV: active since the first SYN on modern kernels (docs/ipvs-behaviour.md §2.4).
  const dest = (a: string, act: number) => cprintf('  -> %-28s %-7s %-6d %-10u %-10u', a, 'Masq', 1, act, 0);
  t.equal(session.run(['-L', '-n']).stdout, [...GOLDEN_LIST.split('\n').slice(0, 4), dest('10.0.0.86:80', 1), dest('10.0.0.185:80', 1), ''].join('\n'));

  const z = session.run(['-Z']);
  t.equal(z.status, 0);
  const zeroed =
    'IP Virtual Server version 1.2.1 (size=4096)\n' + head +
    row('TCP  10.0.0.127:80', 0, 0, 0, 0, 0) + drow('10.0.0.86:80', 0, 0, 0, 0, 0) + drow('10.0.0.185:80', 0, 0, 0, 0, 0);
  t.equal(session.run(['-L', '-n', '--stats']).stdout, zeroed);
  t.equal(session.run(['-L', '-n', '--stats', '--exact']).stdout, zeroed, 'small numbers print the same with --exact');
  // -Z does not touch the connections (ActiveConn unchanged).
  t.match(session.run(['-L', '-n']).stdout, /10\.0\.0\.86:80 +Masq +1 +1 /);

  // -Z of one service (-t) only.
  const s3 = syn(42002);
  engine.process(s3, s3.length, 0, clock.now);
  t.equal(session.run(['-Z', '-t', VS]).status, 0);
  t.equal(session.run(['-L', '-n', '--stats']).stdout, zeroed);
  t.equal(session.run(['-Z', '-t', '10.0.0.127:81']).stderr, 'No such service\n');
});

t.test('-L -n -c lists connections with state names and MM:SS (remaining seconds, truncated)', async (t) => {
  const { engine, session, clock } = fresh();
  seed000(session);
  primeNeighbours(engine);
  const t0 = 10_000;
  // Connection A: full handshake -> ESTABLISHED (900 s).
  const a = syn(43000);
  engine.process(a, a.length, 0, t0);
  const rsA = ipv4.decode(engine.verdict.buf, 14).dst;
  t.equal(rsA, IP.rs2);
  const sa = tcpFrame({ srcMac: MAC.rs2, dstMac: MAC.lb, src: IP.rs2, dst: IP.client, sport: 80, dport: 43000, flags: tcp.SYN | tcp.ACK, seq: 5000, ack: 1001, ttl: 64 });
  engine.process(sa, sa.length, 0, t0);
  const ack = tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport: 43000, dport: 80, flags: tcp.ACK, seq: 1001, ack: 5001, ttl: 63 });
  t.equal(engine.process(ack, ack.length, 0, t0), V_EMIT);
  // Connection B: only a SYN -> SYN_RECV (60 s), to .185.
  const b = syn(43001);
  engine.process(b, b.length, 0, t0);

  // 1.5 s later: the kernel prints (expires - jiffies) / HZ, an integer division, so
  // 898.5 s left shows as 14:58 and 58.5 s as 00:58 (ip_vs_conn_seq_show, then "%02d:%02d").
  clock.now = t0 + 1500;
  const out = session.run(['-L', '-n', '-c']);
  t.equal(out.status, 0);
  const lines = out.stdout.split('\n');
  t.equal(lines[0], 'IPVS connection entries');
  t.equal(lines[1], cprintf('pro expire %-11s %-18s %-18s %s', 'state', 'source', 'virtual', 'destination'));
  const row = (exp: string, state: string, src: string, dst: string) => cprintf('%-3s %-6s %-11s %-18s %-18s %s', 'TCP', exp, state, src, '10.0.0.127:80', dst);
  // Rows come in hash order: compare as a set.
  t.same(lines.slice(2).filter((l) => l !== '').sort(), [
    row('14:58', 'ESTABLISHED', `${IP.client}:43000`, '10.0.0.86:80'),
    row('00:58', 'SYN_RECV', `${IP.client}:43001`, '10.0.0.185:80'),
  ].sort());

  // UDP: a UDP service, one datagram -> state UDP, 300 s.
  t.equal(session.run(['-A', '-u', '10.0.0.127:9000', '-s', 'rr']).status, 0);
  t.equal(session.run(['-a', '-u', '10.0.0.127:9000', '-r', '10.0.0.185:9000', '-m']).status, 0);
  primeNeighbours(engine);
  const u = udpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport: 5353, dport: 9000, payload: Buffer.from('ping') });
  t.equal(engine.process(u, u.length, 0, clock.now), V_EMIT);
  clock.now += 10_000;
  const udpRows = session.run(['-L', '-n', '-c']).stdout.split('\n').filter((l) => l.startsWith('UDP'));
  t.same(udpRows, [cprintf('%-3s %-6s %-11s %-18s %-18s %s', 'UDP', '04:50', 'UDP', `${IP.client}:5353`, '10.0.0.127:9000', '10.0.0.185:9000')]);
  // UDP connections are always InActConn (docs/ipvs-behaviour.md §2.4).
  t.match(session.run(['-L', '-n', '-u', '10.0.0.127:9000']).stdout, /10\.0\.0\.185:9000 +Masq +1 +0 +1 /);
});

t.test('-R reports a bad line and keeps going like ipvsadm; stdin lines may start with "ipvsadm"', async (t) => {
  const { session } = fresh();
  const out = session.run(['-R'], 'ipvsadm -A -t 10.0.0.127:80 -s rr\n-a -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w 1\n-a -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w 1\n-a -t 10.0.0.127:80 -r 10.0.0.86:80 -m -w 1\n');
  t.not(out.status, 0, 'the duplicate line fails');
  t.equal(out.stderr, 'Destination already exists\n');
  t.equal(session.run(['-L', '-n']).stdout, GOLDEN_LIST, 'the lines around the failure were applied');
});

t.test('-R: a line that makes ipvsadm exit (fail(2, ...)) ends the restore, its message printed once', async (t) => {
  const { session } = fresh();
  const out = session.run(['-R'], '-A -t 10.0.0.127:80 -s rr\n-a -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w lots\n-a -t 10.0.0.127:80 -r 10.0.0.86:80 -m -w 1\n');
  // ipvsadm.c parse_options: fail(2, "illegal weight specified") prints the message and a newline, exit 2.
  t.equal(out.stderr, 'illegal weight specified\n');
  t.equal(out.status, 2);
  t.equal(session.run(['-S', '-n']).stdout, '-A -t 10.0.0.127:80 -s rr\n', 'lines before it applied, none after');
});

t.test('IPv6 services and servers are loaded for NAT and DR; tunnelling across families is refused saying what is built', async (t) => {
  const { session, changes } = fresh();
  seed000(session);
  const before = session.run(['-S', '-n']).stdout;
  const refusedTunnel = {
    stdout: '',
    stderr: 'Operation not supported with IPv6 (Tunnel to an IPv6 server of an IPv4 service: IPv6 services are forwarded to IPv6 servers by NAT (-m), direct routing (-g), full-NAT (--fnat) and ip6ip6 tunnel (-i); tunnels between address families are not built)\n',
    status: 255,
  };
  t.same(session.run(['-A', '-f', '7', '-6', '-s', 'rr']), { stdout: '', stderr: 'Firewall-mark services (-f) are not supported by this balancer\n', status: 255 });
  t.same(session.run(['-a', '-t', VS, '-r', '[2001:db8::10]:80', '-i']), refusedTunnel, 'an IPv6 tunnel server of an IPv4 service');
  t.same(session.run(['-a', '-t', VS, '-r', '[2001:db8::10]:80', '-m']).stderr, 'Different address family is allowed only for tunneling servers\n', 'ipvsadm\'s own check first');
  t.equal(session.run(['-S', '-n']).stdout, before, 'the refusals changed nothing');
  t.equal(changes.n, 3, 'only the three seed commands changed anything');
  t.equal(session.run(['-A', '-t', '[2001:db8::1]:80', '-s', 'rr']).status, 0);
  t.equal(session.run(['-a', '-t', '[2001:db8::1]:80', '-r', '[2001:db8::10]:8080', '-m']).status, 0, 'an IPv6 NAT server on the on-link 2001:db8::/32');
  t.equal(session.run(['-a', '-t', '[2001:db8::1]:80', '-r', '[2001:db8::11]:80', '-i']).stderr,
    'tunnel to 2001:db8::11: interface eth0 has no global IPv6 address to send the ip6ip6 tunnel from\n', 'an ip6ip6 tunnel needs a source address');
  t.equal(session.run(['-S', '-n']).stdout, `${before}-A -t [2001:db8::1]:80 -s rr\n-a -t [2001:db8::1]:80 -r [2001:db8::10]:8080 -m -w 1\n`, 'saved after the IPv4 rules, in ipvsadm -S form');
});
