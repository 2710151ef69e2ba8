/**
 * Hashed timer wheel over entry indexes (Varghese & Lauck), lazy re-arming:
 * refreshing an entry's timeout on every packet is one store, the wheel only
 * re-links it when a shorter timeout must fire earlier than its current slot.
 * Expiry never scans the table: each tick visits only the entries linked in it.
 */
export class TimerWheel {
  readonly tickMs: number;
  readonly expiresAt: Float64Array;
  private readonly slots: number;
  private readonly slotHead: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  /** Absolute tick whose slot holds the entry, or -1 when not linked. */
  private readonly linkedTick: Float64Array;
  private curTick = -1;

  constructor(capacity: number, tickMs = 100, slots = 4096) {
    this.tickMs = tickMs;
    this.slots = slots;
    this.expiresAt = new Float64Array(capacity);
    this.slotHead = new Int32Array(slots).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
    this.prev = new Int32Array(capacity).fill(-1);
    this.linkedTick = new Float64Array(capacity).fill(-1);
  }

  /** Set entry e to expire at `at` (ms). */
  arm(e: number, at: number): void {
    this.expiresAt[e] = at;
    this.rearm(e);
  }

  /**
   * File entry e by the expiry its caller has just written to expiresAt[e]. The per-packet
   * path arms this way: a fractional time passed as an argument to a call V8 does not inline
   * is boxed (16 bytes a packet); an entry index never is.
   */
  rearm(e: number): void {
    const at = this.expiresAt[e]!;
    const linked = this.linkedTick[e]!;
    // Visited no later than the new expiry (linked <= floor(at / tick), without the division).
    if (linked >= 0 && linked * this.tickMs <= at) return;
    const tick = Math.floor(at / this.tickMs);
    if (linked >= 0) this.unlinkEntry(e);
    this.linkAt(e, tick);
  }

  cancel(e: number): void {
    if (this.linkedTick[e]! >= 0) this.unlinkEntry(e);
  }

  /**
   * Visit every tick that has fully passed at `now` and call expire(e) for entries
   * whose time has come; entries whose time was extended are re-linked.
   * expire() may re-arm or free the entry.
   */
  advance(now: number, expire: (e: number) => void): void {
    const nowTick = Math.floor(now / this.tickMs);
    if (this.curTick < 0) this.curTick = nowTick;
    while (this.curTick < nowTick) {
      const s = this.curTick % this.slots;
      let e = this.slotHead[s]!;
      this.slotHead[s] = -1;
      while (e >= 0) {
        const nxt = this.next[e]!;
        this.next[e] = -1;
        this.prev[e] = -1;
        this.linkedTick[e] = -1;
        if (this.expiresAt[e]! <= now) expire(e);
        else this.linkAt(e, Math.floor(this.expiresAt[e]! / this.tickMs));
        e = nxt;
      }
      this.curTick++;
    }
  }

  /** Time (ms) at which advance() next has work to look at. */
  nextTickAt(): number {
    return this.curTick < 0 ? 0 : (this.curTick + 1) * this.tickMs;
  }

  private linkAt(e: number, tick: number): void {
    if (this.curTick < 0) this.curTick = tick;
    // Never link in the past, and never further than one wheel turn ahead:
    // far entries are visited early and re-linked (that keeps visit time == linked tick).
    let t = tick < this.curTick ? this.curTick : tick;
    if (t >= this.curTick + this.slots) t = this.curTick + this.slots - 1;
    const s = t % this.slots;
    const head = this.slotHead[s]!;
    this.next[e] = head;
    this.prev[e] = -1;
    if (head >= 0) this.prev[head] = e;
    this.slotHead[s] = e;
    this.linkedTick[e] = t;
  }

  private unlinkEntry(e: number): void {
    const p = this.prev[e]!, n = this.next[e]!;
    if (p >= 0) this.next[p] = n;
    else this.slotHead[this.linkedTick[e]! % this.slots] = n;
    if (n >= 0) this.prev[n] = p;
    this.next[e] = -1;
    this.prev[e] = -1;
    this.linkedTick[e] = -1;
  }
}
