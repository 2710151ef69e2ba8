/**
 * The transmitters for IPv6 entries (ip_vs_xmit.c's *_v6 functions): ip_vs_nat_xmit_v6
 * (destination to the real server, and the un-NAT of its replies), our full-NAT (the
 * source too, to an IPv6 local address) and ip_vs_dr_xmit_v6 (MACs only). As __ip_vs_get_out_rt_v6 and decrement_ttl do for IPv6: a packet larger
 * than the egress MTU gets an ICMPv6 Packet Too Big (IPv6 routers never fragment), a hop
 * limit of 1 an ICMPv6 Time Exceeded; the hop limit goes down by one, no header checksum.
 */
import { setMacs } from '../packet/ethernet.js';
import * as icmpv6 from '../packet/icmpv6.js';
import { IPV6_MIN_MTU, NEXTHDR_TCP, NEXTHDR_UDP, OFF_DST, OFF_HOPLIMIT, OFF_SRC } from '../packet/ipv6.js';
import { OFL_SIZE_SHIFT, wireSize } from '../packet/offload.js';
import { CF_SYNCED } from '../table/conn-table.js';
import type { ConnTable6 } from '../table/conn-table6.js';
import { FWD_DR, FWD_FNAT, FWD_MASQ, FWD_TUNNEL, type RealServer } from './model.js';
import { IP6IP6_HLEN, Ip6ip6Tunnel, segmentCount6 } from './tunnel6.js';
import { sendableWhole } from './tunnel.js';
import { CSUM_PARTIAL } from './rewrite.js';
import { fillChecksum6 } from '../packet/l4v6.js';
import { rewriteEnd6 } from './rewrite6.js';
import { DROP } from './verdict.js';
import type { FrameCtx } from './frame-ctx.js';
import type { IcmpErrors } from './icmp-error.js';
import type { NextHop } from './next-hop.js';

/** ICMPv6 Time Exceeded code 0: hop limit exceeded in transit (RFC 4443 3.3). */
const CODE_HOPLIMIT = 0;

export class Xmit6 {
  private readonly f: FrameCtx;
  private readonly table: ConnTable6;
  private readonly hop: NextHop;
  private readonly icmp: IcmpErrors;
  /** ip6ip6 encapsulation for IPv6 tunnel servers (tunnel6.ts). */
  readonly ip6ip6 = new Ip6ip6Tunnel();

  constructor(f: FrameCtx, table: ConnTable6, hop: NextHop, icmpErrors: IcmpErrors) {
    this.f = f;
    this.table = table;
    this.hop = hop;
    this.icmp = icmpErrors;
  }

  /** Client -> real server on entry e. The error source is the VIP: the packet's destination, ours. */
  toServer(b: Uint8Array, l3: number, l4: number, end: number, e: number, d: RealServer, proto: number, ifi: number): number {
    const f = this.f;
    const t = this.table;
    if (b[l3 + OFF_HOPLIMIT]! <= 1) {
      return this.icmp.toSender6(b, l3, end, ifi, icmpv6.TIME_EXCEED, CODE_HOPLIMIT, 0, DROP.ttl_exceeded, b, l3 + OFF_DST);
    }
    const out = d.iface;
    const fwd = t.fwd[e]!;
    // The tunnel's outer header takes 40 bytes of the route's MTU (__ip_vs_get_out_rt_v6).
    const mtu = f.ifaces[out]!.mtu - (fwd === FWD_TUNNEL ? IP6IP6_HLEN : 0);
    if (wireSize(f.rxOffload, b, l3, l4, end - l3, proto === NEXTHDR_TCP) > mtu) {
      return this.icmp.toSender6(b, l3, end, ifi, icmpv6.PKT_TOOBIG, 0, mtu, DROP.oversize, b, l3 + OFF_DST);
    }
    if (fwd === FWD_TUNNEL) return this.tunnel(b, l3, l4, end, d, proto, mtu);
    if (fwd === FWD_MASQ || fwd === FWD_FNAT) {
      rewriteEnd6(b, l3, l4, end, proto, OFF_DST, t.daddr, e, 2, t.dport[e]!, f.csumMode);
      if (fwd === FWD_FNAT) rewriteEnd6(b, l3, l4, end, proto, OFF_SRC, t.laddr, e, 0, t.lport[e]!, f.csumMode);
    } else if (fwd !== FWD_DR) {
      return f.drop(DROP.unsupported_fwd_ipv6);
    }
    b[l3 + OFF_HOPLIMIT]!--;
    return this.hop.send(d.neigh, b, end, out);
  }

