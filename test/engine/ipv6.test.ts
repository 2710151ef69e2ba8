/**
 * The IPv6 data path (issue 16) against frames written by the reference writer
 * (helpers/frame-ref6.ts) from RFC 8200 / 4443 / 4861 and IPVS's transmitters:
 * ip_vs_nat_xmit_v6 (destination and port to the real server, hop limit - 1, no header
 * checksum), its un-NAT of replies, ip_vs_dr_xmit_v6 (MACs only), ip_vs_leave's port
 * unreachable, decrement_ttl's Time Exceeded, Packet Too Big, NS answered for the VIP and
 * next hops resolved by NS/NA.
 */
import t from 'tap';
import { Engine } from '../../src/dataplane/engine.js';
import { ServiceRegistry, type DestSpec, type ServiceSpec } from '../../src/control/service-registry.js';
import { ControlSession } from '../../src/control/session.js';
import { RateEstimator } from '../../src/control/estimator.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { DROP, V_CONSUMED, V_DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import { FWD_DR, FWD_FNAT, FWD_MASQ, FWD_TUNNEL } from '../../src/lvs/fwd.js';
import { parseMac } from '../../src/packet/addr.js';
import { formatIPv6, parseIPv6 } from '../../src/packet/addr6.js';
import { OFL_GSO_TCPV6, OFL_KNOWN, OFL_SIZE_SHIFT } from '../../src/packet/offload.js';
import { cprintf } from '../helpers/ipvsadm-model.js';
import { hex, macBytes, TCP_ACK, TCP_SYN, type TcpFields } from '../helpers/frame-ref.js';
import { icmp6Frame, ip6Bytes, ipv6, ndBody, solicitedNode, tcp6, tcp6Frame, udp6Frame } from '../helpers/frame-ref6.js';

const MAC = { lb: '02:00:00:00:00:02', router: '02:00:00:00:00:01', rs1: '02:00:00:00:01:85', rs2: '02:00:00:00:00:86' };
const IP6 = {
  net: '2001:db8:0:1::', lbLinkLocal: 'fe80::2', router: '2001:db8:0:1::1',
  vip: '2001:db8:0:1::127', rs1: '2001:db8:0:1::185', rs2: '2001:db8:0:1::86', client: '2001:db8:ff::10',
};
const TCP = 6;
const UDP = 17;

function w(text: string): Int32Array {
  const a = parseIPv6(text);
  if (a === null) throw new Error(`bad ${text}`);
  return a;
}

function svc6(over: Partial<ServiceSpec> = {}): ServiceSpec {
  return { proto: TCP, addr: 0, addr6: w(IP6.vip), port: 80, scheduler: 'rr', persistent: 0, netmask: 128, ops: false, schedFlags: 0, ...over };
}

function dest6(addr: string, over: Partial<DestSpec> = {}): DestSpec {
  return { addr: 0, addr6: w(addr), port: 8080, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0, ...over };
}

/** One interface on 2001:db8:0:1::/64 (VIP, servers, router), clients behind the router. */
function setup(dests: DestSpec[] | null = null, svc: Partial<ServiceSpec> = {}, known = true, mtu = 1500) {
  const engine = new Engine({
    ifaces: [{ name: 'eth0', mac: parseMac(MAC.lb)!, mtu, ip: 0, ll6: Uint8Array.from(ip6Bytes(IP6.lbLinkLocal)) }],
    maxConns: 64,
  });
  const routing = new RoutingTable([], [
    { dst: w(IP6.net), prefixLen: 64, iface: 0, gateway: null },
    { dst: w('::'), prefixLen: 0, iface: 0, gateway: w(IP6.router) },
  ]);
  const registry = new ServiceRegistry(engine, routing);
  const spec = svc6(svc);
  registry.addService(spec);
  for (const d of dests ?? [dest6(IP6.rs1), dest6(IP6.rs2)]) registry.addDest(spec, d);
  const macs: Record<string, string> = { [IP6.rs1]: MAC.rs1, [IP6.rs2]: MAC.rs2 };
  if (known) {
    for (let n = 0; n < engine.neigh.size; n++) {
      const m = engine.neigh.v6[n] ? macs[formatIPv6(engine.neigh.ip6, n)] : undefined;
      if (m) engine.neigh.set(n, parseMac(m)!, 0);
    }
  }
  return { engine, registry };
}

