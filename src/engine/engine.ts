/**
 * The data plane: a pure function from (frame, ingress interface, now) to a verdict.
 * No I/O, no timers of its own: time is passed in, and connection expiry runs from
 * the timer wheel as time advances. It mirrors the IPVS per-packet flow:
 * ip_vs_in (client side), ip_vs_out (NAT replies), ip_vs_in_icmp / ip_vs_out_icmp.
 */
import { equal6, readU16 } from '../packet/bytes.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, etherType, l3Offset, setMacs } from '../packet/ethernet.js';
import * as arp from '../packet/arp.js';
import * as ipv4 from '../packet/ipv4.js';
import * as tcp from '../packet/tcp.js';
import * as icmp from '../packet/icmp.js';
import { ConnTable, CF_INACTIVE, CF_IN_REVERSE, CF_NOOUTPUT, CF_SYNCED, CF_TEMPLATE, NONE } from '../table/conn-table.js';
import {
  DEFAULT_TIMEOUTS_S, DIR_INPUT, DIR_INPUT_ONLY, DIR_OUTPUT, S_CLOSE, S_NONE, S_TIME_WAIT, S_UDP,
  STATE_ACTIVE, nextTcpState,
} from '../table/tcp-state.js';
import { DEST_F_AVAILABLE, SVC_F_ONEPACKET, SVC_F_PERSISTENT } from '../sched/types.js';
import { markAfterBind, markAfterUnbind } from '../sched/thresholds.js';
import { DROP, DROP_REASONS, V_CONSUMED, V_DROP, V_EMIT } from './verdict.js';
import { FWD_DR, FWD_FNAT, FWD_TUNNEL, RealServer, Stats, VirtualService, repliesBypass } from './model.js';
import { NeighTable } from './neigh.js';
import { FnatPool } from './fnat-pool.js';
import { CSUM_FULL, CSUM_INCREMENTAL, CSUM_PARTIAL, rewriteEnd } from './rewrite.js';
import { NeighQueue, OFFLOAD_SEGMENT } from './neigh-queue.js';
import { OFL_CSUM_PARTIAL, OFL_GSO_MASK, OFL_GSO_TCPV4, OFL_GSO_UDP_L4, OFL_KNOWN, OFL_SIZE_SHIFT } from '../packet/offload.js';
import { looksPartial } from '../packet/partial-csum.js';
import { fillChecksum } from '../packet/l4.js';
import * as frames from './frames.js';
import { VipTable } from './vip-table.js';
import { icmpPath } from './icmp-path.js';
import { syncReceive, type SyncedConn } from './sync-receive.js';
import { IPIP_HLEN, IpipTunnel, MIN_TUNNEL_MTU, segmentCount, sendableWhole } from './tunnel.js';
import { Guard, GUARD_ADMIT } from '../defense/guard.js';

export type { SyncedConn } from './sync-receive.js';

export interface EngineIface {
  name: string;
  mac: Uint8Array;
  mtu: number;
  /** The interface's own IPv4 address (sender of our ARP requests), 0 if none. */
  ip: number;
}

export interface EngineOptions {
  ifaces: EngineIface[];
  /** Hard connection table capacity; new connections beyond it are dropped and counted. */
  maxConns?: number;
  /** 'full' recomputes L4 checksums on every rewrite (senders with partial checksums). */
  checksum?: 'incremental' | 'full';
  tickMs?: number;
  /** ICMP errors the engine may generate per second (the kernel rate-limits too). */
  icmpPerSecond?: number;
}

/** Called for each new connection when --trace-sched is on (never per packet otherwise). */
export type SchedTrace = (svc: VirtualService, dest: RealServer | null, caddr: number, cport: number, inputs: string) => void;

const PERSIST_POSTPONE_MS = 60_000; // ip_vs_conn_expire: controlling entries wait in 60 s steps
const NEW_CONN_TIMEOUT_MS = 3_000; // ip_vs_conn_new, replaced by the first state transition
/** A frame waits this long for its next hop (3 ARP probes 1 s apart, as mcast_solicit = 3). */
export const NEIGH_QUEUE_TIMEOUT_MS = 3_000;

export class Engine {
  readonly ifaces: EngineIface[];
  readonly table: ConnTable;
  /** New-connection defences (src/defense): drop_entry, drop_packet, secure_tcp, rate caps. */
  readonly guard: Guard;
  readonly neigh = new NeighTable();
  /** Live services (looked up per packet) and every service by id (entries keep their id). */
  readonly services: VirtualService[] = [];
  readonly svcById: VirtualService[] = [];
  /** Real servers by id; an id stays taken while connections refer to the server. */
  readonly dests: (RealServer | null)[] = [];
  readonly stats = new Stats();
  readonly drops = new Float64Array(DROP_REASONS.length);
  /** Frames seen, frames emitted, ARP replies sent, ICMP errors sent. */
  rxFrames = 0;
  txFrames = 0;
  arpReplies = 0;
  icmpSent = 0;
  /** ICMP errors not sent because of the rate limit. */
  icmpRateLimited = 0;
  /** Timeouts per state (ms); `ipvsadm --set tcp tcpfin udp` changes three of them. */
  readonly timeoutsMs = Float64Array.from(DEFAULT_TIMEOUTS_S, (s) => s * 1000);
  /** IPVS sysctls (defaults of docs/ipvs-behaviour.md §2.8). */
  expireNodestConn = false;
  expireQuiescentTemplate = false;
  connReuseMode = 1;
  /**
   * sloppy_tcp (docs/ipvs-behaviour.md §1.0): a TCP segment without SYN (RST excepted) and
   * with no entry is scheduled and gets one, as tcp_conn_schedule does with the sysctl set.
   * `sloppyTcpMh` turns it on for mh services only (the --bgp default, docs/scale-out.md);
   * a service's own `sloppyTcp` (keepalived.conf `sloppy_tcp`) turns it on for that one.
   */
  sloppyTcp = false;
  sloppyTcpMh = false;
  /** Entries created by sloppy TCP from a segment without SYN (a flow another director had). */
  sloppyConns = 0;
  readonly fullChecksum: boolean;
  readonly fnat = new FnatPool();
  trace: SchedTrace | null = null;
  /** Connection sync (master): called with the entry after each client packet (ip_vs_sync_conn). */
  syncHook: ((e: number) => void) | null = null;

