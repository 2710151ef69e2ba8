/**
 * The per-packet dispatch for IPv6, pipeline.ts's counterpart: the packet is checked (fixed
 * header, extension headers walked as ip_vs_fill_iph_skb_off does with ipv6_find_hdr,
 * TCP/UDP headers, offload state), then goes to ip_vs_in (client -> IPv6 VIP), ip_vs_out
 * (a NAT real server's reply) or ICMPv6 (nd-input.ts). Engine.process calls it for
 * EtherType 0x86dd, after the IPv4 and ARP branches, so IPv4 pays nothing for it.
 */
import { GUARD_ADMIT } from '../defense/guard.js';
import { readU16 } from '../packet/bytes.js';
import { foldAddr6, readAddr6 } from '../packet/addr6.js';
import * as ipv6 from '../packet/ipv6.js';
import * as icmpv6 from '../packet/icmpv6.js';
import { FH_FRAG, UL_FLAGS, UL_FRAGOFF, UL_OFFSET, UL_SLOTS, findUpperLayer } from '../packet/ipv6-ext.js';
import * as tcp from '../packet/tcp.js';
import { fillChecksum6 } from '../packet/l4v6.js';
import { looksPartial6 } from '../packet/partial-csum.js';
import { OFL_CSUM_PARTIAL, OFL_GSO_MASK, OFL_GSO_TCPV6, OFL_GSO_UDP_L4, OFL_KNOWN, OFL_SIZE_SHIFT } from '../packet/offload.js';
import { AF_INET6 } from '../lvs/af.js';
import { CF_NOOUTPUT, CF_SYNCED, NONE } from '../table/conn-table.js';
import { DIR_INPUT, DIR_INPUT_ONLY, DIR_OUTPUT, S_UDP } from '../table/tcp-state.js';
import { DEST_F_AVAILABLE } from '../sched/types.js';
import type { VirtualService } from './model.js';
import { CSUM_FULL, CSUM_INCREMENTAL, CSUM_PARTIAL } from './rewrite.js';
import { countConn, statsIn, statsOut } from './counters.js';
import { SCHED_FNAT_EXHAUSTED, SCHED_TABLE_FULL } from './conn.js';
import { W_CLIENT, W_VIP, type Conns6 } from './conn6.js';
import { DROP } from './verdict.js';
import type { FrameCtx } from './frame-ctx.js';
import type { IcmpErrors } from './icmp-error.js';
import type { NdInput } from './nd-input.js';
import type { Icmp6 } from './icmp6.js';
import type { ServiceTable } from './service-table.js';
import type { Hooks, Settings } from './settings.js';
import { setClientHop6 } from './conn-sync6.js';
import type { Vip6Table } from './vip6-table.js';
import type { Xmit6 } from './xmit6.js';

const TCP = ipv6.NEXTHDR_TCP;
const UDP = ipv6.NEXTHDR_UDP;

export class Pipeline6 {
  private readonly f: FrameCtx;
  private readonly services: ServiceTable;
  private readonly vips: Vip6Table;
  private readonly conns: Conns6;
  private readonly xmit: Xmit6;
  private readonly nd: NdInput;
  private readonly icmp6: Icmp6;
  private readonly icmp: IcmpErrors;
  private readonly settings: Settings;
  private readonly hooks: Hooks;
  private readonly timeoutsMs: Float64Array;
  private readonly ul = new Int32Array(UL_SLOTS);

  constructor(
    f: FrameCtx, services: ServiceTable, vips: Vip6Table, conns: Conns6, xmit: Xmit6, ndInput: NdInput, icmp6: Icmp6, icmpErrors: IcmpErrors, settings: Settings, hooks: Hooks,
  ) {
    this.f = f;
    this.services = services;
    this.vips = vips;
    this.conns = conns;
    this.xmit = xmit;
    this.nd = ndInput;
    this.icmp6 = icmp6;
    this.icmp = icmpErrors;
    this.settings = settings;
    this.hooks = hooks;
    this.timeoutsMs = settings.timeoutsMs;
  }

