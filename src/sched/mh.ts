/**
 * mh: Maglev hashing, mirroring net/netfilter/ipvs/ip_vs_mh.c (Linux >= 4.18).
 * Paper: Eisenbud et al., "Maglev", NSDI'16, section 3.4.
 *
 *   M = 4093 (primes[CONFIG_IP_VS_MH_TAB_INDEX - 8], index 12)
 *   hashkey(addr, port, key, off) = hsiphash_1u32(off + port + addr, key)   # ip_vs_mh_hashkey
 *     hash1: k0 = k1 = 2654435761, hash2: k0 = k1 = 2654446892            # generate_hash_secret
 *   rebuild on init and every add/delete/edit:                             # ip_vs_mh_dest_changed
 *     g = gcd of last_weight > 0 (0 -> table all empty)
 *     rshift = max(0, fls(max last_weight / g) - 6)
 *     per dest (list order): offset = hashkey(d, hash1) % M                # ip_vs_mh_permutate
 *                            skip   = hashkey(d, hash2) % (M-1) + 1
 *                            perm = offset; turns = (lw/g >> rshift) or (lw != 0)
 *     n = 0; until n == M, cycle over dests with turns >= 1:              # ip_vs_mh_populate
 *       repeat turns times: while slot[perm] taken: perm = (perm + skip) % M
 *                           slot[perm] = d; n += 1
 *   unavailable(d) = weight <= 0 or OVERLOAD   (current weight: quiesced dests keep slots)
 *   lookup: s = hashkey(caddr, port, hash1, 0) % M; NULL/unavailable -> NULL   # ip_vs_mh_get
 *   mh-fallback: for off in 0..M-1: s' = hashkey(caddr, port, hash1, (off + s) % M) % M
 *                slot NULL -> NULL; available -> it                  # ip_vs_mh_get_fallback
 *   port = client source port only with mh-port (SVC_F_SCHED_MH_PORT), else 0.
 */
import {
  DEST_F_OVERLOAD,
  SVC_F_SCHED_MH_FALLBACK,
  SVC_F_SCHED_MH_PORT,
  type SchedDest,
  type SchedService,
  type Scheduler,
} from './types.js';
import { hsiphash1u32Int, sipKeyFromU32, type SipKey } from './siphash.js';

const PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;
/** CONFIG_IP_VS_MH_TAB_INDEX default. */
export const MH_TAB_INDEX = 12;
export const MH_TAB_SIZE: number = PRIMES[MH_TAB_INDEX - 8]!;
/** IP_VS_MH_TAB_BITS: how many significant bits of weight/gcd are kept. */
const MH_TAB_BITS = MH_TAB_INDEX / 2;

export const MH_HASH1 = sipKeyFromU32(2654435761);
export const MH_HASH2 = sipKeyFromU32(2654446892);

/** ip_vs_mh_hashkey for IPv4 (addresses and ports in host order), as a u32. */
export function mhHashKey(addr: number, port: number, key: SipKey, offset: number): number {
  return hsiphash1u32Int((offset + port + addr) | 0, key) >>> 0;
}

