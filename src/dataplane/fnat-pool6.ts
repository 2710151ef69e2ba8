/**
 * Full-NAT local addresses and ports for IPv6 services: FnatPool's rule with 128-bit
 * addresses. A (local address, port) pair is free for a real server when no live entry of
 * the IPv6 table has the reply key (proto, RIP, RPORT, laddr, lport).
 */
import { AF_INET6 } from '../lvs/af.js';
import { NONE } from '../table/conn-table.js';
import type { ConnTable6 } from '../table/conn-table6.js';

const MAX_PROBES = 4096; // as fnat-pool.ts

export class Fnat6Pool {
  /** Four words per address. */
  addrs = new Int32Array(0);
  portMin = 1024;
  portMax = 65535;
  /** Result of the last successful allocate(): the address slot in `addrs` and the port. */
  slot = 0;
  port = 0;
  private cursor = 0;

  get size(): number {
    return this.addrs.length >> 2;
  }

  configure(addrs: readonly Int32Array[], portMin = 1024, portMax = 65535): void {
    if (portMin < 1 || portMax > 65535 || portMin > portMax) throw new RangeError(`bad full-NAT port range ${portMin}-${portMax}`);
    const words = new Int32Array(addrs.length * 4);
    addrs.forEach((a, i) => words.set(a.subarray(0, 4), i * 4));
    this.addrs = words;
    this.portMin = portMin;
    this.portMax = portMax;
    this.cursor = 0;
  }

  /** A free (address, port) for replies from the server at d[ds*4..]:dport. */
  allocate(t: ConnTable6, proto: number, d: Int32Array, ds: number, dport: number): boolean {
    const n = this.size;
    if (n === 0) return false;
    const span = (this.portMax - this.portMin + 1) * n;
    const tries = span < MAX_PROBES ? span : MAX_PROBES;
    for (let i = 0; i < tries; i++) {
      const k = this.cursor;
      this.cursor = k + 1 === span ? 0 : k + 1;
      const a = k % n;
      const p = this.portMin + Math.floor(k / n);
      if (t.findReverse(proto, AF_INET6, d, ds, dport, this.addrs, a, p) === NONE) {
        this.slot = a;
        this.port = p;
        return true;
      }
    }
    return false;
  }
}