  ipv6(b: Uint8Array, len: number, l3: number, ifi: number): number {
    const f = this.f;
    if (len - l3 < ipv6.IPV6_HLEN) return f.drop(DROP.ip_truncated);
    if (b[l3]! >>> 4 !== 6) return f.drop(DROP.ip_bad_version);
    const end = ipv6.packetEnd(b, l3, len);
    if (end < 0) return f.drop(DROP.ip_truncated);
    let proto = b[l3 + ipv6.OFF_NEXT]!;
    let l4 = l3 + ipv6.IPV6_HLEN;
    if (proto !== TCP && proto !== UDP && proto !== ipv6.NEXTHDR_ICMPV6) {
      const ul = this.ul;
      proto = findUpperLayer(b, l3, end, ul);
      if (proto < 0) return f.drop(DROP.ip6_bad_ext_header);
      // IPVS sees reassembled packets only (nf_defrag_ipv6 runs before it); we do not reassemble.
      if ((ul[UL_FLAGS]! & FH_FRAG) !== 0 || ul[UL_FRAGOFF] !== 0) return f.drop(DROP.ip_fragment);
      l4 = ul[UL_OFFSET]!;
    }
    const l4len = end - l4;
    if (proto === TCP) {
      if (l4len < tcp.TCP_MIN_HLEN) return f.drop(DROP.l4_truncated);
      const doff = (b[l4 + 12]! >>> 4) << 2;
      if (doff < tcp.TCP_MIN_HLEN || doff > l4len) return f.drop(DROP.l4_bad_header);
    } else if (proto === UDP) {
      if (l4len < 8) return f.drop(DROP.l4_truncated);
      const ulen = readU16(b, l4 + 4);
      if (ulen < 8 || ulen > l4len) return f.drop(DROP.l4_bad_header);
    } else if (proto === ipv6.NEXTHDR_ICMPV6) {
      return this.icmpv6(b, l3, l4, end, ifi);
    } else {
      return f.drop(DROP.unsupported_protocol);
    }
    if (!this.offloads(b, l3, l4, l4len, proto, ifi)) return f.drop(DROP.oversize);
    const sport = readU16(b, l4);
    const dport = readU16(b, l4 + 2);
    const svc = this.services.find6At(proto, b, l3 + ipv6.OFF_DST, dport);
    const w = this.conns.w;
    readAddr6(b, l3 + ipv6.OFF_SRC, w, 0);
    readAddr6(b, l3 + ipv6.OFF_DST, w, 1);
    if (svc !== null) {
      if (!this.vips.active[svc.vipIndex]) return f.drop(DROP.vip_passive);
      return this.inbound(b, l3, l4, end, ifi, svc, proto, sport, dport);
    }
    return this.outbound(b, l3, l4, end, proto, sport, dport);
  }

  private icmpv6(b: Uint8Array, l3: number, c: number, end: number, ifi: number): number {
    if (end - c < icmpv6.ICMPV6_HLEN) return this.f.drop(DROP.l4_truncated);
    const type = b[c]!;
    if (type === icmpv6.NEIGHBOUR_SOLICIT) return this.nd.solicit(b, l3, c, end, ifi);
    if (type === icmpv6.NEIGHBOUR_ADVERT) return this.nd.advert(b, l3, c, end, ifi);
    if (type === icmpv6.ECHO_REQUEST) return this.nd.echo(b, l3, c, end, ifi);
    if (icmpv6.isRelatedError6(type)) return this.icmp6.error(b, l3, c, end);
    return this.f.drop(DROP.icmp_unrelated);
  }

  /** pipeline.ts offloads() for IPv6: TCPv6 and UDP_L4 super-frames may be forwarded whole. */
  private offloads(b: Uint8Array, l3: number, l4: number, l4len: number, proto: number, ifi: number): boolean {
    const f = this.f;
    const c = f.counters;
    const o = f.rxOffload;
    if (o & OFL_KNOWN) {
      if (o & OFL_CSUM_PARTIAL) {
        c.partialFrames++;
        f.csumMode = CSUM_PARTIAL;
      } else {
        f.csumMode = this.settings.fullChecksum ? CSUM_FULL : CSUM_INCREMENTAL;
      }
      if (o >>> OFL_SIZE_SHIFT !== 0) {
        c.gsoFrames++;
        const kind = o & OFL_GSO_MASK;
        if ((kind !== OFL_GSO_TCPV6 || proto !== TCP) && (kind !== OFL_GSO_UDP_L4 || proto !== UDP)) return false;
      }
      return true;
    }
    f.csumMode = this.settings.fullChecksum ? CSUM_FULL : CSUM_INCREMENTAL;
    if (l4 - l3 + l4len > f.ifaces[ifi]!.mtu) {
      c.gsoFrames++;
      c.superFramesDropped++;
      c.superFrameIface = ifi;
      return false;
    }
    if (looksPartial6(b, l3, l4 + (proto === UDP ? 6 : 16), proto, l4len)) {
      c.partialFrames++;
      c.partialCompleted++;
      fillChecksum6(b, l3, l4, l4len, proto);
    }
    return true;
  }