  /**
   * Diagnostics for the control plane: another host answering ARP for one of our VIPs
   * (a DR real server without arp_ignore/arp_announce, or a second director), and frames
   * refused by the loop guard. The last offender's MAC and address are kept.
   */
  vipArpConflicts = 0;
  readonly conflictMac = new Uint8Array(6);
  conflictIp = 0;
  conflictIface = 0;
  loopGuardHits = 0;
  readonly loopMac = new Uint8Array(6);

  /**
   * Offloads (packet/offload.ts): frames whose checksum was partial (reported by the port
   * or detected), partial checksums completed here (ports that cannot pass them on),
   * GSO super-frames seen, and super-frames dropped because the port cannot send them
   * whole (the last one's ingress interface is kept for the operator's hint).
   */
  partialFrames = 0;
  partialCompleted = 0;
  gsoFrames = 0;
  superFramesDropped = 0;
  superFrameIface = -1;
  /** Frames queued while their next hop was resolved, and sent once it was. */
  neighQueued = 0;
  neighFlushed = 0;
  readonly pending = new NeighQueue();

  /** Verdict details, valid until the next call to process(). */
  txIface = 0;
  txBuf: Uint8Array;
  txLen = 0;
  /** Offload word of the emitted frame, -1 for a frame the engine built (complete checksums). */
  txOffload = -1;
  dropReason = 0;
  /** The frame being processed: its offload word and how rewrites fix its L4 checksum. */
  private rxOffload = 0;
  private csumMode = CSUM_INCREMENTAL;
  private lastTaken = -1;
  /** Frames the engine builds or encapsulates (tunnel: up to a 9000-byte MTU). */
  readonly scratch = new Uint8Array(9216);
  /** IPIP encapsulation for tunnel servers (tunnel.ts). */
  readonly ipip = new IpipTunnel();

  /** VIPs, where we answer ARP for them, and whether they are active (VRRP). */
  readonly vips = new VipTable();
  private now = 0;
  private icmpBudget: number;
  private icmpWindowStart = 0;
  private readonly icmpPerSecond: number;
  private readonly expireFn: (e: number) => void;

  constructor(opts: EngineOptions) {
    if (opts.ifaces.length === 0 || opts.ifaces.length > 32) throw new RangeError('the engine needs 1..32 interfaces');
    this.ifaces = opts.ifaces;
    this.table = new ConnTable(opts.maxConns ?? 1 << 20, opts.tickMs ?? 100);
    this.fullChecksum = opts.checksum === 'full';
    this.icmpPerSecond = opts.icmpPerSecond ?? 100;
    this.icmpBudget = this.icmpPerSecond;
    this.txBuf = this.scratch;
    this.expireFn = (e) => this.expire(e);
    this.guard = new Guard(this.table, (e) => this.unbindAndFree(e));
  }

  // ---------------------------------------------------------------- entry point

  /**
   * Classify and rewrite one frame. The frame may be modified in place. `offload` is the
   * frame's offload word (packet/offload.ts): 0 when the port does not know it (pcap).
   */
  process(b: Uint8Array, len: number, ifi: number, now: number, offload = 0): number {
    this.rxFrames++;
    this.now = now;
    this.rxOffload = offload;
    if (now >= this.table.timers.nextTickAt()) this.table.timers.advance(now, this.expireFn);
    const l3 = l3Offset(b, len);
    if (l3 < 0) return this.drop(DROP.runt_frame);
    const mac = this.ifaces[ifi]!.mac;
    if (equal6(b, 6, mac, 0)) return this.drop(DROP.own_frame);
    // The capture is promiscuous: a unicast frame for another host (flooded by a switch that
    // has not learnt its MAC) is not ours; the kernel drops it as PACKET_OTHERHOST too.
    if ((b[0]! & 1) === 0 && !equal6(b, 0, mac, 0)) return this.drop(DROP.other_host);
    const type = etherType(b, l3);
    if (type === ETHERTYPE_IPV4) return this.ipv4(b, len, l3, ifi);
    if (type === ETHERTYPE_ARP) return this.arp(b, len, l3, ifi);
    return this.drop(DROP.unknown_ethertype);
  }

  /** Run expiry up to `now` without a packet (called from a timer by the I/O edge). */
  tick(now: number): void {
    this.now = now;
    this.table.timers.advance(now, this.expireFn);
    this.guard.tick(now); // DEFENSE (src/defense/guard.ts): once-a-second levels and drop_entry
    if (this.pending.used > 0) {
      const n = this.pending.expire(now, NEIGH_QUEUE_TIMEOUT_MS);
      this.drops[DROP.neigh_timeout] += n;
    }
  }

  /** @internal */
  drop(reason: number): number {
    this.drops[reason]++;
    this.dropReason = reason;
    return V_DROP;
  }

  /** @internal */
  emit(buf: Uint8Array, len: number, ifi: number): number {
    this.txBuf = buf;
    this.txLen = len;
    this.txIface = ifi;
    this.txOffload = buf === this.scratch ? -1 : this.rxOffload;
    this.txFrames++;
    return V_EMIT;
  }

