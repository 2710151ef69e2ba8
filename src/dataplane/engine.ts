/**
 * The data plane: a pure function from (frame, ingress interface, now) to a verdict.
 * No I/O, no timers of its own: time is passed in, and connection expiry runs from
 * the timer wheel as time advances. This class only wires the parts together: the
 * per-frame dispatch (pipeline.ts: ip_vs_in, ip_vs_out, ICMP, ARP), connections
 * (conn.ts, conn-sync.ts), transmitters (xmit.ts), next hops (next-hop.ts) and counters.
 * The port reads the result of each call from `verdict`.
 */
import type { Guard } from '../defense/guard.js';
import { equal6 } from '../packet/bytes.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, etherType, l3Offset } from '../packet/ethernet.js';
import { ConnTable } from '../table/conn-table.js';
import { arpInput } from './arp.js';
import { Conns } from './conn.js';
import type { FnatPool } from './fnat-pool.js';
import type { NeighQueue } from './neigh-queue.js';
import type { IpipTunnel } from './tunnel.js';
import { installSynced, type SyncedConn } from './conn-sync.js';
import { Counters } from './counters.js';
import { FrameCtx, type EngineIface } from './frame-ctx.js';
import * as frames from './frames.js';
import { IcmpErrors } from './icmp-error.js';
import type { RealServer, VirtualService } from './model.js';
import { NeighTable } from './neigh.js';
import { NextHop } from './next-hop.js';
import { Pipeline } from './pipeline.js';
import { ServiceTable } from './service-table.js';
import { Hooks, Settings } from './settings.js';
import { DROP, type Verdict } from './verdict.js';
import { VipTable } from './vip-table.js';
import { Vip6Table, type Vip6Entry } from './vip6-table.js';
import { ConnTable6 } from '../table/conn-table6.js';
import { Conns6 } from './conn6.js';
import { Xmit6 } from './xmit6.js';
import type { Ip6ip6Tunnel } from './tunnel6.js';
import { Pipeline6 } from './ipv6-path.js';
import { NdInput } from './nd-input.js';
import { Icmp6 } from './icmp6.js';
import { AF_INET6 } from '../lvs/af.js';
import { writeAddr6 } from '../packet/addr6.js';
import * as nd from '../packet/nd.js';
import { Xmit } from './xmit.js';

export type { SyncedConn } from './conn-sync.js';

export interface EngineOptions {
  ifaces: EngineIface[];
  /** Hard connection table capacity; new connections beyond it are dropped and counted. */
  maxConns?: number;
  /** IPv6 connection table capacity (default: maxConns). */
  maxConns6?: number;
  /** 'full' recomputes L4 checksums on every rewrite (senders with partial checksums). */
  checksum?: 'incremental' | 'full';
  tickMs?: number;
  /** ICMP errors the engine may generate per second (the kernel rate-limits too). */
  icmpPerSecond?: number;
}

export class Engine {
  readonly ifaces: EngineIface[];
  readonly table: ConnTable;
  /** IPv6 connections (conn-table6.ts), the same capacity as the IPv4 table. */
  readonly table6: ConnTable6;
  readonly neigh = new NeighTable();
  /** VIPs, where we answer ARP for them, and whether they are active (VRRP). */
  readonly vips = new VipTable();
  /** IPv6 VIPs, where we answer Neighbour Solicitations for them, and whether they are active. */
  readonly vips6 = new Vip6Table();
  /** Services and real servers; edited by the control plane (control/service-registry.ts). */
  readonly registry = new ServiceTable();
  readonly services: readonly VirtualService[] = this.registry.live;
  readonly svcById: readonly VirtualService[] = this.registry.byId;
  readonly dests: readonly (RealServer | null)[] = this.registry.dests;
  readonly settings: Settings;
  readonly hooks = new Hooks();
  /** Details of the last verdict (interface, buffer, length, offload word, drop reason). */
  readonly verdict: Verdict;
  readonly counters: Counters;
  readonly conns: Conns;
  readonly conns6: Conns6;
  /** New-connection defences (src/defense/guard.ts), owned by the connection lifecycle. */
  readonly guard: Guard;
  /** Full-NAT local addresses and ports. */
  readonly fnat: FnatPool;
  /** IPIP encapsulation and its counters. */
  readonly ipip: IpipTunnel;
  /** ip6ip6 encapsulation (IPv6 tunnel servers) and its counters. */
  readonly ip6ip6: Ip6ip6Tunnel;
  /** Frames waiting for their next hop (and tunnel segments ready to go). */
  readonly pending: NeighQueue;
  /** The buffer of frames the engine builds (a verdict's buf is this or the input frame). */
  readonly scratch: Uint8Array;
  private readonly frame: FrameCtx;
  private readonly hop: NextHop;
  private readonly xmit: Xmit;
  private readonly pipeline: Pipeline;
  private readonly pipeline6: Pipeline6;

