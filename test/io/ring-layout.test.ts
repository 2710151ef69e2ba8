/**
 * The kernel ABI the ring backend relies on, checked against hand-built memory with the
 * numbers of <linux/if_packet.h> and <linux/virtio_net.h> (struct offsets as gcc lays them
 * out on x86-64), not against our own encoders.
 */
import t from 'tap';
import * as L from '../../src/io/ring/layout.js';
import { offloadFromVnet, writeVnet } from '../../src/io/ring/vnet.js';
import { OFL_CSUM_PARTIAL, OFL_GSO_TCPV4, OFL_GSO_UDP_L4, OFL_KNOWN, OFL_SIZE_SHIFT, gsoSize } from '../../src/packet/offload.js';

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
  const v6 = Buffer.from([0x01, 0x04, 74, 0, 0xa0, 0x05, 54, 0, 16, 0]);
  t.ok(((offloadFromVnet(v6, 0) >>> 2) & 3) === 3, 'TCPv6 GSO is marked as a kind we do not forward');
});

t.test('offload word -> virtio_net_hdr for a frame sent from our memory', async (t) => {
  const b = Buffer.alloc(10, 0xee);
  writeVnet(b, 0, OFL_KNOWN | OFL_CSUM_PARTIAL | OFL_GSO_TCPV4 | (1448 << OFL_SIZE_SHIFT), 34, false, 32);
  t.equal(b.toString('hex'), '01' + '01' + '4200' + 'a805' + '2200' + '1000', 'NEEDS_CSUM, TCPV4, hdr_len 66, 1448, 34, 16');
  writeVnet(b, 0, OFL_KNOWN | OFL_CSUM_PARTIAL, 34, true, 8);
  t.equal(b.toString('hex'), '01' + '00' + '0000' + '0000' + '2200' + '0600', 'partial UDP: csum_offset 6');
  writeVnet(b, 0, OFL_KNOWN, 34, false, 20);
  t.equal(b.toString('hex'), '00'.repeat(10), 'a complete frame: all zero');
});
