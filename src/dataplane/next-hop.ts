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
import * as nd from '../packet/nd.js';
import { writeAddr6 } from '../packet/addr6.js';

/** A frame waits this long for its next hop (3 ARP probes 1 s apart, as mcast_solicit = 3). */
export const NEIGH_QUEUE_TIMEOUT_MS = 3_000;

export class NextHop {
  private readonly f: FrameCtx;
  readonly neigh: NeighTable;
  readonly pending = new NeighQueue();
  private lastTaken = -1;
  /** The IPv6 target of an NS, as bytes. */
  private readonly target6 = new Uint8Array(16);

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
    return this.request(n, V_DROP);
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
    return this.request(n, V_CONSUMED);
  }

  /** The ARP request (or IPv6 Neighbour Solicitation) for neighbour n as the verdict. */
  private request(n: number, unasked: number): number {
    const f = this.f;
    this.neigh.lastRequest[n] = f.now;
    const ifi = this.neigh.iface[n]!;
    const len = this.writeRequest(n, ifi);
    // No way to ask (an interface without a link-local address): the frame waits or is dropped as it would be.
    if (len < 0) return unasked;
    return f.emit(f.scratch, len, ifi);
  }

  /**
   * Write the request resolving neighbour n into the scratch buffer: ARP for IPv4, for IPv6
   * a multicast NS from the interface's link-local address (RFC 4861 7.2.2). -1 when the
   * interface has no link-local address to ask from.
   */
  private writeRequest(n: number, ifi: number): number {
    const f = this.f;
    const iface = f.ifaces[ifi]!;
    if (this.neigh.v6[n] === 0) return frames.arpRequest(f.scratch, iface.mac, iface.ip, this.neigh.ip[n]!);
    const ll = iface.ll6;
    if (ll === undefined) return -1;
    writeAddr6(this.target6, 0, this.neigh.ip6, n);
    return nd.writeSolicit(f.scratch, iface.mac, ll, 0, this.target6, 0);
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

  /** Build the ARP request or NS for neighbour slot n (start-up and refresh; control plane); null if it cannot be asked. */
  arpRequestFor(n: number): { frame: Uint8Array; iface: number } | null {
    const f = this.f;
    const ifi = this.neigh.iface[n]!;
    const len = this.writeRequest(n, ifi);
    if (len < 0) return null;
    this.neigh.lastRequest[n] = f.now;
    return { frame: f.scratch.slice(0, len), iface: ifi };
  }
}
