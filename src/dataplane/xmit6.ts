/**
 * The transmitters for IPv6 entries (ip_vs_xmit.c's *_v6 functions): ip_vs_nat_xmit_v6
 * (destination to the real server, and the un-NAT of its replies), our full-NAT (the
 * source too, to an IPv6 local address) and ip_vs_dr_xmit_v6 (MACs only). As __ip_vs_get_out_rt_v6 and decrement_ttl do for IPv6: a packet larger
 * than the egress MTU gets an ICMPv6 Packet Too Big (IPv6 routers never fragment), a hop
 * limit of 1 an ICMPv6 Time Exceeded; the hop limit goes down by one, no header checksum.
 */
import { setMacs } from '../packet/ethernet.js';
import * as icmpv6 from '../packet/icmpv6.js';
import { OFF_DST, OFF_HOPLIMIT, OFF_SRC, NEXTHDR_TCP } from '../packet/ipv6.js';
import { OFL_SIZE_SHIFT } from '../packet/offload.js';
import { CF_SYNCED } from '../table/conn-table.js';
import type { ConnTable6 } from '../table/conn-table6.js';
import { FWD_DR, FWD_FNAT, FWD_MASQ, type RealServer } from './model.js';
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

  constructor(f: FrameCtx, table: ConnTable6, hop: NextHop, icmpErrors: IcmpErrors) {
    this.f = f;
    this.table = table;
    this.hop = hop;
    this.icmp = icmpErrors;
  }

  /** Bytes of one packet on the wire: the packet, or one GSO segment of it. */
  private wireSize(b: Uint8Array, l3: number, l4: number, end: number, proto: number): number {
    const gso = this.f.rxOffload >>> OFL_SIZE_SHIFT;
    if (gso === 0) return end - l3;
    const l4h = proto === NEXTHDR_TCP ? (b[l4 + 12]! >>> 4) << 2 : 8;
    const seg = l4 - l3 + l4h + gso;
    return seg < end - l3 ? seg : end - l3;
  }

  /** Client -> real server on entry e. The error source is the VIP: the packet's destination, ours. */
  toServer(b: Uint8Array, l3: number, l4: number, end: number, e: number, d: RealServer, proto: number, ifi: number): number {
    const f = this.f;
    const t = this.table;
    if (b[l3 + OFF_HOPLIMIT]! <= 1) {
      return this.icmp.toSender6(b, l3, end, ifi, icmpv6.TIME_EXCEED, CODE_HOPLIMIT, 0, DROP.ttl_exceeded, b, l3 + OFF_DST);
    }
    const out = d.iface;
    const mtu = f.ifaces[out]!.mtu;
    if (this.wireSize(b, l3, l4, end, proto) > mtu) {
      return this.icmp.toSender6(b, l3, end, ifi, icmpv6.PKT_TOOBIG, 0, mtu, DROP.oversize, b, l3 + OFF_DST);
    }
    const fwd = t.fwd[e]!;
    if (fwd === FWD_MASQ || fwd === FWD_FNAT) {
      rewriteEnd6(b, l3, l4, end, proto, OFF_DST, t.daddr, e, 2, t.dport[e]!, f.csumMode);
      if (fwd === FWD_FNAT) rewriteEnd6(b, l3, l4, end, proto, OFF_SRC, t.laddr, e, 0, t.lport[e]!, f.csumMode);
    } else if (fwd !== FWD_DR) {
      return f.drop(DROP.unsupported_fwd_ipv6);
    }
    b[l3 + OFF_HOPLIMIT]!--;
    return this.hop.send(d.neigh, b, end, out);
  }

  /** One-packet scheduling (-o) to d, no entry kept. */
  onePacket(b: Uint8Array, l3: number, l4: number, end: number, d: RealServer, proto: number, dport: number): number {
    const f = this.f;
    if (b[l3 + OFF_HOPLIMIT]! <= 1) return f.drop(DROP.ttl_exceeded);
    const out = d.iface;
    if (this.wireSize(b, l3, l4, end, proto) > f.ifaces[out]!.mtu) return f.drop(DROP.oversize);
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
    if (this.wireSize(b, l3, l4, end, proto) > f.ifaces[out]!.mtu) return f.drop(DROP.oversize);
    rewriteEnd6(b, l3, l4, end, proto, OFF_SRC, t.vaddr, e, 0, t.vport[e]!, f.csumMode);
    if (t.fwd[e] === FWD_FNAT) rewriteEnd6(b, l3, l4, end, proto, OFF_DST, t.caddr, e, 2, t.cport[e]!, f.csumMode);
    b[l3 + OFF_HOPLIMIT]!--;
    setMacs(b, t.cmac, e * 6, f.ifaces[out]!.mac);
    return f.emit(b, end, out);
  }
}
