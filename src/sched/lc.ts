/**
 * lc: least connections, mirroring net/netfilter/ipvs/ip_vs_lc.c.
 *
 *   overhead(d) = activeconns(d) * 256 + inactconns(d)     # ip_vs_dest_conn_overhead
 *   least = NULL                                          # ip_vs_lc_schedule
 *   for d in list order:
 *       if OVERLOAD(d) or weight(d) == 0: continue
 *       if least == NULL or overhead(d) < loh: least = d; loh = overhead(d)
 *   return least
 *
 * Strict `<`: ties go to the earliest dest in list order (the most recently added).
 * Weight only matters as 0 = quiesced. (The "<<5" in the kernel comment is stale.)
 */
import { DEST_F_OVERLOAD, type SchedDest, type SchedService, type Scheduler } from './types.js';

/** ip_vs_dest_conn_overhead (include/net/ip_vs.h): active connections weigh 256 inactive ones. */
export function connOverhead(d: SchedDest): number {
  return d.activeConns * 256 + d.inactConns;
}

export class LcScheduler<D extends SchedDest = SchedDest> implements Scheduler<D> {
  readonly name = 'lc';
  init(_svc: SchedService<D>): void {}
  addDest(_svc: SchedService<D>, _dest: D): void {}
  delDest(_svc: SchedService<D>, _dest: D, _formerIndex: number): void {}
  updDest(_svc: SchedService<D>, _dest: D): void {}

  schedule(svc: SchedService<D>, _caddr: number, _cport: number): D | null {
    let least: D | null = null;
    let loh = 0;
    const dests = svc.dests;
    for (let i = 0; i < dests.length; i++) {
      const d = dests[i]!;
      if ((d.flags & DEST_F_OVERLOAD) !== 0 || d.weight === 0) continue;
      const doh = connOverhead(d);
      if (least === null || doh < loh) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }

  explain(svc: SchedService<D>, caddr: number, cport: number): string {
    const pick = this.schedule(svc, caddr, cport);
    return explainTable('lc', 'active*256+inactive, smallest wins, ties to the earliest', svc, pick, connOverhead);
  }
}

/** Shared --trace-sched table for the overhead-based schedulers (allocates; not for the hot path). */
export function explainTable<D extends SchedDest>(
  name: string,
  rule: string,
  svc: SchedService<D>,
  pick: D | null,
  overhead: (d: D) => number,
): string {
  const lines = [`${name}: ${rule}`];
  svc.dests.forEach((d, i) => {
    const a = d.addr >>> 0;
    const addr = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}:${d.port}`;
    const skip = (d.flags & DEST_F_OVERLOAD) !== 0 ? ' skipped: OVERLOAD' : d.weight <= 0 ? ' skipped: weight 0' : '';
    lines.push(
      `  #${i} ${addr} weight=${d.weight} active=${d.activeConns} inactive=${d.inactConns} ` +
        `overhead=${overhead(d)}${skip}${d === pick ? '  <- chosen' : ''}`,
    );
  });
  if (pick === null) lines.push('  no destination available');
  return lines.join('\n');
}

export function createLcScheduler<D extends SchedDest = SchedDest>(): LcScheduler<D> {
  return new LcScheduler<D>();
}
