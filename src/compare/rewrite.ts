/**
 * Header fields of a frame as the rewrite comparison shows them, and which of them
 * the director changed (ip_vs_nat_xmit / ip_vs_dr_xmit / ip_vs_tunnel_xmit on the
 * kernel side, the engine's transmit on ours). Values differ between the sides (MACs,
 * ISNs); what is compared is the set of fields each side changed. An IPIP frame
 * (tunnel mode) has its outer header as `outer.*` fields, which only the frame after
 * the director has: those are compared by value (src/compare/compare.ts), and the
 * ip.* and l4.* fields are the encapsulated packet's.
 */
import { formatMac } from '../packet/addr.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, etherType, l3Offset } from '../packet/ethernet.js';
import * as ipv4 from '../packet/ipv4.js';
import * as ipv6 from '../packet/ipv6.js';
import { formatIPv6Bytes } from '../packet/addr6.js';
import * as tcp from '../packet/tcp.js';
import * as udp from '../packet/udp.js';
import { IPPROTO_IPIP } from '../lvs/proto.js';
import type { FrameFields, RewriteSample } from './result.js';

export const FIELD_ORDER = [
  'eth.src', 'eth.dst',
  'outer.src', 'outer.dst', 'outer.proto', 'outer.ttl', 'outer.tos', 'outer.df', 'outer.id', 'outer.len', 'outer.checksum',
  'ip.src', 'ip.dst', 'ip.ttl', 'ip.hlim', 'ip.tclass', 'ip.flow', 'ip.id', 'ip.checksum',
  'l4.sport', 'l4.dport', 'tcp.seq', 'tcp.ack', 'tcp.flags', 'l4.checksum',
] as const;

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

/**
 * The fields of an Ethernet/IPv4/TCP-or-UDP frame, or of one in IPIP, or of an
 * Ethernet/IPv6/TCP-or-UDP frame without extension headers (ip.hlim, ip.tclass and
 * ip.flow in place of ip.ttl, ip.id and ip.checksum); null for anything else.
 */
export function frameFields(b: Uint8Array): FrameFields | null {
  let l3 = l3Offset(b, b.length);
  if (l3 >= 0 && etherType(b, l3) === ETHERTYPE_IPV6) return frameFields6(b, l3);
  if (l3 < 0 || etherType(b, l3) !== ETHERTYPE_IPV4 || b.length < l3 + 20) return null;
  const f: FrameFields = { 'eth.src': formatMac(b, 6), 'eth.dst': formatMac(b, 0) };
  let ip = ipv4.decode(b, l3);
  if (ip.protocol === IPPROTO_IPIP && b.length >= l3 + ip.headerLength + 20) {
    const inner = l3 + ip.headerLength;
    Object.assign(f, {
      'outer.src': ip.src, 'outer.dst': ip.dst, 'outer.proto': String(ip.protocol), 'outer.ttl': String(ip.ttl),
      'outer.tos': `0x${ip.tos.toString(16).padStart(2, '0')}`, 'outer.df': ip.df ? 'DF' : '-', 'outer.id': hex4(ip.id),
      'outer.len': `inner + ${ip.totalLength - ipv4.totalLength(b, inner)}`,
      'outer.checksum': ipv4.verifyHeader(b, l3, ip.headerLength) ? 'valid' : 'bad',
    });
    l3 = inner;
    ip = ipv4.decode(b, l3);
  }
  const l4 = l3 + ip.headerLength;
  Object.assign(f, {
    'ip.src': ip.src, 'ip.dst': ip.dst, 'ip.ttl': String(ip.ttl), 'ip.id': hex4(ip.id), 'ip.checksum': hex4(ip.checksum),
  });
  return l4Fields(f, b, ip.protocol, l4);
}

function frameFields6(b: Uint8Array, l3: number): FrameFields | null {
  if (b.length < l3 + ipv6.IPV6_HLEN) return null;
  const f: FrameFields = {
    'eth.src': formatMac(b, 6), 'eth.dst': formatMac(b, 0),
    'ip.src': formatIPv6Bytes(b, l3 + ipv6.OFF_SRC), 'ip.dst': formatIPv6Bytes(b, l3 + ipv6.OFF_DST),
    'ip.hlim': String(ipv6.hopLimit(b, l3)),
    'ip.tclass': `0x${ipv6.trafficClass(b, l3).toString(16).padStart(2, '0')}`,
    'ip.flow': `0x${ipv6.flowLabel(b, l3).toString(16).padStart(5, '0')}`,
  };
  return l4Fields(f, b, ipv6.nextHeader(b, l3), l3 + ipv6.IPV6_HLEN);
}

/** The TCP or UDP fields at l4 added to f; null when the protocol is neither or the header is cut. */
function l4Fields(f: FrameFields, b: Uint8Array, protocol: number, l4: number): FrameFields | null {
  if (protocol === ipv4.PROTO_TCP && b.length >= l4 + 20) {
    const h = tcp.decode(b, l4);
    Object.assign(f, {
      'l4.sport': String(h.sport), 'l4.dport': String(h.dport), 'tcp.seq': String(h.seq), 'tcp.ack': String(h.ack),
      'tcp.flags': tcpFlags(h.flags), 'l4.checksum': hex4(h.checksum),
    });
  } else if (protocol === ipv4.PROTO_UDP && b.length >= l4 + 8) {
    const h = udp.decode(b, l4);
    Object.assign(f, { 'l4.sport': String(h.sport), 'l4.dport': String(h.dport), 'l4.checksum': hex4(h.checksum) });
  } else {
    return null;
  }
  return f;
}

export function tcpFlags(flags: number): string {
  const names: [number, string][] = [[tcp.SYN, 'S'], [tcp.ACK, 'A'], [tcp.FIN, 'F'], [tcp.RST, 'R'], [tcp.PSH, 'P']];
  return names.filter(([bit]) => flags & bit).map(([, n]) => n).join('') || '.';
}

/** Fields whose value differs between before and after (or that only after has), in FIELD_ORDER. */
export function changedFields(s: Pick<RewriteSample, 'before' | 'after'>): string[] {
  return FIELD_ORDER.filter((k) => (k in s.before || k in s.after) && s.before[k] !== s.after[k]);
}