  // ---------------------------------------------------------------- IPv4

  private ipv4(b: Uint8Array, len: number, l3: number, ifi: number): number {
    if (len - l3 < ipv4.IPV4_MIN_HLEN) return this.drop(DROP.ip_truncated);
    if (b[l3]! >>> 4 !== 4) return this.drop(DROP.ip_bad_version);
    const hlen = (b[l3]! & 0x0f) << 2;
    if (hlen < ipv4.IPV4_MIN_HLEN) return this.drop(DROP.ip_bad_ihl);
    const total = readU16(b, l3 + 2);
    if (total < hlen) return this.drop(DROP.ip_bad_length);
    // The capture may cut GSO frames to the ring slot without saying so (docs/packet-io.md pitfall 10).
    if (l3 + total > len) return this.drop(DROP.ip_truncated);
    if (!(hlen === 20 ? ipv4.verifyHeader20(b, l3) : ipv4.verifyHeader(b, l3, hlen))) return this.drop(DROP.ip_bad_checksum);
    // IPVS only ever sees reassembled datagrams (LOCAL_IN); we do not reassemble.
    if ((readU16(b, l3 + 6) & 0x3fff) !== 0) return this.drop(DROP.ip_fragment);
    const proto = b[l3 + 9]!;
    const l4 = l3 + hlen;
    const l4len = total - hlen;
    if (proto === ipv4.PROTO_TCP) {
      if (l4len < tcp.TCP_MIN_HLEN) return this.drop(DROP.l4_truncated);
      const doff = (b[l4 + 12]! >>> 4) << 2;
      if (doff < tcp.TCP_MIN_HLEN || doff > l4len) return this.drop(DROP.l4_bad_header);
    } else if (proto === ipv4.PROTO_UDP) {
      if (l4len < 8) return this.drop(DROP.l4_truncated);
      const ulen = readU16(b, l4 + 4);
      if (ulen < 8 || ulen > l4len) return this.drop(DROP.l4_bad_header);
    } else if (proto === ipv4.PROTO_ICMP) {
      return icmpPath(this, b, l3, l4, total, ifi);
    } else {
      return this.drop(DROP.unsupported_protocol);
    }
    if (!this.offloads(b, l3, l4, l4len, proto, ifi)) return this.drop(DROP.oversize);
    const saddr = ipv4.src(b, l3);
    const daddr = ipv4.dst(b, l3);
    const sport = readU16(b, l4);
    const dport = readU16(b, l4 + 2);
    const svc = this.findService(proto, daddr, dport);
    if (svc !== null) {
      if (!this.vips.active[svc.vipIndex]) return this.drop(DROP.vip_passive);
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
    const o = this.rxOffload;
    const csumAt = l4 + (proto === ipv4.PROTO_UDP ? 6 : 16);
    if (o & OFL_KNOWN) {
      if (o & OFL_CSUM_PARTIAL) {
        this.partialFrames++;
        this.csumMode = CSUM_PARTIAL;
      } else {
        this.csumMode = this.fullChecksum ? CSUM_FULL : CSUM_INCREMENTAL;
      }
      if (o >>> OFL_SIZE_SHIFT !== 0) {
        this.gsoFrames++;
        const kind = o & OFL_GSO_MASK;
        // Only what we can describe again on transmit: TCPv4 over TCP, UDP_L4 over UDP.
        if ((kind !== OFL_GSO_TCPV4 || proto !== ipv4.PROTO_TCP) && (kind !== OFL_GSO_UDP_L4 || proto !== ipv4.PROTO_UDP)) return false;
      }
      return true;
    }
    this.csumMode = this.fullChecksum ? CSUM_FULL : CSUM_INCREMENTAL;
    if (l4 - l3 + l4len > this.ifaces[ifi]!.mtu) {
      // Larger than the ingress MTU: a GRO/GSO super-frame that libpcap cannot tell us about.
      this.gsoFrames++;
      this.superFramesDropped++;
      this.superFrameIface = ifi;
      return false;
    }
    if (looksPartial(b, l3, csumAt, proto, l4len)) {
      this.partialFrames++;
      this.partialCompleted++;
      fillChecksum(b, l3);
    }
    return true;
  }

  /** Segment size on the wire: the frame's own length, or one GSO segment's. */
  private wireSize(b: Uint8Array, l3: number, l4: number, total: number, proto: number): number {
    const gso = this.rxOffload >>> OFL_SIZE_SHIFT;
    if (gso === 0) return total;
    const l4h = proto === ipv4.PROTO_TCP ? (b[l4 + 12]! >>> 4) << 2 : 8;
    const seg = l4 - l3 + l4h + gso;
    return seg < total ? seg : total;
  }

  /** Client -> VIP (ip_vs_in). */
  private inbound(
    b: Uint8Array, l3: number, l4: number, total: number, ifi: number, svc: VirtualService,
    proto: number, saddr: number, sport: number, daddr: number, dport: number,
  ): number {
    const t = this.table;
    const tflags = proto === ipv4.PROTO_TCP ? b[l4 + tcp.OFF_FLAGS]! : 0;
    const isSyn = (tflags & (tcp.SYN | tcp.RST)) === tcp.SYN;
    let e = t.findForward(proto, saddr, sport, daddr, dport, false);
    if (e !== NONE && isSyn && t.control[e] === NONE && this.mayReschedule(e)) {
      if (t.nControl[e] === 0) this.unbindAndFree(e);
      e = NONE;
    }
    if (e !== NONE && !(this.dests[t.dest[e]!]!.flags & DEST_F_AVAILABLE)) {
      if (!this.expireNodestConn) return this.drop(DROP.dest_unavailable); // timer not refreshed
      if (t.nControl[e] === 0) this.unbindAndFree(e);
      e = NONE;
    }
    if (e === NONE) {
      // tcp_conn_schedule: only a SYN is scheduled, or with sloppy_tcp any segment but a RST.
      const sloppy = proto === ipv4.PROTO_TCP && !isSyn;
      if (sloppy && ((tflags & tcp.RST) !== 0 || !this.sloppyFor(svc))) return this.drop(DROP.tcp_no_conn);
      if (this.fromDrDest(svc, b)) return this.drop(DROP.loop_guard);
      // ---- DEFENSE (src/defense/guard.ts): the one new-connection call; refusals are counted by reason.
      const refused = this.guard.admit(svc.id, saddr, this.now);
      if (refused !== GUARD_ADMIT) return this.drop(DROP.defense_drop_packet + refused - 1);
      e = this.schedule(b, l3, ifi, svc, proto, saddr, sport, daddr, dport);
      if (e < 0) return this.scheduleFailed(e, b, l3, ifi, daddr);
      if (e >= t.capacity) return this.onePacket(b, l3, l4, total, svc, e - t.capacity, proto);
      if (sloppy) this.sloppyConns++;
    }
    const d = this.dests[t.dest[e]!]!;
    this.statsIn(d, svc, total);
    if (proto === ipv4.PROTO_TCP) {
      this.setTcpState(e, d, t.flags[e]! & CF_NOOUTPUT ? DIR_INPUT_ONLY : DIR_INPUT, tflags);
    } else {
      t.timeoutMs[e] = this.timeoutsMs[S_UDP]!;
    }
    t.inPkts[e]++;
    t.timers.arm(e, this.now + t.timeoutMs[e]!);
    if (t.flags[e]! & CF_SYNCED) this.learnClientMac(e, b, ifi);
    if (this.syncHook !== null) this.syncHook(e);
    return this.transmit(b, l3, l4, total, e, d, proto, ifi);
  }

  private sloppyFor(svc: VirtualService): boolean {
    return this.sloppyTcp || svc.sloppyTcp || (this.sloppyTcpMh && svc.scheduler.name === 'mh');
  }

  /** Real server -> client through the director (ip_vs_out, NAT and full-NAT only). */
  private outbound(
    b: Uint8Array, l3: number, l4: number, total: number,
    proto: number, saddr: number, sport: number, daddr: number, dport: number,
  ): number {
    const t = this.table;
    const e = t.findReverse(proto, saddr, sport, daddr, dport);
    if (e === NONE) return this.drop(this.vips.index(daddr) >= 0 ? DROP.no_service : DROP.not_ours);
    const d = this.dests[t.dest[e]!]!;
    this.statsOut(d, this.svcById[t.svc[e]!]!, total);
    if (proto === ipv4.PROTO_TCP) {
      t.flags[e] = t.flags[e]! & ~CF_NOOUTPUT;
      this.setTcpState(e, d, DIR_OUTPUT, b[l4 + tcp.OFF_FLAGS]!);
    } else {
      t.timeoutMs[e] = this.timeoutsMs[S_UDP]!;
    }
    t.timers.arm(e, this.now + t.timeoutMs[e]!);
    if (b[l3 + ipv4.OFF_TTL]! <= 1) return this.drop(DROP.ttl_exceeded);
    // A connection received by sync has not seen its client's next hop yet.
    if (t.flags[e]! & CF_SYNCED) return this.drop(DROP.client_mac_unknown);
    const out = t.ciface[e]!;
    if (this.wireSize(b, l3, l4, total, proto) > this.ifaces[out]!.mtu) return this.drop(DROP.oversize);
    const isUdp = proto === ipv4.PROTO_UDP;
    rewriteEnd(b, l3, l4, isUdp, ipv4.OFF_SRC, t.vaddr[e]!, 0, t.vport[e]!, this.csumMode);
    if (t.fwd[e] === FWD_FNAT) rewriteEnd(b, l3, l4, isUdp, ipv4.OFF_DST, t.caddr[e]!, 2, t.cport[e]!, this.csumMode);
    ipv4.decrementTtl(b, l3);
    setMacs(b, t.cmac, e * 6, this.ifaces[out]!.mac);
    return this.emit(b, l3 + total, out);
  }

  /** The forwarding method's transmitter (ip_vs_nat_xmit / ip_vs_dr_xmit). */
  private transmit(
    b: Uint8Array, l3: number, l4: number, total: number, e: number, d: RealServer, proto: number, ifi: number,
  ): number {
    const t = this.table;
    const fwd = t.fwd[e]!;
    if (b[l3 + ipv4.OFF_TTL]! <= 1) {
      // decrement_ttl: ICMP time exceeded back to the client.
      return this.icmpToSender(b, l3, ifi, icmp.TIME_EXCEEDED, 0, 0, DROP.ttl_exceeded);
    }
    const out = d.iface;
    // A tunnel's outer header takes 20 bytes of the route's MTU (__ip_vs_get_out_rt).
    const mtu = this.ifaces[out]!.mtu - (fwd === FWD_TUNNEL ? IPIP_HLEN : 0);
    if (this.wireSize(b, l3, l4, total, proto) > mtu) {
      // ensure_mtu_is_adequate (for a GSO frame: skb_gso_validate_network_len, one segment):
      // DF set -> "fragmentation needed" with the next-hop MTU.
      if (readU16(b, l3 + 6) & ipv4.FLAG_DF) return this.icmpToSender(b, l3, ifi, icmp.DEST_UNREACH, icmp.CODE_FRAG_NEEDED, mtu, DROP.oversize);
      return this.drop(DROP.oversize);
    }
    if (fwd === FWD_TUNNEL) return this.tunnel(b, l3, l4, total, d, proto, mtu);
    if (fwd !== FWD_DR) {
      const isUdp = proto === ipv4.PROTO_UDP;
      rewriteEnd(b, l3, l4, isUdp, ipv4.OFF_DST, t.daddr[e]!, 2, t.dport[e]!, this.csumMode);
      if (fwd === FWD_FNAT) rewriteEnd(b, l3, l4, isUdp, ipv4.OFF_SRC, t.laddr[e]!, 0, t.lport[e]!, this.csumMode);
    }
    ipv4.decrementTtl(b, l3);
    const n = d.neigh;
    if (n < 0 || !this.neigh.valid[n]) return this.queueForNeigh(n, b, l3 + total, out);
    setMacs(b, this.neigh.mac, n * 6, this.ifaces[out]!.mac);
    return this.emit(b, l3 + total, out);
  }

  /**
   * ip_vs_tunnel_xmit (tunnel.ts): TTL decremented, the packet behind an outer IPv4 header
   * in the scratch buffer. A partial checksum is completed first: the frame leaves with a
   * plain vnet header, so no device is asked to checksum inside a tunnel. A GSO super-frame
   * that does not fit one packet is segmented here (the vnet header has no IPIP type).
   */
  private tunnel(b: Uint8Array, l3: number, l4: number, total: number, d: RealServer, proto: number, mtu: number): number {
    if (mtu < MIN_TUNNEL_MTU) return this.drop(DROP.oversize);
    const isUdp = proto === ipv4.PROTO_UDP;
    if (!sendableWhole(this.rxOffload, total - (l4 - l3), total, isUdp, mtu)) return this.tunnelSegments(b, l3, total, d, isUdp);
    if (this.csumMode === CSUM_PARTIAL) {
      fillChecksum(b, l3);
      this.partialCompleted++;
    }
    ipv4.decrementTtl(b, l3);
    const out = d.iface;
    const len = this.ipip.encapsulate(this.scratch, b, l3, total, this.ifaces[out]!.ip, d.addr);
    if (len < 0) return this.drop(DROP.oversize);
    const n = d.neigh;
    if (n < 0 || !this.neigh.valid[n]) return this.queueForNeigh(n, this.scratch, len, out);
    setMacs(this.scratch, this.neigh.mac, n * 6, this.ifaces[out]!.mac);
    return this.emit(this.scratch, len, out);
  }

  /**
   * Software GSO for a tunnel: segment 0 is the verdict, the others wait ready in the
   * neighbour queue and go right after it (takeQueued). Segments that find no free slot are
   * dropped and counted as `tunnel_gso`.
   */
  private tunnelSegments(b: Uint8Array, l3: number, total: number, d: RealServer, isUdp: boolean): number {
    const n = d.neigh;
    if (n < 0 || !this.neigh.valid[n]) return this.resolve(n);
    ipv4.decrementTtl(b, l3);
    const gso = this.rxOffload >>> OFL_SIZE_SHIFT;
    const count = segmentCount(b, l3, total, gso, isUdp);
    const out = d.iface;
    const src = this.ifaces[out]!.ip;
    const s = this.scratch;
    this.ipip.segmented++;
    for (let k = 1; k < count; k++) {
      const len = this.ipip.segment(s, b, l3, total, k, gso, isUdp, src, d.addr);
      if (len < 0 || !this.pending.enqueueReady(n, s, len, out, this.now)) {
        this.drops[DROP.tunnel_gso] += count - k;
        break;
      }
    }
    const len = this.ipip.segment(s, b, l3, total, 0, gso, isUdp, src, d.addr);
    if (len < 0) return this.drop(DROP.oversize);
    setMacs(s, this.neigh.mac, n * 6, this.ifaces[out]!.mac);
    return this.emit(s, len, out);
  }

  /**
   * Loop guard (seed 004): a new flow whose frame comes from the MAC of one of this
   * service's DR real servers was sent by a director on that host; balancing it again
   * would bounce it between directors. Checked only for new connections.
   */
  private fromDrDest(svc: VirtualService, b: Uint8Array): boolean {
    const ds = svc.dests;
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i]!;
      if (d.fwd !== FWD_DR || d.neigh < 0 || !this.neigh.valid[d.neigh]) continue;
      if (equal6(b, 6, this.neigh.mac, d.neigh * 6)) {
        this.loopGuardHits++;
        for (let k = 0; k < 6; k++) this.loopMac[k] = b[6 + k]!;
        return true;
      }
    }
    return false;
  }

  /** Next hop unknown: send (at most once a second) an ARP request instead, drop the packet. */
  /** @internal */
  resolve(n: number): number {
    this.drops[DROP.neigh_unresolved]++;
    this.dropReason = DROP.neigh_unresolved;
    if (n < 0 || this.now - this.neigh.lastRequest[n]! < 1000) return V_DROP;
    this.neigh.lastRequest[n] = this.now;
    const ifi = this.neigh.iface[n]!;
    const iface = this.ifaces[ifi]!;
    const len = frames.arpRequest(this.scratch, iface.mac, iface.ip, this.neigh.ip[n]!);
    return this.emit(this.scratch, len, ifi);
  }

  /**
   * The next hop's MAC is not known: keep a copy of the rewritten frame until the ARP reply
   * comes (takeQueued), and ask (at most once a second). Dropped when the queue is full.
   */
  private queueForNeigh(n: number, b: Uint8Array, len: number, out: number): number {
    if (n < 0 || !this.pending.enqueue(n, b, len, b === this.scratch ? -1 : this.rxOffload, out, this.now)) return this.resolve(n);
    this.neighQueued++;
    if (this.now - this.neigh.lastRequest[n]! < 1000) return V_CONSUMED;
    this.neigh.lastRequest[n] = this.now;
    const ifi = this.neigh.iface[n]!;
    const iface = this.ifaces[ifi]!;
    return this.emit(this.scratch, frames.arpRequest(this.scratch, iface.mac, iface.ip, this.neigh.ip[n]!), ifi);
  }

  /**
   * After process(): the next queued frame whose next hop is now known, with its MACs set;
   * its buffer, length, interface and offload word are in txBuf/txLen/txIface/txOffload.
   * Returns -1 when none is left. The slot returned stays valid until the next call.
   */
  takeQueued(): number {
    const q = this.pending;
    if (this.lastTaken >= 0) {
      q.free(this.lastTaken);
      this.lastTaken = -1;
    }
    const s = q.nextReady();
    if (s < 0) return -1;
    const n = q.neighbourOf(s);
    const out = q.iface[s]!;
    const buf = q.views[s]!;
    setMacs(buf, this.neigh.mac, n * 6, this.ifaces[out]!.mac);
    this.txBuf = buf;
    this.txLen = q.len[s]!;
    this.txIface = out;
    const off = q.offload[s]!;
    this.txOffload = off < 0 ? -1 : off;
    this.txFrames++;
    if (off !== OFFLOAD_SEGMENT) this.neighFlushed++;
    this.lastTaken = s;
    return s;
  }

  /** Build an ARP request for neighbour slot n (start-up and refresh; control plane). */
  arpRequestFor(n: number): { frame: Uint8Array; iface: number } {
    const ifi = this.neigh.iface[n]!;
    const iface = this.ifaces[ifi]!;
    const len = frames.arpRequest(this.scratch, iface.mac, iface.ip, this.neigh.ip[n]!);
    this.neigh.lastRequest[n] = this.now;
    return { frame: this.scratch.slice(0, len), iface: ifi };
  }

  // ---------------------------------------------------------------- connections

  /** is_new_conn_expected (conn_reuse_mode), and expire_nodest_conn for quiesced servers. */
  private mayReschedule(e: number): boolean {
    const t = this.table;
    if (this.expireNodestConn && this.dests[t.dest[e]!]!.weight === 0) return true;
    if (this.connReuseMode === 0) return false;
    const st = t.state[e]!;
    if (st === S_TIME_WAIT || st === S_CLOSE) return true;
    return (this.connReuseMode & 2) !== 0 && st === 4 /* FIN_WAIT */ && (t.flags[e]! & CF_NOOUTPUT) !== 0;
  }

  /**
   * ip_vs_schedule / ip_vs_sched_persist. Returns the new entry; -1 = no destination,
   * -2 = table full, -3 = full-NAT ports exhausted; capacity + dest id = one-packet
   * scheduling (no entry is created).
   */
  private schedule(
    b: Uint8Array, l3: number, ifi: number, svc: VirtualService,
    proto: number, caddr: number, cport: number, vaddr: number, vport: number,
  ): number {
    const t = this.table;
    let tmpl = NONE;
    let d: RealServer | null;
    if (svc.flags & SVC_F_PERSISTENT) {
      const snet = caddr & svc.netmask;
      const tvport = svc.port === 21 ? 0 : vport;
      tmpl = t.findForward(proto, snet, 0, vaddr, tvport, true);
      if (tmpl !== NONE && !this.templateValid(tmpl)) {
        this.invalidateTemplate(tmpl);
        tmpl = NONE;
      }
      if (tmpl === NONE) {
        d = this.pick(svc, caddr, cport);
        if (d === null) return -1;
        tmpl = t.insert(proto, snet, 0, vaddr, tvport, d.addr, svc.port === 21 ? 0 : d.port, snet, 0, CF_TEMPLATE);
        if (tmpl === NONE) return -2;
        t.fwd[tmpl] = d.fwd;
        t.dest[tmpl] = d.id;
        t.svc[tmpl] = svc.id;
        t.state[tmpl] = S_NONE;
        t.timeoutMs[tmpl] = svc.timeoutS * 1000;
        d.persistConns++;
      } else {
        d = this.dests[t.dest[tmpl]!]!;
      }
      t.timers.arm(tmpl, this.now + t.timeoutMs[tmpl]!); // conn_put(ct) restarts the template timer
    } else {
      d = this.pick(svc, caddr, cport);
      if (d === null) return -1;
    }
    if ((svc.flags & SVC_F_ONEPACKET) && proto === ipv4.PROTO_UDP) return t.capacity + d.id;
    return this.newConn(b, ifi, svc, d, tmpl, proto, caddr, cport, vaddr, vport);
  }

  private pick(svc: VirtualService, caddr: number, cport: number): RealServer | null {
    if (this.trace === null) return svc.scheduler.schedule(svc, caddr, cport);
    const inputs = svc.scheduler.explain(svc, caddr, cport);
    const d = svc.scheduler.schedule(svc, caddr, cport);
    this.trace(svc, d, caddr, cport, inputs);
    return d;
  }

  /** ip_vs_conn_new + ip_vs_bind_dest. */
  private newConn(
    b: Uint8Array, ifi: number, svc: VirtualService, d: RealServer, tmpl: number,
    proto: number, caddr: number, cport: number, vaddr: number, vport: number,
  ): number {
    const t = this.table;
    const dport = d.port !== 0 ? d.port : vport;
    let laddr = caddr;
    let lport = cport;
    let flags = CF_INACTIVE;
    if (repliesBypass(d.fwd)) flags |= CF_NOOUTPUT;
    else flags |= CF_IN_REVERSE;
    if (d.fwd === FWD_FNAT) {
      if (!this.fnat.allocate(t, proto, d.addr, dport)) return -3;
      laddr = this.fnat.addr;
      lport = this.fnat.port;
    }
    const e = t.insert(proto, caddr, cport, vaddr, vport, d.addr, dport, laddr, lport, flags);
    if (e === NONE) return -2;
    t.fwd[e] = d.fwd;
    t.dest[e] = d.id;
    t.svc[e] = svc.id;
    t.state[e] = proto === ipv4.PROTO_TCP ? S_NONE : S_UDP;
    t.timeoutMs[e] = NEW_CONN_TIMEOUT_MS;
    for (let i = 0; i < 6; i++) t.cmac[e * 6 + i] = b[6 + i]!;
    t.ciface[e] = ifi;
    if (tmpl !== NONE) {
      t.control[e] = tmpl;
      t.nControl[tmpl]++;
    }
    d.inactConns++;
    markAfterBind(d);
    d.stats.conns++;
    svc.stats.conns++;
    this.stats.conns++;
    return e;
  }

  private scheduleFailed(code: number, b: Uint8Array, l3: number, ifi: number, vip: number): number {
    if (code === -2) return this.drop(DROP.table_full);
    if (code === -3) return this.drop(DROP.fnat_ports_exhausted);
    // ip_vs_leave: ICMP port unreachable to the client, never a TCP RST.
    return this.icmpToSender(b, l3, ifi, icmp.DEST_UNREACH, icmp.CODE_PORT_UNREACH, 0, DROP.no_destination, vip);
  }

  /** One-packet scheduling (-o): the datagram goes out, no entry is kept (ip_vs_conn_put). */
  private onePacket(b: Uint8Array, l3: number, l4: number, total: number, svc: VirtualService, id: number, proto: number): number {
    const d = this.dests[id]!;
    d.stats.conns++;
    svc.stats.conns++;
    this.stats.conns++;
    this.statsIn(d, svc, total);
    if (b[l3 + ipv4.OFF_TTL]! <= 1) return this.drop(DROP.ttl_exceeded);
    const out = d.iface;
    const mtu = this.ifaces[out]!.mtu - (d.fwd === FWD_TUNNEL ? IPIP_HLEN : 0);
    if (this.wireSize(b, l3, l4, total, proto) > mtu) return this.drop(DROP.oversize);
    if (d.fwd === FWD_TUNNEL) return this.tunnel(b, l3, l4, total, d, proto, mtu);
    if (d.fwd !== FWD_DR) {
      rewriteEnd(b, l3, l4, proto === ipv4.PROTO_UDP, ipv4.OFF_DST, d.addr, 2, d.port !== 0 ? d.port : readU16(b, l4 + 2), this.csumMode);
    }
    ipv4.decrementTtl(b, l3);
    const n = d.neigh;
    if (n < 0 || !this.neigh.valid[n]) return this.queueForNeigh(n, b, l3 + total, out);
    setMacs(b, this.neigh.mac, n * 6, this.ifaces[out]!.mac);
    return this.emit(b, l3 + total, out);
  }

  /** @internal */
  statsIn(d: RealServer, svc: VirtualService, total: number): void {
    if (!(d.flags & DEST_F_AVAILABLE)) return;
    d.stats.inPkts++;
    d.stats.inBytes += total;
    svc.stats.inPkts++;
    svc.stats.inBytes += total;
    this.stats.inPkts++;
    this.stats.inBytes += total;
  }

  /** ip_vs_out_stats: counted only while the server is still configured. */
  /** @internal */
  statsOut(d: RealServer, svc: VirtualService, total: number): void {
    if (!(d.flags & DEST_F_AVAILABLE)) return;
    d.stats.outPkts++;
    d.stats.outBytes += total;
    svc.stats.outPkts++;
    svc.stats.outBytes += total;
    this.stats.outPkts++;
    this.stats.outBytes += total;
  }

  /** set_tcp_state: move between ActiveConn and InActConn as the state's activity changes. */
  private setTcpState(e: number, d: RealServer, dir: number, tflags: number): void {
    const t = this.table;
    const ns = nextTcpState(dir, t.state[e]!, tflags, this.guard.levels.secureTcp);
    if (ns !== t.state[e]) {
      const inactive = (t.flags[e]! & CF_INACTIVE) !== 0;
      if (!inactive && !STATE_ACTIVE[ns]) {
        d.activeConns--;
        d.inactConns++;
        t.flags[e] = t.flags[e]! | CF_INACTIVE;
      } else if (inactive && STATE_ACTIVE[ns]) {
        d.activeConns++;
        d.inactConns--;
        t.flags[e] = t.flags[e]! & ~CF_INACTIVE;
      }
      t.state[e] = ns;
    }
    t.timeoutMs[e] = this.guard.timeoutMs(ns, this.timeoutsMs);
  }

  private learnClientMac(e: number, b: Uint8Array, ifi: number): void {
    this.setClientHop(e, b, 6, ifi);
  }

  /**
   * Set the client-side next hop (MAC at mac[off..off+6], interface) of an entry and clear
   * CF_SYNCED. Used per packet for synced entries, and by HA at takeover, where the kernel
   * would simply route the reply (ip_vs_out) and we look the client's next hop up instead.
   */
  setClientHop(e: number, mac: Uint8Array, off: number, ifi: number): void {
    const t = this.table;
    for (let i = 0; i < 6; i++) t.cmac[e * 6 + i] = mac[off + i]!;
    t.ciface[e] = ifi;
    t.flags[e] = t.flags[e]! & ~CF_SYNCED;
  }

  /** ip_vs_check_template. */
  private templateValid(tmpl: number): boolean {
    const d = this.dests[this.table.dest[tmpl]!];
    if (!d || !(d.flags & DEST_F_AVAILABLE)) return false;
    return !(this.expireQuiescentTemplate && d.weight === 0);
  }

  /** An invalid template stops matching (the kernel rehashes it with vport 0xffff) and dies. */
  private invalidateTemplate(tmpl: number): void {
    if (this.table.nControl[tmpl] === 0) this.unbindAndFree(tmpl);
    else this.table.rekeyForward(tmpl, 0, 0xffff);
  }

  /** Timer expiry (ip_vs_conn_expire). */
  private expire(e: number): void {
    const t = this.table;
    if (t.nControl[e]! > 0) {
      t.timeoutMs[e] = PERSIST_POSTPONE_MS;
      t.timers.arm(e, this.now + PERSIST_POSTPONE_MS);
      return;
    }
    this.unbindAndFree(e);
  }

  /** ip_vs_unbind_dest + free; drops a deleted server once nothing refers to it. */
  unbindAndFree(e: number): void {
    const t = this.table;
    const d = this.dests[t.dest[e]!]!;
    if (t.flags[e]! & CF_TEMPLATE) d.persistConns--;
    else if (t.flags[e]! & CF_INACTIVE) d.inactConns--;
    else d.activeConns--;
    if (!(t.flags[e]! & CF_TEMPLATE)) markAfterUnbind(d);
    const ctl = t.control[e]!;
    if (ctl !== NONE) t.nControl[ctl]--;
    t.remove(e);
    if (d.svc === null && d.refs() === 0) this.dests[d.id] = null;
  }

  // ---------------------------------------------------------------- ICMP

  /** Send an ICMP error back to the packet's sender (rate limited), count `reason`. */
  private icmpToSender(
    b: Uint8Array, l3: number, ifi: number, type: number, code: number, rest: number, reason: number, from = 0,
  ): number {
    this.drops[reason]++;
    this.dropReason = reason;
    if (this.now - this.icmpWindowStart >= 1000) {
      this.icmpWindowStart = this.now;
      this.icmpBudget = this.icmpPerSecond;
    }
    if (this.icmpBudget <= 0) {
      this.icmpRateLimited++; // the frame is already counted under `reason`
      return V_DROP;
    }
    this.icmpBudget--;
    this.icmpSent++;
    const iface = this.ifaces[ifi]!;
    const src = from !== 0 ? from : iface.ip !== 0 ? iface.ip : ipv4.dst(b, l3);
    return this.emit(this.scratch, frames.icmpError(this.scratch, b, l3, iface.mac, src, type, code, rest), ifi);
  }

  // ---------------------------------------------------------------- ARP

  private arp(b: Uint8Array, len: number, l3: number, ifi: number): number {
    if (len - l3 < arp.ARP_LEN || !arp.isEthernetIPv4(b, l3)) return this.drop(DROP.arp_malformed);
    const spa = arp.senderIp(b, l3);
    const tpa = arp.targetIp(b, l3);
    const n = this.neigh.find(spa, ifi);
    if (n >= 0 && spa !== 0) {
      this.neigh.learn(n, b, l3 + arp.OFF_SHA, this.now);
      this.pending.release(n); // neigh_update: the queued frames may go (takeQueued)
    }
    if (spa !== 0 && this.vips.index(spa) >= 0) {
      // Someone else speaks for our VIP (we never see our own frames here).
      this.vipArpConflicts++;
      for (let k = 0; k < 6; k++) this.conflictMac[k] = b[l3 + arp.OFF_SHA + k]!;
      this.conflictIp = spa;
      this.conflictIface = ifi;
    }
    if (arp.op(b, l3) === arp.ARP_REQUEST && spa !== tpa) {
      const vi = this.vips.index(tpa);
      // A local VIP is the kernel's to answer (it sees the same request).
      if (vi >= 0 && this.vips.active[vi] && !this.vips.local[vi] && (this.vips.arpMask[vi]! & (1 << ifi)) !== 0) {
        this.arpReplies++;
        return this.emit(b, frames.arpReplyInPlace(b, l3, this.ifaces[ifi]!.mac), ifi);
      }
    }
    if (n >= 0) return V_CONSUMED;
    return this.drop(DROP.arp_ignored);
  }

  /** A gratuitous ARP for a VIP on an interface (start-up, VRRP takeover). */
  gratuitousArp(vip: number, ifi: number): Uint8Array {
    return this.scratch.slice(0, frames.gratuitousArp(this.scratch, this.ifaces[ifi]!.mac, vip));
  }

  // ---------------------------------------------------------------- services (read side)

  /** addr may be given unsigned (control plane) or int32 (packets). */
  findService(proto: number, addr: number, port: number): VirtualService | null {
    addr |= 0;
    const s = this.services;
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (v.port === port && v.addr === addr && v.proto === proto) return v;
    }
    return null;
  }

  /** Rebuild the VIP list after a service change (control plane). */
  setVips(list: readonly { addr: number; arpMask: number }[]): void {
    this.vips.set(list);
    for (const s of this.services) s.vipIndex = this.vips.index(s.addr);
  }

  vipList(): { addr: number; arpMask: number; active: boolean; local: boolean }[] {
    return this.vips.list();
  }

  /** VRRP: a backup director keeps a VIP passive (no balancing, no ARP answers). */
  setVipActive(addr: number, active: boolean): void {
    this.vips.setActive(addr, active);
  }

  /** ip_vs_proc_conn on a backup director (see sync-receive.ts). */
  syncConn(c: SyncedConn, now: number): boolean {
    this.now = now;
    return syncReceive(this, c, now);
  }
}
