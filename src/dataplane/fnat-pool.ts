/**
 * Full-NAT local address/port allocation. A (local address, local port) pair is
 * free for a given real server when no live entry uses the tuple
 * (proto, RIP, RPORT, laddr, lport): we ask the connection table's reverse index,
 * so a tuple still in the table is never reused.
 */
import { ConnTable, NONE } from '../table/conn-table.js';

/** Bound on probes per new connection, so an exhausted pool costs little. */
const MAX_PROBES = 4096;

export class FnatPool {
  addrs = new Int32Array(0);
  portMin = 1024;
  portMax = 65535;
  /** Result of the last successful allocate(). */
  addr = 0;
  port = 0;
  private cursor = 0;
  /** Worker k of n (multi-process): only ports p with (p >> 1) % n = k, so replies reach this worker. */
  private shardK = 0;
  private shardN = 1;

  configure(addrs: readonly number[], portMin = 1024, portMax = 65535, shardK = 0, shardN = 1): void {
    if (portMin < 1 || portMax > 65535 || portMin > portMax) throw new RangeError(`bad full-NAT port range ${portMin}-${portMax}`);
    this.addrs = Int32Array.from(addrs, (a) => a | 0);
    this.portMin = portMin;
    this.portMax = portMax;
    this.shardK = shardK;
    this.shardN = shardN;
    this.cursor = 0;
  }

  allocate(t: ConnTable, proto: number, daddr: number, dport: number): boolean {
    const n = this.addrs.length;
    if (n === 0) return false;
    const span = (this.portMax - this.portMin + 1) * n;
    const tries = span < MAX_PROBES ? span : MAX_PROBES;
    for (let i = 0; i < tries; i++) {
      const k = this.cursor;
      this.cursor = k + 1 === span ? 0 : k + 1;
      const a = this.addrs[k % n]!;
      const p = this.portMin + Math.floor(k / n);
      if (this.shardN > 1 && (p >> 1) % this.shardN !== this.shardK) continue; // io/bpf.ts shardClauses
      if (t.findReverse(proto, daddr, dport, a, p) === NONE) {
        this.addr = a;
        this.port = p;
        return true;
      }
    }
    return false;
  }
}
