/**
 * The IPv6 side of the comparison (issue 16 step 12), no VM: the IPv6 topology in the
 * scenario format, the kernel's /proc/net/ip_vs_conn rows (ip_vs_conn_seq_show prints an
 * IPv6 address with %pI6: eight groups of four lower-case hex digits, colons, nothing
 * compressed, no brackets; ports "%04X"), the VM script of an IPv6 scenario, and the
 * engine replaying one. The /proc rows below are written by hand from those formats;
 * expected picks come from the documented rr order (the kernel list is the reverse of
 * the -a order), never from running the engine.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientActions, endpointText, FIRST_CLIENT_PORT, ScenarioError, validateScenario } from '../../src/compare/scenario.js';
import { parseKernelLog, parseProcConnLine, procAddr } from '../../src/compare/kernel-log.js';
import { scenarioScript, vmLibrary } from '../../src/compare/vm-script.js';
import { runOnEngine, serverMac } from '../../src/compare/engine-runner.js';
import { changedFields, frameFields } from '../../src/compare/rewrite.js';
import { tcp6Frame } from '../../src/packet/builder6.js';
import * as tcp from '../../src/packet/tcp.js';

const VIP = '2001:db8:10::127';
const VS = `[${VIP}]:80`;
const servers = [{ name: 'rs1', addr: '2001:db8:10::11' }, { name: 'rs2', addr: '2001:db8:10::12' }, { name: 'rs3', addr: '2001:db8:10::13' }];
const topo = { vip: VIP, servers, clients: ['2001:db8:51::10', '2001:db8:51:1::10'] };
const add = (i: number, fwd = '-m') => ({ ipvsadm: `-a -t ${VS} -r [2001:db8:10::1${i}]:80 ${fwd} -w 1` });

function errorOf(doc: unknown): string {
  try {
    validateScenario(doc);
    return '';
  } catch (err) {
    return err instanceof ScenarioError ? err.message : `unexpected ${String(err)}`;
  }
}

t.test('an IPv6 VIP selects the IPv6 topology; addresses are kept in inet_ntop text', async (t) => {
  const s = validateScenario({
    name: 'v6', topology: { ...topo, vip: '2001:DB8:10:0::127', clients: ['2001:0db8:0051::0010'] },
    steps: [{ connect: { from: '2001:db8:51::10', to: '[2001:db8:10:0:0:0:0:127]:80' } }],
  });
  t.equal(s.topology.family, 6);
  t.equal(s.topology.vip, VIP);
  t.same(s.topology.clients, ['2001:db8:51::10']);
  const { actions } = clientActions(s.steps[0]!, 0, FIRST_CLIENT_PORT);
  t.same(actions.map((a) => [a.from, a.port, a.vip, a.vport]), [['2001:db8:51::10', 20000, VIP, 80]], 'brackets off the VIP');
  t.equal(endpointText(VIP, 80), VS);
  t.equal(endpointText('10.0.0.127', 80), '10.0.0.127:80');
  t.equal(validateScenario({ name: 'v4', topology: { vip: '10.0.0.127', servers: [{ name: 'rs1', addr: '10.0.0.11' }], clients: ['198.51.100.10'] }, steps: [{ snapshot: 'a' }] }).topology.family, 4);
});

t.test('IPv6 validation names the field', async (t) => {
  const one = (over: object, steps: unknown[] = [{ snapshot: 'a' }]) => errorOf({ name: 'x', topology: { ...topo, ...over }, steps });
  t.match(one({ servers: [{ name: 'rs1', addr: '2001:db8:11::1' }] }), /servers\[0\]\.addr.*2001:db8:10::\/64/);
  t.match(one({ servers: [{ name: 'rs1', addr: '10.0.0.11' }] }), /servers\[0\]\.addr.*not an IPv6 address/, 'one family per scenario');
  t.match(one({ clients: ['2001:db8:52::1'] }), /clients\[0\].*2001:db8:51::\/48/);
  t.match(one({ clients: ['2001:db8:51::1'] }), /used twice/, 'the director\'s client-side address');
  t.match(one({}, [{ connect: { from: '2001:db8:51::10', to: '2001:db8:10::127:80' } }]), /\[ADDR\]:PORT/);
  t.match(one({}, [{ connect: { from: '2001:db8:51::10', to: '10.0.0.127:80' } }]), /\[ADDR\]:PORT/);
  t.match(one({}, [{ connect: { from: '2001:db8:51::99', to: VS } }]), /not in topology.clients/);
});

t.test('/proc/net/ip_vs_conn addresses: %08X for IPv4, %pI6 for IPv6', async (t) => {
  t.equal(procAddr('0A00007F'), '10.0.0.127');
  t.equal(procAddr('C6336464'), '198.51.100.100');
  t.equal(procAddr('2001:0db8:0010:0000:0000:0000:0000:0127'), VIP);
  t.equal(procAddr('2001:0db8:0051:0001:0000:0000:0000:0000'), '2001:db8:51:1::', 'a /64 template key');
  t.equal(procAddr('0000:0000:0000:0000:0000:ffff:0a00:0001'), '::ffff:10.0.0.1', 'inet_ntop\'s dotted tail, as ipvsadm prints it');
  t.equal(procAddr('2001:db8::1'), null, '%pI6 never compresses');
  t.equal(procAddr('[2001:0db8:0010:0000:0000:0000:0000:0127]'), null, 'no brackets in /proc');
});

t.test('/proc/net/ip_vs_conn rows (ip_vs_conn_seq_show) in ipvsadm -c terms', async (t) => {
  // "%-3s %pI6 %04X %pI6 %04X %s %04X %-11s %7u%s\n"
  const v6 = 'TCP 2001:0db8:0051:0000:0000:0000:0000:0010 4E20 2001:0db8:0010:0000:0000:0000:0000:0127 0050 2001:0db8:0010:0000:0000:0000:0000:0013 0050 TIME_WAIT       119';
  t.same(parseProcConnLine(v6), {
    proto: 'TCP', expire: '119', state: 'TIME_WAIT',
    client: '[2001:db8:51::10]:20000', vip: VS, dest: '[2001:db8:10::13]:80', pe: '',
  });
  // A template (client port 0) of a -M 64 service, and an IPv4 row with a persistence engine's data.
  const tpl = 'TCP 2001:0db8:0051:0000:0000:0000:0000:0000 0000 2001:0db8:0010:0000:0000:0000:0000:0127 0050 2001:0db8:0010:0000:0000:0000:0000:0011 0050 NONE            299';
  t.match(parseProcConnLine(tpl), { client: '[2001:db8:51::]:0', state: 'NONE', expire: '299' });
  const v4 = 'UDP C633640A 4E21 0A00007F 2328 0A00000C 2328 UDP             299 sip 1234@x';
  t.match(parseProcConnLine(v4), { proto: 'UDP', client: '198.51.100.10:20001', vip: '10.0.0.127:9000', dest: '10.0.0.12:9000', pe: 'sip 1234@x' });
  // An IPv6 service with an IPv4 (tunnel) destination: dbuf is "%08X" when daf is AF_INET.
  const mixed = 'TCP 2001:0db8:0051:0000:0000:0000:0000:0010 4E20 2001:0db8:0010:0000:0000:0000:0000:0127 0050 0A00000B 0050 SYN_RECV         59';
  t.match(parseProcConnLine(mixed), { dest: '10.0.0.11:80' });
  t.equal(parseProcConnLine('Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData'), null, 'the header');
  t.equal(parseProcConnLine('TCP 2001:db8::10 4E20 2001:db8::127 0050 2001:db8::13 0050 TIME_WAIT 119'), null);
});

t.test('the kernel log: picks from the /proc rows, ipvsadm -c as the fallback and the cross-check', async (t) => {
  const log = [
    '@@VM kernel=6.1.0-57-amd64 ipvsadm=ipvsadm_v1.31',
    '@@SCENARIO v6',
    `@@CONN 4 c20000 short TCP [2001:db8:51::10]:20000 ${VS}`,
    `@@C TCP 01:59  TIME_WAIT   [2001:db8:51::10]:20000 ${VS} [2001:db8:10::13]:80`,
    '@@P TCP 2001:0db8:0051:0000:0000:0000:0000:0010 4E20 2001:0db8:0010:0000:0000:0000:0000:0127 0050 2001:0db8:0010:0000:0000:0000:0000:0013 0050 TIME_WAIT       119',
    // A row of another connection whose port shares the hex text elsewhere: not this one.
    '@@P TCP 2001:0db8:0051:0001:0000:0000:0000:0010 4E21 2001:0db8:0010:0000:0000:0000:0000:0127 4E20 2001:0db8:0010:0000:0000:0000:0000:0011 4E20 ESTABLISHED     899',
    `@@CONN 4 c20001 short TCP [2001:db8:51:1::10]:20001 ${VS}`,
    `@@C TCP 01:59  TIME_WAIT   [2001:db8:51:1::10]:20001 ${VS} [2001:db8:10::12]:80`,
    `@@CONN 4 c20002 short TCP [2001:db8:51::10]:20002 ${VS}`,
    `@@C TCP 01:59  TIME_WAIT   [2001:db8:51::10]:20002 ${VS} [2001:db8:10::11]:80`,
    '@@P TCP 2001:0db8:0051:0000:0000:0000:0000:0010 4E22 2001:0db8:0010:0000:0000:0000:0000:0127 0050 2001:0db8:0010:0000:0000:0000:0000:0012 0050 TIME_WAIT       119',
    '@@END v6',
  ].join('\n');
  const run = parseKernelLog(log);
  const r = run.results.get('v6')!;
  t.same(r.conns.map((c) => [c.client, c.dest, c.state]), [
    ['[2001:db8:51::10]:20000', '[2001:db8:10::13]:80', 'TIME_WAIT'],
    ['[2001:db8:51:1::10]:20001', '[2001:db8:10::12]:80', 'TIME_WAIT'],
    ['[2001:db8:51::10]:20002', '[2001:db8:10::12]:80', 'TIME_WAIT'],
  ], 'the /proc row wins; no /proc row: ipvsadm -c');
  t.equal(run.stray.length, 1);
  t.match(run.stray[0], /v6 c20002: \/proc\/net\/ip_vs_conn has \[2001:db8:10::12\]:80 TIME_WAIT, ipvsadm -L -n -c \[2001:db8:10::11\]:80/);
});

t.test('the VM script of an IPv6 scenario: topo_up6, bracketed addresses, literal brackets', async (t) => {
  const s = validateScenario({
    name: 'v6', topology: { ...topo, udpPorts: [9000] },
    steps: [
      { ipvsadm: `-A -t ${VS} -s rr` }, add(1, '-g'),
      { connect: { from: topo.clients, to: VS } },
      { hold: { from: topo.clients[1]!, to: VS, as: 'h1' } }, { close: 'h1' },
      { udp: { from: topo.clients[0]!, to: `[${VIP}]:9000` } },
      { capture: { label: 'dr6', from: topo.clients[0]!, to: VS } },
    ],
  });
  const lines = scenarioScript(s, 2).split('\n');
  t.equal(lines[1], `topo_up6 2 ${VIP} "rs1=2001:db8:10::11 rs2=2001:db8:10::12 rs3=2001:db8:10::13" "2001:db8:51::10 2001:db8:51:1::10" "80" "9000" dr`);
  t.same(lines.slice(3, 10), [
    `cmd 0 -A -t ${VS} -s rr`,
    `cmd 1 -a -t ${VS} -r [2001:db8:10::11]:80 -g -w 1`,
    `short 2 c20000 [2001:db8:51::10] 20000 [${VIP}] 80`,
    `short 2 c20001 [2001:db8:51:1::10] 20001 [${VIP}] 80`,
    `hold 3 h1 [2001:db8:51:1::10] 20002 [${VIP}] 80`,
    'close_held 4 h1',
    `udp 5 c20003 [2001:db8:51::10] 20003 [${VIP}] 9000`,
  ]);
  const lib = vmLibrary();
  t.match(lib, /^set -f$/m, 'no pathname expansion of [addr]:port words');
  t.match(lib, /grep -F " \$5:\$6 "/, 'brackets matched as text');
  t.match(lib, /cat \/proc\/net\/ip_vs_conn \| grep " \$\(printf '%04X' \$6\) "/, 'the kernel\'s rows of this client port');
  t.match(lib, /socat TCP6-LISTEN:\$p,fork,reuseaddr/);
  t.match(lib, /ip -n r-\$S -6 neigh add \$a lladdr 02:00:00:00:0c:02 dev eth1 nud permanent/);
  const dir = mkdtempSync(join(tmpdir(), 'tslb-vm-script6-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'all.sh'), lib + scenarioScript(s, 1));
  const r = spawnSync('sh', ['-n', join(dir, 'all.sh')], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
});

t.test('the engine replays an IPv6 scenario: rr in list order, NAT and DR, -c rows in brackets', async (t) => {
  const nat = runOnEngine(validateScenario({
    name: 'nat6', topology: topo,
    steps: [{ ipvsadm: `-A -t ${VS} -s rr` }, add(1), add(2), add(3), { connect: { from: topo.clients, to: VS, count: 2 } }],
  }));
  const list = ['[2001:db8:10::13]:80', '[2001:db8:10::12]:80', '[2001:db8:10::11]:80'];
  t.same(nat.conns.map((c) => c.dest), Array.from({ length: 4 }, (_, i) => list[i % 3]));
  t.same(nat.conns.map((c) => c.client), ['[2001:db8:51::10]:20000', '[2001:db8:51:1::10]:20001', '[2001:db8:51::10]:20002', '[2001:db8:51:1::10]:20003']);
  t.ok(nat.conns.every((c) => c.state === 'TIME_WAIT'), 'the server\'s answers came back through the engine');
  const end = nat.listings.at(-1)!;
  t.match(end.list, /TCP {2}\[2001:db8:10::127\]:80 rr\n/);
  t.match(end.list, /-> \[2001:db8:10::13\]:80\s+Masq\s+1\s+0\s+2\s/);
  t.match(end.conns, /TIME_WAIT {3}\[2001:db8:51::10\]:20000 \[2001:db8:10::127\]:80 \[2001:db8:10::13\]:80/);

  const dr = runOnEngine(validateScenario({
    name: 'dr6', topology: topo,
    steps: [{ ipvsadm: `-A -t ${VS} -s rr` }, add(1, '-g'), add(2, '-g'), { capture: { label: 'dr6', from: topo.clients[0]!, to: VS } }],
  }));
  t.equal(dr.conns[0]!.dest, '[2001:db8:10::12]:80');
  t.equal(dr.conns[0]!.state, 'FIN_WAIT', 'only the client half passes the director');
  t.equal(dr.rewrites.length, 1, 'DR: only the client-to-server direction');
  t.same(changedFields(dr.rewrites[0]!), ['eth.src', 'eth.dst', 'ip.hlim'], 'ip_vs_dr_xmit_v6: MACs and hop limit');
  t.equal(dr.rewrites[0]!.after['eth.dst'], serverMac('2001:db8:10::12'));
  t.equal(serverMac('2001:db8:10::12'), '02:00:00:00:00:12', 'the last four bytes of the address');
});

t.test('frameFields reads an IPv6 frame: hop limit, traffic class, flow label', async (t) => {
  const f = frameFields(tcp6Frame({
    srcMac: '02:00:00:00:0c:01', dstMac: '02:00:00:00:01:01', src: '2001:db8:51::10', dst: VIP, hopLimit: 64, trafficClass: 0x10, flowLabel: 0x12345,
    sport: 20000, dport: 80, flags: tcp.SYN, seq: 7,
  }))!;
  t.match(f, { 'ip.src': '2001:db8:51::10', 'ip.dst': VIP, 'ip.hlim': '64', 'ip.tclass': '0x10', 'ip.flow': '0x12345', 'l4.sport': '20000', 'tcp.flags': 'S' });
  t.notOk('ip.ttl' in f || 'ip.id' in f || 'ip.checksum' in f, 'no IPv4-only fields');
});