/** hashkey % m without boxing: int32 in and out of the hash call, unsigned only here. */
function mhHashMod(addr: number, port: number, key: SipKey, offset: number, m: number): number {
  return (hsiphash1u32Int((offset + port + addr) | 0, key) >>> 0) % m;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** fls(): 1-based index of the highest set bit, 0 for 0. */
function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

function unavailable(d: SchedDest): boolean {
  return d.weight <= 0 || (d.flags & DEST_F_OVERLOAD) !== 0;
}

export class MhScheduler<D extends SchedDest = SchedDest> implements Scheduler<D> {
  readonly name = 'mh';
  private readonly lookup: (D | null)[] = new Array<D | null>(MH_TAB_SIZE).fill(null);
  /** gcd of the last weights (0 = no usable dest) and the weight shift, as in ip_vs_mh_state. */
  gcd = 0;
  rshift = 0;

  init(svc: SchedService<D>): void {
    this.destChanged(svc);
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

  /** ip_vs_mh_dest_changed: gcd, shift, then permutate + populate. */
  private destChanged(svc: SchedService<D>): void {
    const dests = svc.dests;
    let g = 0;
    let maxLw = 0;
    for (const d of dests) {
      const lw = d.lastWeight;
      if (lw > 0) g = g > 0 ? gcd(lw, g) : lw;
      if (lw > maxLw) maxLw = lw;
    }
    this.gcd = g;
    this.rshift = g < 1 ? 0 : Math.max(0, fls(Math.trunc(maxLw / g)) - MH_TAB_BITS);
    if (dests.length > MH_TAB_SIZE) return; // ip_vs_mh_reassign: -EINVAL, table left as it was
    if (g < 1) {
      this.lookup.fill(null); // ip_vs_mh_reset
      return;
    }
    this.populate(dests);
  }

  private populate(dests: readonly D[]): void {
    const n = dests.length;
    const skip = new Uint32Array(n);
    const perm = new Uint32Array(n);
    const turns = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const d = dests[i]!;
      perm[i] = mhHashMod(d.addr, d.port, MH_HASH1, 0, MH_TAB_SIZE);
      skip[i] = mhHashMod(d.addr, d.port, MH_HASH2, 0, MH_TAB_SIZE - 1) + 1;
      const t = Math.trunc(d.lastWeight / this.gcd) >> this.rshift;
      turns[i] = t !== 0 ? t : d.lastWeight !== 0 ? 1 : 0;
    }
    const taken = new Uint8Array(MH_TAB_SIZE);
    let filled = 0;
    let dtCount = 0;
    for (;;) {
      for (let i = 0; i < n; ) {
        const t = turns[i]!;
        if (t < 1) {
          i++; // servers added with weight 0 take no slots
          continue;
        }
        let c = perm[i]!;
        while (taken[c] !== 0) {
          c += skip[i]!;
          if (c >= MH_TAB_SIZE) c -= MH_TAB_SIZE;
        }
        perm[i] = c; // not advanced past the claimed slot: the next claim moves on
        taken[c] = 1;
        this.lookup[c] = dests[i]!;
        if (++filled === MH_TAB_SIZE) return;
        if (++dtCount >= t) {
          dtCount = 0;
          i++;
        }
      }
    }
  }

  /** The dest in lookup slot i, for tests and explain. */
  slotDest(i: number): D | null {
    return this.lookup[i] ?? null;
  }

  /** ip_vs_mh_get's slot for a client (offset 0). */
  slotOf(svc: SchedService<D>, caddr: number, cport: number): number {
    const port = (svc.flags & SVC_F_SCHED_MH_PORT) !== 0 ? cport : 0;
    return mhHashMod(caddr, port, MH_HASH1, 0, MH_TAB_SIZE);
  }

  schedule(svc: SchedService<D>, caddr: number, cport: number): D | null {
    const port = (svc.flags & SVC_F_SCHED_MH_PORT) !== 0 ? cport : 0;
    const ih = mhHashMod(caddr, port, MH_HASH1, 0, MH_TAB_SIZE);
    const d = this.lookup[ih] ?? null;
    if ((svc.flags & SVC_F_SCHED_MH_FALLBACK) === 0) return d === null || unavailable(d) ? null : d;
    if (d === null) return null;
    if (!unavailable(d)) return d;
    for (let off = 0; off < MH_TAB_SIZE; off++) {
      const roff = (off + ih) % MH_TAB_SIZE;
      const alt = this.lookup[mhHashMod(caddr, port, MH_HASH1, roff, MH_TAB_SIZE)] ?? null;
      if (alt === null) return null;
      if (!unavailable(alt)) return alt;
    }
    return null;
  }

  explain(svc: SchedService<D>, caddr: number, cport: number): string {
    const usePort = (svc.flags & SVC_F_SCHED_MH_PORT) !== 0;
    const port = usePort ? cport : 0;
    const hash = mhHashKey(caddr, port, MH_HASH1, 0);
    const slot = hash % MH_TAB_SIZE;
    const home = this.lookup[slot] ?? null;
    const lines = [
      `mh: hsiphash(${usePort ? 'port+addr' : 'addr'}=0x${((port + caddr) >>> 0).toString(16)}, hash1) = 0x${hash.toString(16)}; ` +
        `slot ${slot} of ${MH_TAB_SIZE} -> ${describe(home)} (gcd=${this.gcd} rshift=${this.rshift})`,
    ];
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

export function createMhScheduler<D extends SchedDest = SchedDest>(): MhScheduler<D> {
  return new MhScheduler<D>();
}
