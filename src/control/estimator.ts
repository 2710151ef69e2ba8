/**
 * IPVS's rate estimator (net/netfilter/ipvs/ip_vs_est.c), run every 2 s:
 *   conns/packets: rate = delta << 9,  avg += (rate - avg) >> 2,  shown as (avg + 0x1FF) >> 10 per second
 *   bytes:         rate = delta << 4,  avg += (rate - avg) >> 2,  shown as (avg + 0xF) >> 5 per second
 * (an EWMA with weight 1/4 per 2-second sample). Integer arithmetic as the kernel does it.
 */
import type { Stats } from '../dataplane/model.js';
import type { RatesSnapshot } from './snapshot-types.js';

export const ESTIMATOR_INTERVAL_MS = 2000;

class Estimate {
  last = [0, 0, 0, 0, 0];
  /** cps, inpps, outpps (scaled << 10 per s), inbps, outbps (scaled << 5 per s). */
  avg = [0, 0, 0, 0, 0];
}

function values(s: Stats): number[] {
  return [s.conns, s.inPkts, s.outPkts, s.inBytes, s.outBytes];
}

export class RateEstimator {
  private readonly est = new WeakMap<Stats, Estimate>();

  /** One 2-second sample for a stats object (estimation_timer). */
  sample(s: Stats): void {
    let e = this.est.get(s);
    const v = values(s);
    if (!e) {
      e = new Estimate();
      e.last = v;
      this.est.set(s, e);
      return;
    }
    for (let i = 0; i < 5; i++) {
      const delta = Math.max(0, v[i]! - e.last[i]!);
      e.last[i] = v[i]!;
      const rate = i < 3 ? delta * 512 : delta * 16;
      e.avg[i] = e.avg[i]! + Math.trunc((rate - e.avg[i]!) / 4);
    }
  }

  /** ip_vs_read_estimator. */
  rates(s: Stats): RatesSnapshot {
    const a = this.est.get(s)?.avg ?? [0, 0, 0, 0, 0];
    const pps = (x: number) => Math.max(0, Math.floor((x + 0x1ff) / 1024));
    const bps = (x: number) => Math.max(0, Math.floor((x + 0xf) / 32));
    return { cps: pps(a[0]!), inpps: pps(a[1]!), outpps: pps(a[2]!), inbps: bps(a[3]!), outbps: bps(a[4]!) };
  }

  /** -Z zeroes the estimator too (ip_vs_zero_estimator). */
  reset(s: Stats): void {
    this.est.delete(s);
  }
}
