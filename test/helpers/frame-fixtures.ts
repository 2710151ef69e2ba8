/**
 * The source of fixtures/frames/engine.json (Katran's fixture table): every input frame and
 * every expected output frame is written here, field by field, with frame-ref.ts (its own
 * RFC 1071 full-sum checksums, nothing from src/packet/), from the protocol rules and IPVS's
 * behaviour; the "why" of each case says which rule gives each changed byte.
 *
 *   node build/test/helpers/frame-fixtures.js --write    # rewrite the JSON and the pcaps
 *
 * test/engine/fixtures.test.ts checks that the committed files are what this writes, and runs
 * the table through the engine; bench/micro reads its established NAT/DR frames from it.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  arp, ethernet, hex, icmp, ipv4, pad60, tcp, tcpFrame, udp, TCP_ACK, TCP_PSH, TCP_SYN, type Ipv4Fields, type TcpFields,
} from './frame-ref.js';
import type { FixtureCase, FixtureTable } from './run-fixture.js';
import { encodePcap } from '../../src/io/pcap-file.js';

const MAC = {
  lb: '02:00:00:00:00:02',
  router: '02:00:00:00:00:01',
  nat: '02:00:00:00:01:85',
  dr: '02:00:00:00:00:86',
  tun: '02:00:00:00:00:87',
  fnat: '02:00:00:00:00:88',
};
const IP = {
  lb: '10.0.0.2', router: '10.0.0.1', vip: '10.0.0.127', laddr: '10.0.0.3',
  nat: '10.0.0.185', dr: '10.0.0.86', tun: '10.0.0.87', fnat: '10.0.0.88', client: '198.51.100.10',
};
const DF = 0x4000;
const MF = 0x2000;
const PAYLOAD = [...Buffer.from('abcdef')]; // 14 + 20 + 20 + 6 = a 60-byte frame, as the microbench uses

const SETUP: FixtureTable['setup'] = {
  ifaces: [{ name: 'eth0', mac: MAC.lb, ip: IP.lb, mtu: 1500 }],
  routes: [
    { dst: '10.0.0.0/24', iface: 'eth0' },
    { dst: '0.0.0.0/0', iface: 'eth0', gateway: IP.router },
  ],
  neighbours: { [IP.router]: MAC.router, [IP.nat]: MAC.nat, [IP.dr]: MAC.dr, [IP.tun]: MAC.tun, [IP.fnat]: MAC.fnat },
  fnat: { addrs: [IP.laddr], portMin: 40000, portMax: 40009 },
  services: [
    { proto: 'TCP', addr: IP.vip, port: 80, scheduler: 'rr', dests: [{ addr: IP.nat, port: 8080, fwd: 'Masq' }] },
    { proto: 'TCP', addr: IP.vip, port: 443, scheduler: 'rr', dests: [{ addr: IP.dr, port: 443, fwd: 'Route' }] },
    { proto: 'TCP', addr: IP.vip, port: 8443, scheduler: 'rr', dests: [{ addr: IP.tun, port: 8443, fwd: 'Tunnel' }] },
    { proto: 'TCP', addr: IP.vip, port: 81, scheduler: 'rr', dests: [{ addr: IP.fnat, port: 80, fwd: 'FNAT' }] },
    { proto: 'UDP', addr: IP.vip, port: 53, scheduler: 'rr', dests: [{ addr: IP.nat, port: 53, fwd: 'Masq' }] },
  ],
};

type Ip = Omit<Ipv4Fields, 'proto'>;

/** A client segment as it arrives from the router: TTL 64, DF, Linux's window. */
function fromClient(ipOver: Partial<Ip>, t: Partial<TcpFields> & Pick<TcpFields, 'sport' | 'dport' | 'flags'>): { ip: Ip; tcp: TcpFields } {
  return {
    ip: { src: IP.client, dst: IP.vip, ttl: 64, id: 0x1c46, frag: DF, ...ipOver },
    tcp: { seq: 1000, ack: 0, window: 64240, ...t },
  };
}

function frame(srcMac: string, dstMac: string, p: { ip: Ip; tcp: TcpFields }): number[] {
  return tcpFrame({ src: srcMac, dst: dstMac }, p.ip, p.tcp);
}

