/**
 * The runtime's IPv6 wiring over memory ports: capture-filter and host-guard inputs from the
 * AF_INET6 services (their `addr` is a hash fold and must never reach the IPv4 clauses), local
 * IPv6 VIPs from the host's addresses, and one unsolicited NA (RFC 4861 7.2.6: ICMPv6 136 to
 * all-nodes ff02::1, 33:33:00:00:00:01) per active non-local IPv6 VIP on each interface of its
 * ndMask, beside the gratuitous ARP.
 */
import t from 'tap';
import { Engine } from '../../src/dataplane/engine.js';
import { RealServer, VirtualService } from '../../src/dataplane/model.js';
import type { GuardRules } from '../../src/io/host-guard.js';
import { MemoryPort } from '../../src/io/memory-port.js';
import { Runtime } from '../../src/io/runtime.js';
import { FWD_DR, FWD_MASQ } from '../../src/lvs/fwd.js';
import { IPPROTO_TCP } from '../../src/lvs/proto.js';
import { parseIPv4, parseMac } from '../../src/packet/addr.js';
import { ipv6Bytes, parseIPv6 } from '../../src/packet/addr6.js';
import { createRrScheduler } from '../../src/sched/rr.js';

const ip = (s: string) => parseIPv4(s)! >>> 0;
const w6 = (s: string) => parseIPv6(s)!;
const MAC0 = '02:00:00:00:00:aa', MAC1 = '02:00:00:00:00:bb';

function setup() {
  const engine = new Engine({
    ifaces: [
      { name: 'eth0', mac: parseMac(MAC0)!, mtu: 1500, ip: ip('10.0.0.2'), ll6: ipv6Bytes('fe80::aa')! },
      { name: 'eth1', mac: parseMac(MAC1)!, mtu: 1500, ip: 0, ll6: ipv6Bytes('fe80::bb')! },
    ],
    maxConns: 64,
  });
  const svc = (addr: string, port: number, dests: [string, number, number][]) => {
    const v6 = addr.includes(':');
    const s = new VirtualService(IPPROTO_TCP, v6 ? 0 : ip(addr), port, createRrScheduler(), v6 ? w6(addr) : null);
    engine.registry.add(s);
    for (const [a, p, fwd] of dests) {
      const d = new RealServer(a.includes(':') ? 0 : ip(a), p, 1, fwd, a.includes(':') ? w6(a) : null);
      engine.registry.addDest(d);
      d.svc = s;
      s.dests.push(d);
    }
  };
  svc('10.0.0.127', 80, [['10.0.0.185', 80, FWD_MASQ]]);
  svc('2001:db8::80', 80, [['2001:db8:1::10', 8080, FWD_MASQ], ['2001:db8:1::11', 80, FWD_DR]]);
  svc('2001:db8::1', 443, [['2001:db8:1::12', 0, FWD_MASQ]]);
  engine.setVips([{ addr: ip('10.0.0.127'), arpMask: 1 }]);
  engine.vips6.set([
    { words: w6('2001:db8::80'), ndMask: 3 },
    { words: w6('2001:db8::1'), ndMask: 1 },
    { words: w6('2001:db8::99'), ndMask: 2 },
  ]);
  engine.vips6.setActive(w6('2001:db8::99'), false);
  const ports = [new MemoryPort('eth0', parseMac(MAC0)!), new MemoryPort('eth1', parseMac(MAC1)!)];
  const guards: GuardRules[] = [];
  const rt = new Runtime(engine, ports, {
    guard: (r) => guards.push(r),
    hostAddresses: () => new Set([ip('10.0.0.2')]),
    hostAddresses6: () => new Set(['2001:db8::1', '2001:db8:1::2', 'fe80::aa']),
  });
  return { engine, ports, guards, rt };
}

