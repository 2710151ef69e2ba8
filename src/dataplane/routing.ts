/**
 * Which engine interface reaches an address, and through which next hop: a
 * longest-prefix match over routes the I/O edge reads from the kernel
 * (`ip -j route`) or the operator gives. Control plane only.
 */
import { prefixToMask } from '../packet/addr.js';

export interface Route {
  dst: number;
  prefixLen: number;
  iface: number;
  /** 0 when the destination is on-link. */
  gateway: number;
}

export interface NextHop {
  iface: number;
  nextHop: number;
}

export class RoutingTable {
  private readonly routes: Route[];

  constructor(routes: Route[]) {
    this.routes = [...routes].sort((a, b) => b.prefixLen - a.prefixLen);
  }

  lookup(addr: number): NextHop | null {
    for (const r of this.routes) {
      const m = prefixToMask(r.prefixLen);
      if (((addr & m) >>> 0) === ((r.dst & m) >>> 0)) return { iface: r.iface, nextHop: r.gateway !== 0 ? r.gateway : addr };
    }
    return null;
  }

  /** Interfaces with an on-link route covering addr, as a bitmask (where we answer ARP for a VIP). */
  onLinkMask(addr: number): number {
    let mask = 0;
    for (const r of this.routes) {
      const m = prefixToMask(r.prefixLen);
      if (r.gateway === 0 && r.prefixLen > 0 && ((addr & m) >>> 0) === ((r.dst & m) >>> 0)) mask |= 1 << r.iface;
    }
    return mask;
  }
}