function send(engine: Engine, frame: number[], now = 1000, offload = 0): { v: number; out: string } {
  const b = Buffer.from(frame);
  const v = engine.process(b, b.length, 0, now, offload);
  return { v, out: v === V_EMIT ? hex([...engine.verdict.buf.subarray(0, engine.verdict.len)]) : '' };
}

const SYN: TcpFields = { sport: 40000, dport: 80, seq: 1000, ack: 0, flags: TCP_SYN, window: 64240 };

function clientSyn(over: Partial<TcpFields> = {}, hopLimit = 63): number[] {
  return tcp6Frame({ dst: MAC.lb, src: MAC.router }, { src: IP6.client, dst: IP6.vip, hopLimit }, { ...SYN, ...over });
}

t.test('NAT: rr over the kernel list order, destination and port rewritten, hop limit - 1; the reply back from the VIP', async (t) => {
  const { engine } = setup();
  // Servers added rs1 then rs2: the kernel's list is [rs2, rs1] and rr starts at its head.
  const first = send(engine, clientSyn());
  t.equal(first.v, V_EMIT);
  t.equal(first.out, hex(tcp6Frame({ dst: MAC.rs2, src: MAC.lb }, { src: IP6.client, dst: IP6.rs2, hopLimit: 62 }, { ...SYN, dport: 8080 })));
  const second = send(engine, clientSyn({ sport: 40002 }));
  t.equal(second.out, hex(tcp6Frame({ dst: MAC.rs1, src: MAC.lb }, { src: IP6.client, dst: IP6.rs1, hopLimit: 62 }, { ...SYN, sport: 40002, dport: 8080 })));
  const synAck: TcpFields = { sport: 8080, dport: 40000, seq: 5000, ack: 1001, flags: TCP_SYN | TCP_ACK, window: 65160 };
  const reply = send(engine, tcp6Frame({ dst: MAC.lb, src: MAC.rs2 }, { src: IP6.rs2, dst: IP6.client, hopLimit: 64 }, synAck), 1001);
  t.equal(reply.v, V_EMIT);
  t.equal(reply.out, hex(tcp6Frame({ dst: MAC.router, src: MAC.lb }, { src: IP6.vip, dst: IP6.client, hopLimit: 63 }, { ...synAck, sport: 80 })),
    'source back to VIP:80, to the MAC the client frames came from');
  const again = send(engine, clientSyn({ flags: TCP_ACK, seq: 1001, ack: 5001 }), 1002);
  t.equal(again.out, hex(tcp6Frame({ dst: MAC.rs2, src: MAC.lb }, { src: IP6.client, dst: IP6.rs2, hopLimit: 62 }, { ...SYN, flags: TCP_ACK, seq: 1001, ack: 5001, dport: 8080 })),
    'the established flow stays on its server');
  const d = engine.services[0]!.dests.find((x) => formatIPv6(x.addr6) === IP6.rs2)!;
  t.equal(d.activeConns, 1, 'ESTABLISHED counts as active (set_tcp_state)');
  t.equal(engine.table6.count, 2);
  t.equal(engine.table.count, 0, 'nothing in the IPv4 table');
});

t.test('NAT over UDP: port and checksum rewritten, reply un-NATed', async (t) => {
  const { engine } = setup(null, { proto: UDP, port: 53 });
  const q = [1, 2, 3, 4, 5];
  const out = send(engine, udp6Frame({ dst: MAC.lb, src: MAC.router }, { src: IP6.client, dst: IP6.vip, hopLimit: 60 }, 5353, 53, q));
  t.equal(out.out, hex(udp6Frame({ dst: MAC.rs2, src: MAC.lb }, { src: IP6.client, dst: IP6.rs2, hopLimit: 59 }, 5353, 8080, q)));
  const back = send(engine, udp6Frame({ dst: MAC.lb, src: MAC.rs2 }, { src: IP6.rs2, dst: IP6.client, hopLimit: 64 }, 8080, 5353, [9, 9]), 1001);
  t.equal(back.out, hex(udp6Frame({ dst: MAC.router, src: MAC.lb }, { src: IP6.vip, dst: IP6.client, hopLimit: 63 }, 53, 5353, [9, 9])));
});

