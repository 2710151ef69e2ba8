/**
 * drop_entry: randomly drop connection entries while the table is short of room
 * (net/netfilter/ipvs/ip_vs_conn.c ip_vs_random_dropentry, todrop_entry).
 *
 * The kernel visits 1/32 of its hash buckets a second, chosen at random. Our table has no
 * chains, so we visit 1/32 of its entry slots a second, as random slices of SLICE slots
 * (cache-friendly, and the whole table is never scanned at once). Per visited live entry:
 * - an entry that controls others (a persistence template in use) is kept;
 * - a template that controls none is kept (we keep no "assured" state and create no
 *   one-packet templates; the kernel drops unassured and one-packet ones);
 * - TCP in SYN_RECV or SYNACK is dropped; TCP ESTABLISHED and UDP go through todrop_entry;
 *   other TCP states are kept;
 * - a dropped entry's controlling template goes too when nothing else uses it.
 */
import { CF_TEMPLATE, NONE, type ConnTable } from '../table/conn-table.js';
import { S_ESTABLISHED, S_SYNACK, S_SYN_RECV } from '../table/tcp-state.js';

const PROTO_TCP = 6;
export const SLICE = 64;
/** todrop_entry: an entry refreshed within the last 60 s is kept. */
const MIN_IDLE_MS = 60_000;

export class DropEntry {
  /** todrop_counter[]: entry with in_pkts = i in 1..8 is dropped one time in i (todrop_rate[i] = i). */
  private readonly counters = new Int8Array(9);
  private rnd: number;
  /** Entries dropped since start. */
  dropped = 0;

  constructor(seed = 0x9e3779b9) {
    this.rnd = seed | 0 || 1;
  }

  /** todrop_entry. */
  todrop(t: ConnTable, e: number, now: number): boolean {
    // time_before(cp->timeout + jiffies, cp->timer.expires + 60*HZ): refreshed less than 60 s ago.
    if (now + t.timeoutMs[e]! < t.timers.expiresAt[e]! + MIN_IDLE_MS) return false;
    const i = t.inPkts[e]!;
    if (i > 8 || i === 0) return false; // todrop_rate[0] = 0: never
    if (--this.counters[i]! > 0) return false;
    this.counters[i] = i;
    return true;
  }

  /**
   * One pass (ip_vs_random_dropentry, run once a second while drop_entry is active).
   * `free` unbinds and frees an entry (the engine's). Returns the number of entries dropped.
   */
  run(t: ConnTable, now: number, free: (e: number) => void): number {
    const cap = t.capacity;
    let budget = cap >>> 5;
    if (budget < SLICE) budget = cap < SLICE ? cap : SLICE;
    let n = 0;
    while (budget > 0) {
      const len = budget < SLICE ? budget : SLICE;
      budget -= len;
      let e = this.next() % cap;
      for (let k = 0; k < len; k++, e = e + 1 === cap ? 0 : e + 1) {
        if (!t.live[e] || t.nControl[e]! > 0 || (t.flags[e]! & CF_TEMPLATE)) continue;
        if (t.proto[e] === PROTO_TCP) {
          const st = t.state[e]!;
          if (st !== S_SYN_RECV && st !== S_SYNACK && !(st === S_ESTABLISHED && this.todrop(t, e, now))) continue;
        } else if (!this.todrop(t, e, now)) {
          continue;
        }
        const ctl = t.control[e]!;
        free(e);
        n++;
        if (ctl !== NONE && t.live[ctl] && t.nControl[ctl] === 0) {
          free(ctl);
          n++;
        }
      }
    }
    this.dropped += n;
    return n;
  }

  /** xorshift32 (the kernel uses get_random_u32; any uniform source will do). */
  private next(): number {
    let x = this.rnd;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rnd = x;
    return x >>> 0;
  }
}
