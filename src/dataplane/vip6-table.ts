/**
 * The IPv6 addresses the engine speaks for (VipTable's IPv6 counterpart): per address, the
 * interfaces on which it answers Neighbour Solicitations (bitmask), whether it is active
 * (VRRP) and whether it is an address of this host (then the kernel answers ND and echo,
 * the balancer only balances its services). Addresses are four words each (packet/addr6.ts),
 * looked up per packet by a short linear scan over the frame's bytes.
 */
import { equalAddr6, formatIPv6 } from '../packet/addr6.js';

export interface Vip6Entry {
  /** Four words, network order. */
  words: Int32Array;
  ndMask: number;
}

export class Vip6Table {
  words = new Int32Array(0);
  ndMask = new Uint32Array(0);
  active = new Uint8Array(0);
  local = new Uint8Array(0);
  private localSet: ReadonlySet<string> = new Set();

  get size(): number {
    return this.ndMask.length;
  }

  /** The index of the address at b[off..off+16), or -1. */
  indexAt(b: Uint8Array, off: number): number {
    const n = this.ndMask.length;
    for (let i = 0; i < n; i++) if (equalAddr6(b, off, this.words, i)) return i;
    return -1;
  }

  /** The index of the address at w[slot*4..], or -1 (control plane). */
  index(w: Int32Array, slot = 0): number {
    const v = this.words;
    const j = slot * 4;
    for (let i = 0; i < this.ndMask.length; i++) {
      const k = i * 4;
      if (v[k] === w[j] && v[k + 1] === w[j + 1] && v[k + 2] === w[j + 2] && v[k + 3] === w[j + 3]) return i;
    }
    return -1;
  }

  /** Replace the list (control plane); an address that stays keeps its active flag. */
  set(list: readonly Vip6Entry[]): void {
    const was = new Map<string, number>();
    for (let i = 0; i < this.size; i++) was.set(formatIPv6(this.words, i), this.active[i]!);
    const words = new Int32Array(list.length * 4);
    list.forEach((v, i) => words.set(v.words.subarray(0, 4), i * 4));
    this.words = words;
    this.ndMask = Uint32Array.from(list, (v) => v.ndMask);
    this.active = Uint8Array.from(list, (v) => was.get(formatIPv6(v.words)) ?? 1);
    this.local = Uint8Array.from(list, (v) => (this.localSet.has(formatIPv6(v.words)) ? 1 : 0));
  }

  /** The host's own IPv6 addresses (text as formatIPv6 writes it); true when a VIP's locality changed. */
  setLocal(hostAddrs: ReadonlySet<string>): boolean {
    this.localSet = hostAddrs;
    let changed = false;
    for (let i = 0; i < this.size; i++) {
      const l = hostAddrs.has(formatIPv6(this.words, i)) ? 1 : 0;
      if (l !== this.local[i]) changed = true;
      this.local[i] = l;
    }
    return changed;
  }

  list(): { text: string; words: Int32Array; ndMask: number; active: boolean; local: boolean }[] {
    return Array.from(this.ndMask, (ndMask, i) => ({
      text: formatIPv6(this.words, i), words: this.words.slice(i * 4, i * 4 + 4), ndMask, active: this.active[i] === 1, local: this.local[i] === 1,
    }));
  }

  setActive(w: Int32Array, active: boolean): void {
    const i = this.index(w);
    if (i >= 0) this.active[i] = active ? 1 : 0;
  }
}
