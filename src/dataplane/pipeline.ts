/**
 * The per-packet dispatch of IPVS: an IPv4 packet is checked (IPv4, TCP/UDP headers and
 * offload state), then goes to ip_vs_in (client -> VIP), ip_vs_out (a NAT real server's
 * reply) or ICMP (icmp.ts). Engine.process does the Ethernet step before it (and ARP). The steps it calls live in conn.ts (scheduling
 * and state), xmit.ts (transmitters) and next-hop.ts.
 */
import { GUARD_ADMIT } from '../defense/guard.js';
import { equal6, readU16 } from '../packet/bytes.js';
import * as ipv4 from '../packet/ipv4.js';
import * as tcp from '../packet/tcp.js';
import * as icmp from '../packet/icmp.js';
import { OFL_CSUM_PARTIAL, OFL_GSO_MASK, OFL_GSO_TCPV4, OFL_GSO_UDP_L4, OFL_KNOWN, OFL_SIZE_SHIFT } from '../packet/offload.js';
import { looksPartial } from '../packet/partial-csum.js';
import { fillChecksum } from '../packet/l4.js';
import { CF_NOOUTPUT, CF_SYNCED, NONE, type ConnTable } from '../table/conn-table.js';
import { DIR_INPUT, DIR_INPUT_ONLY, DIR_OUTPUT, S_UDP } from '../table/tcp-state.js';
import { DEST_F_AVAILABLE } from '../sched/types.js';
import { DROP } from './verdict.js';
import { FWD_DR, type VirtualService } from './model.js';
import { CSUM_FULL, CSUM_INCREMENTAL, CSUM_PARTIAL } from './rewrite.js';
import { countConn, statsIn, statsOut, type Counters } from './counters.js';
import { SCHED_FNAT_EXHAUSTED, SCHED_TABLE_FULL, type Conns } from './conn.js';
import { icmpInput, type IcmpCtx } from './icmp.js';
import type { FrameCtx } from './frame-ctx.js';
import type { Hooks, Settings } from './settings.js';
import type { Xmit } from './xmit.js';
import type { IcmpErrors } from './icmp-error.js';
import type { NextHop } from './next-hop.js';
import type { ServiceTable } from './service-table.js';
import type { VipTable } from './vip-table.js';

export class Pipeline {
  private readonly f: FrameCtx;
  /** What the ICMP path reads; its VIPs, services and next hops are this path's too. */
  private readonly x: IcmpCtx;
  private readonly vips: VipTable;
  private readonly services: ServiceTable;
  private readonly hop: NextHop;
  private readonly conns: Conns;
  private readonly table: ConnTable;
  private readonly counters: Counters;
  /** Per-state timeouts (settings.timeoutsMs, the same array). */
  private readonly timeoutsMs: Float64Array;
  private readonly xmit: Xmit;
  private readonly icmp: IcmpErrors;
  private readonly settings: Settings;
  private readonly hooks: Hooks;

  constructor(x: IcmpCtx, conns: Conns, xmit: Xmit, icmpErrors: IcmpErrors, settings: Settings, hooks: Hooks) {
    this.f = x.f;
    this.x = x;
    this.vips = x.vips;
    this.services = x.services;
    this.hop = x.hop;
    this.conns = conns;
    this.table = conns.table;
    this.counters = x.f.counters;
    this.timeoutsMs = settings.timeoutsMs;
    this.xmit = xmit;
    this.icmp = icmpErrors;
    this.settings = settings;
    this.hooks = hooks;
  }

