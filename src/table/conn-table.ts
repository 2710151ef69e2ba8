/**
 * Connection table: struct-of-arrays over typed arrays, a hard capacity, two
 * open-addressing indexes and a timer wheel for expiry.
 *
 * - forward index: (proto, caddr, cport, vaddr, vport, template?) as ip_vs_conn_in_get /
 *   ip_vs_ct_in_get look connections up for client packets;
 * - reverse index: (proto, daddr, dport, laddr, lport) for return traffic from a real
 *   server (ip_vs_conn_out_get). laddr:lport is the client for NAT and the director's
 *   local address for full-NAT.
 * Linear probing with backward-shift deletion (probe-index.ts): no tombstones, lookups stay short.
 * IPv6 connections live in ConnTable6 (conn-table6.ts), so this IPv4 path keeps one int32 per address.
 * Addresses are int32, the data plane's side of the sign rule in src/lvs/addr.ts; callers pass `addr | 0`.
 */
import { hashTuple } from './hash.js';
import { indexSizeFor, probeLink, probeUnlink } from './probe-index.js';
import { TimerWheel } from './timer-wheel.js';

/** Connection flags (subset of IP_VS_CONN_F_*, renumbered). */
export const CF_INACTIVE = 0x01;
export const CF_NOOUTPUT = 0x02;
export const CF_TEMPLATE = 0x04;
export const CF_IN_REVERSE = 0x08;
/** Received by connection sync: the client-side next hop is not known yet. */
export const CF_SYNCED = 0x10;

export const NONE = -1;

export class ConnTable {
  readonly capacity: number;
  count = 0;

  readonly proto: Uint8Array;
  readonly state: Uint8Array;
  readonly fwd: Uint8Array;
  readonly flags: Uint8Array;
  readonly caddr: Int32Array;
  readonly vaddr: Int32Array;
  readonly daddr: Int32Array;
  readonly laddr: Int32Array;
  readonly cport: Uint16Array;
  readonly vport: Uint16Array;
  readonly dport: Uint16Array;
  readonly lport: Uint16Array;
  /** Engine destination id, service id, controlling template entry (or NONE). */
  readonly dest: Int32Array;
  readonly svc: Int32Array;
  readonly control: Int32Array;
  readonly nControl: Int32Array;
  readonly timeoutMs: Float64Array;
  readonly inPkts: Uint32Array;
  /** Client-side next-hop MAC (6 bytes per entry) and interface, learnt from the first packet. */
  readonly cmac: Uint8Array;
  readonly ciface: Uint8Array;
  readonly live: Uint8Array;
  readonly timers: TimerWheel;

  private readonly fwdIdx: Int32Array;
  private readonly revIdx: Int32Array;
  private readonly fwdHash: Int32Array;
  private readonly revHash: Int32Array;
  private readonly mask: number;
  private readonly freeStack: Int32Array;
  private freeTop: number;
  private readonly seed: number;

