/**
 * Reading the VM's result port back: records, listings, errors, picks and the
 * captures (pcap in base64) turned into rewrite samples. The log below is written by
 * hand in the format vm-script.ts emits, with ipvsadm 1.31's print_conn layout.
 */
import t from 'tap';
import { parseKernelLog, kernelRewrites } from '../../src/compare/kernel-log.js';
import { encodePcap } from '../../src/io/pcap-file.js';
import { tcpFrame } from '../../src/packet/builder.js';
import * as tcp from '../../src/packet/tcp.js';
import { changedFields } from '../../src/compare/rewrite.js';
import { writeIpip } from '../../src/dataplane/tunnel.js';
import { parseIPv4 } from '../../src/packet/addr.js';
import { checksum } from '../../src/packet/checksum.js';
import { validateScenario } from '../../src/compare/scenario.js';
import { asPartial, runOnEngine } from '../../src/compare/engine-runner.js';
import { compareSides } from '../../src/compare/compare.js';

const LOG = [
  '@@VM kernel=6.1.0-56-amd64 ipvsadm=ipvsadm_v1.31_2019/12/24_(compiled_with_popt_and_IPVS_v1.2.1)',
  '[   12.000000] some kernel noise',
  '@@SCENARIO demo',
  '@@CMD 0 0 -A -t 10.0.0.127:80 -s rr',
  '@@CMD 1 255 -a -t 10.0.0.127:80 -r 10.0.0.11:80 -m',
  '@@ERR Destination already exists',
  '@@CONN 2 c20000 short TCP 198.51.100.10:20000 10.0.0.127:80',
  '@@C TCP 14:59  ASSURED     198.51.100.10:0    10.0.0.127:80      10.0.0.12:80',
  '@@C TCP 01:59  TIME_WAIT   198.51.100.10:20000 10.0.0.127:80      10.0.0.11:80',
  '@@CONN 3 c20001 short TCP 198.51.100.10:20001 10.0.0.127:80',
  '@@LIST end list',
  'IP Virtual Server version 1.2.1 (size=4096)',
  'TCP  10.0.0.127:80 rr',
  '@@LIST end save',
  '-A -t 10.0.0.127:80 -s rr',
  '@@ENDLIST',
  '@@END demo',
  '@@VM done',
].join('\r\n');

t.test('records become one kernel SideResult per scenario', async (t) => {
  const run = parseKernelLog(LOG);
  t.equal(run.version, 'Linux 6.1.0-56-amd64, ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)');
  const r = run.results.get('demo')!;
  t.equal(r.side, 'kernel');
  t.same(r.commands.map((c) => [c.step, c.status, c.line]), [[0, 0, '-A -t 10.0.0.127:80 -s rr'], [1, 255, '-a -t 10.0.0.127:80 -r 10.0.0.11:80 -m']]);
  t.equal(r.commands[1]!.stderr, 'Destination already exists\n');
  t.equal(r.conns.length, 2);
  t.equal(r.conns[0]!.dest, '10.0.0.11:80', 'the connection entry, not the template with client port 0');
  t.equal(r.conns[0]!.state, 'TIME_WAIT');
  t.equal(r.conns[1]!.dest, null, 'no entry: nothing was scheduled');
  t.equal(r.listings.length, 1);
  t.equal(r.listings[0]!.list, 'IP Virtual Server version 1.2.1 (size=4096)\nTCP  10.0.0.127:80 rr\n');
  t.equal(r.listings[0]!.save, '-A -t 10.0.0.127:80 -s rr\n');
  t.same(run.stray, ['[   12.000000] some kernel noise']);
});

t.test('captures on both sides of the director become rewrite samples', async (t) => {
  const C_MAC = '02:00:00:00:0c:01', D_CLI = '02:00:00:00:01:01', D_LAN = '02:00:00:00:00:02', RS = '02:00:0a:00:00:0b';
  const syn = (srcMac: string, dstMac: string, dst: string, ttl: number) =>
    tcpFrame({ srcMac, dstMac, src: '198.51.100.10', dst, sport: 20000, dport: 80, flags: tcp.SYN, seq: 7, ttl });
  const synAck = (srcMac: string, dstMac: string, src: string, ttl: number) =>
    tcpFrame({ srcMac, dstMac, src, dst: '198.51.100.10', sport: 80, dport: 20000, flags: tcp.SYN | tcp.ACK, seq: 9, ack: 8, ttl });
  const cli = encodePcap([{ frame: syn(C_MAC, D_CLI, '10.0.0.127', 64) }, { frame: synAck(D_CLI, C_MAC, '10.0.0.127', 63) }]);
  const lan = encodePcap([{ frame: syn(D_LAN, RS, '10.0.0.11', 63) }, { frame: synAck(RS, D_LAN, '10.0.0.11', 64) }]);
  const log = ['@@SCENARIO cap', '@@PCAP nat cli', ...cli.toString('base64').match(/.{1,76}/g)!, '@@ENDPCAP',
    '@@PCAP nat lan', ...lan.toString('base64').match(/.{1,76}/g)!, '@@ENDPCAP', '@@END cap'].join('\n');
  const r = parseKernelLog(log).results.get('cap')!;
  t.equal(r.rewrites.length, 2);
  const [toServer, toClient] = r.rewrites;
  t.equal(toServer!.direction, 'client-to-server');
  t.same(changedFields(toServer!), ['eth.src', 'eth.dst', 'ip.dst', 'ip.ttl', 'ip.checksum', 'l4.checksum']);
  t.equal(toClient!.direction, 'server-to-client');
  t.same(changedFields(toClient!), ['eth.src', 'eth.dst', 'ip.src', 'ip.ttl', 'ip.checksum', 'l4.checksum']);
});

