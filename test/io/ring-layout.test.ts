/**
 * The kernel ABI the ring backend relies on, checked against hand-built memory with the
 * numbers of <linux/if_packet.h> and <linux/virtio_net.h> (struct offsets as gcc lays them
 * out on x86-64), not against our own encoders.
 */
import t from 'tap';
import * as L from '../../src/io/ring/layout.js';
import { offloadFromVnet, vnetFor, writeVnet } from '../../src/io/ring/vnet.js';
import {
  OFL_CSUM_PARTIAL, OFL_GSO_ECN, OFL_GSO_MASK, OFL_GSO_TCPV4, OFL_GSO_TCPV6, OFL_GSO_UDP_L4, OFL_KNOWN, OFL_SIZE_SHIFT, gsoSize,
} from '../../src/packet/offload.js';
import { icmp6Frame, optionsHeader, routingHeader, fragmentHeader, tcp6Frame, udp6Frame } from '../../src/packet/builder6.js';

t.test('struct sizes and offsets', async (t) => {
  t.equal(L.TP2.size, 32, 'sizeof(struct tpacket2_hdr)');
  t.same([L.TP2.status, L.TP2.len, L.TP2.snaplen, L.TP2.mac, L.TP2.net], [0, 4, 8, 12, 14]);
  t.equal(L.TPACKET2_HDRLEN, 52, 'TPACKET2_HDRLEN = 32 + sizeof(struct sockaddr_ll) 20');
  // tpacket_rcv: netoff = TPACKET_ALIGN(52 + 16) + 10 = 90, macoff = 90 - 14.
  t.equal(L.expectedMacOffset(), 76);
  t.equal(L.expectedMacOffset(18), 72, 'an in-band VLAN tag: TPACKET_ALIGN(52 + 18) + 10 - 18');
  t.same([L.MMSG.iov, L.MMSG.iovlen, L.MMSG.msgLen, L.MMSG.size], [16, 24, 56, 64]);
  t.equal(L.IOVEC_SIZE, 16);
  t.same([L.POLLFD.fd, L.POLLFD.events, L.POLLFD.revents, L.POLLFD.size], [0, 4, 6, 8]);
  t.same([L.SOL_PACKET, L.PACKET_RX_RING, L.PACKET_VERSION, L.PACKET_VNET_HDR, L.PACKET_FANOUT, L.PACKET_IGNORE_OUTGOING], [263, 5, 10, 15, 18, 23]);
  t.equal(L.TPACKET_V2, 1);
});

t.test('tpacket_req, sockaddr_ll and sock_fprog bytes', async (t) => {
  t.equal(L.tpacketReq(1044480, 34, 69632, 510).toString('hex'), '00f00f00' + '22000000' + '00100100' + 'fe010000');
  // sockaddr_ll: family 17 (LE), protocol ETH_P_ALL in network order, ifindex 7 (LE), rest 0.
  t.equal(L.sockaddrLl(L.ETH_P_ALL, 7).toString('hex'), '1100' + '0003' + '07000000' + '00'.repeat(12));
  t.equal(L.sockFprog(16, 0x7f0011223344).toString('hex'), '1000' + '000000000000' + '44332211007f0000');
  t.equal(L.fanoutArg(0x1234, L.PACKET_FANOUT_CBPF), 0x00061234);
});