/** What a transmitter changes: the ingress segment with some IP/TCP fields replaced. */
function rewritten(p: { ip: Ip; tcp: TcpFields }, ipOver: Partial<Ip>, tcpOver: Partial<TcpFields> = {}): { ip: Ip; tcp: TcpFields } {
  return { ip: { ...p.ip, ...ipOver }, tcp: { ...p.tcp, ...tcpOver } };
}

type Draft = Omit<FixtureCase, 'timeMs'>;

function emit(name: string, why: string, input: number[], output: number[], bench?: FixtureCase['bench']): Draft {
  return { name, why, ingress: 'eth0', input: hex(input), verdict: 'emit', egress: 'eth0', output: hex(output), ...(bench ? { bench } : {}) };
}

function drop(name: string, why: string, input: number[], reason: string, bench?: FixtureCase['bench']): Draft {
  return { name, why, ingress: 'eth0', input: hex(input), verdict: 'drop', drop: reason, ...(bench ? { bench } : {}) };
}

function cases(): FixtureCase[] {
  const out: Draft[] = [];
  // --- NAT (ipvsadm -m), VIP:80 -> 10.0.0.185:8080
  const natSyn = fromClient({}, { sport: 40000, dport: 80, flags: TCP_SYN });
  out.push(emit('nat-in-syn',
    'ip_vs_nat_xmit: destination address and port become the real server\'s (10.0.0.185:8080), TTL 64 -> 63 ' +
    '(ip_decrement_ttl), IP and TCP checksums as a full RFC 1071 sum gives them; MACs: the real server\'s from ' +
    'the neighbour table, the director\'s as source. The 6 bytes of Ethernet padding of the 60-byte input are not sent.',
    pad60(frame(MAC.router, MAC.lb, natSyn)),
    frame(MAC.lb, MAC.nat, rewritten(natSyn, { dst: IP.nat, ttl: 63 }, { dport: 8080 }))));
  const natSynAck = { ip: { src: IP.nat, dst: IP.client, ttl: 64, id: 0, frag: DF }, tcp: { sport: 8080, dport: 40000, seq: 5000, ack: 1001, flags: TCP_SYN | TCP_ACK, window: 65160 } };
  out.push(emit('nat-out-synack',
    'ip_vs_out / ip_vs_nat_send_or_cont (un-NAT): the reply\'s source becomes VIP:80, TTL 63; Ethernet destination is ' +
    'the MAC the client\'s frames came from (the router), source the director.',
    frame(MAC.nat, MAC.lb, natSynAck),
    frame(MAC.lb, MAC.router, rewritten(natSynAck, { src: IP.vip, ttl: 63 }, { sport: 80 }))));
  const natAck = fromClient({ id: 0x1c47 }, { sport: 40000, dport: 80, flags: TCP_ACK, seq: 1001, ack: 5001 });
  out.push(emit('nat-in-ack', 'The handshake\'s last ACK: SYN_RECV -> ESTABLISHED (tcp_state_table), rewritten as nat-in-syn.',
    frame(MAC.router, MAC.lb, natAck),
    frame(MAC.lb, MAC.nat, rewritten(natAck, { dst: IP.nat, ttl: 63 }, { dport: 8080 }))));
  const natData = fromClient({ id: 0x1c48 }, { sport: 40000, dport: 80, flags: TCP_PSH | TCP_ACK, seq: 1001, ack: 5001, payload: PAYLOAD });
  out.push(emit('nat-in-established', 'Data on the ESTABLISHED flow (60-byte frame): the same DNAT, payload untouched.',
    frame(MAC.router, MAC.lb, natData),
    frame(MAC.lb, MAC.nat, rewritten(natData, { dst: IP.nat, ttl: 63 }, { dport: 8080 })), 'natIn'));
  const natReply = { ip: { src: IP.nat, dst: IP.client, ttl: 64, id: 0x2a01, frag: DF }, tcp: { sport: 8080, dport: 40000, seq: 5001, ack: 1007, flags: TCP_PSH | TCP_ACK, window: 501, payload: PAYLOAD } };
  const natReplyOut = rewritten(natReply, { src: IP.vip, ttl: 63 }, { sport: 80 });
  out.push(emit('nat-out-established', 'The real server\'s data back to the client, un-NATed to VIP:80.',
    frame(MAC.nat, MAC.lb, natReply), frame(MAC.lb, MAC.router, natReplyOut), 'natOut'));
  // ICMP "fragmentation needed" from the router about our reply (RFC 792/1191): ip_vs_in_icmp finds the
  // connection from the quoted header and ip_vs_nat_icmp translates it for the real server.
  const quoted = (q: { ip: Ip; tcp: TcpFields }) => ipv4({ ...q.ip, proto: 6 }, tcp(q.ip.src, q.ip.dst, q.tcp)).slice(0, 28);
  const icmpIn = { src: IP.router, dst: IP.vip, ttl: 64, id: 0x0d01, proto: 1 };
  const natReplyAtRs = rewritten(natReplyOut, { src: IP.nat }, { sport: 8080 });
  // The quoted TCP checksum lies beyond the 8 quoted bytes; the quoted IP header gets a fresh checksum.
  out.push(emit('nat-icmp-frag-needed',
    'ICMP type 3 code 4 (next-hop MTU 1400) to the VIP quoting VIP:80 -> client: ip_vs_nat_icmp rewrites the outer ' +
    'destination and the quoted source to 10.0.0.185:8080 (quoted IP header checksum recomputed, ICMP checksum over ' +
    'the whole message recomputed), TTL 63, sent to the real server.',
    [...ethernet({ dst: MAC.lb, src: MAC.router, type: 0x0800 }), ...ipv4(icmpIn, icmp(3, 4, 1400, quoted(natReplyOut)))],
    [...ethernet({ dst: MAC.nat, src: MAC.lb, type: 0x0800 }), ...ipv4({ ...icmpIn, dst: IP.nat, ttl: 63 }, icmp(3, 4, 1400, quoted(natReplyAtRs)))]));
  // --- DR (ipvsadm -g), VIP:443 -> 10.0.0.86
  const drSyn = fromClient({ id: 0x3b01 }, { sport: 40001, dport: 443, flags: TCP_SYN });
  out.push(emit('dr-in-syn',
    'ip_vs_dr_xmit: addresses and ports unchanged, TTL 63 and the IP checksum that goes with it, the TCP checksum ' +
    'unchanged (TTL is not in the pseudo-header); Ethernet destination = the real server\'s MAC.',
    frame(MAC.router, MAC.lb, drSyn), frame(MAC.lb, MAC.dr, rewritten(drSyn, { ttl: 63 }))));
  const drAck = fromClient({ id: 0x3b02 }, { sport: 40001, dport: 443, flags: TCP_ACK, seq: 1001, ack: 7001 });
  out.push(emit('dr-in-ack', 'DR has no replies through the director: the client\'s ACK moves the entry on (INPUT_ONLY table).',
    frame(MAC.router, MAC.lb, drAck), frame(MAC.lb, MAC.dr, rewritten(drAck, { ttl: 63 }))));
  const drData = fromClient({ id: 0x3b03 }, { sport: 40001, dport: 443, flags: TCP_PSH | TCP_ACK, seq: 1001, ack: 7001, payload: PAYLOAD });
  out.push(emit('dr-in-established', 'Data on the established DR flow (60-byte frame): MACs and TTL only.',
    frame(MAC.router, MAC.lb, drData), frame(MAC.lb, MAC.dr, rewritten(drData, { ttl: 63 })), 'drIn'));
  // --- Tunnel (ipvsadm -i), VIP:8443 -> 10.0.0.87
  const tunSyn = fromClient({ id: 0x4c01, tos: 0x10 }, { sport: 40002, dport: 8443, flags: TCP_SYN });
  const inner = ipv4({ ...rewritten(tunSyn, { ttl: 63 }).ip, proto: 6 }, tcp(IP.client, IP.vip, tunSyn.tcp));
  out.push(emit('tun-in-syn',
    'ip_vs_tunnel_xmit: the packet, TTL 63, behind an outer IPv4 header (RFC 2003): protocol 4, from the egress ' +
    'address 10.0.0.2 to 10.0.0.87, TOS copied (RFC 6040 normal mode, ECN not CE), DF copied from the inner header, ' +
    'TTL = the inner TTL, ID 0: an atomic datagram (DF) needs no ID (RFC 6864), as the kernel\'s ip_select_ident gives it.',
    frame(MAC.router, MAC.lb, tunSyn),
    [...ethernet({ dst: MAC.tun, src: MAC.lb, type: 0x0800 }), ...ipv4({ src: IP.lb, dst: IP.tun, proto: 4, ttl: 63, id: 0, frag: DF, tos: 0x10 }, inner)]));
  // --- Full-NAT (--fnat), VIP:81 -> 10.0.0.88:80 from 10.0.0.3:40000..40009
  const fnatSyn = fromClient({ id: 0x5d01 }, { sport: 40003, dport: 81, flags: TCP_SYN });
  out.push(emit('fnat-in-syn',
    'Full-NAT: both ends rewritten, the client end to the first local address and port of the pool (10.0.0.3:40000), ' +
    'the server end to 10.0.0.88:80; TTL 63, checksums as a full sum gives them.',
    frame(MAC.router, MAC.lb, fnatSyn),
    frame(MAC.lb, MAC.fnat, rewritten(fnatSyn, { src: IP.laddr, dst: IP.fnat, ttl: 63 }, { sport: 40000, dport: 80 }))));
  const fnatSynAck = { ip: { src: IP.fnat, dst: IP.laddr, ttl: 64, id: 0, frag: DF }, tcp: { sport: 80, dport: 40000, seq: 9000, ack: 1001, flags: TCP_SYN | TCP_ACK, window: 65160 } };
  out.push(emit('fnat-out-synack',
    'The server answers the local address; both ends go back: VIP:81 -> client:40003, TTL 63, to the router\'s MAC.',
    frame(MAC.fnat, MAC.lb, fnatSynAck),
    frame(MAC.lb, MAC.router, rewritten(fnatSynAck, { src: IP.vip, dst: IP.client, ttl: 63 }, { sport: 81, dport: 40003 }))));
  // --- UDP NAT, VIP:53 -> 10.0.0.185:53
  const query = [0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]; // a DNS header: id, RD, 1 question
  const udpIn = (sport: number, id: number, noCsum: boolean) => [...ethernet({ dst: MAC.lb, src: MAC.router, type: 0x0800 }),
    ...ipv4({ src: IP.client, dst: IP.vip, proto: 17, ttl: 64, id, frag: 0 }, udp(IP.client, IP.vip, sport, 53, query, noCsum))];
  const udpOut = (sport: number, id: number) => [...ethernet({ dst: MAC.nat, src: MAC.lb, type: 0x0800 }),
    ...ipv4({ src: IP.client, dst: IP.nat, proto: 17, ttl: 63, id, frag: 0 }, udp(IP.client, IP.nat, sport, 53, query))];
  out.push(emit('udp-nat-in', 'UDP NAT (udp_dnat_handler): destination 10.0.0.185:53, TTL 63, the RFC 768 checksum over the new pseudo-header.',
    udpIn(33000, 0x6e01, false), udpOut(33000, 0x6e01)));
  out.push(emit('udp-nat-in-no-checksum',
    'A datagram sent without checksum (0, RFC 768) gets a full one after DNAT, as udp_dnat_handler computes it when the field is 0.',
    udpIn(33001, 0x6e02, true), udpOut(33001, 0x6e02)));
  // --- ICMP echo to a VIP the balancer owns (not a local address): answered like a host (RFC 792, RFC 1122 3.2.2.6)
  const echoBody = [...Buffer.from('ping-tslb')];
  out.push(emit('icmp-echo-vip',
    'Echo request to the VIP: the reply (type 0) swaps the addresses, carries the same identifier, sequence and data, ' +
    'TTL 64 (a host\'s default), back to the MAC it came from.',
    [...ethernet({ dst: MAC.lb, src: MAC.router, type: 0x0800 }), ...ipv4({ src: IP.client, dst: IP.vip, proto: 1, ttl: 64, id: 0x7f01, frag: DF }, icmp(8, 0, 0x00420001, echoBody))],
    [...ethernet({ dst: MAC.router, src: MAC.lb, type: 0x0800 }), ...ipv4({ src: IP.vip, dst: IP.client, proto: 1, ttl: 64, id: 0x7f01, frag: DF }, icmp(0, 0, 0x00420001, echoBody))]));
  // --- ARP for the VIP (RFC 826): the reply swaps sender and target and names the director's MAC
  out.push(emit('arp-who-has-vip',
    'RFC 826: "who-has 10.0.0.127 tell 10.0.0.1" (60-byte padded request) answered with a 42-byte reply: op 2, ' +
    'sender = (director MAC, VIP), target = the requester; Ethernet to the requester.',
    pad60([...ethernet({ dst: 'ff:ff:ff:ff:ff:ff', src: MAC.router, type: 0x0806 }), ...arp(1, MAC.router, IP.router, '00:00:00:00:00:00', IP.vip)]),
    [...ethernet({ dst: MAC.router, src: MAC.lb, type: 0x0806 }), ...arp(2, MAC.lb, IP.vip, MAC.router, IP.router)], 'arpWhoHas'));
  // --- Drops
  out.push(drop('tcp-no-conn',
    'tcp_conn_schedule: a segment without SYN and no connection is not scheduled (sloppy_tcp off); counted tcp_no_conn.',
    frame(MAC.router, MAC.lb, fromClient({}, { sport: 40100, dport: 80, flags: TCP_ACK, seq: 77, ack: 88 })), 'tcp_no_conn'));
  out.push(drop('no-service', 'A segment to a VIP port with no virtual service (VIP:25): not balanced, counted no_service.',
    frame(MAC.router, MAC.lb, fromClient({}, { sport: 40200, dport: 25, flags: TCP_SYN })), 'no_service'));
  out.push(drop('not-ours', 'A segment to the director\'s own address (10.0.0.2:22): no service, no connection: left to the host, counted not_ours.',
    frame(MAC.router, MAC.lb, fromClient({ dst: IP.lb }, { sport: 40300, dport: 22, flags: TCP_SYN })), 'not_ours'));
  out.push(drop('runt', 'A 10-byte frame has no complete Ethernet header (14 bytes).',
    [...ethernet({ dst: MAC.lb, src: MAC.router, type: 0x0800 })].slice(0, 10), 'runt_frame'));
  const bad = fromClient({ id: 0x1c49 }, { sport: 40000, dport: 80, flags: TCP_PSH | TCP_ACK, seq: 1007, ack: 5007, payload: PAYLOAD });
  const good = ipv4({ ...bad.ip, proto: 6 }, tcp(IP.client, IP.vip, bad.tcp));
  const wrong = ((good[10]! << 8) | good[11]!) ^ 0x5a5a;
  out.push(drop('bad-ip-checksum', 'RFC 791/1071: a header whose checksum does not sum to 0xffff is discarded (ip_rcv_core).',
    frame(MAC.router, MAC.lb, { ip: { ...bad.ip, check: wrong }, tcp: bad.tcp }), 'ip_bad_checksum', 'malformed'));
  out.push(drop('fragment',
    'A first fragment (MF set, offset 0) to VIP:80: IPVS sees only reassembled datagrams (LOCAL_IN) and we do not reassemble.',
    frame(MAC.router, MAC.lb, fromClient({ id: 0x1c4a, frag: MF }, { sport: 40000, dport: 80, flags: TCP_PSH | TCP_ACK, seq: 1007, ack: 5007, payload: PAYLOAD })), 'ip_fragment'));
  return out.map((c, i) => ({ ...c, timeMs: 1000 + i }));
}

