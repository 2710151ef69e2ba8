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
import type { ConnTable } from '../table/conn-table.js';
import { DROP } from './verdict.js';
import { FWD_FNAT, FWD_TUNNEL, repliesBypass } from './model.js';
import { rewriteQuoted } from './rewrite.js';
import * as frames from './frames.js';
import { statsIn, statsOut } from './counters.js';
import type { FrameCtx } from './frame-ctx.js';
import type { VipTable } from './vip-table.js';
import type { ServiceTable } from './service-table.js';
import type { NextHop } from './next-hop.js';
import type { IpipTunnel } from './tunnel.js';

/** What the ICMP path reads and writes. */
export interface IcmpCtx {
  readonly f: FrameCtx;
  readonly vips: VipTable;
  readonly table: ConnTable;
  readonly services: ServiceTable;
  readonly hop: NextHop;
  readonly ipip: IpipTunnel;
}

export function icmpInput(x: IcmpCtx, b: Uint8Array, l3: number, l4: number, total: number, ifi: number): number {
  const f = x.f;
  const l4len = total - (l4 - l3);
  if (l4len < icmp.ICMP_HLEN) return f.drop(DROP.l4_truncated);
  const type = b[l4]!;
  const daddr = ipv4.dst(b, l3);
  const vi = x.vips.index(daddr);
  if (type === icmp.ECHO_REQUEST && vi >= 0 && x.vips.active[vi] && !x.vips.local[vi]) {
    if (checksum(b, l4, l4len) !== 0) return f.drop(DROP.icmp_bad_checksum);
    return f.emit(b, frames.echoReplyInPlace(b, l3, l4, f.ifaces[ifi]!.mac), ifi);
  }
  if (!icmp.isRelatedError(type)) return f.drop(DROP.icmp_unrelated);
  // The quoted header and the first 8 bytes of its L4 header must be present.
  const inner = l4 + icmp.ICMP_HLEN;
  if (l4len < icmp.ICMP_HLEN + ipv4.IPV4_MIN_HLEN || b[inner]! >>> 4 !== 4) return f.drop(DROP.l4_truncated);
  const ihl = (b[inner]! & 0x0f) << 2;
  if (ihl < ipv4.IPV4_MIN_HLEN || l4len < icmp.ICMP_HLEN + ihl + 8) return f.drop(DROP.l4_truncated);
  const proto = b[inner + 9]!;
  if (proto !== ipv4.PROTO_TCP && proto !== ipv4.PROTO_UDP) return f.drop(DROP.icmp_unrelated);
  if (checksum(b, l4, l4len) !== 0) return f.drop(DROP.icmp_bad_checksum);
  const isrc = ipv4.src(b, inner), idst = ipv4.dst(b, inner);
  const isport = readU16(b, inner + ihl), idport = readU16(b, inner + ihl + 2);
  const t = x.table;
  // ip_vs_in_icmp: about a reply we sent as VIP:vport -> client. (A full-NAT local
  // address is in the VIP list too; its ICMP errors are the outgoing case below.)
  const ein = vi >= 0 ? t.findForward(proto, idst, idport, isrc, isport, false) : NONE;
  if (ein !== NONE) {
    const e = ein;
    const d = x.services.dests[t.dest[e]!]!;
    statsIn(f.counters, d, x.services.byId[t.svc[e]!]!, total);
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
    if (n < 0 || !x.hop.neigh.valid[n]) return x.hop.resolve(n);
    if (b[l3 + ipv4.OFF_TTL]! <= 1) return f.drop(DROP.ttl_exceeded);
    ipv4.decrementTtl(b, l3);
    if (t.fwd[e] === FWD_TUNNEL) {
      // ip_vs_icmp_xmit hands DR and tunnel entries to their transmitter: encapsulated as is.
      const len = x.ipip.encapsulate(f.scratch, b, l3, total, f.ifaces[d.iface]!.ip, d.addr);
      if (len < 0) return f.drop(DROP.oversize);
      setMacs(f.scratch, x.hop.neigh.mac, n * 6, f.ifaces[d.iface]!.mac);
      return f.emit(f.scratch, len, d.iface);
    }
    setMacs(b, x.hop.neigh.mac, n * 6, f.ifaces[d.iface]!.mac);
    return f.emit(b, l3 + total, d.iface);
  }
  // ip_vs_out_icmp: a real server reports on a packet client -> RIP:dport it received.
  const e = t.findReverse(proto, idst, idport, isrc, isport);
  if (e === NONE) return f.drop(DROP.not_ours);
  statsOut(f.counters, x.services.dests[t.dest[e]!]!, x.services.byId[t.svc[e]!]!, total);
  ipv4.setSrc(b, l3, t.vaddr[e]!);
  rewriteQuoted(b, inner, ipv4.OFF_DST, t.vaddr[e]!, 2, t.vport[e]!);
  if (t.fwd[e] === FWD_FNAT) {
    ipv4.setDst(b, l3, t.caddr[e]!);
    rewriteQuoted(b, inner, ipv4.OFF_SRC, t.caddr[e]!, 0, t.cport[e]!);
  }
  fillIcmpChecksum(b, l4, l4len);
  if (b[l3 + ipv4.OFF_TTL]! <= 1) return f.drop(DROP.ttl_exceeded);
  ipv4.decrementTtl(b, l3);
  const out = t.ciface[e]!;
  setMacs(b, t.cmac, e * 6, f.ifaces[out]!.mac);
  return f.emit(b, l3 + total, out);
}

function fillIcmpChecksum(b: Uint8Array, l4: number, l4len: number): void {
  b[l4 + 2] = 0;
  b[l4 + 3] = 0;
  const c = checksum(b, l4, l4len);
  b[l4 + 2] = c >>> 8;
  b[l4 + 3] = c & 0xff;
}
