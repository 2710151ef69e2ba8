/**
 * The loop wlc and sed share (ip_vs_wlc_schedule, ip_vs_sed_schedule): the minimum of
 * overhead/weight by cross-multiplication, starting from the first available dest.
 *
 *   least = first d in list order with !OVERLOAD(d) and weight(d) > 0   (none -> NULL)
 *   for each d after least, skipping OVERLOAD:
 *       if overhead(least) * weight(d) > overhead(d) * weight(least): least = d
 *
 * Ties keep the earlier dest. A weight-0 dest after the first pick is not skipped explicitly
 * but can never win (loh*0 > x is false). Products stay below 2^53 for realistic counters
 * (overhead < 2^37), so doubles are exact where the kernel uses (__s64).
 */
import { DEST_F_OVERLOAD, type SchedDest } from './types.js';

export function weightedLeast<D extends SchedDest>(dests: readonly D[], overhead: (d: SchedDest) => number): D | null {
  const n = dests.length;
  let i = 0;
  let least: D | null = null;
  for (; i < n; i++) {
    const d = dests[i]!;
    if ((d.flags & DEST_F_OVERLOAD) === 0 && d.weight > 0) {
      least = d;
      break;
    }
  }
  if (least === null) return null;
  let loh = overhead(least);
  for (i++; i < n; i++) {
    const d = dests[i]!;
    if ((d.flags & DEST_F_OVERLOAD) !== 0) continue;
    const doh = overhead(d);
    if (loh * d.weight > doh * least.weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}