  constructor(opts: EngineOptions) {
    if (opts.ifaces.length === 0 || opts.ifaces.length > 32) throw new RangeError('the engine needs 1..32 interfaces');
    this.ifaces = opts.ifaces;
    this.table = new ConnTable(opts.maxConns ?? 1 << 20, opts.tickMs ?? 100);
    this.settings = new Settings(opts.checksum === 'full');
    const f = (this.frame = new FrameCtx(opts.ifaces));
    this.verdict = f.verdict;
    this.counters = f.counters;
    this.hop = new NextHop(f, this.neigh);
    this.conns = new Conns(f, this.table, this.registry, this.settings, this.hooks);
    const icmpErrors = new IcmpErrors(f, opts.icmpPerSecond ?? 100);
    this.xmit = new Xmit(f, this.table, this.hop, icmpErrors);
    const x = { f, vips: this.vips, table: this.table, services: this.registry, hop: this.hop, ipip: this.xmit.ipip };
    this.pipeline = new Pipeline(x, this.conns, this.xmit, icmpErrors, this.settings, this.hooks);
    this.table6 = new ConnTable6(opts.maxConns6 ?? opts.maxConns ?? 1 << 20, opts.tickMs ?? 100);
    this.conns6 = new Conns6(f, this.table6, this.registry, this.settings, this.conns.guard);
    const xmit6 = new Xmit6(f, this.table6, this.hop, icmpErrors);
    this.ip6ip6 = xmit6.ip6ip6;
    this.pipeline6 = new Pipeline6(f, this.registry, this.vips6, this.conns6, xmit6, new NdInput(f, this.hop, this.vips6),
      new Icmp6(f, this.table6, this.registry, this.vips6, this.hop), icmpErrors, this.settings, this.hooks);
    this.fnat = this.conns.fnat;
    this.guard = this.conns.guard;
    this.ipip = this.xmit.ipip;
    this.pending = this.hop.pending;
    this.scratch = f.scratch;
  }

  /**
   * Classify and rewrite one frame; the result's details are in `verdict`. The frame may be
   * modified in place. `offload` is the frame's offload word (packet/offload.ts): 0 when
   * the port does not know it (pcap).
   */
  process(b: Uint8Array, len: number, ifi: number, now: number, offload = 0): number {
    // Kept here, not behind another call: a fractional `now` passed to a call that is not
    // inlined is boxed (16 bytes a packet), and a small wrapper stops callers inlining this.
    const f = this.frame;
    this.counters.rxFrames++;
    f.now = now;
    f.rxOffload = offload;
    if (now >= this.table.timers.nextTickAt()) {
      // Both wheels tick together, so the IPv4 one's next tick stands for both.
      this.conns.advance(now);
      this.conns6.advance(now);
    }
    const l3 = l3Offset(b, len);
    if (l3 < 0) return f.drop(DROP.runt_frame);
    const mac = this.ifaces[ifi]!.mac;
    if (equal6(b, 6, mac, 0)) return f.drop(DROP.own_frame);
    // The capture is promiscuous: a unicast frame for another host (flooded by a switch that
    // has not learnt its MAC) is not ours; the kernel drops it as PACKET_OTHERHOST too.
    if ((b[0]! & 1) === 0 && !equal6(b, 0, mac, 0)) return f.drop(DROP.other_host);
    const type = etherType(b, l3);
    if (type === ETHERTYPE_IPV4) return this.pipeline.ipv4(b, len, l3, ifi);
    if (type === ETHERTYPE_ARP) return arpInput(f, this.hop, this.vips, b, len, l3, ifi);
    if (type === ETHERTYPE_IPV6) return this.pipeline6.ipv6(b, len, l3, ifi);
    return f.drop(DROP.unknown_ethertype);
  }

