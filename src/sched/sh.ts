/**
 * sh: source hashing, mirroring net/netfilter/ipvs/ip_vs_sh.c (current mainline).
 *
 *   table: 256 buckets (CONFIG_IP_VS_SH_TAB_BITS = 8), rebuilt on every add/delete/edit:
 *     p = first dest; count = 0                     # ip_vs_sh_reassign
 *     for i in 0..255: bucket[i] = p; count += 1
 *                      if count >= weight(p): p = next dest (cyclic); count = 0
 *     (a weight-0 dest still takes one bucket per round; lookups treat it as unavailable)
 *   hash(addr, port) = hash_32(port + addr, 8)        # ip_vs_sh_hashkey, offset 0
 *                    = ((port + addr) * 0x61C88647 mod 2^32) >> 24
 *     port = client source port only with sh-port (SVC_F_SCHED_SH_PORT), else 0
 *   unavailable(d) = weight(d) <= 0 or OVERLOAD(d)
 *   lookup:   d = bucket[h]; NULL or unavailable -> NULL          # ip_vs_sh_get
 *   sh-fallback (SVC_F_SCHED_SH_FALLBACK):                        # ip_vs_sh_get_fallback
 *     d = bucket[h]: NULL -> NULL; available -> d
 *     for off in 0..255: b = ((off + h) % 256 + h) & 255
 *                        bucket[b] NULL -> NULL; available -> bucket[b]
 *     NULL
 *
 * Older kernels (3.x-4.x) used bucket = (addr * 2654435761) & 255, the low byte of the
 * product: `legacyHash: true` selects it (it then also ignores the port and offset, as
 * those kernels had no sh-port/sh-fallback). The engine passes cport = 0 for protocols
 * without ports (ip_vs_sh_get_port returns 0 for them).
 */
import {
  DEST_F_OVERLOAD,
  SVC_F_SCHED_SH_FALLBACK,
  SVC_F_SCHED_SH_PORT,
  type SchedDest,
  type SchedService,
  type Scheduler,
} from './types.js';

export const SH_TAB_BITS = 8;
export const SH_TAB_SIZE = 1 << SH_TAB_BITS;
const SH_TAB_MASK = SH_TAB_SIZE - 1;
/** GOLDEN_RATIO_32 of include/linux/hash.h (generic __hash_32). */
const GOLDEN_RATIO_32 = 0x61c88647;
/** Knuth's multiplicative constant used by the pre-hash_32 ip_vs_sh_hashkey. */
const LEGACY_MULTIPLIER = 2654435761;

/** hash_32(val, bits) of include/linux/hash.h (generic variant, as on x86). */
export function hash32(val: number, bits: number): number {
  return Math.imul(val, GOLDEN_RATIO_32) >>> (32 - bits);
}

export interface ShOptions {
  /** Old kernels' `(addr * 2654435761) & 255` instead of hash_32. */
  readonly legacyHash?: boolean;
}

function unavailable(d: SchedDest): boolean {
  return d.weight <= 0 || (d.flags & DEST_F_OVERLOAD) !== 0;
}

export class ShScheduler<D extends SchedDest = SchedDest> implements Scheduler<D> {
  readonly name = 'sh';
  private readonly buckets: (D | null)[] = new Array<D | null>(SH_TAB_SIZE).fill(null);
  private readonly legacy: boolean;

  constructor(options: ShOptions = {}) {
    this.legacy = options.legacyHash === true;
  }

  init(svc: SchedService<D>): void {
    this.reassign(svc);
  }
  addDest(svc: SchedService<D>, _dest: D): void {
    this.reassign(svc);
  }
  delDest(svc: SchedService<D>, _dest: D, _formerIndex: number): void {
    this.reassign(svc);
  }
  updDest(svc: SchedService<D>, _dest: D): void {
    this.reassign(svc);
  }

  /** ip_vs_sh_reassign: each dest takes `weight` consecutive buckets per round. */
  private reassign(svc: SchedService<D>): void {
    const dests = svc.dests;
    if (dests.length === 0) {
      this.buckets.fill(null);
      return;
    }
    let p = 0;
    let count = 0;
    for (let i = 0; i < SH_TAB_SIZE; i++) {
      const d = dests[p]!;
      this.buckets[i] = d;
      if (++count >= d.weight) {
        p = (p + 1) % dests.length;
        count = 0;
      }
    }
  }

  /** The dest in bucket i (0..255), for tests and explain. */
  bucketDest(i: number): D | null {
    return this.buckets[i & SH_TAB_MASK] ?? null;
  }

  /** ip_vs_sh_hashkey(addr, port, 0): the home bucket of a client. */
  bucketOf(svc: SchedService<D>, caddr: number, cport: number): number {
    if (this.legacy) return Math.imul(caddr, LEGACY_MULTIPLIER | 0) & SH_TAB_MASK;
    const port = (svc.flags & SVC_F_SCHED_SH_PORT) !== 0 ? cport : 0;
    return hash32((port + caddr) >>> 0, SH_TAB_BITS);
  }

  schedule(svc: SchedService<D>, caddr: number, cport: number): D | null {
    const h = this.bucketOf(svc, caddr, cport);
    const d = this.buckets[h] ?? null;
    if ((svc.flags & SVC_F_SCHED_SH_FALLBACK) === 0 || this.legacy) {
      return d === null || unavailable(d) ? null : d;
    }
    if (d === null) return null;
    if (!unavailable(d)) return d;
    // Loop around the table from the home bucket; note the hash is added twice
    // (roffset already includes it, then ip_vs_sh_hashkey adds it again).
    for (let off = 0; off < SH_TAB_SIZE; off++) {
      const roff = (off + h) & SH_TAB_MASK;
      const alt = this.buckets[(roff + h) & SH_TAB_MASK] ?? null;
      if (alt === null) return null;
      if (!unavailable(alt)) return alt;
    }
    return null;
  }

  explain(svc: SchedService<D>, caddr: number, cport: number): string {
    const usePort = !this.legacy && (svc.flags & SVC_F_SCHED_SH_PORT) !== 0;
    const key = ((usePort ? cport : 0) + caddr) >>> 0;
    const h = this.bucketOf(svc, caddr, cport);
    const home = this.buckets[h] ?? null;
    const fn = this.legacy ? `(addr*2654435761)&255` : `hash_32(${usePort ? 'port+addr' : 'addr'}=0x${key.toString(16)}, 8)`;
    const lines = [`sh: ${fn} = bucket ${h} -> ${describe(home)}`];
    const pick = this.schedule(svc, caddr, cport);
    if (pick !== home) lines.push(`  ${pick === null ? 'no destination available' : `fallback -> ${describe(pick)}`}`);
    return lines.join('\n');
  }
}

function describe(d: SchedDest | null): string {
  if (d === null) return '(empty)';
  const a = d.addr >>> 0;
  const state = d.weight <= 0 ? ' (weight 0: unavailable)' : (d.flags & DEST_F_OVERLOAD) !== 0 ? ' (OVERLOAD: unavailable)' : '';
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}:${d.port} w=${d.weight}${state}`;
}

export function createShScheduler<D extends SchedDest = SchedDest>(options: ShOptions = {}): ShScheduler<D> {
  return new ShScheduler<D>(options);
}