t.test('DR: only the MACs change and the hop limit goes down (ip_vs_dr_xmit_v6)', async (t) => {
  const { engine } = setup([dest6(IP6.rs1, { fwd: FWD_DR, port: 80 })]);
  const out = send(engine, clientSyn());
  t.equal(out.out, hex(tcp6Frame({ dst: MAC.rs1, src: MAC.lb }, { src: IP6.client, dst: IP6.vip, hopLimit: 62 }, SYN)));
  const stray = send(engine, tcp6Frame({ dst: MAC.lb, src: MAC.rs1 }, { src: IP6.vip, dst: IP6.client, hopLimit: 64 }, { ...SYN, sport: 80, dport: 40000 }));
  t.equal(stray.v, V_DROP, 'DR replies never come through the director');
});

t.test('extension headers are walked to TCP (ipv6_find_hdr); fragments are dropped', async (t) => {
  const { engine } = setup();
  // Destination options header: next = TCP, length 0 (8 bytes), one PadN option of 4 bytes.
  const opts = [TCP, 0, 1, 4, 0, 0, 0, 0];
  const frameWith = (dst: string, hop: number, mac: { dst: string; src: string }, f: TcpFields) =>
    [...macBytes(mac.dst), ...macBytes(mac.src), 0x86, 0xdd, ...ipv6({ src: IP6.client, dst, next: 60, hopLimit: hop }, [...opts, ...tcp6(IP6.client, dst, f)])];
  const out = send(engine, frameWith(IP6.vip, 63, { dst: MAC.lb, src: MAC.router }, SYN));
  t.equal(out.out, hex(frameWith(IP6.rs2, 62, { dst: MAC.rs2, src: MAC.lb }, { ...SYN, dport: 8080 })), 'the options header travels unchanged');
  // Fragment header (44): next TCP, offset 0, M set.
  const frag = [TCP, 0, 0, 1, 0, 0, 0, 7];
  const f = [...macBytes(MAC.lb), ...macBytes(MAC.router), 0x86, 0xdd, ...ipv6({ src: IP6.client, dst: IP6.vip, next: 44, hopLimit: 63 }, [...frag, ...tcp6(IP6.client, IP6.vip, SYN)])];
  t.equal(send(engine, f).v, V_DROP);
  t.equal(engine.verdict.reason, DROP.ip_fragment, 'IPVS sees reassembled packets only');
});

t.test('hop limit 1: ICMPv6 Time Exceeded from the VIP, quoting the packet (RFC 4443 3.3)', async (t) => {
  const { engine } = setup();
  const inFrame = clientSyn({}, 1);
  const out = send(engine, inFrame);
  t.equal(out.v, V_EMIT);
  t.equal(out.out, hex(icmp6Frame({ dst: MAC.router, src: MAC.lb }, { src: IP6.vip, dst: IP6.client, hopLimit: 64 }, 3, 0, [0, 0, 0, 0, ...inFrame.slice(14)])));
  t.equal(engine.counters.drops[DROP.ttl_exceeded], 1);
});

t.test('no server: ICMPv6 port unreachable from the VIP (ip_vs_leave)', async (t) => {
  const { engine } = setup([]);
  const inFrame = clientSyn();
  const out = send(engine, inFrame);
  t.equal(out.out, hex(icmp6Frame({ dst: MAC.router, src: MAC.lb }, { src: IP6.vip, dst: IP6.client, hopLimit: 64 }, 1, 4, [0, 0, 0, 0, ...inFrame.slice(14)])));
});

t.test('a segment larger than the egress MTU: Packet Too Big with the MTU, quote cut at 1280 bytes (RFC 4443 3.2, 2.4 c)', async (t) => {
  const { engine } = setup();
  const payload = Array.from({ length: 3000 }, (_, i) => i & 0xff);
  const inFrame = clientSyn({ payload });
  // A TCPv6 super-frame whose segments are 40 + 20 + 1460 = 1520 bytes: more than 1500.
  const out = send(engine, inFrame, 1000, OFL_KNOWN | OFL_GSO_TCPV6 | (1460 << OFL_SIZE_SHIFT));
  t.equal(out.v, V_EMIT);
  const quote = inFrame.slice(14, 14 + 1280 - 48);
  t.equal(out.out, hex(icmp6Frame({ dst: MAC.router, src: MAC.lb }, { src: IP6.vip, dst: IP6.client, hopLimit: 64 }, 2, 0, [0, 0, 0x05, 0xdc, ...quote])));
  t.equal(engine.verdict.len, 14 + 1280, 'the whole error fits the IPv6 minimum MTU');
});