  /**
   * ip_vs_tunnel_xmit_v6 (tunnel6.ts): hop limit decremented, the packet behind an outer
   * IPv6 header in the scratch buffer. A partial checksum is completed first (the frame
   * leaves with a plain vnet header); a super-frame that does not fit one packet is cut here.
   */
  private tunnel(b: Uint8Array, l3: number, l4: number, end: number, d: RealServer, proto: number, mtu: number): number {
    const f = this.f;
    const src = f.ifaces[d.iface]!.ip6;
    if (src === undefined || mtu < IPV6_MIN_MTU) return f.drop(DROP.oversize);
    const isUdp = proto === NEXTHDR_UDP;
    if (!sendableWhole(f.rxOffload, end - l4, end - l3, isUdp, mtu)) return this.tunnelSegments(b, l3, l4, end, d, proto, src);
    if (f.csumMode === CSUM_PARTIAL) {
      fillChecksum6(b, l3, l4, end - l4, proto);
      f.counters.partialCompleted++;
    }
    b[l3 + OFF_HOPLIMIT]!--;
    const len = this.ip6ip6.encapsulate(f.scratch, b, l3, end, src, d.addr6, 0);
    if (len < 0) return f.drop(DROP.oversize);
    return this.hop.send(d.neigh, f.scratch, len, d.iface);
  }

  /** Software GSO into the tunnel, as xmit.ts tunnelSegments: segment 0 is the verdict, the rest wait ready. */
  private tunnelSegments(b: Uint8Array, l3: number, l4: number, end: number, d: RealServer, proto: number, src: Uint8Array): number {
    const f = this.f;
    const n = d.neigh;
    const neigh = this.hop.neigh;
    if (n < 0 || !neigh.valid[n]) return this.hop.resolve(n);
    b[l3 + OFF_HOPLIMIT]!--;
    const gso = f.rxOffload >>> OFL_SIZE_SHIFT;
    const isUdp = proto === NEXTHDR_UDP;
    const count = segmentCount6(b, l4, end, gso, isUdp);
    const out = d.iface;
    const s = f.scratch;
    this.ip6ip6.segmented++;
    for (let k = 1; k < count; k++) {
      const len = this.ip6ip6.segment(s, b, l3, l4, end, proto, k, gso, src, d.addr6, 0);
      if (len < 0 || !this.hop.pending.enqueueReady(n, s, len, out, f.now)) {
        f.counters.drops[DROP.tunnel_gso]! += count - k;
        break;
      }
    }
    const len = this.ip6ip6.segment(s, b, l3, l4, end, proto, 0, gso, src, d.addr6, 0);
    if (len < 0) return f.drop(DROP.oversize);
    setMacs(s, neigh.mac, n * 6, f.ifaces[out]!.mac);
    return f.emit(s, len, out);
  }

  /** One-packet scheduling (-o) to d, no entry kept. */
  onePacket(b: Uint8Array, l3: number, l4: number, end: number, d: RealServer, proto: number, dport: number): number {
    const f = this.f;
    if (b[l3 + OFF_HOPLIMIT]! <= 1) return f.drop(DROP.ttl_exceeded);
    const out = d.iface;
    const mtu = f.ifaces[out]!.mtu - (d.fwd === FWD_TUNNEL ? IP6IP6_HLEN : 0);
    if (wireSize(f.rxOffload, b, l3, l4, end - l3, proto === NEXTHDR_TCP) > mtu) return f.drop(DROP.oversize);
    if (d.fwd === FWD_TUNNEL) return this.tunnel(b, l3, l4, end, d, proto, mtu);
    // As xmit.ts onePacket: full-NAT without an entry has no local port, only the destination changes.
    if (d.fwd === FWD_MASQ || d.fwd === FWD_FNAT) rewriteEnd6(b, l3, l4, end, proto, OFF_DST, d.addr6, 0, 2, d.port !== 0 ? d.port : dport, f.csumMode);
    else if (d.fwd !== FWD_DR) return f.drop(DROP.unsupported_fwd_ipv6);
    b[l3 + OFF_HOPLIMIT]!--;
    return this.hop.send(d.neigh, b, end, out);
  }

  /** NAT real server -> client on entry e: the source back to VIP:vport. */
  toClient(b: Uint8Array, l3: number, l4: number, end: number, e: number, proto: number): number {
    const t = this.table;
    const f = this.f;
    if (b[l3 + OFF_HOPLIMIT]! <= 1) return f.drop(DROP.ttl_exceeded);
    if (t.flags[e]! & CF_SYNCED) return f.drop(DROP.client_mac_unknown);
    const out = t.ciface[e]!;
    if (wireSize(f.rxOffload, b, l3, l4, end - l3, proto === NEXTHDR_TCP) > f.ifaces[out]!.mtu) return f.drop(DROP.oversize);
    rewriteEnd6(b, l3, l4, end, proto, OFF_SRC, t.vaddr, e, 0, t.vport[e]!, f.csumMode);
    if (t.fwd[e] === FWD_FNAT) rewriteEnd6(b, l3, l4, end, proto, OFF_DST, t.caddr, e, 2, t.cport[e]!, f.csumMode);
    b[l3 + OFF_HOPLIMIT]!--;
    setMacs(b, t.cmac, e * 6, f.ifaces[out]!.mac);
    return f.emit(b, end, out);
  }
}