  /** Client -> IPv6 VIP (ip_vs_in); the addresses are in the scratch words (W_CLIENT, W_VIP). */
  private inbound(b: Uint8Array, l3: number, l4: number, end: number, ifi: number, svc: VirtualService, proto: number, cport: number, vport: number): number {
    const f = this.f;
    const cs = this.conns;
    const t = cs.table;
    const w = cs.w;
    const dests = this.services.dests;
    const tflags = proto === TCP ? b[l4 + tcp.OFF_FLAGS]! : 0;
    const isSyn = (tflags & (tcp.SYN | tcp.RST)) === tcp.SYN;
    let e = t.findForward(proto, w, W_CLIENT, cport, w, W_VIP, vport, false);
    if (e !== NONE && isSyn && t.control[e] === NONE && cs.mayReschedule(e)) {
      if (t.nControl[e] === 0) cs.unbindAndFree(e);
      e = NONE;
    }
    if (e !== NONE && !(dests[t.dest[e]!]!.flags & DEST_F_AVAILABLE)) {
      if (!this.settings.expireNodestConn) return f.drop(DROP.dest_unavailable);
      if (t.nControl[e] === 0) cs.unbindAndFree(e);
      e = NONE;
    }
    const total = end - l3;
    if (e === NONE) {
      const sloppy = proto === TCP && !isSyn;
      if (sloppy && ((tflags & tcp.RST) !== 0 || !(this.settings.sloppyTcp || svc.sloppyTcp))) return f.drop(DROP.tcp_no_conn);
      const refused = cs.guardAdmit(svc.id, foldAddr6(w, W_CLIENT), f.now);
      if (refused !== GUARD_ADMIT) return f.drop(DROP.defense_drop_packet + refused - 1);
      e = cs.schedule(b, ifi, svc, proto, cport, vport);
      if (e < 0) return this.scheduleFailed(e, b, l3, end, ifi);
      if (e >= t.capacity) {
        const d1 = dests[e - t.capacity]!;
        countConn(f.counters, d1, svc);
        statsIn(f.counters, d1, svc, total);
        return this.xmit.onePacket(b, l3, l4, end, d1, proto, vport);
      }
      if (sloppy) f.counters.sloppyConns++;
    }
    const d = dests[t.dest[e]!]!;
    statsIn(f.counters, d, svc, total);
    if (proto === TCP) cs.setTcpState(e, d, t.flags[e]! & CF_NOOUTPUT ? DIR_INPUT_ONLY : DIR_INPUT, tflags);
    else t.timeoutMs[e] = this.timeoutsMs[S_UDP]!;
    t.inPkts[e]!++;
    t.timers.expiresAt[e] = f.now + t.timeoutMs[e]!;
    t.timers.rearm(e);
    // A synced entry learns its client's next hop from the first client frame (as pipeline.ts).
    if (t.flags[e]! & CF_SYNCED) setClientHop6(t, e, b, 6, ifi);
    const sync = this.hooks.sync6;
    if (sync !== null) sync(e);
    return this.xmit.toServer(b, l3, l4, end, e, d, proto, ifi);
  }

  private scheduleFailed(code: number, b: Uint8Array, l3: number, end: number, ifi: number): number {
    if (code === SCHED_TABLE_FULL) return this.f.drop(DROP.table_full);
    if (code === SCHED_FNAT_EXHAUSTED) return this.f.drop(DROP.fnat_ports_exhausted);
    // ip_vs_leave: ICMPv6 port unreachable from the VIP (icmpv6_send, ICMPV6_PORT_UNREACH).
    return this.icmp.toSender6(b, l3, end, ifi, icmpv6.DEST_UNREACH, icmpv6.CODE_PORT_UNREACH, 0, DROP.no_destination, b, l3 + ipv6.OFF_DST);
  }

  /** NAT real server -> client (ip_vs_out); words slot 0 is the server, slot 1 the client. */
  private outbound(b: Uint8Array, l3: number, l4: number, end: number, proto: number, sport: number, dport: number): number {
    const f = this.f;
    const cs = this.conns;
    const t = cs.table;
    const w = cs.w;
    const e = t.findReverse(proto, AF_INET6, w, 0, sport, w, 1, dport);
    if (e === NONE) return f.drop(this.vips.indexAt(b, l3 + ipv6.OFF_DST) >= 0 ? DROP.no_service : DROP.not_ours);
    const d = this.services.dests[t.dest[e]!]!;
    statsOut(f.counters, d, this.services.byId[t.svc[e]!]!, end - l3);
    if (proto === TCP) {
      t.flags[e] = t.flags[e]! & ~CF_NOOUTPUT;
      cs.setTcpState(e, d, DIR_OUTPUT, b[l4 + tcp.OFF_FLAGS]!);
    } else {
      t.timeoutMs[e] = this.timeoutsMs[S_UDP]!;
    }
    t.timers.expiresAt[e] = f.now + t.timeoutMs[e]!;
    t.timers.rearm(e);
    return this.xmit.toClient(b, l3, l4, end, e, proto);
  }
}
