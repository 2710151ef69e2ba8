/**
 * Connection table for IPv6 services: ConnTable's struct-of-arrays, indexes, capacity and
 * timer wheel, with each address as four int32 words (network order, the representation of
 * packet/addr6.ts) in an Int32Array of 4 words per entry. A second class rather than a wider
 * ConnTable so the IPv4 hot path keeps its one-word compares (docs/ipv6.md).
 *
 * Addresses are passed as (words, slot): the address at words[slot*4 .. slot*4+3], so a
 * caller compares and copies out of its own scratch array without allocating.
 *
 * The real server may be of another family (`daf`): IPVS allows that only for tunnel
 * servers (ip_vs_conn_new's daf; "Different address family is allowed only for tunneling
 * servers"). An IPv4 real server's address is stored in word 3 with words 0..2 zero; the
 * reverse index keys on daf too, so it never matches an IPv6 reply.
 */
import { hashTuple6 } from './hash.js';
import { indexSizeFor, probeLink, probeUnlink } from './probe-index.js';
import { TimerWheel } from './timer-wheel.js';
import { CF_IN_REVERSE, CF_TEMPLATE, NONE } from './conn-table.js';

const W = 4;

export class ConnTable6 {
  readonly capacity: number;
  count = 0;

  readonly proto: Uint8Array;
  readonly state: Uint8Array;
  readonly fwd: Uint8Array;
  readonly flags: Uint8Array;
  /** The real server's address family (lvs/af.ts: AF_INET6, or AF_INET for a tunnel server). */
  readonly daf: Uint8Array;
  readonly caddr: Int32Array;
  readonly vaddr: Int32Array;
  readonly daddr: Int32Array;
  readonly laddr: Int32Array;
  readonly cport: Uint16Array;
  readonly vport: Uint16Array;
  readonly dport: Uint16Array;
  readonly lport: Uint16Array;
  readonly dest: Int32Array;
  readonly svc: Int32Array;
  readonly control: Int32Array;
  readonly nControl: Int32Array;
  readonly timeoutMs: Float64Array;
  readonly inPkts: Uint32Array;
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
    this.daf = new Uint8Array(capacity);
    this.caddr = new Int32Array(capacity * W);
    this.vaddr = new Int32Array(capacity * W);
    this.daddr = new Int32Array(capacity * W);
    this.laddr = new Int32Array(capacity * W);
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
  findForward(
    proto: number, c: Int32Array, cs: number, cport: number, v: Int32Array, vs: number, vport: number, template: boolean,
  ): number {
    const h = hashTuple6(this.seed, proto, c, cs, cport, v, vs, vport);
    const want = template ? CF_TEMPLATE : 0;
    let i = h & this.mask;
    for (;;) {
      const e = this.fwdIdx[i]! - 1;
      if (e < 0) return NONE;
      if (
        this.fwdHash[e] === h && this.cport[e] === cport && this.vport[e] === vport && this.proto[e] === proto &&
        (this.flags[e]! & CF_TEMPLATE) === want && same(this.caddr, e, c, cs) && same(this.vaddr, e, v, vs)
      ) return e;
      i = (i + 1) & this.mask;
    }
  }

  /**
   * Reverse lookup for a packet from daddr:dport (family daf) to laddr:lport
   * (ip_vs_conn_out_get). An IPv4 daddr is passed as words with the address in word 3.
   */
  findReverse(proto: number, daf: number, d: Int32Array, ds: number, dport: number, l: Int32Array, ls: number, lport: number): number {
    const h = hashTuple6(this.seed, proto ^ (daf << 8), d, ds, dport, l, ls, lport);
    let i = h & this.mask;
    for (;;) {
      const e = this.revIdx[i]! - 1;
      if (e < 0) return NONE;
      if (
        this.revHash[e] === h && this.dport[e] === dport && this.lport[e] === lport && this.proto[e] === proto &&
        this.daf[e] === daf && same(this.daddr, e, d, ds) && same(this.laddr, e, l, ls)
      ) return e;
      i = (i + 1) & this.mask;
    }
  }

