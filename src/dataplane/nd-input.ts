/**
 * ICMPv6 addressed to the director itself, the IPv6 side of arp.ts and of icmp.ts's echo:
 * Neighbour Solicitations for an active VIP are answered on the interfaces where we speak
 * for it (RFC 4861 7.2.3-7.2.4, as the kernel's ndisc_recv_ns does for its own address),
 * Advertisements and the source link-layer option of Solicitations teach the neighbour
 * table the MACs of our next hops (7.2.5, 7.2.3) and release frames that waited for them,
 * and an echo request to a VIP gets its reply. A VIP that is an address of this host is
 * the kernel's to answer.
 */
import { copy6 } from '../packet/bytes.js';
import { copy16 } from '../packet/addr6.js';
import * as icmpv6 from '../packet/icmpv6.js';
import * as nd from '../packet/nd.js';
import { OFF_DST, OFF_HOPLIMIT, OFF_SRC } from '../packet/ipv6.js';
import { DROP, V_CONSUMED } from './verdict.js';
import type { FrameCtx } from './frame-ctx.js';
import type { NextHop } from './next-hop.js';
import type { Vip6Table } from './vip6-table.js';

export class NdInput {
  private readonly f: FrameCtx;
  private readonly hop: NextHop;
  private readonly vips: Vip6Table;
  private readonly ns = new Int32Array(nd.NS_SLOTS);
  /** Room for swapping the addresses of an echo request. */
  private readonly tmp = new Uint8Array(16);

  constructor(f: FrameCtx, hop: NextHop, vips: Vip6Table) {
    this.f = f;
    this.hop = hop;
    this.vips = vips;
  }

  /** Whether entry vi speaks on ifi: active (VRRP master), not the kernel's, on an interface of its mask. */
  private speaks(vi: number, ifi: number): boolean {
    const v = this.vips;
    return vi >= 0 && v.active[vi] === 1 && v.local[vi] === 0 && (v.ndMask[vi]! & (1 << ifi)) !== 0;
  }

  solicit(b: Uint8Array, l3: number, c: number, end: number, ifi: number): number {
    const f = this.f;
    const ns = this.ns;
    if (nd.parseSolicit(b, l3, c, end, ns) < 0) return f.drop(DROP.nd_invalid);
    const learnt = this.learn(b, l3 + OFF_SRC, ns[nd.NS_SLLA]!, ifi);
    const vi = this.vips.indexAt(b, ns[nd.NS_TARGET]!);
    if (this.speaks(vi, ifi)) {
      f.counters.arpReplies++;
      const iface = f.ifaces[ifi]!;
      // R: the director forwards for the VIP; O: the address is ours, not anycast (ndisc_send_na).
      return f.emit(f.scratch, nd.writeAdvertFor(f.scratch, b, l3, ns, iface.mac, nd.NA_ROUTER | nd.NA_OVERRIDE), ifi);
    }
    return learnt ? V_CONSUMED : f.drop(DROP.nd_ignored);
  }

  advert(b: Uint8Array, l3: number, c: number, end: number, ifi: number): number {
    const f = this.f;
    if (b[l3 + OFF_HOPLIMIT] !== nd.ND_HOPLIMIT || b[c + 1] !== 0 || end - c < nd.ND_MSG_LEN) return f.drop(DROP.nd_invalid);
    if (!icmpv6.verifyChecksum(b, l3, c, end - c)) return f.drop(DROP.nd_invalid);
    const target = c + nd.OFF_TARGET;
    if (this.vips.indexAt(b, target) >= 0) {
      // Another host advertises our VIP (we never see our own frames here): recorded as for ARP.
      const k = f.counters;
      k.vipArpConflicts++;
      for (let i = 0; i < 6; i++) k.conflictMac[i] = b[6 + i]!;
      k.conflictIface = ifi;
    }
    return this.learn(b, target, nd.advertTargetMac(b, c, end), ifi) ? V_CONSUMED : f.drop(DROP.nd_ignored);
  }

  /** The neighbour at b[addr..] on ifi, if it is one we resolve, has the MAC at b[mac..]. */
  private learn(b: Uint8Array, addr: number, mac: number, ifi: number): boolean {
    if (mac < 0) return false;
    const neigh = this.hop.neigh;
    const n = neigh.find6At(b, addr, ifi);
    if (n < 0) return false;
    neigh.learn(n, b, mac, this.f.now);
    this.hop.pending.release(n);
    return true;
  }

  /** Echo request to an active VIP: the reply, in place (RFC 4443 4.2). */
  echo(b: Uint8Array, l3: number, c: number, end: number, ifi: number): number {
    const f = this.f;
    if (!this.speaks(this.vips.indexAt(b, l3 + OFF_DST), ifi)) return f.drop(DROP.icmp_unrelated);
    if (!icmpv6.verifyChecksum(b, l3, c, end - c)) return f.drop(DROP.icmp_bad_checksum);
    const t = this.tmp;
    copy16(t, 0, b, l3 + OFF_SRC);
    copy16(b, l3 + OFF_SRC, b, l3 + OFF_DST);
    copy16(b, l3 + OFF_DST, t, 0);
    b[l3 + OFF_HOPLIMIT] = 64;
    b[c] = icmpv6.ECHO_REPLY;
    icmpv6.fillChecksum(b, l3, c, end - c);
    copy6(b, 0, b, 6);
    copy6(b, 6, f.ifaces[ifi]!.mac, 0);
    return f.emit(b, end, ifi);
  }
}