  /** An IPv4 frame (Engine.process has checked the Ethernet header). */
  ipv4(b: Uint8Array, len: number, l3: number, ifi: number): number {
    const f = this.f;
    if (len - l3 < ipv4.IPV4_MIN_HLEN) return f.drop(DROP.ip_truncated);
    if (b[l3]! >>> 4 !== 4) return f.drop(DROP.ip_bad_version);
    const hlen = (b[l3]! & 0x0f) << 2;
    if (hlen < ipv4.IPV4_MIN_HLEN) return f.drop(DROP.ip_bad_ihl);
    const total = readU16(b, l3 + 2);
    if (total < hlen) return f.drop(DROP.ip_bad_length);
    // The capture may cut GSO frames to the ring slot without saying so (docs/packet-io.md pitfall 10).
    if (l3 + total > len) return f.drop(DROP.ip_truncated);
    if (!(hlen === 20 ? ipv4.verifyHeader20(b, l3) : ipv4.verifyHeader(b, l3, hlen))) return f.drop(DROP.ip_bad_checksum);
    // IPVS only ever sees reassembled datagrams (LOCAL_IN); we do not reassemble.
    if ((readU16(b, l3 + 6) & 0x3fff) !== 0) return f.drop(DROP.ip_fragment);
    const proto = b[l3 + 9]!;
    const l4 = l3 + hlen;
    const l4len = total - hlen;
    if (proto === ipv4.PROTO_TCP) {
      if (l4len < tcp.TCP_MIN_HLEN) return f.drop(DROP.l4_truncated);
      const doff = (b[l4 + 12]! >>> 4) << 2;
      if (doff < tcp.TCP_MIN_HLEN || doff > l4len) return f.drop(DROP.l4_bad_header);
    } else if (proto === ipv4.PROTO_UDP) {
      if (l4len < 8) return f.drop(DROP.l4_truncated);
      const ulen = readU16(b, l4 + 4);
      if (ulen < 8 || ulen > l4len) return f.drop(DROP.l4_bad_header);
    } else if (proto === ipv4.PROTO_ICMP) {
      return icmpInput(this.x, b, l3, l4, total, ifi);
    } else {
      return f.drop(DROP.unsupported_protocol);
    }
    if (!this.offloads(b, l3, l4, l4len, proto, ifi)) return f.drop(DROP.oversize);
    const saddr = ipv4.src(b, l3);
    const daddr = ipv4.dst(b, l3);
    const sport = readU16(b, l4);
    const dport = readU16(b, l4 + 2);
    const svc = this.services.find(proto, daddr, dport);
    if (svc !== null) {
      if (!this.vips.active[svc.vipIndex]) return f.drop(DROP.vip_passive);
      return this.inbound(b, l3, l4, total, ifi, svc, proto, saddr, sport, daddr, dport);
    }
    return this.outbound(b, l3, l4, total, proto, saddr, sport, daddr, dport);
  }