t.test('virtio_net_hdr -> offload word', async (t) => {
  // As tpacket_rcv wrote them for a TCP super-frame over veth (little-endian):
  // flags NEEDS_CSUM, gso_type TCPV4, hdr_len 66, gso_size 1448, csum_start 34, csum_offset 16.
  const gso = Buffer.from([0x01, 0x01, 66, 0, 0xa8, 0x05, 34, 0, 16, 0]);
  const w = offloadFromVnet(gso, 0);
  t.equal(w & OFL_KNOWN, OFL_KNOWN);
  t.equal(w & OFL_CSUM_PARTIAL, OFL_CSUM_PARTIAL);
  t.equal(w & OFL_GSO_TCPV4, OFL_GSO_TCPV4);
  t.equal(gsoSize(w), 1448);
  const ack = Buffer.from([0x01, 0x00, 0, 0, 0, 0, 34, 0, 16, 0]);
  t.equal(offloadFromVnet(ack, 0), OFL_KNOWN | OFL_CSUM_PARTIAL, 'a partial ACK, no GSO');
  const valid = Buffer.from([0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  t.equal(offloadFromVnet(valid, 0), OFL_KNOWN, 'DATA_VALID: a complete checksum');
  const udp = Buffer.from([0x01, 0x05, 42, 0, 0xdc, 0x05, 34, 0, 6, 0]);
  t.equal(offloadFromVnet(udp, 0), OFL_KNOWN | OFL_CSUM_PARTIAL | OFL_GSO_UDP_L4 | (1500 << OFL_SIZE_SHIFT));
  // TCPv6 super-frame: csum_start 54 = 14 + 40, hdr_len 74, gso_size 1440.
  const v6 = Buffer.from([0x01, 0x04, 74, 0, 0xa0, 0x05, 54, 0, 16, 0]);
  t.equal(offloadFromVnet(v6, 0), OFL_KNOWN | OFL_CSUM_PARTIAL | OFL_GSO_TCPV6 | (1440 << OFL_SIZE_SHIFT), 'TCPv6 GSO has a type of its own');
  t.equal(offloadFromVnet(v6, 0) & OFL_GSO_MASK, OFL_GSO_TCPV6);
  const ufo = Buffer.from([0x01, 0x03, 42, 0, 0xdc, 0x05, 34, 0, 6, 0]);
  t.equal(offloadFromVnet(ufo, 0) & OFL_GSO_MASK, OFL_GSO_MASK, 'UFO (VIRTIO_NET_HDR_GSO_UDP): the type we do not forward');
  const ecn6 = Buffer.from([0x01, 0x84, 74, 0, 0xa0, 0x05, 54, 0, 16, 0]);
  t.equal(offloadFromVnet(ecn6, 0) & (OFL_GSO_MASK | OFL_GSO_ECN), OFL_GSO_TCPV6 | OFL_GSO_ECN, 'GSO_ECN (0x80) kept beside the type');
});

t.test('offload word layout: type field bits 2-4, ECN bit 5, size from bit 8', async (t) => {
  t.same([OFL_GSO_TCPV4, OFL_GSO_UDP_L4, OFL_GSO_TCPV6, OFL_GSO_MASK, OFL_GSO_ECN], [4, 8, 12, 28, 32]);
  t.equal(OFL_SIZE_SHIFT, 8);
  t.equal(OFL_GSO_ECN & OFL_GSO_MASK, 0, 'ECN outside the type field');
  t.equal((0xffff << OFL_SIZE_SHIFT) & (OFL_GSO_MASK | OFL_GSO_ECN | OFL_CSUM_PARTIAL | OFL_KNOWN), 0, 'size outside the flags');
});

t.test('offload word -> virtio_net_hdr for a frame sent from our memory', async (t) => {
  const b = Buffer.alloc(10, 0xee);
  writeVnet(b, 0, OFL_KNOWN | OFL_CSUM_PARTIAL | OFL_GSO_TCPV4 | (1448 << OFL_SIZE_SHIFT), 34, false, 32);
  t.equal(b.toString('hex'), '01' + '01' + '4200' + 'a805' + '2200' + '1000', 'NEEDS_CSUM, TCPV4, hdr_len 66, 1448, 34, 16');
  writeVnet(b, 0, OFL_KNOWN | OFL_CSUM_PARTIAL, 34, true, 8);
  t.equal(b.toString('hex'), '01' + '00' + '0000' + '0000' + '2200' + '0600', 'partial UDP: csum_offset 6');
  writeVnet(b, 0, OFL_KNOWN, 34, false, 20);
  t.equal(b.toString('hex'), '00'.repeat(10), 'a complete frame: all zero');
  writeVnet(b, 0, OFL_KNOWN | OFL_CSUM_PARTIAL | OFL_GSO_TCPV6 | OFL_GSO_ECN | (1440 << OFL_SIZE_SHIFT), 54, false, 20);
  t.equal(b.toString('hex'), '01' + '84' + '4a00' + 'a005' + '3600' + '1000', 'NEEDS_CSUM, TCPV6|ECN, hdr_len 74, 1440, 54, 16');
  writeVnet(b, 0, OFL_KNOWN | OFL_CSUM_PARTIAL | OFL_GSO_MASK | (1000 << OFL_SIZE_SHIFT), 34, true, 8);
  t.equal(b.toString('hex'), '01' + '00' + '0000' + '0000' + '2200' + '0600', 'a type we do not forward is never described again');
});

const L2 = { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', src: '2001:db8::1', dst: '2001:db8::80' };
const PARTIAL = OFL_KNOWN | OFL_CSUM_PARTIAL;

/** vnetFor over a frame copied behind a 10-byte header, as the port stages it. */
function vnetOf(frame: Uint8Array, offload: number): string {
  const b = Buffer.alloc(10 + frame.length, 0xee);
  b.set(frame, 10);
  vnetFor(b, 0, 10, frame.length, offload);
  return b.subarray(0, 10).toString('hex');
}

t.test('vnetFor: csum_start is the transport header, IPv4 and IPv6 behind extension headers', async (t) => {
  // IPv4 with 4 bytes of options: IHL 6 -> csum_start 14 + 24 = 38.
  const v4 = Buffer.alloc(14 + 24 + 20);
  v4.writeUInt16BE(0x0800, 12);
  v4[14] = 0x46;
  v4[14 + 9] = 6;
  v4[38 + 12] = 0x50;
  t.equal(vnetOf(v4, PARTIAL), '0100' + '0000' + '0000' + '2600' + '1000', 'IPv4 TCP: 38, 16');
  const syn = tcp6Frame({ ...L2, sport: 40000, dport: 80, flags: 2 });
  t.equal(vnetOf(syn, PARTIAL), '0100' + '0000' + '0000' + '3600' + '1000', 'IPv6 TCP: 14 + 40 = 54, offset 16');
  const dns = udp6Frame({ ...L2, sport: 5353, dport: 53, payload: new Uint8Array(12) });
  t.equal(vnetOf(dns, PARTIAL), '0100' + '0000' + '0000' + '3600' + '0600', 'IPv6 UDP: 54, offset 6');
  // Hop-by-hop (8) + routing (24) + destination options (16): 54 + 48 = 102.
  const ext = [optionsHeader(0), routingHeader(0, 2), optionsHeader(60, 1)];
  const far = tcp6Frame({ ...L2, ext, sport: 40000, dport: 80, flags: 0x10, options: new Uint8Array(12) });
  t.equal(vnetOf(far, PARTIAL), '0100' + '0000' + '0000' + '6600' + '1000', 'behind three extension headers: 102');
  const gso = tcp6Frame({ ...L2, ext: [optionsHeader(0)], sport: 40000, dport: 80, flags: 0x10, payload: new Uint8Array(3000) });
  t.equal(vnetOf(gso, PARTIAL | OFL_GSO_TCPV6 | (1440 << OFL_SIZE_SHIFT)), '0104' + '5200' + 'a005' + '3e00' + '1000',
    'TCPv6 super-frame: hdr_len 62 + 20 = 82, gso_size 1440, csum_start 62');
});

t.test('vnetFor: nothing to point at gives a zero header', async (t) => {
  const zero = '00'.repeat(10);
  const echo = icmp6Frame({ ...L2, type: 128, code: 0, rest: 0x00010001, payload: new Uint8Array(8) });
  t.equal(vnetOf(echo, PARTIAL), zero, 'ICMPv6');
  const frag = udp6Frame({ ...L2, ext: [fragmentHeader(0, true, 7)], sport: 1, dport: 2, payload: new Uint8Array(16) });
  t.equal(vnetOf(frag, PARTIAL), zero, 'a fragment');
  const cut = tcp6Frame({ ...L2, ext: [optionsHeader(0, 4)], sport: 1, dport: 2, flags: 2 }).subarray(0, 14 + 40 + 20);
  t.equal(vnetOf(cut, PARTIAL), zero, 'extension header past the end');
  t.equal(vnetOf(tcp6Frame({ ...L2, sport: 1, dport: 2, flags: 2 }), OFL_KNOWN), zero, 'a complete checksum');
  t.equal(vnetOf(tcp6Frame({ ...L2, sport: 1, dport: 2, flags: 2 }), -1), zero, 'an engine-built frame');
});
