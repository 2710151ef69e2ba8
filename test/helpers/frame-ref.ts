/**
 * A slow, obviously-correct frame writer for test fixtures, independent of src/packet/
 * (glb-director's "reference model" idea): every header is laid out field by field from its
 * RFC, and every checksum is the full one's-complement sum of RFC 1071 over the bytes, never
 * an incremental update. Expected output frames are written with it from the protocol rules
 * and IPVS's behaviour, so a test compares the engine against these bytes, not against
 * the engine's own packet code.
 */

export interface EthFields {
  dst: string;
  src: string;
  /** EtherType, 0x0800 IPv4, 0x0806 ARP. */
  type: number;
}

export interface Ipv4Fields {
  src: string;
  dst: string;
  proto: number;
  ttl: number;
  id: number;
  /** The 16-bit flags + fragment offset word (0x4000 = DF, 0x2000 = MF). */
  frag?: number;
  tos?: number;
  /** Override the header checksum (to write a corrupt one); absent = the correct sum. */
  check?: number;
}

export interface TcpFields {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10. */
  flags: number;
  window: number;
  payload?: number[];
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export function macBytes(text: string): number[] {
  const parts = text.split(':');
  if (parts.length !== 6) throw new Error(`bad MAC ${text}`);
  return parts.map((h) => parseInt(h, 16));
}

export function ipBytes(text: string): number[] {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`bad IPv4 ${text}`);
  return parts;
}

const u16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

/** RFC 1071: the one's-complement of the one's-complement sum of the 16-bit words (odd byte padded). */
export function internetChecksum(bytes: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function ethernet(f: EthFields): number[] {
  return [...macBytes(f.dst), ...macBytes(f.src), ...u16(f.type)];
}

/** RFC 791 header (IHL 5, no options) in front of `payload`. */
export function ipv4(f: Ipv4Fields, payload: readonly number[]): number[] {
  const h = [
    0x45, f.tos ?? 0, ...u16(20 + payload.length), ...u16(f.id), ...u16(f.frag ?? 0),
    f.ttl, f.proto, 0, 0, ...ipBytes(f.src), ...ipBytes(f.dst),
  ];
  const c = f.check ?? internetChecksum(h);
  h[10] = c >>> 8;
  h[11] = c & 0xff;
  return [...h, ...payload];
}

/** RFC 793 segment (data offset 5, no options) with its checksum over the RFC 793 pseudo-header. */
export function tcp(src: string, dst: string, f: TcpFields): number[] {
  const data = f.payload ?? [];
  const seg = [
    ...u16(f.sport), ...u16(f.dport), ...u32(f.seq), ...u32(f.ack),
    0x50, f.flags, ...u16(f.window), 0, 0, 0, 0, ...data,
  ];
  const pseudo = [...ipBytes(src), ...ipBytes(dst), 0, 6, ...u16(seg.length)];
  const c = internetChecksum([...pseudo, ...seg]);
  seg[16] = c >>> 8;
  seg[17] = c & 0xff;
  return seg;
}

/**
 * RFC 768 datagram with its checksum over the pseudo-header; a computed 0 is sent as 0xffff,
 * and `noChecksum` sends 0 ("the transmitter generated no checksum").
 */
export function udp(src: string, dst: string, sport: number, dport: number, payload: readonly number[], noChecksum = false): number[] {
  const d = [...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0, ...payload];
  if (noChecksum) return d;
  const c = internetChecksum([...ipBytes(src), ...ipBytes(dst), 0, 17, ...u16(d.length), ...d]) || 0xffff;
  d[6] = c >>> 8;
  d[7] = c & 0xff;
  return d;
}

/** Ethernet + IPv4 + TCP. */
export function tcpFrame(eth: Omit<EthFields, 'type'>, ip: Omit<Ipv4Fields, 'proto'>, t: TcpFields): number[] {
  return [...ethernet({ ...eth, type: 0x0800 }), ...ipv4({ ...ip, proto: 6 }, tcp(ip.src, ip.dst, t))];
}

/** RFC 792 message: type, code, checksum over the whole message, 4 "rest" bytes, body. */
export function icmp(type: number, code: number, rest: number, body: readonly number[]): number[] {
  const m = [type, code, 0, 0, ...u32(rest), ...body];
  const c = internetChecksum(m);
  m[2] = c >>> 8;
  m[3] = c & 0xff;
  return m;
}

/** RFC 826 Ethernet/IPv4 ARP packet (28 bytes). op 1 request, 2 reply. */
export function arp(op: number, sha: string, spa: string, tha: string, tpa: string): number[] {
  return [...u16(1), ...u16(0x0800), 6, 4, ...u16(op), ...macBytes(sha), ...ipBytes(spa), ...macBytes(tha), ...ipBytes(tpa)];
}

/** Pad a frame with zero bytes to the 60-byte Ethernet minimum (without FCS), as a NIC does. */
export function pad60(frame: readonly number[]): number[] {
  return frame.length >= 60 ? [...frame] : [...frame, ...new Array<number>(60 - frame.length).fill(0)];
}

export function hex(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
}