t.test('NS for the VIP is answered with a solicited NA (R, S, O) carrying our MAC; NS for other targets is not', async (t) => {
  const { engine } = setup();
  const sn = solicitedNode(IP6.vip);
  const ns = icmp6Frame({ dst: sn.mac, src: MAC.router }, { src: IP6.router, dst: sn.group, hopLimit: 255 }, 135, 0, ndBody(0, IP6.vip, 1, MAC.router));
  const out = send(engine, ns);
  t.equal(out.v, V_EMIT);
  t.equal(out.out, hex(icmp6Frame({ dst: MAC.router, src: MAC.lb }, { src: IP6.vip, dst: IP6.router, hopLimit: 255 }, 136, 0, ndBody(0xe0, IP6.vip, 2, MAC.lb))));
  const other = icmp6Frame({ dst: MAC.lb, src: MAC.router }, { src: IP6.router, dst: IP6.rs1, hopLimit: 255 }, 135, 0, ndBody(0, '2001:db8:0:1::99', 1, MAC.router));
  t.equal(send(engine, other).v, V_DROP);
  t.equal(engine.verdict.reason, DROP.nd_ignored);
  const badHop = icmp6Frame({ dst: sn.mac, src: MAC.router }, { src: IP6.router, dst: sn.group, hopLimit: 64 }, 135, 0, ndBody(0, IP6.vip, 1, MAC.router));
  t.equal(send(engine, badHop).v, V_DROP);
  t.equal(engine.verdict.reason, DROP.nd_invalid, 'RFC 4861 7.1.1: hop limit must be 255');
  engine.setVipActive6(w(IP6.vip), false);
  t.equal(send(engine, ns).v, V_DROP, 'a passive (VRRP backup) VIP is not answered');
});

t.test('an unknown next hop: the frame waits, an NS goes to its solicited-node group; the NA releases it', async (t) => {
  const { engine } = setup(null, {}, false);
  const first = send(engine, clientSyn());
  t.equal(first.v, V_EMIT, 'the NS is the verdict');
  const sn = solicitedNode(IP6.rs2);
  t.equal(first.out, hex(icmp6Frame({ dst: sn.mac, src: MAC.lb }, { src: IP6.lbLinkLocal, dst: sn.group, hopLimit: 255 }, 135, 0, ndBody(0, IP6.rs2, 1, MAC.lb))),
    'RFC 4861 7.2.2: from our link-local address, with our source link-layer option');
  const na = icmp6Frame({ dst: MAC.lb, src: MAC.rs2 }, { src: IP6.rs2, dst: IP6.lbLinkLocal, hopLimit: 255 }, 136, 0, ndBody(0x60, IP6.rs2, 2, MAC.rs2));
  t.equal(send(engine, na, 1001).v, V_CONSUMED);
  t.ok(engine.takeQueued() >= 0, 'the waiting frame is ready');
  t.equal(hex([...engine.verdict.buf.subarray(0, engine.verdict.len)]),
    hex(tcp6Frame({ dst: MAC.rs2, src: MAC.lb }, { src: IP6.client, dst: IP6.rs2, hopLimit: 62 }, { ...SYN, dport: 8080 })));
  t.equal(engine.takeQueued(), -1);
});

t.test('echo request to the VIP: echo reply from it (RFC 4443 4.2)', async (t) => {
  const { engine } = setup();
  const body = [0x12, 0x34, 0, 1, 0xde, 0xad];
  const out = send(engine, icmp6Frame({ dst: MAC.lb, src: MAC.router }, { src: IP6.client, dst: IP6.vip, hopLimit: 60 }, 128, 0, body));
  t.equal(out.out, hex(icmp6Frame({ dst: MAC.router, src: MAC.lb }, { src: IP6.vip, dst: IP6.client, hopLimit: 64 }, 129, 0, body)));
});