  /**
   * Learn the frame's checksum state and super-frame size; false for a super-frame this
   * port cannot send whole. With the state unknown (pcap) a partial checksum is detected
   * and completed, so every later step sees a complete one.
   */
  private offloads(b: Uint8Array, l3: number, l4: number, l4len: number, proto: number, ifi: number): boolean {
    const f = this.f;
    const c = f.counters;
    const o = f.rxOffload;
    const csumAt = l4 + (proto === ipv4.PROTO_UDP ? 6 : 16);
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
        // Only what we can describe again on transmit: TCPv4 over TCP, UDP_L4 over UDP.
        if ((kind !== OFL_GSO_TCPV4 || proto !== ipv4.PROTO_TCP) && (kind !== OFL_GSO_UDP_L4 || proto !== ipv4.PROTO_UDP)) return false;
      }
      return true;
    }
    f.csumMode = this.settings.fullChecksum ? CSUM_FULL : CSUM_INCREMENTAL;
    if (l4 - l3 + l4len > f.ifaces[ifi]!.mtu) {
      // Larger than the ingress MTU: a GRO/GSO super-frame that libpcap cannot tell us about.
      c.gsoFrames++;
      c.superFramesDropped++;
      c.superFrameIface = ifi;
      return false;
    }
    if (looksPartial(b, l3, csumAt, proto, l4len)) {
      c.partialFrames++;
      c.partialCompleted++;
      fillChecksum(b, l3);
    }
    return true;
  }

  /** Client -> VIP (ip_vs_in). */
  private inbound(
    b: Uint8Array, l3: number, l4: number, total: number, ifi: number, svc: VirtualService,
    proto: number, saddr: number, sport: number, daddr: number, dport: number,
  ): number {
    const f = this.f;
    const cs = this.conns;
    const t = this.table;
    const dests = this.services.dests;
    const tflags = proto === ipv4.PROTO_TCP ? b[l4 + tcp.OFF_FLAGS]! : 0;
    const isSyn = (tflags & (tcp.SYN | tcp.RST)) === tcp.SYN;
    let e = t.findForward(proto, saddr, sport, daddr, dport, false);
    if (e !== NONE && isSyn && t.control[e] === NONE && cs.mayReschedule(e)) {
      if (t.nControl[e] === 0) cs.unbindAndFree(e);
      e = NONE;
    }
    if (e !== NONE && !(dests[t.dest[e]!]!.flags & DEST_F_AVAILABLE)) {
      if (!this.settings.expireNodestConn) return f.drop(DROP.dest_unavailable); // timer not refreshed
      if (t.nControl[e] === 0) cs.unbindAndFree(e);
      e = NONE;
    }
    if (e === NONE) {
      // tcp_conn_schedule: only a SYN is scheduled, or with sloppy_tcp any segment but a RST.
      const sloppy = proto === ipv4.PROTO_TCP && !isSyn;
      if (sloppy && ((tflags & tcp.RST) !== 0 || !this.sloppyFor(svc))) return f.drop(DROP.tcp_no_conn);
      if (this.fromDrDest(svc, b)) return f.drop(DROP.loop_guard);
      // The new-connection defences (src/defense/guard.ts): refusals counted by reason.
      const refused = cs.guard.admit(svc.id, saddr, f.now);
      if (refused !== GUARD_ADMIT) return f.drop(DROP.defense_drop_packet + refused - 1);
      e = cs.schedule(b, ifi, svc, proto, saddr, sport, daddr, dport);
      if (e < 0) return this.scheduleFailed(e, b, l3, ifi, daddr);
      if (e >= t.capacity) return this.onePacket(b, l3, l4, total, svc, e - t.capacity, proto);
      if (sloppy) this.counters.sloppyConns++;
    }
    const d = dests[t.dest[e]!]!;
    statsIn(this.counters, d, svc, total);
    if (proto === ipv4.PROTO_TCP) {
      cs.setTcpState(e, d, t.flags[e]! & CF_NOOUTPUT ? DIR_INPUT_ONLY : DIR_INPUT, tflags);
    } else {
      t.timeoutMs[e] = this.timeoutsMs[S_UDP]!;
    }
    t.inPkts[e]!++;
    t.timers.expiresAt[e] = f.now + t.timeoutMs[e]!;
    t.timers.rearm(e);
    if (t.flags[e]! & CF_SYNCED) cs.setClientHop(e, b, 6, ifi);
    const sync = this.hooks.sync;
    if (sync !== null) sync(e);
    return this.xmit.toServer(b, l3, l4, total, e, d, proto, ifi);
  }

  private sloppyFor(svc: VirtualService): boolean {
    const s = this.settings;
    return s.sloppyTcp || svc.sloppyTcp || (s.sloppyTcpMh && svc.scheduler.name === 'mh');
  }

  private scheduleFailed(code: number, b: Uint8Array, l3: number, ifi: number, vip: number): number {
    if (code === SCHED_TABLE_FULL) return this.f.drop(DROP.table_full);
    if (code === SCHED_FNAT_EXHAUSTED) return this.f.drop(DROP.fnat_ports_exhausted);
    // ip_vs_leave: ICMP port unreachable to the client, never a TCP RST.
    return this.icmp.toSender(b, l3, ifi, icmp.DEST_UNREACH, icmp.CODE_PORT_UNREACH, 0, DROP.no_destination, vip);
  }

  /** One-packet scheduling (-o): the datagram goes out, no entry is kept (ip_vs_conn_put). */
  private onePacket(b: Uint8Array, l3: number, l4: number, total: number, svc: VirtualService, id: number, proto: number): number {
    const d = this.services.dests[id]!;
    countConn(this.f.counters, d, svc);
    statsIn(this.f.counters, d, svc, total);
    return this.xmit.onePacket(b, l3, l4, total, d, proto);
  }

  /** Real server -> client through the director (ip_vs_out, NAT and full-NAT only). */
  private outbound(
    b: Uint8Array, l3: number, l4: number, total: number,
    proto: number, saddr: number, sport: number, daddr: number, dport: number,
  ): number {
    const f = this.f;
    const cs = this.conns;
    const t = this.table;
    const e = t.findReverse(proto, saddr, sport, daddr, dport);
    if (e === NONE) return f.drop(this.vips.index(daddr) >= 0 ? DROP.no_service : DROP.not_ours);
    const d = this.services.dests[t.dest[e]!]!;
    statsOut(this.counters, d, this.services.byId[t.svc[e]!]!, total);
    if (proto === ipv4.PROTO_TCP) {
      t.flags[e] = t.flags[e]! & ~CF_NOOUTPUT;
      cs.setTcpState(e, d, DIR_OUTPUT, b[l4 + tcp.OFF_FLAGS]!);
    } else {
      t.timeoutMs[e] = this.timeoutsMs[S_UDP]!;
    }
    t.timers.expiresAt[e] = f.now + t.timeoutMs[e]!;
    t.timers.rearm(e);
    return this.xmit.toClient(b, l3, l4, total, e, proto);
  }

  /**
   * Loop guard (seed 004): a new flow whose frame comes from the MAC of one of this
   * service's DR real servers was sent by a director on that host; balancing it again
   * would bounce it between directors. Checked only for new connections.
   */
  private fromDrDest(svc: VirtualService, b: Uint8Array): boolean {
    const ds = svc.dests;
    const neigh = this.hop.neigh;
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i]!;
      if (d.fwd !== FWD_DR || d.neigh < 0 || !neigh.valid[d.neigh]) continue;
      if (equal6(b, 6, neigh.mac, d.neigh * 6)) {
        const c = this.f.counters;
        c.loopGuardHits++;
        for (let k = 0; k < 6; k++) c.loopMac[k] = b[6 + k]!;
        return true;
      }
    }
    return false;
  }
}
