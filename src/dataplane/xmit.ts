/**
 * The forwarding methods' transmitters (ip_vs_xmit.c): ip_vs_nat_xmit (and our full-NAT),
 * ip_vs_dr_xmit, ip_vs_tunnel_xmit, and the un-NAT of replies (ip_vs_out's snat handlers).
 * TTL and MTU are checked as decrement_ttl and ensure_mtu_is_adequate do.
 */
import { readU16 } from '../packet/bytes.js';
import { setMacs } from '../packet/ethernet.js';
import * as ipv4 from '../packet/ipv4.js';
import * as icmp from '../packet/icmp.js';
import { OFL_SIZE_SHIFT, wireSize } from '../packet/offload.js';
import { fillChecksum } from '../packet/l4.js';
import { CF_SYNCED, type ConnTable } from '../table/conn-table.js';
import { DROP } from './verdict.js';
import { FWD_DR, FWD_FNAT, FWD_TUNNEL, type RealServer } from './model.js';
import { CSUM_PARTIAL, rewriteEnd } from './rewrite.js';
import { IPIP_HLEN, IpipTunnel, MIN_TUNNEL_MTU, segmentCount, sendableWhole } from './tunnel.js';
import type { FrameCtx } from './frame-ctx.js';
import type { NextHop } from './next-hop.js';
import type { IcmpErrors } from './icmp-error.js';

export class Xmit {
  private readonly f: FrameCtx;
  private readonly table: ConnTable;
  private readonly hop: NextHop;
  private readonly icmp: IcmpErrors;
  /** IPIP encapsulation for tunnel servers (tunnel.ts). */
  readonly ipip = new IpipTunnel();

  constructor(f: FrameCtx, table: ConnTable, hop: NextHop, icmpErrors: IcmpErrors) {
    this.f = f;
    this.table = table;
    this.hop = hop;
    this.icmp = icmpErrors;
  }

  /** Client -> real server on entry e, by the entry's forwarding method. */
  toServer(b: Uint8Array, l3: number, l4: number, total: number, e: number, d: RealServer, proto: number, ifi: number): number {
    const t = this.table;
    const f = this.f;
    const fwd = t.fwd[e]!;
    if (b[l3 + ipv4.OFF_TTL]! <= 1) {
      // decrement_ttl: ICMP time exceeded back to the client.
      return this.icmp.toSender(b, l3, ifi, icmp.TIME_EXCEEDED, 0, 0, DROP.ttl_exceeded);
    }
    const out = d.iface;
    // A tunnel's outer header takes 20 bytes of the route's MTU (__ip_vs_get_out_rt).
    const mtu = f.ifaces[out]!.mtu - (fwd === FWD_TUNNEL ? IPIP_HLEN : 0);
    if (wireSize(f.rxOffload, b, l3, l4, total, proto === ipv4.PROTO_TCP) > mtu) {
      // ensure_mtu_is_adequate (for a GSO frame: skb_gso_validate_network_len, one segment):
      // DF set -> "fragmentation needed" with the next-hop MTU.
      if (readU16(b, l3 + 6) & ipv4.FLAG_DF) return this.icmp.toSender(b, l3, ifi, icmp.DEST_UNREACH, icmp.CODE_FRAG_NEEDED, mtu, DROP.oversize);
      return f.drop(DROP.oversize);
    }
    if (fwd === FWD_TUNNEL) return this.tunnel(b, l3, l4, total, d, proto, mtu);
    if (fwd !== FWD_DR) {
      const isUdp = proto === ipv4.PROTO_UDP;
      rewriteEnd(b, l3, l4, isUdp, ipv4.OFF_DST, t.daddr[e]!, 2, t.dport[e]!, f.csumMode);
      if (fwd === FWD_FNAT) rewriteEnd(b, l3, l4, isUdp, ipv4.OFF_SRC, t.laddr[e]!, 0, t.lport[e]!, f.csumMode);
    }
    ipv4.decrementTtl(b, l3);
    return this.hop.send(d.neigh, b, l3 + total, out);
  }

  /** One-packet scheduling (-o): the datagram goes to d with no entry (no ICMP on failure). */
  onePacket(b: Uint8Array, l3: number, l4: number, total: number, d: RealServer, proto: number): number {
    const f = this.f;
    if (b[l3 + ipv4.OFF_TTL]! <= 1) return f.drop(DROP.ttl_exceeded);
    const out = d.iface;
    const mtu = f.ifaces[out]!.mtu - (d.fwd === FWD_TUNNEL ? IPIP_HLEN : 0);
    if (wireSize(f.rxOffload, b, l3, l4, total, proto === ipv4.PROTO_TCP) > mtu) return f.drop(DROP.oversize);
    if (d.fwd === FWD_TUNNEL) return this.tunnel(b, l3, l4, total, d, proto, mtu);
    if (d.fwd !== FWD_DR) {
      rewriteEnd(b, l3, l4, proto === ipv4.PROTO_UDP, ipv4.OFF_DST, d.addr, 2, d.port !== 0 ? d.port : readU16(b, l4 + 2), f.csumMode);
    }
    ipv4.decrementTtl(b, l3);
    return this.hop.send(d.neigh, b, l3 + total, out);
  }

