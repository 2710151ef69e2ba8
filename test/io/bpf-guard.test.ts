import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFilter, shardClauses } from '../../src/io/bpf.js';
import { HostGuard } from '../../src/io/host-guard.js';
import { parseIPv4, parseMac } from '../../src/packet/addr.js';

const ip = (s: string) => parseIPv4(s)!;
const base = {
  mac: parseMac('02:00:0a:00:00:02')!,
  vips: [ip('10.0.0.127')],
  natServers: [{ proto: 'tcp' as const, addr: ip('10.0.0.185'), port: 80 }, { proto: 'udp' as const, addr: ip('10.0.0.185'), port: 9000 }],
  localAddrs: [],
  hostAddrs: [ip('10.0.0.2')],
};

/**
 * An empty Ethernet pcap file (24-byte global header, link type 1): tcpdump -r on it compiles a
 * filter for Ethernet without opening a device, so this needs no capture rights (no root).
 */
const EMPTY_PCAP = path.join(mkdtempSync(path.join(tmpdir(), 'tslb-bpf-')), 'empty.pcap');
{
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  writeFileSync(EMPTY_PCAP, h);
}
t.teardown(() => rmSync(path.dirname(EMPTY_PCAP), { recursive: true, force: true }));

/** libpcap must accept the expression: compile it with tcpdump (no capture). */
function compiles(expr: string): boolean {
  try {
    execFileSync('tcpdump', ['-d', '-r', EMPTY_PCAP, expr], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

t.test('capture filter: own MAC excluded, VIP, NAT replies but not the host\'s own traffic', async (t) => {
  const f = buildFilter(base);
  t.match(f, /^not ether src 02:00:0a:00:00:02 and \(/);
  t.match(f, /dst host 10\.0\.0\.127/);
  t.match(f, /src host 10\.0\.0\.185 and tcp src port 80 and not dst host 10\.0\.0\.2/);
  t.match(f, /udp src port 9000/);
  t.notMatch(f, /inbound|outbound/, 'never the direction qualifiers (first packet lost)');
  t.ok(compiles(f), f);
  t.notOk(compiles('dst host ((('), 'the compile check rejects a bad expression');
});

t.test('worker filters split flows disjointly and compile', async (t) => {
  const n = 2;
  const filters = [0, 1].map((k) => buildFilter({ ...base, shard: { k, n, by: 'port' } }));
  for (const f of filters) t.ok(compiles(f), f);
  t.match(filters[0]!, /icmp or/, 'worker 0 also takes ICMP to the VIP');
  t.notMatch(filters[1]!, /\(icmp and src host/, 'only worker 0 takes ICMP errors from servers');
  const c = shardClauses({ k: 1, n: 4, by: 'addr' });
  t.same(c, { inbound: 'ip[12:4] % 4 = 1', reply: 'ip[16:4] % 4 = 1' }, 'client address in, client address back');
  t.ok(compiles(buildFilter({ ...base, shard: { k: 3, n: 4, by: 'addr' } })));
});

t.test('host guard script: one ingress chain per device, replies to the host itself pass', async (t) => {
  const g = new HostGuard();
  const s = g.script({ devices: ['eth0', 'eth1'], vips: base.vips, natServers: base.natServers, localAddrs: [], hostAddrs: base.hostAddrs });
  t.match(s, new RegExp(`^table netdev ${g.table} \\{\\}\\ndelete table netdev ${g.table}\\n`), 'idempotent replace');
  t.match(s, /chain ingress_0 \{\n {4}type filter hook ingress device "eth0" priority 0; policy accept;/);
  t.match(s, /chain ingress_1 \{\n {4}type filter hook ingress device "eth1"/);
  t.match(s, /ip daddr 10\.0\.0\.127 counter drop/);
  t.match(s, /ip daddr != \{ 10\.0\.0\.2 \} ip saddr 10\.0\.0\.185 tcp sport 80 counter drop/);
});

t.test('local VIP: the filter and the guard take only the service ports (and ICMP errors to it)', async (t) => {
  const local = { ...base, vips: [], localVips: [{ addr: ip('10.0.0.127'), services: [{ proto: 'tcp' as const, port: 80 }, { proto: 'udp' as const, port: 53 }] }] };
  const f = buildFilter(local);
  t.match(f, /\(dst host 10\.0\.0\.127 and \(\(tcp dst port 80\) or \(udp dst port 53\)\)\)/);
  t.match(f, /\(icmp and dst host 10\.0\.0\.127 and \(icmp\[0\] = 3 or icmp\[0\] = 11 or icmp\[0\] = 12\)\)/, 'ICMP errors, not echo');
  t.notMatch(f, /\(dst host 10\.0\.0\.127\)/, 'not every frame to the address');
  t.ok(compiles(f), f);
  t.ok(compiles(buildFilter({ ...local, shard: { k: 1, n: 2, by: 'port' } })));
  const g = new HostGuard();
  const s = g.script({ devices: ['eth0'], vips: [], localServices: [{ proto: 'tcp', addr: ip('10.0.0.127'), port: 80 }], natServers: base.natServers, localAddrs: [], hostAddrs: base.hostAddrs });
  t.match(s, /ip daddr 10\.0\.0\.127 tcp dport 80 counter drop/);
  t.notMatch(s, /ip daddr 10\.0\.0\.127 counter drop/, 'ARP, ICMP and other ports reach the kernel');
});