t.test('persistence with -M 64: clients of one /64 stay on one server (ip_vs_sched_persist, ipv6_addr_prefix)', async (t) => {
  const { engine } = setup(null, { persistent: 300, netmask: 64 });
  const from = (client: string, sport: number) => {
    const r = send(engine, tcp6Frame({ dst: MAC.lb, src: MAC.router }, { src: client, dst: IP6.vip, hopLimit: 63 }, { ...SYN, sport }));
    return r.out.slice(2 * (14 + 24), 2 * (14 + 40)); // the destination address
  };
  const a = from('2001:db8:ff::10', 1000);
  t.equal(from('2001:db8:ff::9999', 1001), a, 'same /64: the template sends it to the same server');
  t.equal(from('2001:db8:ff:0:1:2:3:4', 1002), a);
  t.not(from('2001:db8:fe::10', 1003), a, 'another /64 is scheduled anew: rr moves on');
});

t.test('registry: an IPv6 server needs an IPv6 service, NAT or DR; listings show [addr]:port as ipvsadm does', async (t) => {
  const { engine, registry } = setup();
  t.throws(() => registry.addDest(svc6(), { ...dest6('2001:db8:0:1::5'), fwd: FWD_TUNNEL }), /no global IPv6 address to send the ip6ip6 tunnel from/);
  t.throws(() => registry.addDest(svc6(), { addr: 0x0a000001, port: 80, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 }), /Masq to an IPv4 server of an IPv6 service/);
  const s = new ControlSession(registry, new RateEstimator(), {}, () => {}, () => 0);
  t.equal(s.run(['-a', '-t', '[2001:db8:0:1::127]:80', '-r', '[2001:db8:0:1::6]:80', '-m']).status, 0);
  t.equal(s.run(['-d', '-t', '[2001:db8:0:1::127]:80', '-r', '[2001:db8:0:1::185]:8080']).status, 0);
  send(engine, clientSyn());
  const list = s.run(['-L', '-n']);
  t.equal(list.stdout, [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    // ipvsadm's print_service_entry formats, as C's printf would write them.
    `${cprintf('%-4s %s', 'TCP', '[2001:db8:0:1::127]:80')} rr`,
    // SYN_RECV is an active state (tcp_state_active_table).
    cprintf('  -> %-28s %-7s %-6d %-10d %-10d', '[2001:db8:0:1::6]:80', 'Masq', 1, 1, 0),
    cprintf('  -> %-28s %-7s %-6d %-10d %-10d', '[2001:db8:0:1::86]:8080', 'Masq', 1, 0, 0),
    '',
  ].join('\n'));
  const conns = s.run(['-L', '-n', '-c']).stdout.split('\n');
  // SYN_RECV's 60 s from the packet at 1 s, read at 0 s: 61 s left (ip_vs_conn_seq_show's (expires - jiffies) / HZ).
  t.equal(conns[2], 'TCP 01:01  SYN_RECV    [2001:db8:ff::10]:40000 [2001:db8:0:1::127]:80 [2001:db8:0:1::6]:80');
});

/** Replace the 16 bytes at `at` of a packet (array) with an address, and a port at `portAt`. */
function patched(pkt: number[], at: number, addr: string, portAt: number, port: number): number[] {
  const p = [...pkt];
  p.splice(at, 16, ...ip6Bytes(addr));
  p[portAt] = port >>> 8;
  p[portAt + 1] = port & 0xff;
  return p;
}

