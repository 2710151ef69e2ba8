/**
 * wlc: weighted least connections (ipvsadm's default), mirroring net/netfilter/ipvs/ip_vs_wlc.c.
 *
 *   least = first d in list order with !OVERLOAD(d) and weight(d) > 0   (none -> NULL)
 *   loh = overhead(least)                       # activeconns*256 + inactconns
 *   for each d after least:
 *       if OVERLOAD(d): continue
 *       doh = overhead(d)
 *       if loh * weight(d) > doh * weight(least): least = d; loh = doh   # (__s64) products
 *   return least
 *
 * Minimum of overhead/weight by cross-multiplication; ties keep the earlier dest. A weight-0
 * dest after the first pick is not skipped explicitly but can never win (loh*0 > x is false).
 * Products stay below 2^53 for realistic counters (overhead < 2^37), so doubles are exact.
 */
import { type SchedDest, type SchedService, type Scheduler } from './types.js';
import { weightedLeast } from './weighted-least.js';
import { connOverhead, explainTable } from './lc.js';

export class WlcScheduler<D extends SchedDest = SchedDest> implements Scheduler<D> {
  readonly name = 'wlc';
  init(_svc: SchedService<D>): void {}
  addDest(_svc: SchedService<D>, _dest: D): void {}
  delDest(_svc: SchedService<D>, _dest: D, _formerIndex: number): void {}
  updDest(_svc: SchedService<D>, _dest: D): void {}

  schedule(svc: SchedService<D>, _caddr: number, _cport: number): D | null {
    return weightedLeast(svc.dests, connOverhead);
  }

  explain(svc: SchedService<D>, caddr: number, cport: number): string {
    const pick = this.schedule(svc, caddr, cport);
    return explainTable('wlc', '(active*256+inactive)/weight, smallest wins, ties to the earliest', svc, pick, connOverhead);
  }
}

export function createWlcScheduler<D extends SchedDest = SchedDest>(): WlcScheduler<D> {
  return new WlcScheduler<D>();
}