  /**
   * Allocate and index an entry; NONE when the table is full. As ConnTable.insert: the caller
   * fills dest/svc/state/timeouts, reverse indexing is asked for with CF_IN_REVERSE.
   */
  insert(
    proto: number, c: Int32Array, cs: number, cport: number, v: Int32Array, vs: number, vport: number,
    daf: number, d: Int32Array, ds: number, dport: number, l: Int32Array, ls: number, lport: number, flags: number,
  ): number {
    if (this.freeTop === 0) return NONE;
    const e = this.freeStack[--this.freeTop]!;
    this.count++;
    this.live[e] = 1;
    this.proto[e] = proto;
    this.daf[e] = daf;
    copy(this.caddr, e, c, cs);
    this.cport[e] = cport;
    copy(this.vaddr, e, v, vs);
    this.vport[e] = vport;
    copy(this.daddr, e, d, ds);
    this.dport[e] = dport;
    copy(this.laddr, e, l, ls);
    this.lport[e] = lport;
    this.flags[e] = flags;
    this.state[e] = 0;
    this.control[e] = NONE;
    this.nControl[e] = 0;
    this.inPkts[e] = 0;
    const hf = hashTuple6(this.seed, proto, c, cs, cport, v, vs, vport);
    this.fwdHash[e] = hf;
    probeLink(this.fwdIdx, this.mask, hf, e);
    if (flags & CF_IN_REVERSE) {
      const hr = hashTuple6(this.seed, proto ^ (daf << 8), d, ds, dport, l, ls, lport);
      this.revHash[e] = hr;
      probeLink(this.revIdx, this.mask, hr, e);
    }
    return e;
  }

  /** Unindex and free an entry (the caller has already unbound it from its destination). */
  remove(e: number): void {
    if (!this.live[e]) return;
    probeUnlink(this.fwdIdx, this.fwdHash, this.mask, this.fwdHash[e]!, e);
    if (this.flags[e]! & CF_IN_REVERSE) probeUnlink(this.revIdx, this.revHash, this.mask, this.revHash[e]!, e);
    this.timers.cancel(e);
    this.live[e] = 0;
    this.count--;
    this.freeStack[this.freeTop++] = e;
  }

  /** Change the client port and virtual port of an entry (the kernel's template invalidation). */
  rekeyForward(e: number, cport: number, vport: number): void {
    probeUnlink(this.fwdIdx, this.fwdHash, this.mask, this.fwdHash[e]!, e);
    this.cport[e] = cport;
    this.vport[e] = vport;
    const hf = hashTuple6(this.seed, this.proto[e]!, this.caddr, e, cport, this.vaddr, e, vport);
    this.fwdHash[e] = hf;
    probeLink(this.fwdIdx, this.mask, hf, e);
  }
}

/** Entry e's address in `col` equals the address at words[slot*4..]. */
function same(col: Int32Array, e: number, words: Int32Array, slot: number): boolean {
  const i = e * W, j = slot * W;
  return col[i] === words[j] && col[i + 1] === words[j + 1] && col[i + 2] === words[j + 2] && col[i + 3] === words[j + 3];
}

function copy(col: Int32Array, e: number, words: Int32Array, slot: number): void {
  const i = e * W, j = slot * W;
  col[i] = words[j]!;
  col[i + 1] = words[j + 1]!;
  col[i + 2] = words[j + 2]!;
  col[i + 3] = words[j + 3]!;
}

/**
 * The persistence template's client key: the client address masked to the service's
 * netmask (ip_vs_sched_persist's ipv6_addr_prefix with svc->netmask, a prefix length for
 * IPv6), written to out[outSlot].
 */
export function maskAddr6(words: Int32Array, slot: number, mask: Int32Array, out: Int32Array, outSlot: number): void {
  const i = slot * W, j = outSlot * W;
  out[j] = words[i]! & mask[0]!;
  out[j + 1] = words[i + 1]! & mask[1]!;
  out[j + 2] = words[i + 2]! & mask[2]!;
  out[j + 3] = words[i + 3]! & mask[3]!;
}
