/**
 * The services and real servers the data plane balances to, and the only place they are
 * added, removed and freed. The control plane (control/service-registry.ts) edits them
 * through these methods; the per-packet path only reads. A real server keeps its id while
 * connections refer to it, also after it was deleted (the kernel's dest "trash").
 */
import type { RealServer, VirtualService } from './model.js';

export class ServiceTable {
  /** Live services, looked up per packet. */
  readonly live: VirtualService[] = [];
  /** Every service by id, deleted ones too (entries keep their service id). */
  readonly byId: VirtualService[] = [];
  /** Real servers by id; null once free. */
  readonly dests: (RealServer | null)[] = [];

  /** addr may be given unsigned (control plane) or int32 (packets). */
  find(proto: number, addr: number, port: number): VirtualService | null {
    addr |= 0;
    const s = this.live;
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (v.port === port && v.addr === addr && v.proto === proto) return v;
    }
    return null;
  }

  /** A new service gets the next id and goes live. */
  add(svc: VirtualService): void {
    svc.id = this.byId.length;
    this.byId.push(svc);
    this.live.push(svc);
  }

  /** The service stops matching; its id stays taken for the entries that carry it. */
  remove(svc: VirtualService): void {
    const i = this.live.indexOf(svc);
    if (i >= 0) this.live.splice(i, 1);
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
  findDeleted(addr: number, port: number, svc: VirtualService): RealServer | null {
    addr |= 0;
    for (const d of this.dests) {
      if (d === null || d.svc !== null || d.addr !== addr || d.port !== port) continue;
      const old = this.byId[d.svcId];
      if (old !== undefined && old.proto === svc.proto && old.addr === svc.addr && old.port === svc.port) return d;
    }
    return null;
  }

  /** A server out of its service is freed once no connection refers to it (ip_vs_dest_put). */
  release(d: RealServer): void {
    if (d.svc === null && d.refs() === 0) this.dests[d.id] = null;
  }
}
