/**
 * The data plane's tunables: per-state timeouts and the IPVS sysctls it honours, and the
 * hooks the control plane may set. Written by the control plane, read per packet.
 */
import { DEFAULT_TIMEOUTS_S } from '../table/tcp-state.js';
import type { RealServer, VirtualService } from './model.js';

/** Called for each new connection when --trace-sched is on (never per packet otherwise). */
export type SchedTrace = (svc: VirtualService, dest: RealServer | null, caddr: number, cport: number, inputs: string) => void;

export class Settings {
  /** Timeouts per state (ms); `ipvsadm --set tcp tcpfin udp` changes three of them. */
  readonly timeoutsMs = Float64Array.from(DEFAULT_TIMEOUTS_S, (s) => s * 1000);
  /** IPVS sysctls (defaults of docs/ipvs-behaviour.md §2.8). */
  expireNodestConn = false;
  expireQuiescentTemplate = false;
  connReuseMode = 1;
  /**
   * sloppy_tcp (docs/ipvs-behaviour.md §1.0): a TCP segment without SYN (RST excepted) and
   * with no entry is scheduled and gets one, as tcp_conn_schedule does with the sysctl set.
   * `sloppyTcpMh` turns it on for mh services only (the --bgp default, docs/scale-out.md);
   * a service's own `sloppyTcp` (keepalived.conf `sloppy_tcp`) turns it on for that one.
   */
  sloppyTcp = false;
  sloppyTcpMh = false;
  /** 'full' checksum mode: recompute L4 checksums on every rewrite. */
  readonly fullChecksum: boolean;

  constructor(fullChecksum: boolean) {
    this.fullChecksum = fullChecksum;
  }
}

export class Hooks {
  /** Scheduler trace (--trace-sched). */
  trace: SchedTrace | null = null;
  /** Connection sync (master): called with the entry after each client packet (ip_vs_sync_conn). */
  sync: ((e: number) => void) | null = null;
  /**
   * Connection sync (master) for IPv6: called with the engine.table6 entry after each client
   * packet, where the IPv4 path calls `sync` (after the timer is armed).
   */
  sync6: ((e: number) => void) | null = null;
}
