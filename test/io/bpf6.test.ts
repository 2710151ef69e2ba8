/**
 * The IPv6 clauses of the capture filter, checked by what they let through: hand-built frames
 * written to a pcap file and filtered by tcpdump (the system libpcap, no capture rights
 * needed). Which frames are the engine's follows from the protocol: NS/NA (RFC 4861) for
 * neighbours, everything to a non-local VIP, only the services (and ICMPv6 errors, RFC 4443)
 * of a local VIP, NAT replies except those to the host itself; never RA, MLD or our own sends.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFilter, type FilterInput } from '../../src/io/bpf.js';
import { compileFilter } from '../../src/io/ring/bpf-compile.js';
import { encodePcap } from '../../src/io/pcap-file.js';
import { icmp6Frame, optionsHeader, tcp6Frame } from '../../src/packet/builder6.js';
import { ipv6Bytes } from '../../src/packet/addr6.js';
import { parseMac } from '../../src/packet/addr.js';

const LB = '02:00:00:00:00:aa';
const CLIENT = '02:00:00:00:00:01';
const SERVER = '02:00:00:00:00:10';
const VIP = '2001:db8::80';
const LOCAL_VIP = '2001:db8::1';
const RS = '2001:db8:1::10';
const HOST = '2001:db8:1::2';
const CLIENT_IP = '2001:db8:ff::5';

const base: FilterInput = {
  mac: parseMac(LB)!,
  vips: [],
  natServers: [],
  localAddrs: [],
  hostAddrs: [],
  vips6: [VIP],
  localVips6: [{ addr: LOCAL_VIP, services: [{ proto: 'tcp', port: 443 }, { proto: 'udp', port: 53 }] }],
  natServers6: [{ proto: 'tcp', addr: RS, port: 80 }, { proto: 'tcp', addr: RS, port: 80 }],
  hostAddrs6: [HOST, 'fe80::aa'],
};

const nd = (type: number, src: string, dst: string, mac: string, target: string) =>
  icmp6Frame({ srcMac: mac, dstMac: '33:33:ff:00:00:80', src, dst, hopLimit: 255, type, code: 0, rest: type === 136 ? 0x60000000 : 0,
    payload: Buffer.concat([ipv6Bytes(target)!, Buffer.from([type === 135 ? 1 : 2, 1, ...parseMac(mac)!])]) });
const tcpTo = (src: string, dst: string, sport: number, dport: number, mac = CLIENT) =>
  tcp6Frame({ srcMac: mac, dstMac: LB, src, dst, sport, dport, flags: 0x02 });
const icmpTo = (src: string, dst: string, type: number, mac = CLIENT) =>
  icmp6Frame({ srcMac: mac, dstMac: LB, src, dst, type, code: 0, rest: type === 2 ? 1280 : 0, payload: new Uint8Array(48) });

/** name, frame, whether the engine owns it under `base`. */
const frames: [string, Uint8Array, boolean][] = [
  ['TCP to the non-local VIP', tcpTo(CLIENT_IP, VIP, 40000, 80), true],
  ['echo request to the non-local VIP (answered by the engine)', icmpTo(CLIENT_IP, VIP, 128), true],
  ['NS for the VIP to its solicited-node group', nd(135, 'fe80::1', 'ff02::1:ff00:80', CLIENT, VIP), true],
  ['NA from a server', nd(136, 'fe80::10', 'fe80::aa', SERVER, RS), true],
  ['RA (134)', icmp6Frame({ srcMac: '02:00:00:00:00:fe', dstMac: '33:33:00:00:00:01', src: 'fe80::fe', dst: 'ff02::1', hopLimit: 255, type: 134, code: 0, rest: 0x40000708, payload: new Uint8Array(8) }), false],
  ['MLDv2 report (143) behind hop-by-hop', icmp6Frame({ srcMac: CLIENT, dstMac: '33:33:00:00:00:16', src: 'fe80::1', dst: 'ff02::16', hopLimit: 1, ext: [optionsHeader(0)], type: 143, code: 0, rest: 1, payload: new Uint8Array(20) }), false],
  ['MLD query (130)', icmp6Frame({ srcMac: CLIENT, dstMac: '33:33:00:00:00:01', src: 'fe80::1', dst: 'ff02::1', hopLimit: 1, type: 130, code: 0, rest: 0, payload: new Uint8Array(20) }), false],
  ['TCP to a local VIP service', tcpTo(CLIENT_IP, LOCAL_VIP, 40000, 443), true],
  ['TCP to another port of a local VIP', tcpTo(CLIENT_IP, LOCAL_VIP, 40000, 22), false],
  ['echo request to a local VIP', icmpTo(CLIENT_IP, LOCAL_VIP, 128), false],
  ['packet too big to a local VIP', icmpTo('2001:db8:9::1', LOCAL_VIP, 2), true],
  ['destination unreachable to a local VIP', icmpTo('2001:db8:9::1', LOCAL_VIP, 1), true],
  ['NAT reply to a client', tcpTo(RS, CLIENT_IP, 80, 40000, SERVER), true],
  ['server to the host itself (health check)', tcpTo(RS, HOST, 80, 40000, SERVER), false],
  ['server to our link-local address', tcpTo(RS, 'fe80::aa', 80, 40000, SERVER), false],
  ['other port of the server', tcpTo(RS, CLIENT_IP, 8080, 40000, SERVER), false],
  ['ICMPv6 error from the server to a client', icmpTo(RS, CLIENT_IP, 1, SERVER), true],
  ['our own frame to the VIP', tcpTo(CLIENT_IP, VIP, 40000, 80, LB), false],
  ['our own NS', nd(135, 'fe80::aa', 'ff02::1:ff00:10', LB, RS), false],
  ['TCP to an address that is not ours', tcpTo(CLIENT_IP, '2001:db8::99', 40000, 80), false],
];

