/**
 * wrr: weighted round-robin, mirroring net/netfilter/ipvs/ip_vs_wrr.c (current algorithm).
 *
 * State (struct ip_vs_wrr_mark): cl = list position (-1 = head), cw = current weight,
 * mw = max weight - (di - 1), di = gcd of the weights > 0 (1 if none).
 *
 *   init / dest_changed (every add, delete and edit):   # ip_vs_wrr_init_svc / _dest_changed
 *     cl = head; di = gcd(); mw = maxw() - (di - 1)
 *     init: cw = mw
 *     changed: if cw > mw or cw == 0: cw = mw  elif di > 1: cw = (cw / di) * di + 1
 *   schedule:                                           # ip_vs_wrr_schedule
 *     if mw == 0: NULL
 *     last = cl; stop = none; last_pass = restarted = false
 *     loop: for d after cl to the end of the list:
 *             if !OVERLOAD(d) and weight(d) >= cw: cl = d; return d
 *             if d == stop: cl = d; NULL ("all destinations are overloaded")
 *           wrap to the head; cw -= di
 *           if cw <= 0: cw = mw; if last_pass or last == head: cl = head; NULL
 *                       restarted = true
 *           last_pass = cw <= di
 *           if last_pass and restarted and last != head: stop = last
 *
 * Because the service is created empty, the first -a sets cw = mw = weight - (weight - 1) = 1,
 * and later adds keep cw = 1: a real ipvsadm build starts with one pass that gives every
 * dest one pick (docs/ipvs-behaviour.md §1.2). Replaying the adds through addDest reproduces it.
 */
import { DEST_F_OVERLOAD, type SchedDest, type SchedService, type Scheduler } from './types.js';

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

export class WrrScheduler<D extends SchedDest = SchedDest> implements Scheduler<D> {
  readonly name = 'wrr';
  /** Current position in svc.dests, -1 = list head. */
  cl = -1;
  /** Current weight threshold. */
  cw = 0;
  /** Max weight minus (di - 1). */
  mw = 0;
  /** gcd of the positive weights (decreasing interval). */
  di = 1;

  init(svc: SchedService<D>): void {
    this.recompute(svc);
    this.cw = this.mw;
  }

  addDest(svc: SchedService<D>, _dest: D): void {
    this.destChanged(svc);
  }

  delDest(svc: SchedService<D>, _dest: D, _formerIndex: number): void {
    this.destChanged(svc);
  }

  updDest(svc: SchedService<D>, _dest: D): void {
    this.destChanged(svc);
  }

  /** ip_vs_wrr_gcd_weight + ip_vs_wrr_max_weight, and cl back to the head. */
  private recompute(svc: SchedService<D>): void {
    let g = 0;
    let max = 0;
    for (const d of svc.dests) {
      const w = d.weight;
      if (w > 0) g = g > 0 ? gcd(w, g) : w;
      if (w > max) max = w;
    }
    this.cl = -1;
    this.di = g > 0 ? g : 1;
    this.mw = max - (this.di - 1);
  }

  /** ip_vs_wrr_dest_changed. */
  private destChanged(svc: SchedService<D>): void {
    this.recompute(svc);
    if (this.cw > this.mw || this.cw === 0) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.trunc(this.cw / this.di) * this.di + 1;
  }

  schedule(svc: SchedService<D>, _caddr: number, _cport: number): D | null {
    if (this.mw === 0) return null;
    const dests = svc.dests;
    const n = dests.length;
    const last = this.cl;
    let stop = -2; // none
    let lastPass = false;
    let restarted = false;
    let i = this.cl;
    for (;;) {
      for (i = i + 1; i < n; i++) {
        const d = dests[i]!;
        if ((d.flags & DEST_F_OVERLOAD) === 0 && d.weight >= this.cw) {
          this.cl = i;
          return d;
        }
        if (i === stop) {
          this.cl = i;
          return null; // all destinations are overloaded
        }
      }
      i = -1; // wrapped past the head
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        if (lastPass || last === -1) {
          this.cl = -1;
          return null;
        }
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      if (lastPass && restarted && last !== -1) stop = last;
    }
  }

  explain(svc: SchedService<D>, _caddr: number, _cport: number): string {
    const where = this.cl < 0 ? 'the list head' : `#${this.cl}`;
    const lines = [`wrr: walk continues after ${where}; cw=${this.cw} mw=${this.mw} di=${this.di}`];
    svc.dests.forEach((d, i) => {
      const a = d.addr >>> 0;
      const name = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}:${d.port}`;
      const state = (d.flags & DEST_F_OVERLOAD) !== 0 ? ' OVERLOAD' : '';
      lines.push(`  #${i} ${name} w=${d.weight}${state}${d.weight >= this.cw && !state ? ' (>= cw)' : ''}`);
    });
    return lines.join('\n');
  }
}

export function createWrrScheduler<D extends SchedDest = SchedDest>(): WrrScheduler<D> {
  return new WrrScheduler<D>();
}