export function frameFixtureTable(): FixtureTable {
  return {
    about: 'Katran-style fixture table: cases run in order on one engine built from setup (later cases use the ' +
      'connections of earlier ones). Written by test/helpers/frame-fixtures.ts from the protocol rules (RFC 791, ' +
      '793, 792, 826, 1071, 2003) and IPVS\'s transmitters, with full-sum checksums; never captured from the engine.',
    setup: SETUP,
    cases: cases(),
  };
}

/** The pcaps of the table (glb-director's pcap_tests): every input in order, and every expected output. */
export function frameFixturePcaps(table: FixtureTable): { input: Buffer; expected: Buffer } {
  const time = (c: FixtureCase) => c.timeMs / 1000;
  return {
    input: encodePcap(table.cases.map((c) => ({ frame: Buffer.from(c.input, 'hex'), time: time(c) }))),
    expected: encodePcap(table.cases.filter((c) => c.output !== undefined).map((c) => ({ frame: Buffer.from(c.output!, 'hex'), time: time(c) }))),
  };
}

if (process.argv.includes('--write') && process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const table = frameFixtureTable();
  writeFileSync(path.join(root, 'fixtures/frames/engine.json'), `${JSON.stringify(table, null, 2)}\n`);
  const p = frameFixturePcaps(table);
  writeFileSync(path.join(root, 'fixtures/pcap/engine-in.pcap'), p.input);
  writeFileSync(path.join(root, 'fixtures/pcap/engine-expected.pcap'), p.expected);
  process.stdout.write(`wrote ${table.cases.length} cases\n`);
}