  constructor(capacity: number, tickMs = 100, seed = (Math.random() * 0x7fffffff) | 0) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`bad connection table capacity ${capacity}`);
    this.capacity = capacity;
    this.seed = seed;
    this.proto = new Uint8Array(capacity);
    this.state = new Uint8Array(capacity);
    this.fwd = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.caddr = new Int32Array(capacity);
    this.vaddr = new Int32Array(capacity);
    this.daddr = new Int32Array(capacity);
    this.laddr = new Int32Array(capacity);
    this.cport = new Uint16Array(capacity);
    this.vport = new Uint16Array(capacity);
    this.dport = new Uint16Array(capacity);
    this.lport = new Uint16Array(capacity);
    this.dest = new Int32Array(capacity);
    this.svc = new Int32Array(capacity);
    this.control = new Int32Array(capacity);
    this.nControl = new Int32Array(capacity);
    this.timeoutMs = new Float64Array(capacity);
    this.inPkts = new Uint32Array(capacity);
    this.cmac = new Uint8Array(capacity * 6);
    this.ciface = new Uint8Array(capacity);
    this.live = new Uint8Array(capacity);
    this.fwdHash = new Int32Array(capacity);
    this.revHash = new Int32Array(capacity);
    const size = indexSizeFor(capacity);
    this.mask = size - 1;
    this.fwdIdx = new Int32Array(size);
    this.revIdx = new Int32Array(size);
    this.freeStack = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeStack[i] = capacity - 1 - i;
    this.freeTop = capacity;
    this.timers = new TimerWheel(capacity, tickMs);
  }

  /** Forward lookup (ip_vs_conn_in_get, or ip_vs_ct_in_get when template is true). */
  findForward(proto: number, caddr: number, cport: number, vaddr: number, vport: number, template: boolean): number {
    const h = hashTuple(this.seed, proto, caddr, cport, vaddr, vport);
    const want = template ? CF_TEMPLATE : 0;
    let i = h & this.mask;
    for (;;) {
      const e = this.fwdIdx[i]! - 1;
      if (e < 0) return NONE;
      if (
        this.fwdHash[e] === h && this.caddr[e] === caddr && this.cport[e] === cport &&
        this.vaddr[e] === vaddr && this.vport[e] === vport && this.proto[e] === proto &&
        (this.flags[e]! & CF_TEMPLATE) === want
      ) return e;
      i = (i + 1) & this.mask;
    }
  }

  /** Reverse lookup for a packet from daddr:dport to laddr:lport (ip_vs_conn_out_get). */
  findReverse(proto: number, daddr: number, dport: number, laddr: number, lport: number): number {
    const h = hashTuple(this.seed, proto, daddr, dport, laddr, lport);
    let i = h & this.mask;
    for (;;) {
      const e = this.revIdx[i]! - 1;
      if (e < 0) return NONE;
      if (
        this.revHash[e] === h && this.daddr[e] === daddr && this.dport[e] === dport &&
        this.laddr[e] === laddr && this.lport[e] === lport && this.proto[e] === proto
      ) return e;
      i = (i + 1) & this.mask;
    }
  }

  /**
   * Allocate and index an entry; NONE when the table is full. The caller fills
   * dest/svc/state/timeouts; reverse indexing is requested with CF_IN_REVERSE in flags.
   */
  insert(
    proto: number, caddr: number, cport: number, vaddr: number, vport: number,
    daddr: number, dport: number, laddr: number, lport: number, flags: number,
  ): number {
    if (this.freeTop === 0) return NONE;
    const e = this.freeStack[--this.freeTop]!;
    this.count++;
    this.live[e] = 1;
    this.proto[e] = proto;
    this.caddr[e] = caddr;
    this.cport[e] = cport;
    this.vaddr[e] = vaddr;
    this.vport[e] = vport;
    this.daddr[e] = daddr;
    this.dport[e] = dport;
    this.laddr[e] = laddr;
    this.lport[e] = lport;
    this.flags[e] = flags;
    this.state[e] = 0;
    this.control[e] = NONE;
    this.nControl[e] = 0;
    this.inPkts[e] = 0;
    const hf = hashTuple(this.seed, proto, caddr, cport, vaddr, vport);
    this.fwdHash[e] = hf;
    this.link(this.fwdIdx, hf, e);
    if (flags & CF_IN_REVERSE) {
      const hr = hashTuple(this.seed, proto, daddr, dport, laddr, lport);
      this.revHash[e] = hr;
      this.link(this.revIdx, hr, e);
    }
    return e;
  }

  /** Unindex and free an entry (the caller has already unbound it from its destination). */
  remove(e: number): void {
    if (!this.live[e]) return;
    this.unlink(this.fwdIdx, this.fwdHash, this.fwdHash[e]!, e);
    if (this.flags[e]! & CF_IN_REVERSE) this.unlink(this.revIdx, this.revHash, this.revHash[e]!, e);
    this.timers.cancel(e);
    this.live[e] = 0;
    this.count--;
    this.freeStack[this.freeTop++] = e;
  }

  /** Change the client port and virtual port of an entry (the kernel's template invalidation). */
  rekeyForward(e: number, cport: number, vport: number): void {
    this.unlink(this.fwdIdx, this.fwdHash, this.fwdHash[e]!, e);
    this.cport[e] = cport;
    this.vport[e] = vport;
    const hf = hashTuple(this.seed, this.proto[e]!, this.caddr[e]!, cport, this.vaddr[e]!, vport);
    this.fwdHash[e] = hf;
    this.link(this.fwdIdx, hf, e);
  }

  private link(idx: Int32Array, h: number, e: number): void {
    probeLink(idx, this.mask, h, e);
  }

  private unlink(idx: Int32Array, hashes: Int32Array, h: number, e: number): void {
    probeUnlink(idx, hashes, this.mask, h, e);
  }
}