t.test('ICMPv6 error about our reply (a router\'s Packet Too Big to the VIP) goes to the NAT server, translated (ip_vs_nat_icmp_v6)', async (t) => {
  const { engine } = setup();
  send(engine, clientSyn()); // client:40000 -> VIP:80 is rs2:8080
  const data: TcpFields = { sport: 80, dport: 40000, seq: 5001, ack: 1001, flags: TCP_ACK, window: 500, payload: Array.from({ length: 64 }, (_, i) => i) };
  // The reply as the director sent it: VIP:80 -> client, then quoted by the router.
  const quoted = ipv6({ src: IP6.vip, dst: IP6.client, next: TCP, hopLimit: 63 }, tcp6(IP6.vip, IP6.client, data));
  const mtu = [0, 0, 0x05, 0x78]; // 1400
  const inFrame = icmp6Frame({ dst: MAC.lb, src: MAC.router }, { src: IP6.router, dst: IP6.vip, hopLimit: 64 }, 2, 0, [...mtu, ...quoted]);
  const out = send(engine, inFrame, 1001);
  t.equal(out.v, V_EMIT);
  // Outer destination and the quoted source address and port become the server's; the quoted
  // TCP checksum is left as it was; the ICMPv6 checksum is computed again.
  t.equal(out.out, hex(icmp6Frame({ dst: MAC.rs2, src: MAC.lb }, { src: IP6.router, dst: IP6.rs2, hopLimit: 63 }, 2, 0, [...mtu, ...patched(quoted, 8, IP6.rs2, 40, 8080)])));
  const unknown = icmp6Frame({ dst: MAC.lb, src: MAC.router }, { src: IP6.router, dst: IP6.vip, hopLimit: 64 }, 2, 0,
    [...mtu, ...ipv6({ src: IP6.vip, dst: IP6.client, next: TCP, hopLimit: 63 }, tcp6(IP6.vip, IP6.client, { ...data, dport: 40999 }))]);
  t.equal(send(engine, unknown).v, V_DROP);
  t.equal(engine.verdict.reason, DROP.not_ours, 'about no connection of ours');
});

t.test('ICMPv6 error from a NAT server about a client packet goes to the client from the VIP', async (t) => {
  const { engine } = setup(null, { proto: UDP, port: 53 });
  send(engine, udp6Frame({ dst: MAC.lb, src: MAC.router }, { src: IP6.client, dst: IP6.vip, hopLimit: 60 }, 5353, 53, [1, 2, 3]));
  // rs2 got client:5353 -> rs2:8080 and has nothing there: port unreachable (type 1 code 4).
  const quoted = ipv6({ src: IP6.client, dst: IP6.rs2, next: UDP, hopLimit: 59 }, [0x14, 0xe9, 0x1f, 0x90, 0, 11, 0x12, 0x34, 1, 2, 3]);
  const inFrame = icmp6Frame({ dst: MAC.lb, src: MAC.rs2 }, { src: IP6.rs2, dst: IP6.client, hopLimit: 64 }, 1, 4, [0, 0, 0, 0, ...quoted]);
  const out = send(engine, inFrame, 1001);
  t.equal(out.v, V_EMIT);
  t.equal(out.out, hex(icmp6Frame({ dst: MAC.router, src: MAC.lb }, { src: IP6.vip, dst: IP6.client, hopLimit: 63 }, 1, 4, [0, 0, 0, 0, ...patched(quoted, 24, IP6.vip, 42, 53)])));
});

t.test('full-NAT over IPv6: the source becomes a local address and port, the reply goes back to the client', async (t) => {
  const local = '2001:db8:0:1::200';
  const engine0 = setup([]);
  engine0.engine.conns6.fnat.configure([w(local)], 20000, 20001);
  engine0.registry.addDest(svc6(), dest6(IP6.rs1, { fwd: FWD_FNAT }));
  for (let n = 0; n < engine0.engine.neigh.size; n++) engine0.engine.neigh.set(n, parseMac(MAC.rs1)!, 0);
  const { engine } = engine0;
  const out = send(engine, clientSyn());
  t.equal(out.out, hex(tcp6Frame({ dst: MAC.rs1, src: MAC.lb }, { src: local, dst: IP6.rs1, hopLimit: 62 }, { ...SYN, sport: 20000, dport: 8080 })),
    'client:40000 -> VIP:80 leaves as local:20000 -> rs1:8080');
  const synAck: TcpFields = { sport: 8080, dport: 20000, seq: 7000, ack: 1001, flags: TCP_SYN | TCP_ACK, window: 65160 };
  const back = send(engine, tcp6Frame({ dst: MAC.lb, src: MAC.rs1 }, { src: IP6.rs1, dst: local, hopLimit: 64 }, synAck), 1001);
  t.equal(back.out, hex(tcp6Frame({ dst: MAC.router, src: MAC.lb }, { src: IP6.vip, dst: IP6.client, hopLimit: 63 }, { ...synAck, sport: 80, dport: 40000 })));
  // The local address answers Neighbour Solicitations: replies come back to it.
  const sn = solicitedNode(local);
  const ns = icmp6Frame({ dst: sn.mac, src: MAC.rs1 }, { src: IP6.rs1, dst: sn.group, hopLimit: 255 }, 135, 0, ndBody(0, local, 1, MAC.rs1));
  engine0.registry.refreshVips();
  t.equal(send(engine, ns, 1002).out, hex(icmp6Frame({ dst: MAC.rs1, src: MAC.lb }, { src: local, dst: IP6.rs1, hopLimit: 255 }, 136, 0, ndBody(0xe0, local, 2, MAC.lb))));
  // Two ports for one server: a third client connection finds no free local port.
  send(engine, clientSyn({ sport: 40001 }), 1003);
  t.equal(send(engine, clientSyn({ sport: 40002 }), 1004).v, V_DROP);
  t.equal(engine.verdict.reason, DROP.fnat_ports_exhausted);
});

