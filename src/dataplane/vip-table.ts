/**
 * The addresses the engine speaks for (VIPs and full-NAT local addresses): per address,
 * the interfaces on which it answers ARP (bitmask), whether it is active (a VRRP
 * backup keeps its VIPs passive), and whether it is local: an address of this host, whose
 * ARP and ICMP echo the kernel answers (the balancer then only balances its services).
 * Looked up per packet by a short linear scan.
 */
export class VipTable {
  addrs = new Int32Array(0);
  arpMask = new Uint32Array(0);
  active = new Uint8Array(0);
  local = new Uint8Array(0);
  private localSet: ReadonlySet<number> = new Set();

  index(addr: number): number {
    addr |= 0;
    const v = this.addrs;
    for (let i = 0; i < v.length; i++) if (v[i] === addr) return i;
    return -1;
  }

  /** Replace the list (control plane); an address that stays keeps its active flag. */
  set(list: readonly { addr: number; arpMask: number }[]): void {
    // A Map, not indexOf per address: -R of thousands of services rebuilds this each time.
    const was = new Map<number, number>();
    this.addrs.forEach((a, i) => was.set(a, this.active[i]!));
    this.addrs = Int32Array.from(list, (v) => v.addr | 0);
    this.arpMask = Uint32Array.from(list, (v) => v.arpMask);
    this.active = Uint8Array.from(list, (v) => was.get(v.addr | 0) ?? 1);
    this.local = Uint8Array.from(list, (v) => (this.localSet.has(v.addr >>> 0) ? 1 : 0));
  }

  /** The host's own addresses (unsigned) changed; returns true when a VIP's locality did. */
  setLocal(hostAddrs: ReadonlySet<number>): boolean {
    this.localSet = hostAddrs;
    let changed = false;
    for (let i = 0; i < this.addrs.length; i++) {
      const l = hostAddrs.has(this.addrs[i]! >>> 0) ? 1 : 0;
      if (l !== this.local[i]) changed = true;
      this.local[i] = l;
    }
    return changed;
  }

  list(): { addr: number; arpMask: number; active: boolean; local: boolean }[] {
    return Array.from(this.addrs, (addr, i) => ({ addr: addr >>> 0, arpMask: this.arpMask[i]!, active: this.active[i] === 1, local: this.local[i] === 1 }));
  }

  setActive(addr: number, active: boolean): void {
    const i = this.index(addr);
    if (i >= 0) this.active[i] = active ? 1 : 0;
  }
}
