/**
 * Kernel ABI of AF_PACKET rings and the socket calls around them (x86-64, Linux >= 4.20):
 * constants from <linux/if_packet.h>, <linux/if_ether.h>, <sys/socket.h>, and struct
 * layouts as gcc lays them out (Documentation/networking/packet_mmap.rst). A wrong offset
 * here crashes the process, so every number lives in this one file and is unit-tested.
 */
export const AF_PACKET = 17;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const ETH_P_ALL = 0x0003;
export const SOL_SOCKET = 1;
export const SO_ATTACH_FILTER = 26;
export const SO_RCVBUF = 8;
export const SO_SNDBUF = 7;
export const SOL_PACKET = 263;
export const PACKET_RX_RING = 5;
export const PACKET_STATISTICS = 6;
export const PACKET_VERSION = 10;
export const PACKET_VNET_HDR = 15;
export const PACKET_FANOUT = 18;
export const PACKET_QDISC_BYPASS = 20;
export const PACKET_IGNORE_OUTGOING = 23;
export const TPACKET_V2 = 1;
export const PACKET_FANOUT_CBPF = 6;
export const PACKET_FANOUT_DATA = 22;

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
export const MAP_LOCKED = 0x2000;
export const MSG_DONTWAIT = 0x40;
export const POLLIN = 0x001;
export const POLLERR = 0x008;
export const EAGAIN = 11;
export const EINTR = 4;
export const ENOBUFS = 105;
export const EMSGSIZE = 90;

/** tp_status bits (kernel -> user) of a ring frame. */
export const TP_STATUS_KERNEL = 0;
export const TP_STATUS_USER = 1;
export const TP_STATUS_LOSING = 1 << 2;
export const TP_STATUS_CSUMNOTREADY = 1 << 3;
export const TP_STATUS_CSUM_VALID = 1 << 7;
export const TP_STATUS_GSO_TCP = 1 << 8;

/** struct tpacket2_hdr (32 bytes). */
export const TP2 = {
  status: 0,
  len: 4,
  snaplen: 8,
  mac: 12,
  net: 14,
  sec: 16,
  nsec: 20,
  vlanTci: 24,
  vlanTpid: 26,
  size: 32,
} as const;

/** TPACKET_ALIGN: frames and headers in a ring are 16-byte aligned. */
export const TPACKET_ALIGNMENT = 16;
export function tpacketAlign(x: number): number {
  return (x + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1);
}
/** sizeof(struct sockaddr_ll). */
export const SOCKADDR_LL_SIZE = 20;
/** TPACKET2_HDRLEN = TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) + sizeof(struct sockaddr_ll). */
export const TPACKET2_HDRLEN = tpacketAlign(TP2.size) + SOCKADDR_LL_SIZE;
/** sizeof(struct virtio_net_hdr). */
export const VNET_HDR_LEN = 10;

/**
 * Where tpacket_rcv puts the MAC header of an Ethernet frame in a V2 slot with a vnet
 * header: netoff = TPACKET_ALIGN(tp_hdrlen + max(maclen, 16)) + vnet_hdr_sz,
 * macoff = netoff - maclen; the vnet header sits just before the MAC header.
 */
export function expectedMacOffset(maclen = 14): number {
  return tpacketAlign(TPACKET2_HDRLEN + Math.max(maclen, 16)) + VNET_HDR_LEN - maclen;
}

/** struct tpacket_req (16 bytes): block_size, block_nr, frame_size, frame_nr. */
export function tpacketReq(blockSize: number, blockNr: number, frameSize: number, frameNr: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(blockSize, 0);
  b.writeUInt32LE(blockNr, 4);
  b.writeUInt32LE(frameSize, 8);
  b.writeUInt32LE(frameNr, 12);
  return b;
}

/** struct sockaddr_ll (20 bytes) for bind(): family, protocol (network order), ifindex. */
export function sockaddrLl(protocol: number, ifindex: number): Buffer {
  const b = Buffer.alloc(SOCKADDR_LL_SIZE);
  b.writeUInt16LE(AF_PACKET, 0);
  b.writeUInt16BE(protocol, 2);
  b.writeInt32LE(ifindex, 4);
  return b;
}

/** struct sock_fprog (16 bytes): len (u16), padding, filter pointer at 8. */
export function sockFprog(count: number, insnsAddr: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(count, 0);
  b.writeBigUInt64LE(BigInt(insnsAddr), 8);
  return b;
}

/** struct sock_filter (8 bytes): code u16, jt u8, jf u8, k u32. */
export const SOCK_FILTER_SIZE = 8;

/** struct tpacket_stats (8 bytes): tp_packets, tp_drops (read clears them). */
export const TPACKET_STATS_SIZE = 8;

/** struct iovec (16 bytes): base pointer, length. */
export const IOVEC_SIZE = 16;
/**
 * struct mmsghdr (64 bytes): struct msghdr (56: name 0, namelen 8, iov 16, iovlen 24,
 * control 32, controllen 40, flags 48) then msg_len at 56.
 */
export const MMSG = { iov: 16, iovlen: 24, msgLen: 56, size: 64 } as const;
/** struct pollfd (8 bytes): fd i32, events i16, revents i16. */
export const POLLFD = { fd: 0, events: 4, revents: 6, size: 8 } as const;

/** fanout argument of PACKET_FANOUT: group id | type << 16. */
export function fanoutArg(groupId: number, type: number): number {
  return (groupId & 0xffff) | (type << 16);
}
