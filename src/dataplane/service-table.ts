/**
 * The services and real servers the data plane balances to, and the only place they are
 * added, removed and freed. The control plane (control/service-registry.ts) edits them
 * through these methods; the per-packet path only reads. A real server keeps its id while
 * connections refer to it, also after it was deleted (the kernel's dest "trash").
 */
import { AF_INET, AF_INET6 } from '../lvs/af.js';
import { equalAddr6, sameAddr6 } from '../packet/addr6.js';
import type { RealServer, VirtualService } from './model.js';

export class ServiceTable {
  /** Live services of both families (the control plane's list, in the order they were added). */
  readonly live: VirtualService[] = [];
  /** The live services per family, as the per-packet lookups scan them. */
  private readonly live4: VirtualService[] = [];
  private readonly live6: VirtualService[] = [];
  /** Every service by id, deleted ones too (entries keep their service id). */
  readonly byId: VirtualService[] = [];
  /** Real servers by id; null once free. */
  readonly dests: (RealServer | null)[] = [];

  /** addr may be given unsigned (control plane) or int32 (packets). */
  find(proto: number, addr: number, port: number): VirtualService | null {
    addr |= 0;
    const s = this.live4;
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (v.port === port && v.addr === addr && v.proto === proto) return v;
    }
    return null;
  }

  /** The IPv6 service for proto, the address at words[slot*4..] and port. */
  find6(proto: number, words: Int32Array, slot: number, port: number): VirtualService | null {
    const s = this.live6;
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (v.port === port && v.proto === proto && sameAddr6(v.addr6, 0, words, slot)) return v;
    }
    return null;
  }

  /** The IPv6 service for proto, the address at b[off..off+16) and port (per packet). */
  find6At(proto: number, b: Uint8Array, off: number, port: number): VirtualService | null {
    const s = this.live6;
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (v.port === port && v.proto === proto && equalAddr6(b, off, v.addr6, 0)) return v;
    }
    return null;
  }

  /** Whether any IPv6 service is configured (the IPv6 path drops everything before one is). */
  get hasIPv6(): boolean {
    return this.live6.length > 0;
  }

  /** A new service gets the next id and goes live. */
  add(svc: VirtualService): void {
    svc.id = this.byId.length;
    this.byId.push(svc);
    this.live.push(svc);
    (svc.af === AF_INET6 ? this.live6 : this.live4).push(svc);
  }

  /** The service stops matching; its id stays taken for the entries that carry it. */
  remove(svc: VirtualService): void {
    for (const list of [this.live, svc.af === AF_INET6 ? this.live6 : this.live4]) {
      const i = list.indexOf(svc);
      if (i >= 0) list.splice(i, 1);
    }
  }

  /** A new real server gets the lowest free id. */
  addDest(d: RealServer): void {
    const i = this.dests.indexOf(null);
    d.id = i >= 0 ? i : this.dests.length;
    this.dests[d.id] = d;
  }

  /**
   * ip_vs_trash_get_dest: a deleted server still referenced by connections, with the same
   * address and port, whose service had the same protocol, VIP and port (not identity).
   */
  findDeleted(addr: number, port: number, svc: VirtualService, addr6: Int32Array | null = null): RealServer | null {
    addr |= 0;
    for (const d of this.dests) {
      if (d === null || d.svc !== null || d.port !== port || !sameDestAddr(d, addr, addr6)) continue;
      const old = this.byId[d.svcId];
      if (old !== undefined && old.proto === svc.proto && old.port === svc.port && old.af === svc.af && old.addr === svc.addr && sameAddr6(old.addr6, 0, svc.addr6, 0)) return d;
    }
    return null;
  }

  /** A server out of its service is freed once no connection refers to it (ip_vs_dest_put). */
  release(d: RealServer): void {
    if (d.svc === null && d.refs() === 0) this.dests[d.id] = null;
  }
}

/** d's address is addr (IPv4, addr6 null) or the four words of addr6. */
export function sameDestAddr(d: RealServer, addr: number, addr6: Int32Array | null): boolean {
  if (addr6 === null) return d.af === AF_INET && d.addr === (addr | 0);
  return d.af === AF_INET6 && sameAddr6(d.addr6, 0, addr6, 0);
}