  /** Run expiry up to `now` without a packet (called from a timer by the I/O edge). */
  tick(now: number): void {
    this.frame.now = now;
    this.conns.advance(now);
    this.conns6.advance(now);
    this.conns.guard.tick(now); // once a second: defence levels and drop_entry (src/defense)
    this.hop.expire(now);
  }

  /**
   * After process(): the next queued frame whose next hop is now known, with its MACs set,
   * described in `verdict`. Returns -1 when none is left.
   */
  takeQueued(): number {
    return this.hop.takeQueued();
  }

  /** Build an ARP request (IPv6: a Neighbour Solicitation) for neighbour slot n (start-up and refresh; control plane). */
  arpRequestFor(n: number): { frame: Uint8Array; iface: number } | null {
    return this.hop.arpRequestFor(n);
  }

  /** A gratuitous ARP for a VIP on an interface (start-up, VRRP takeover). */
  gratuitousArp(vip: number, ifi: number): Uint8Array {
    const s = this.frame.scratch;
    return s.slice(0, frames.gratuitousArp(s, this.ifaces[ifi]!.mac, vip));
  }

  /**
   * The unsolicited Neighbour Advertisement for an IPv6 VIP (four words) on an interface:
   * the IPv6 counterpart of gratuitous ARP (start-up, VRRP takeover; RFC 9568 6.4.2).
   */
  unsolicitedNa(vip: Int32Array, ifi: number): Uint8Array {
    const s = this.frame.scratch;
    const v = new Uint8Array(16);
    writeAddr6(v, 0, vip, 0);
    return s.slice(0, nd.writeUnsolicitedAdvert(s, this.ifaces[ifi]!.mac, v, 0));
  }

  /** addr may be given unsigned (control plane) or int32 (packets). */
  findService(proto: number, addr: number, port: number): VirtualService | null {
    return this.registry.find(proto, addr, port);
  }

  /** Rebuild the VIP lists after a service change (control plane); IPv6 entries are four words each. */
  setVips(list: readonly { addr: number; arpMask: number }[], list6: readonly Vip6Entry[] = []): void {
    this.vips.set(list);
    this.vips6.set(list6);
    for (const s of this.registry.live) s.vipIndex = s.af === AF_INET6 ? this.vips6.index(s.addr6) : this.vips.index(s.addr);
  }

  vipList(): { addr: number; arpMask: number; active: boolean; local: boolean }[] {
    return this.vips.list();
  }

  /** VRRP: a backup director keeps a VIP passive (no balancing, no ARP answers). */
  setVipActive(addr: number, active: boolean): void {
    this.vips.setActive(addr, active);
  }

  /** VRRP for an IPv6 VIP (four words): passive means no balancing and no NS answers. */
  setVipActive6(addr: Int32Array, active: boolean): void {
    this.vips6.setActive(addr, active);
  }

  /** HA takeover: the client-side next hop of a synced entry (conn.ts setClientHop). */
  setClientHop(e: number, mac: Uint8Array, off: number, ifi: number): void {
    this.conns.setClientHop(e, mac, off, ifi);
  }

  /** ip_vs_proc_conn on a backup director (see conn-sync.ts). */
  syncConn(c: SyncedConn, now: number): boolean {
    this.frame.now = now;
    return installSynced(this.conns, c, now);
  }
}