t.test('filter input: IPv4 fields from AF_INET only, IPv6 fields as text', async (t) => {
  const { rt, engine } = setup();
  rt.refreshLocal();
  t.same(engine.vips6.list().map((v) => [v.text, v.local]), [['2001:db8::80', false], ['2001:db8::1', true], ['2001:db8::99', false]]);
  const f = rt.filterInput();
  t.same(f.vips, [ip('10.0.0.127')], 'no fold of an IPv6 VIP among the IPv4 VIPs');
  t.same(f.natServers, [{ proto: 'tcp', addr: ip('10.0.0.185'), port: 80 }]);
  t.same(f.vips6, ['2001:db8::80']);
  t.same(f.localVips6, [{ addr: '2001:db8::1', services: [{ proto: 'tcp', port: 443 }] }]);
  t.same(f.natServers6, [{ proto: 'tcp', addr: '2001:db8:1::10', port: 8080 }, { proto: 'tcp', addr: '2001:db8:1::12', port: 443 }], 'DR servers reply past us; port 0 is the service port');
  t.same([...f.hostAddrs6!].sort(), ['2001:db8:1::2', '2001:db8::1', 'fe80::aa', 'fe80::bb']);
});

t.test('rulesChanged: filters and guard carry the IPv6 rules', async (t) => {
  const { rt, ports, guards } = setup();
  rt.rulesChanged();
  const f = ports[0]!.filter;
  t.match(f, /\(ip6 dst host 2001:db8::80\)/);
  t.match(f, /\(icmp6 and \(ip6\[40\] = 135 or ip6\[40\] = 136\)\)/);
  t.match(f, /\(ip6 dst host 2001:db8::1 and \(\(tcp dst port 443\)\)\)/);
  t.match(f, /\(ip6 src host 2001:db8:1::10 and tcp src port 8080 and not ip6 dst host /);
  const g = guards.at(-1)!;
  t.same(g.vips6, ['2001:db8::80']);
  t.same(g.localServices6, [{ proto: 'tcp', port: 443, addr: '2001:db8::1' }]);
  t.same(g.natServers6!.map((s) => `${s.addr} ${s.port}`), ['2001:db8:1::10 8080', '2001:db8:1::12 443']);
  t.equal(g.hostAddrs6!.length, 4);
  t.same(g.vips, [ip('10.0.0.127')]);
});

t.test('announceVips: gratuitous ARP and unsolicited NA on the interfaces that answer', async (t) => {
  const { rt, ports } = setup();
  rt.refreshLocal();
  rt.announceVips(1);
  const kinds = (p: MemoryPort) => p.sent.map((b) => {
    if (b.readUInt16BE(12) === 0x0806) return `arp ${b.subarray(28, 32).join('.')}`;
    if (b.readUInt16BE(12) !== 0x86dd || b[20] !== 58 || b[54] !== 136) return 'other';
    // dst MAC, dst address, target (RFC 4861 4.4: target at ICMPv6 offset 8).
    const dst = Array.from(b.subarray(0, 6), (x) => x.toString(16).padStart(2, '0')).join(':');
    const all = Buffer.from(ipv6Bytes('ff02::1')!).equals(b.subarray(38, 54));
    const target = Buffer.from(b.subarray(62, 78)).equals(Buffer.from(ipv6Bytes('2001:db8::80')!));
    return `na ${dst} ${all ? 'ff02::1' : '?'} ${target ? '2001:db8::80' : '?'} hlim ${b[21]}`;
  });
  t.same(kinds(ports[0]!), ['arp 10.0.0.127', 'na 33:33:00:00:00:01 ff02::1 2001:db8::80 hlim 255'], 'eth0: not the local VIP');
  t.same(kinds(ports[1]!), ['na 33:33:00:00:00:01 ff02::1 2001:db8::80 hlim 255'], 'eth1: not the inactive VIP');
});

t.test('no hostAddresses6 hook: IPv6 VIPs stay non-local, only ll6 is the host\'s', async (t) => {
  const { engine, ports } = setup();
  const rt = new Runtime(engine, ports, {});
  rt.refreshLocal();
  const f = rt.filterInput();
  t.same(f.vips6, ['2001:db8::80', '2001:db8::1']);
  t.same(f.hostAddrs6, ['fe80::aa', 'fe80::bb']);
});
