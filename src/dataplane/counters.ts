/**
 * What the data plane counts: frames in and out, drops by reason, the totals of
 * ip_vs_stats (ip_vs_in_stats / ip_vs_out_stats), offload handling, and diagnostics the
 * control plane reports. Plain numeric fields, written per packet, read by the control plane.
 */
import { DEST_F_AVAILABLE } from '../sched/types.js';
import { DROP_REASONS } from './verdict.js';
import { Stats, type RealServer, type VirtualService } from './model.js';

export class Counters {
  /** Totals over all services (the kernel's tot_stats). */
  readonly stats = new Stats();
  readonly drops = new Float64Array(DROP_REASONS.length);
  /** Frames seen, frames emitted, ARP replies sent, ICMP errors sent. */
  rxFrames = 0;
  txFrames = 0;
  arpReplies = 0;
  icmpSent = 0;
  /** ICMP errors not sent because of the rate limit. */
  icmpRateLimited = 0;
  /** Entries created by sloppy TCP from a segment without SYN (a flow another director had). */
  sloppyConns = 0;

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
}

/** ip_vs_in_stats: counted only while the server is still configured. */
export function statsIn(c: Counters, d: RealServer, svc: VirtualService, total: number): void {
  if (!(d.flags & DEST_F_AVAILABLE)) return;
  d.stats.inPkts++;
  d.stats.inBytes += total;
  svc.stats.inPkts++;
  svc.stats.inBytes += total;
  c.stats.inPkts++;
  c.stats.inBytes += total;
}

/** ip_vs_out_stats: counted only while the server is still configured. */
export function statsOut(c: Counters, d: RealServer, svc: VirtualService, total: number): void {
  if (!(d.flags & DEST_F_AVAILABLE)) return;
  d.stats.outPkts++;
  d.stats.outBytes += total;
  svc.stats.outPkts++;
  svc.stats.outBytes += total;
  c.stats.outPkts++;
  c.stats.outBytes += total;
}

/** A new connection (or one-packet datagram) counted on its server, service and the totals. */
export function countConn(c: Counters, d: RealServer, svc: VirtualService): void {
  d.stats.conns++;
  svc.stats.conns++;
  c.stats.conns++;
}
