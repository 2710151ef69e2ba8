/**
 * sed: shortest expected delay, mirroring net/netfilter/ipvs/ip_vs_sed.c.
 *
 *   overhead(d) = activeconns(d) + 1           # ip_vs_sed_dest_overhead; inactive ignored
 *   least = first d in list order with !OVERLOAD(d) and weight(d) > 0   (none -> NULL)
 *   for each d after least:
 *       if OVERLOAD(d): continue
 *       if loh * weight(d) > overhead(d) * weight(least): least = d; loh = overhead(d)
 *   return least
 *
 * Same shape as wlc; the +1 counts the incoming job (Weinrib & Shenker, INFOCOM'88).
 */
import { type SchedDest, type SchedService, type Scheduler } from './types.js';
import { weightedLeast } from './weighted-least.js';
import { explainTable } from './lc.js';

/** ip_vs_sed_dest_overhead / ip_vs_nq_dest_overhead. */
export function expectedDelayOverhead(d: SchedDest): number {
  return d.activeConns + 1;
}

export class SedScheduler<D extends SchedDest = SchedDest> implements Scheduler<D> {
  readonly name = 'sed';
  init(_svc: SchedService<D>): void {}
  addDest(_svc: SchedService<D>, _dest: D): void {}
  delDest(_svc: SchedService<D>, _dest: D, _formerIndex: number): void {}
  updDest(_svc: SchedService<D>, _dest: D): void {}

  schedule(svc: SchedService<D>, _caddr: number, _cport: number): D | null {
    return weightedLeast(svc.dests, expectedDelayOverhead);
  }

  explain(svc: SchedService<D>, caddr: number, cport: number): string {
    const pick = this.schedule(svc, caddr, cport);
    return explainTable('sed', '(active+1)/weight, smallest wins, ties to the earliest', svc, pick, expectedDelayOverhead);
  }
}

export function createSedScheduler<D extends SchedDest = SchedDest>(): SedScheduler<D> {
  return new SedScheduler<D>();
}
