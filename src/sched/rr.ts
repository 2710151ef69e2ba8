/**
 * rr: round-robin, mirroring net/netfilter/ipvs/ip_vs_rr.c.
 *
 * State (sched_data): the list position of the last pick, or the list head (-1 here).
 *
 *   schedule:                                   # ip_vs_rr_schedule
 *     walk the elements after `pos`, wrapping past the head, each at most once;
 *     the element at `pos` itself comes last (its hit check precedes the stop check)
 *     pick the first d with !OVERLOAD(d) and weight(d) > 0; pos = d
 *     none -> NULL ("no destination available"); pos unchanged
 *   del_dest(d):                                # ip_vs_rr_del_dest
 *     if pos stood on d: pos = d's predecessor (the head if d was first)
 *
 * Weights other than 0 do not matter. rr has no add hook in the kernel: a new dest at the
 * head is reached when the walk next wraps. Here addDest/delDest only keep the stored index
 * in step with the array (the kernel's pointer needs no such care).
 */
import { DEST_F_OVERLOAD, type SchedDest, type SchedService, type Scheduler } from './types.js';

export class RrScheduler<D extends SchedDest = SchedDest> implements Scheduler<D> {
  readonly name = 'rr';
  /** Index of the last pick in svc.dests; -1 = list head (nothing picked yet). */
  private pos = -1;
  /** The dest at `pos`, to re-find it if the list changed behind our back. */
  private posDest: D | null = null;

  init(_svc: SchedService<D>): void {
    this.pos = -1; // ip_vs_rr_init_svc: sched_data = &svc->destinations
    this.posDest = null;
  }

  addDest(_svc: SchedService<D>, _dest: D): void {
    if (this.pos >= 0) this.pos++; // the same element moved one index down
  }

  delDest(svc: SchedService<D>, dest: D, formerIndex: number): void {
    if (this.pos < 0) return;
    if (this.posDest === dest) {
      // Step back to the predecessor so the next pick is the removed dest's successor.
      this.pos = formerIndex - 1;
      this.posDest = this.pos >= 0 ? (svc.dests[this.pos] ?? null) : null;
    } else if (formerIndex < this.pos) {
      this.pos--;
    }
  }

  updDest(_svc: SchedService<D>, _dest: D): void {
    // rr keeps its position across -e (no upd_dest hook in ip_vs_rr.c).
  }

  /** Current walk position in svc.dests: -1 (list head) or the index of the last pick. */
  positionIn(svc: SchedService<D>): number {
    return this.resolvePos(svc);
  }

  private resolvePos(svc: SchedService<D>): number {
    if (this.pos < 0) return -1;
    const dests = svc.dests;
    if (this.posDest !== null && dests[this.pos] !== this.posDest) {
      // Hooks were not called for some change: fall back to a search (no allocation).
      this.pos = dests.indexOf(this.posDest);
    }
    if (this.pos >= dests.length) this.pos = dests.length - 1;
    return this.pos;
  }

  schedule(svc: SchedService<D>, _caddr: number, _cport: number): D | null {
    const dests = svc.dests;
    const n = dests.length;
    const start = this.resolvePos(svc);
    for (let k = 1; k <= n; k++) {
      const i = (start + k) % n; // start = -1 gives 0..n-1 in one pass
      const d = dests[i]!;
      if ((d.flags & DEST_F_OVERLOAD) === 0 && d.weight > 0) {
        this.pos = i;
        this.posDest = d;
        return d;
      }
    }
    return null;
  }

  explain(svc: SchedService<D>, _caddr: number, _cport: number): string {
    const start = this.resolvePos(svc);
    const n = svc.dests.length;
    const lines = [`rr: walk starts after ${start < 0 ? 'the list head' : `#${start}`} (${n} dests)`];
    for (let k = 1; k <= n; k++) {
      const i = (start + k) % n;
      const d = svc.dests[i]!;
      const skip = (d.flags & DEST_F_OVERLOAD) !== 0 ? 'OVERLOAD, skip' : d.weight <= 0 ? 'weight 0, skip' : 'pick';
      lines.push(`  #${i} ${fmtDest(d)} w=${d.weight}: ${skip}`);
      if (skip === 'pick') break;
    }
    return lines.join('\n');
  }
}

function fmtDest(d: SchedDest): string {
  const a = d.addr >>> 0;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}:${d.port}`;
}

export function createRrScheduler<D extends SchedDest = SchedDest>(): RrScheduler<D> {
  return new RrScheduler<D>();
}
