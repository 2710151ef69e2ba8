/**
 * Time source of the health runner, injectable so tests can drive time by hand.
 */

export interface TimerHandle {
  readonly id: number;
}

export interface HealthClock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimer(fn: () => void, delayMs: number): TimerHandle;
  clearTimer(h: TimerHandle): void;
}

/** The real clock: performance.now() and node timers (unref'd so they never hold the process). */
export function realClock(): HealthClock {
  const timers = new Map<number, NodeJS.Timeout>();
  let next = 1;
  return {
    now: () => performance.now(),
    setTimer(fn, delayMs) {
      const id = next++;
      const t = setTimeout(() => {
        timers.delete(id);
        fn();
      }, Math.max(0, delayMs));
      t.unref();
      timers.set(id, t);
      return { id };
    },
    clearTimer(h) {
      const t = timers.get(h.id);
      if (t) clearTimeout(t);
      timers.delete(h.id);
    },
  };
}

/**
 * A manual clock for tests: `advance(ms)` fires due timers in time order (ties in creation
 * order), including timers created while advancing.
 */
export class ManualClock implements HealthClock {
  private t = 0;
  private seq = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const id = this.seq++;
    this.pending.set(id, { at: this.t + Math.max(0, delayMs), fn });
    return { id };
  }

  clearTimer(h: TimerHandle): void {
    this.pending.delete(h.id);
  }

  /** Number of timers not yet fired. */
  get size(): number {
    return this.pending.size;
  }

  /** Time of the earliest pending timer, if any. */
  nextDue(): number | undefined {
    let best: number | undefined;
    for (const p of this.pending.values()) if (best === undefined || p.at < best) best = p.at;
    return best;
  }

  /** Fire every timer due at or before now+ms; returns after moving time to now+ms. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let bestId = -1;
      let bestAt = Infinity;
      for (const [id, p] of this.pending) {
        if (p.at < bestAt || (p.at === bestAt && id < bestId)) {
          bestAt = p.at;
          bestId = id;
        }
      }
      if (bestId < 0 || bestAt > end) break;
      const p = this.pending.get(bestId);
      this.pending.delete(bestId);
      this.t = bestAt;
      p?.fn();
    }
    this.t = end;
  }
}
