/**
 * NAT return-path check (seed 000): a masqueraded real server must send its replies
 * back through the director. When SYNs and segments go out to it and, over a short
 * window, not one reply comes back, its replies take another way (its default route
 * points at a router, not at the director). IPVS has no such check; this is ours.
 *
 * Decision on counter samples (IPVS's per-dest inpkts/outpkts, ip_vs_in_stats /
 * ip_vs_out_stats): over [now - window, now - grace] at least `minSent` packets went
 * to the server, and over [now - window, now] nothing came back. The grace period
 * keeps a reply that is simply in flight at the sample instant from looking lost.
 */

export interface CounterSample {
  t: number;
  conns: number;
  inPkts: number;
  outPkts: number;
}

export interface ReturnPathConfig {
  windowMs: number;
  graceMs: number;
  minSent: number;
}

export const DEFAULT_RETURN_PATH: ReturnPathConfig = { windowMs: 3000, graceMs: 1000, minSent: 2 };

export type ReturnPathVerdict = 'no-replies' | 'replies' | 'unknown';

/** Samples of one server's counters, oldest first, pruned to what the window needs. */
export class CounterHistory {
  readonly samples: CounterSample[] = [];

  push(s: CounterSample, keepMs: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last !== undefined && s.t < last.t) throw new RangeError('samples must be pushed in time order');
    this.samples.push(s);
    // Keep one sample at or before the window start, drop anything older.
    while (this.samples.length > 2 && this.samples[1]!.t <= s.t - keepMs) this.samples.shift();
  }

  /** The latest sample taken at or before t, or null. */
  at(t: number): CounterSample | null {
    let found: CounterSample | null = null;
    for (const s of this.samples) {
      if (s.t > t) break;
      found = s;
    }
    return found;
  }

  latest(): CounterSample | null {
    return this.samples[this.samples.length - 1] ?? null;
  }
}

export interface ReturnPathAssessment {
  verdict: ReturnPathVerdict;
  /** Packets sent to the server in [now - window, now - grace]. */
  sent: number;
  /** Replies seen in [now - window, now]. */
  replies: number;
}

export function assessReturnPath(h: CounterHistory, now: number, cfg: ReturnPathConfig = DEFAULT_RETURN_PATH): ReturnPathAssessment {
  const start = h.at(now - cfg.windowMs);
  const mid = h.at(now - cfg.graceMs);
  const cur = h.latest();
  if (start === null || mid === null || cur === null) return { verdict: 'unknown', sent: 0, replies: 0 };
  const sent = mid.inPkts - start.inPkts;
  const replies = cur.outPkts - start.outPkts;
  if (replies > 0) return { verdict: 'replies', sent, replies };
  if (sent >= cfg.minSent) return { verdict: 'no-replies', sent, replies };
  return { verdict: 'unknown', sent, replies };
}
