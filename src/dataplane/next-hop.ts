/**
 * Sending to a next hop (neigh_output): with its MAC known the frame goes at once; while
 * it is resolved the frame waits in the queue (neigh-queue.ts) and an ARP request goes out
 * at most once a second per neighbour; with no room left it is dropped.
 */
import { setMacs } from '../packet/ethernet.js';
import { DROP, V_CONSUMED, V_DROP } from './verdict.js';
import type { FrameCtx } from './frame-ctx.js';
import type { NeighTable } from './neigh.js';
import { NeighQueue, OFFLOAD_SEGMENT } from './neigh-queue.js';
import * as frames from './frames.js';

/** A frame waits this long for its next hop (3 ARP probes 1 s apart, as mcast_solicit = 3). */
export const NEIGH_QUEUE_TIMEOUT_MS = 3_000;

export class NextHop {
  private readonly f: FrameCtx;
  readonly neigh: NeighTable;
  readonly pending = new NeighQueue();
  private lastTaken = -1;

  constructor(f: FrameCtx, neigh: NeighTable) {
    this.f = f;
    this.neigh = neigh;
  }

  /** Send b[0, len) to neighbour n on interface out, or queue it while n is resolved. */
  send(n: number, b: Uint8Array, len: number, out: number): number {
    if (n < 0 || !this.neigh.valid[n]) return this.queue(n, b, len, out);
    setMacs(b, this.neigh.mac, n * 6, this.f.ifaces[out]!.mac);
    return this.f.emit(b, len, out);
  }

  /** Next hop unknown: send (at most once a second) an ARP request instead, drop the packet. */
  resolve(n: number): number {
    const f = this.f;
    f.counters.drops[DROP.neigh_unresolved]!++;
    f.verdict.reason = DROP.neigh_unresolved;
    if (n < 0 || f.now - this.neigh.lastRequest[n]! < 1000) return V_DROP;
    return this.request(n);
  }

  /**
   * The next hop's MAC is not known: keep a copy of the rewritten frame until the ARP reply
   * comes (takeQueued), and ask (at most once a second). Dropped when the queue is full.
   */
  private queue(n: number, b: Uint8Array, len: number, out: number): number {
    const f = this.f;
    if (n < 0 || !this.pending.enqueue(n, b, len, b === f.scratch ? -1 : f.rxOffload, out, f.now)) return this.resolve(n);
    f.counters.neighQueued++;
    if (f.now - this.neigh.lastRequest[n]! < 1000) return V_CONSUMED;
    return this.request(n);
  }

  /** The ARP request for neighbour n as the verdict. */
  private request(n: number): number {
    const f = this.f;
    this.neigh.lastRequest[n] = f.now;
    const ifi = this.neigh.iface[n]!;
    const iface = f.ifaces[ifi]!;
    return f.emit(f.scratch, frames.arpRequest(f.scratch, iface.mac, iface.ip, this.neigh.ip[n]!), ifi);
  }

  /**
   * After process(): the next queued frame whose next hop is now known, with its MACs set,
   * described in the verdict. Returns -1 when none is left. The slot returned stays valid
   * until the next call.
   */
  takeQueued(): number {
    const q = this.pending;
    const f = this.f;
    if (this.lastTaken >= 0) {
      q.free(this.lastTaken);
      this.lastTaken = -1;
    }
    const s = q.nextReady();
    if (s < 0) return -1;
    const n = q.neighbourOf(s);
    const out = q.iface[s]!;
    const buf = q.views[s]!;
    setMacs(buf, this.neigh.mac, n * 6, f.ifaces[out]!.mac);
    const v = f.verdict;
    v.buf = buf;
    v.len = q.len[s]!;
    v.iface = out;
    const off = q.offload[s]!;
    v.offload = off < 0 ? -1 : off;
    f.counters.txFrames++;
    if (off !== OFFLOAD_SEGMENT) f.counters.neighFlushed++;
    this.lastTaken = s;
    return s;
  }

  /** Drop frames that waited too long for their next hop. */
  expire(now: number): void {
    if (this.pending.used > 0) this.f.counters.drops[DROP.neigh_timeout]! += this.pending.expire(now, NEIGH_QUEUE_TIMEOUT_MS);
  }

  /** Build an ARP request for neighbour slot n (start-up and refresh; control plane). */
  arpRequestFor(n: number): { frame: Uint8Array; iface: number } {
    const f = this.f;
    const ifi = this.neigh.iface[n]!;
    const iface = f.ifaces[ifi]!;
    const len = frames.arpRequest(f.scratch, iface.mac, iface.ip, this.neigh.ip[n]!);
    this.neigh.lastRequest[n] = f.now;
    return { frame: f.scratch.slice(0, len), iface: ifi };
  }
}
