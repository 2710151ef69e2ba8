/**
 * New-connection caps beyond IPVS, after Katran's flood guard (stop admitting new flows
 * above a rate): per service, and per client prefix (caddr & mask), counted in 1-second
 * windows. The per-prefix counts live in a count-min sketch (2 rows x ROW counters, each
 * with its window stamp): fixed memory whatever the number of sources, never an
 * under-count, so a prefix is never let past its cap (a collision can only refuse early).
 * Only admitted connections are counted: a prefix gets `prefixRate` a second, no fewer.
 */
const ROW = 4096;
const ROW_MASK = ROW - 1;

export const ADMIT = 0;
export const REFUSE_SERVICE = 1;
export const REFUSE_PREFIX = 2;

export class FloodGuard {
  /** New connections a second per service (0 = no cap). */
  serviceRate = 0;
  /** New connections a second per client prefix (0 = no cap) and the prefix length. */
  prefixRate = 0;
  prefixMask = -256; // /24
  prefixLen = 24;
  private svcCount = new Uint32Array(64);
  private svcWindow = new Float64Array(64).fill(-1);
  private readonly cm = new Uint32Array(2 * ROW);
  private readonly cmWindow = new Float64Array(2 * ROW).fill(-1);

  setPrefixLength(len: number): void {
    this.prefixLen = len;
    this.prefixMask = len === 0 ? 0 : (0xffffffff << (32 - len)) | 0;
  }

  /** ADMIT, or why a new connection of service `svc` from `caddr` is refused. Counts what it admits. */
  admit(svc: number, caddr: number, now: number): number {
    const w = Math.floor(now / 1000);
    if (this.serviceRate > 0) {
      if (svc >= this.svcCount.length) this.grow(svc);
      if (this.svcWindow[svc] !== w) {
        this.svcWindow[svc] = w;
        this.svcCount[svc] = 0;
      }
      if (this.svcCount[svc]! >= this.serviceRate) return REFUSE_SERVICE;
    }
    if (this.prefixRate > 0) {
      const p = caddr & this.prefixMask;
      const a = hashA(p) & ROW_MASK;
      const b = ROW + (hashB(p) & ROW_MASK);
      if (this.cmWindow[a] !== w) { this.cmWindow[a] = w; this.cm[a] = 0; }
      if (this.cmWindow[b] !== w) { this.cmWindow[b] = w; this.cm[b] = 0; }
      const ca = this.cm[a]!, cb = this.cm[b]!;
      if ((ca < cb ? ca : cb) >= this.prefixRate) return REFUSE_PREFIX;
      this.cm[a] = ca + 1;
      this.cm[b] = cb + 1;
    }
    if (this.serviceRate > 0) this.svcCount[svc]!++;
    return ADMIT;
  }

  /** Control-plane rate: a service id beyond the arrays (allocation here, never per packet after). */
  private grow(svc: number): void {
    let n = this.svcCount.length;
    while (n <= svc) n *= 2;
    const c = new Uint32Array(n);
    c.set(this.svcCount);
    const w = new Float64Array(n).fill(-1);
    w.set(this.svcWindow);
    this.svcCount = c;
    this.svcWindow = w;
  }
}

/** Two independent integer mixers (murmur3 fmix32 with different first multipliers). */
function hashA(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function hashB(x: number): number {
  x = Math.imul(x ^ 0x5bd1e995 ^ (x >>> 15), 0x2c1b3c6d);
  x = Math.imul(x ^ (x >>> 12), 0x297a2d39);
  return (x ^ (x >>> 15)) >>> 0;
}
