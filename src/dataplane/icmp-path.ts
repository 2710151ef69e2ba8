/**
 * ICMP on the data plane: echo requests to a VIP are answered; errors that quote a
 * balanced flow are translated like ip_vs_in_icmp (client side, about our replies) and
 * ip_vs_out_icmp (a NAT real server reporting on a packet it received). Only types 3, 4
 * and 11 are related; the quoted L4 checksum is left stale, as the kernel does.
 */
import { readU16 } from '../packet/bytes.js';
import { setMacs } from '../packet/ethernet.js';
import * as ipv4 from '../packet/ipv4.js';
import * as icmp from '../packet/icmp.js';
import { checksum } from '../packet/checksum.js';
import { NONE } from '../table/conn-table.js';
import { DROP } from './verdict.js';
import { FWD_FNAT, FWD_TUNNEL, repliesBypass } from './model.js';
import { rewriteQuoted } from './rewrite.js';
import * as frames from './frames.js';
import type { Engine } from './engine.js';

export function icmpPath(x: Engine, b: Uint8Array, l3: number, l4: number, total: number, ifi: number): number {
  const l4len = total - (l4 - l3);
  if (l4len < icmp.ICMP_HLEN) return x.drop(DROP.l4_truncated);
  const type = b[l4]!;
  const daddr = ipv4.dst(b, l3);
  const vi = x.vips.index(daddr);
  if (type === icmp.ECHO_REQUEST && vi >= 0 && x.vips.active[vi] && !x.vips.local[vi]) {
    if (checksum(b, l4, l4len) !== 0) return x.drop(DROP.icmp_bad_checksum);
    return x.emit(b, frames.echoReplyInPlace(b, l3, l4, x.ifaces[ifi]!.mac), ifi);
  }
  if (!icmp.isRelatedError(type)) return x.drop(DROP.icmp_unrelated);
  // The quoted header and the first 8 bytes of its L4 header must be present.
  const inner = l4 + icmp.ICMP_HLEN;
  if (l4len < icmp.ICMP_HLEN + ipv4.IPV4_MIN_HLEN || b[inner]! >>> 4 !== 4) return x.drop(DROP.l4_truncated);
  const ihl = (b[inner]! & 0x0f) << 2;
  if (ihl < ipv4.IPV4_MIN_HLEN || l4len < icmp.ICMP_HLEN + ihl + 8) return x.drop(DROP.l4_truncated);
  const proto = b[inner + 9]!;
  if (proto !== ipv4.PROTO_TCP && proto !== ipv4.PROTO_UDP) return x.drop(DROP.icmp_unrelated);
  if (checksum(b, l4, l4len) !== 0) return x.drop(DROP.icmp_bad_checksum);
  const isrc = ipv4.src(b, inner), idst = ipv4.dst(b, inner);
  const isport = readU16(b, inner + ihl), idport = readU16(b, inner + ihl + 2);
  const t = x.table;
  // ip_vs_in_icmp: about a reply we sent as VIP:vport -> client. (A full-NAT local
  // address is in the VIP list too; its ICMP errors are the outgoing case below.)
  const ein = vi >= 0 ? t.findForward(proto, idst, idport, isrc, isport, false) : NONE;
  if (ein !== NONE) {
    const e = ein;
    const d = x.dests[t.dest[e]!]!;
    x.statsIn(d, x.svcById[t.svc[e]!]!, total);
    if (!repliesBypass(t.fwd[e]!)) {
      ipv4.setDst(b, l3, t.daddr[e]!);
      rewriteQuoted(b, inner, ipv4.OFF_SRC, t.daddr[e]!, 0, t.dport[e]!);
      if (t.fwd[e] === FWD_FNAT) {
        ipv4.setSrc(b, l3, t.laddr[e]!);
        rewriteQuoted(b, inner, ipv4.OFF_DST, t.laddr[e]!, 2, t.lport[e]!);
      }
      fillIcmpChecksum(b, l4, l4len);
    }
    const n = d.neigh;
    if (n < 0 || !x.neigh.valid[n]) return x.resolve(n);
    if (b[l3 + ipv4.OFF_TTL]! <= 1) return x.drop(DROP.ttl_exceeded);
    ipv4.decrementTtl(b, l3);
    if (t.fwd[e] === FWD_TUNNEL) {
      // ip_vs_icmp_xmit hands DR and tunnel entries to their transmitter: encapsulated as is.
      const len = x.ipip.encapsulate(x.scratch, b, l3, total, x.ifaces[d.iface]!.ip, d.addr);
      if (len < 0) return x.drop(DROP.oversize);
      setMacs(x.scratch, x.neigh.mac, n * 6, x.ifaces[d.iface]!.mac);
      return x.emit(x.scratch, len, d.iface);
    }
    setMacs(b, x.neigh.mac, n * 6, x.ifaces[d.iface]!.mac);
    return x.emit(b, l3 + total, d.iface);
  }
  // ip_vs_out_icmp: a real server reports on a packet client -> RIP:dport it received.
  const e = t.findReverse(proto, idst, idport, isrc, isport);
  if (e === NONE) return x.drop(DROP.not_ours);
  x.statsOut(x.dests[t.dest[e]!]!, x.svcById[t.svc[e]!]!, total);
  ipv4.setSrc(b, l3, t.vaddr[e]!);
  rewriteQuoted(b, inner, ipv4.OFF_DST, t.vaddr[e]!, 2, t.vport[e]!);
  if (t.fwd[e] === FWD_FNAT) {
    ipv4.setDst(b, l3, t.caddr[e]!);
    rewriteQuoted(b, inner, ipv4.OFF_SRC, t.caddr[e]!, 0, t.cport[e]!);
  }
  fillIcmpChecksum(b, l4, l4len);
  if (b[l3 + ipv4.OFF_TTL]! <= 1) return x.drop(DROP.ttl_exceeded);
  ipv4.decrementTtl(b, l3);
  const out = t.ciface[e]!;
  setMacs(b, t.cmac, e * 6, x.ifaces[out]!.mac);
  return x.emit(b, l3 + total, out);
}

function fillIcmpChecksum(b: Uint8Array, l4: number, l4len: number): void {
  b[l4 + 2] = 0;
  b[l4 + 3] = 0;
  const c = checksum(b, l4, l4len);
  b[l4 + 2] = c >>> 8;
  b[l4 + 3] = c & 0xff;
}