  /** Real server -> client on entry e (NAT, full-NAT): the source back to VIP:vport. */
  toClient(b: Uint8Array, l3: number, l4: number, total: number, e: number, proto: number): number {
    const t = this.table;
    const f = this.f;
    if (b[l3 + ipv4.OFF_TTL]! <= 1) return f.drop(DROP.ttl_exceeded);
    // A connection received by sync has not seen its client's next hop yet.
    if (t.flags[e]! & CF_SYNCED) return f.drop(DROP.client_mac_unknown);
    const out = t.ciface[e]!;
    if (wireSize(f.rxOffload, b, l3, l4, total, proto === ipv4.PROTO_TCP) > f.ifaces[out]!.mtu) return f.drop(DROP.oversize);
    const isUdp = proto === ipv4.PROTO_UDP;
    rewriteEnd(b, l3, l4, isUdp, ipv4.OFF_SRC, t.vaddr[e]!, 0, t.vport[e]!, f.csumMode);
    if (t.fwd[e] === FWD_FNAT) rewriteEnd(b, l3, l4, isUdp, ipv4.OFF_DST, t.caddr[e]!, 2, t.cport[e]!, f.csumMode);
    ipv4.decrementTtl(b, l3);
    setMacs(b, t.cmac, e * 6, f.ifaces[out]!.mac);
    return f.emit(b, l3 + total, out);
  }

  /**
   * ip_vs_tunnel_xmit (tunnel.ts): TTL decremented, the packet behind an outer IPv4 header
   * in the scratch buffer. A partial checksum is completed first: the frame leaves with a
   * plain vnet header, so no device is asked to checksum inside a tunnel. A GSO super-frame
   * that does not fit one packet is segmented here (the vnet header has no IPIP type).
   */
  private tunnel(b: Uint8Array, l3: number, l4: number, total: number, d: RealServer, proto: number, mtu: number): number {
    const f = this.f;
    if (mtu < MIN_TUNNEL_MTU) return f.drop(DROP.oversize);
    const isUdp = proto === ipv4.PROTO_UDP;
    if (!sendableWhole(f.rxOffload, total - (l4 - l3), total, isUdp, mtu)) return this.tunnelSegments(b, l3, total, d, isUdp);
    if (f.csumMode === CSUM_PARTIAL) {
      fillChecksum(b, l3);
      f.counters.partialCompleted++;
    }
    ipv4.decrementTtl(b, l3);
    const out = d.iface;
    const len = this.ipip.encapsulate(f.scratch, b, l3, total, f.ifaces[out]!.ip, d.addr);
    if (len < 0) return f.drop(DROP.oversize);
    return this.hop.send(d.neigh, f.scratch, len, out);
  }

  /**
   * Software GSO for a tunnel: segment 0 is the verdict, the others wait ready in the
   * neighbour queue and go right after it (takeQueued). Segments that find no free slot are
   * dropped and counted as `tunnel_gso`.
   */
  private tunnelSegments(b: Uint8Array, l3: number, total: number, d: RealServer, isUdp: boolean): number {
    const f = this.f;
    const n = d.neigh;
    const neigh = this.hop.neigh;
    if (n < 0 || !neigh.valid[n]) return this.hop.resolve(n);
    ipv4.decrementTtl(b, l3);
    const gso = f.rxOffload >>> OFL_SIZE_SHIFT;
    const count = segmentCount(b, l3, total, gso, isUdp);
    const out = d.iface;
    const src = f.ifaces[out]!.ip;
    const s = f.scratch;
    this.ipip.segmented++;
    for (let k = 1; k < count; k++) {
      const len = this.ipip.segment(s, b, l3, total, k, gso, isUdp, src, d.addr);
      if (len < 0 || !this.hop.pending.enqueueReady(n, s, len, out, f.now)) {
        f.counters.drops[DROP.tunnel_gso]! += count - k;
        break;
      }
    }
    const len = this.ipip.segment(s, b, l3, total, 0, gso, isUdp, src, d.addr);
    if (len < 0) return f.drop(DROP.oversize);
    setMacs(s, neigh.mac, n * 6, f.ifaces[out]!.mac);
    return f.emit(s, len, out);
  }
}