const dir = mkdtempSync(path.join(tmpdir(), 'tslb-bpf6-'));
const PCAP = path.join(dir, 'frames.pcap');
writeFileSync(PCAP, encodePcap(frames.map(([, frame], i) => ({ frame, time: i + 1 }))));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** The names of the frames libpcap passes with the filter (each one's time is its index + 1). */
function passed(expr: string): string[] {
  const out = execFileSync('tcpdump', ['-r', PCAP, '-n', '-q', '-tt', expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => /^\d+\.\d+ /.test(l)).map((l) => frames[Number(l.split('.')[0]) - 1]![0]);
}
t.equal(passed('').length, frames.length, 'tcpdump reads every frame back');
const owned = (f: (typeof frames)[number]) => f[2];
const names = (list: typeof frames) => list.map((f) => f[0]);

t.test('IPv6 clauses let through exactly the engine\'s frames', async (t) => {
  const f = buildFilter(base);
  t.same(passed(f), names(frames.filter(owned)), f);
  t.ok(compileFilter(f).length > 0, 'the ring backend compiles it too');
  t.equal((f.match(/src host 2001:db8:1::10 and tcp src port 80/g) ?? []).length, 1, 'a server listed twice gives one clause');
  t.match(f, /\(icmp6 and \(ip6\[40\] = 135 or ip6\[40\] = 136\)\)/);
  t.match(f, /\(icmp6 and ip6 dst host 2001:db8::1 and \(ip6\[40\] > 0 and ip6\[40\] < 5\)\)/);
});

t.test('arp: false leaves Neighbour Discovery out, nothing else', async (t) => {
  const nd = new Set(['NS for the VIP to its solicited-node group', 'NA from a server']);
  t.same(passed(buildFilter({ ...base, arp: false })), names(frames.filter((x) => owned(x) && !nd.has(x[0]))));
});

t.test('workers: all IPv6 to worker 0, none to the others', async (t) => {
  const k0 = buildFilter({ ...base, shard: { k: 0, n: 2, by: 'port' } });
  const k1 = buildFilter({ ...base, shard: { k: 1, n: 2, by: 'port' } });
  t.same(passed(k0), names(frames.filter(owned)));
  t.same(passed(k1), [], k1);
  t.notMatch(k1, /ip6|icmp6/);
});

t.test('no IPv6 configuration: no ND, no IPv6 clause', async (t) => {
  const v4 = buildFilter({ ...base, vips: [0x0a00007f], vips6: [], localVips6: [], natServers6: [], hostAddrs6: [] });
  t.notMatch(v4, /ip6|icmp6/);
  t.same(passed(v4), []);
  const undef = buildFilter({ mac: base.mac, vips: [0x0a00007f], natServers: [], localAddrs: [], hostAddrs: [] });
  t.equal(undef, v4, 'absent fields are empty ones');
});

t.test('ND is captured for a local VIP alone (its DR servers need resolving)', async (t) => {
  const f = buildFilter({ ...base, vips6: [], natServers6: [] });
  t.ok(passed(f).includes('NA from a server'));
  t.notOk(passed(f).includes('TCP to the non-local VIP'));
});
