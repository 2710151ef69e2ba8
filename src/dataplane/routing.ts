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

/** An IPv6 route: addresses as four words (packet/addr6.ts). */
export interface Route6 {
  dst: Int32Array;
  prefixLen: number;
  iface: number;
  /** null when the destination is on-link. */
  gateway: Int32Array | null;
}

export interface NextHop6 {
  iface: number;
  /** Four words: the gateway, or the address itself when on-link. */
  nextHop: Int32Array;
}

export class RoutingTable {
  private readonly routes: Route[];
  private readonly routes6: Route6[];

  constructor(routes: Route[], routes6: Route6[] = []) {
    this.routes = [...routes].sort((a, b) => b.prefixLen - a.prefixLen);
    this.routes6 = [...routes6].sort((a, b) => b.prefixLen - a.prefixLen);
  }

  /** Longest-prefix match for an IPv6 address (four words). */
  lookup6(addr: Int32Array): NextHop6 | null {
    for (const r of this.routes6) {
      if (prefixMatch6(addr, r.dst, r.prefixLen)) return { iface: r.iface, nextHop: r.gateway ?? addr };
    }
    return null;
  }

  /** Interfaces with an on-link IPv6 route covering addr (where we answer NS for a VIP). */
  onLinkMask6(addr: Int32Array): number {
    let mask = 0;
    for (const r of this.routes6) if (r.gateway === null && r.prefixLen > 0 && prefixMatch6(addr, r.dst, r.prefixLen)) mask |= 1 << r.iface;
    return mask;
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

/** The first prefixLen bits of a and p (four words each) are equal. */
function prefixMatch6(a: Int32Array, p: Int32Array, prefixLen: number): boolean {
  for (let k = 0; k < 4; k++) {
    const bits = prefixLen - k * 32;
    if (bits <= 0) return true;
    const m = bits >= 32 ? -1 : prefixToMask(bits);
    if ((a[k]! & m) !== (p[k]! & m)) return false;
  }
  return true;
}
