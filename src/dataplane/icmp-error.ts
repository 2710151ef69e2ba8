/**
 * ICMP errors the data plane sends back to a packet's sender: port unreachable when no
 * server is available (ip_vs_leave), time exceeded, fragmentation needed. Rate limited
 * like the kernel's icmp_global_allow: a budget per second.
 */
import * as ipv4 from '../packet/ipv4.js';
import { V_DROP } from './verdict.js';
import type { FrameCtx } from './frame-ctx.js';
import * as frames from './frames.js';
import * as icmpv6 from '../packet/icmpv6.js';
import { copy6, writeU16 } from '../packet/bytes.js';
import { ETH_HLEN, ETHERTYPE_IPV6 } from '../packet/ethernet.js';

export class IcmpErrors {
  private readonly f: FrameCtx;
  private readonly perSecond: number;
  private budget: number;
  private windowStart = 0;

  constructor(f: FrameCtx, perSecond: number) {
    this.f = f;
    this.perSecond = perSecond;
    this.budget = perSecond;
  }

  /**
   * Send an ICMP error about the packet at b[l3..] back to its sender and count `reason`
   * (the packet itself is dropped). `from` is the error's source, 0 = the interface's address.
   */
  toSender(b: Uint8Array, l3: number, ifi: number, type: number, code: number, rest: number, reason: number, from = 0): number {
    const f = this.f;
    if (!this.allow(reason)) return V_DROP;
    const iface = f.ifaces[ifi]!;
    const src = from !== 0 ? from : iface.ip !== 0 ? iface.ip : ipv4.dst(b, l3);
    return f.emit(f.scratch, frames.icmpError(f.scratch, b, l3, iface.mac, src, type, code, rest), ifi);
  }

  /**
   * The ICMPv6 error (RFC 4443) about the IPv6 packet b[l3, end) back to its sender, from
   * the address at from[fromOff..] (icmp6_send takes the packet's destination when it is
   * ours: the VIP), under the same budget as ICMP.
   */
  toSender6(b: Uint8Array, l3: number, end: number, ifi: number, type: number, code: number, rest: number, reason: number, from: Uint8Array, fromOff: number): number {
    const f = this.f;
    if (!this.allow(reason)) return V_DROP;
    const s = f.scratch;
    copy6(s, 0, b, 6);
    copy6(s, 6, f.ifaces[ifi]!.mac, 0);
    writeU16(s, 12, ETHERTYPE_IPV6);
    return f.emit(s, icmpv6.writeError(s, ETH_HLEN, from, fromOff, type, code, rest, b, l3, end - l3), ifi);
  }

  /** Count the drop `reason`; true while this second's budget lasts (icmp_global_allow). */
  private allow(reason: number): boolean {
    const f = this.f;
    f.counters.drops[reason]!++;
    f.verdict.reason = reason;
    if (f.now - this.windowStart >= 1000) {
      this.windowStart = f.now;
      this.budget = this.perSecond;
    }
    if (this.budget <= 0) {
      f.counters.icmpRateLimited++; // the frame is already counted under `reason`
      return false;
    }
    this.budget--;
    f.counters.icmpSent++;
    return true;
  }
}