t.test('full-NAT to an IPv6 server without an IPv6 local address is refused, saying what to give', async (t) => {
  const { registry } = setup([]);
  t.throws(() => registry.addDest(svc6(), dest6(IP6.rs1, { fwd: FWD_FNAT })), /needs an IPv6 local address: give --fnat-addr/);
});

t.test('ip6ip6 tunnel (ip_vs_tunnel_xmit_v6): the packet, hop limit - 1, behind a 40-byte header from the director\'s address; super-frames cut first', async (t) => {
  const dir6 = '2001:db8:0:1::2';
  const engine = new Engine({
    ifaces: [{ name: 'eth0', mac: parseMac(MAC.lb)!, mtu: 1500, ip: 0, ll6: Uint8Array.from(ip6Bytes(IP6.lbLinkLocal)), ip6: Uint8Array.from(ip6Bytes(dir6)) }],
    maxConns: 64,
  });
  const registry = new ServiceRegistry(engine, new RoutingTable([], [{ dst: w(IP6.net), prefixLen: 64, iface: 0, gateway: null }, { dst: w('::'), prefixLen: 0, iface: 0, gateway: w(IP6.router) }]));
  registry.addService(svc6());
  registry.addDest(svc6(), dest6(IP6.rs1, { fwd: FWD_TUNNEL, port: 80 }));
  for (let n = 0; n < engine.neigh.size; n++) engine.neigh.set(n, parseMac(MAC.rs1)!, 0);
  const outer = (inner: number[]) => [...macBytes(MAC.rs1), ...macBytes(MAC.lb), 0x86, 0xdd, ...ipv6({ src: dir6, dst: IP6.rs1, next: 41, hopLimit: inner[7]! }, inner)];
  const syn = send(engine, clientSyn());
  t.equal(syn.out, hex(outer(ipv6({ src: IP6.client, dst: IP6.vip, next: TCP, hopLimit: 62 }, tcp6(IP6.client, IP6.vip, SYN)))),
    'next header 41, hop limit the inner one, the inner packet unchanged but its hop limit');
  // A 3000-byte TCPv6 super-frame, 1400 bytes a segment: three packets of at most 1460 (1500 - 40).
  const payload = Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
  const data: TcpFields = { ...SYN, flags: TCP_ACK | 0x08, seq: 1001, ack: 1, payload };
  const r = send(engine, clientSyn(data), 1001, OFL_KNOWN | OFL_GSO_TCPV6 | (1400 << OFL_SIZE_SHIFT));
  const seg = (k: number) => {
    const last = k === 2;
    const piece = payload.slice(k * 1400, k * 1400 + 1400);
    return hex(outer(ipv6({ src: IP6.client, dst: IP6.vip, next: TCP, hopLimit: 62 }, tcp6(IP6.client, IP6.vip, { ...data, seq: 1001 + k * 1400, flags: last ? TCP_ACK | 0x08 : TCP_ACK, payload: piece }))));
  };
  t.equal(r.out, seg(0), 'segment 0: PSH cleared, checksum in full');
  const rest: string[] = [];
  while (engine.takeQueued() >= 0) rest.push(hex([...engine.verdict.buf.subarray(0, engine.verdict.len)]));
  t.same(rest, [seg(1), seg(2)], 'segments 1 and 2 follow; PSH on the last only');
  const noSrc = setup([]);
  t.throws(() => noSrc.registry.addDest(svc6(), dest6(IP6.rs1, { fwd: FWD_TUNNEL, port: 80 })), /no global IPv6 address to send the ip6ip6 tunnel from/);
});
