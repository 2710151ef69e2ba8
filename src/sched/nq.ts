/**
 * nq: never queue, mirroring net/netfilter/ipvs/ip_vs_nq.c.
 *
 *   least = NULL
 *   for d in list order:
 *       if OVERLOAD(d) or weight(d) == 0: continue
 *       doh = activeconns(d) + 1
 *       if activeconns(d) == 0: return d          # the first idle server wins at once
 *       if least == NULL or loh * weight(d) > doh * weight(least): least = d; loh = doh
 *   return least
 *
 * Otherwise it is sed: inactive connections do not count as load.
 */
import { DEST_F_OVERLOAD, type SchedDest, type SchedService, type Scheduler } from './types.js';
import { explainTable } from './lc.js';
import { expectedDelayOverhead } from './sed.js';

export class NqScheduler<D extends SchedDest = SchedDest> implements Scheduler<D> {
  readonly name = 'nq';
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
      if (d.activeConns === 0) return d;
      const doh = expectedDelayOverhead(d);
      if (least === null || loh * d.weight > doh * least.weight) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }

  explain(svc: SchedService<D>, caddr: number, cport: number): string {
    const pick = this.schedule(svc, caddr, cport);
    return explainTable('nq', 'first idle (active=0) dest, else (active+1)/weight smallest', svc, pick, expectedDelayOverhead);
  }
}

export function createNqScheduler<D extends SchedDest = SchedDest>(): NqScheduler<D> {
  return new NqScheduler<D>();
}
