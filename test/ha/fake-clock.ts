/** A deterministic clock for the HA runners: timers fire in time order when advanced. */
import type { HaClock } from '../../src/ha/vrrp-runner.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

export class FakeClock implements HaClock {
  t = 0;
  private seq = 0;
  private pending: Pending[] = [];

  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const p = { id: ++this.seq, at: this.t + Math.max(0, ms), fn };
    this.pending.push(p);
    return p.id;
  }
  clearTimer(h: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== h);
  }
  /** Fire everything due up to `until`, in (time, creation) order, then set now = until. */
  advanceTo(until: number): void {
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending) if (p.at <= until && (!next || p.at < next.at || (p.at === next.at && p.id < next.id))) next = p;
      if (!next) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.t = next.at;
      next.fn();
    }
    this.t = until;
  }
  advance(ms: number): void {
    this.advanceTo(this.t + ms);
  }
}