t.test('a DR reply from the VIP is routing, not an IPVS rewrite: no server-to-client sample', async (t) => {
  const syn = tcpFrame({ srcMac: '02:00:00:00:0c:01', dstMac: '02:00:00:00:01:01', src: '198.51.100.10', dst: '10.0.0.127', sport: 1, dport: 80, flags: tcp.SYN });
  const synOut = tcpFrame({ srcMac: '02:00:00:00:00:02', dstMac: '02:00:0a:00:00:0b', src: '198.51.100.10', dst: '10.0.0.127', sport: 1, dport: 80, flags: tcp.SYN, ttl: 63 });
  const reply = tcpFrame({ srcMac: '02:00:0a:00:00:0b', dstMac: '02:00:00:00:00:02', src: '10.0.0.127', dst: '198.51.100.10', sport: 80, dport: 1, flags: tcp.SYN | tcp.ACK });
  const sides = new Map([['cli', encodePcap([{ frame: syn }, { frame: reply }])], ['lan', encodePcap([{ frame: synOut }, { frame: reply }])]]);
  const samples = kernelRewrites('dr', sides);
  t.equal(samples.length, 1);
  t.same(changedFields(samples[0]!), ['eth.src', 'eth.dst', 'ip.ttl', 'ip.checksum']);
});

t.test('tunnel: the IPIP frame on the LAN side is read through; outer fields compared by value', async (t) => {
  // As in the VM: the client's SYN partial on the client side (veth TX offload), complete inside the tunnel.
  const syn = asPartial(tcpFrame({ srcMac: '02:00:00:00:0c:01', dstMac: '02:00:00:00:01:01', src: '198.51.100.10', dst: '10.0.0.127', sport: 20000, dport: 80, flags: tcp.SYN }), 6);
  const inner = tcpFrame({ srcMac: '02:00:00:00:00:02', dstMac: '02:00:0a:00:00:0b', src: '198.51.100.10', dst: '10.0.0.127', sport: 20000, dport: 80, flags: tcp.SYN, ttl: 63 });
  const out = Buffer.alloc(inner.length + 20);
  writeIpip(out, inner, 14, inner.length - 14, parseIPv4('10.0.0.2')! | 0, parseIPv4('10.0.0.11')! | 0, 0);
  const sides = new Map([['cli', encodePcap([{ frame: syn }])], ['lan', encodePcap([{ frame: out }])]]);
  const samples = kernelRewrites('tun', sides);
  t.equal(samples.length, 1);
  const k = samples[0]!;
  t.equal(k.after['tcp.flags'], 'S', 'the inner SYN is found');
  t.same(changedFields(k).filter((f) => !f.startsWith('outer.')), ['eth.src', 'eth.dst', 'ip.ttl', 'ip.checksum', 'l4.checksum']);
  t.equal(k.after['outer.dst'], '10.0.0.11');

  const scenario = validateScenario({
    name: 'tun', topology: { vip: '10.0.0.127', servers: [{ name: 'rs1', addr: '10.0.0.11' }], clients: ['198.51.100.10'] },
    steps: [{ ipvsadm: '-A -t 10.0.0.127:80 -s rr' }, { ipvsadm: '-a -t 10.0.0.127:80 -r 10.0.0.11:80 -i' }, { capture: { label: 'tun', from: '198.51.100.10', to: '10.0.0.127:80' } }],
  });
  const engine = runOnEngine(scenario);
  const kernel = { ...engine, side: 'kernel' as const, rewrites: samples };
  const same = compareSides(scenario, kernel, engine);
  t.equal(same.rewriteDiffs, 0, 'same fields changed, same outer header');
  t.ok(same.rewrites[0]!.fields.find((f) => f.field === 'outer.ttl')!.added);
  // An outer TTL of 64 (a fresh header instead of the inner TTL) would be a difference.
  const other = Buffer.from(out);
  other[22] = 64;
  other.writeUInt16BE(0, 24);
  other.writeUInt16BE(checksum(other, 14, 20), 24);
  const bad = kernelRewrites('tun', new Map([['cli', encodePcap([{ frame: syn }])], ['lan', encodePcap([{ frame: other }])]]));
  const diff = compareSides(scenario, { ...kernel, rewrites: bad }, engine);
  t.equal(diff.rewriteDiffs, 1);
  t.same(diff.rewrites[0]!.fields.filter((f) => !f.same).map((f) => f.field), ['outer.ttl']);
});
