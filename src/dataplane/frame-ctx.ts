/**
 * The frame being processed and the verdict it gets: what every step of the pipeline
 * shares (the interfaces, the time, the frame's offload word and checksum mode, the
 * scratch buffer for frames the engine builds) and the two ways a step ends, drop and emit.
 */
import { CSUM_INCREMENTAL } from './rewrite.js';
import { V_DROP, V_EMIT, Verdict } from './verdict.js';
import { Counters } from './counters.js';

export interface EngineIface {
  name: string;
  mac: Uint8Array;
  mtu: number;
  /** The interface's own IPv4 address (sender of our ARP requests), 0 if none. */
  ip: number;
  /** Its IPv6 link-local address (16 bytes; the source of our Neighbour Solicitations), if any. */
  ll6?: Uint8Array;
  /** Its first global IPv6 address (16 bytes; the outer source of ip6ip6 tunnels), if any. */
  ip6?: Uint8Array;
}

export class FrameCtx {
  readonly ifaces: EngineIface[];
  readonly counters = new Counters();
  private readonly drops = this.counters.drops;
  /** Frames the engine builds or encapsulates (tunnel: up to a 9000-byte MTU). */
  readonly scratch = new Uint8Array(9216);
  readonly verdict = new Verdict(this.scratch);
  /** Time of the current call (ms). */
  now = 0;
  /** The frame's offload word and how rewrites fix its L4 checksum (rewrite.ts CSUM_*). */
  rxOffload = 0;
  csumMode = CSUM_INCREMENTAL;

  constructor(ifaces: EngineIface[]) {
    this.ifaces = ifaces;
  }

  drop(reason: number): number {
    this.drops[reason]!++;
    this.verdict.reason = reason;
    return V_DROP;
  }

  emit(buf: Uint8Array, len: number, ifi: number): number {
    const v = this.verdict;
    v.buf = buf;
    v.len = len;
    v.iface = ifi;
    v.offload = buf === this.scratch ? -1 : this.rxOffload;
    this.counters.txFrames++;
    return V_EMIT;
  }
}
