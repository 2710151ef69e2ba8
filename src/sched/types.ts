/**
 * The scheduler "vtable", as in IPVS's `struct ip_vs_scheduler` (include/net/ip_vs.h):
 * one small module per algorithm, told about destination changes, asked for a
 * destination for each new connection and for nothing else.
 *
 * Addresses are IPv4 in host byte order, of either sign (the engine passes int32, tests may pass
 * unsigned; the sign rule is in src/lvs/addr.ts): schedulers hash and compare them sign-agnostically.
 */

/** Destination flags (IP_VS_DEST_F_*, include/uapi/linux/ip_vs.h). */
export const DEST_F_AVAILABLE = 0x0001;
export const DEST_F_OVERLOAD = 0x0002;

/** Service flags (IP_VS_SVC_F_*). */
export const SVC_F_PERSISTENT = 0x0001;
export const SVC_F_HASHED = 0x0002;
export const SVC_F_ONEPACKET = 0x0004;
export const SVC_F_SCHED1 = 0x0008;
export const SVC_F_SCHED2 = 0x0010;
export const SVC_F_SCHED3 = 0x0020;
/** sh-fallback / mh-fallback = flag-1, sh-port / mh-port = flag-2 (ipvsadm -b). */
export const SVC_F_SCHED_SH_FALLBACK = SVC_F_SCHED1;
export const SVC_F_SCHED_SH_PORT = SVC_F_SCHED2;
export const SVC_F_SCHED_MH_FALLBACK = SVC_F_SCHED1;
export const SVC_F_SCHED_MH_PORT = SVC_F_SCHED2;

/** What a scheduler may read of a real server (struct ip_vs_dest). */
export interface SchedDest {
  readonly addr: number;
  readonly port: number;
  /** Current weight, 0..65535. 0 = quiescent: never chosen for new connections. */
  readonly weight: number;
  /** Latest non-zero weight (dest->last_weight); mh keeps slots of quiesced servers. */
  readonly lastWeight: number;
  /** DEST_F_* bits. */
  readonly flags: number;
  readonly activeConns: number;
  readonly inactConns: number;
}

/** What a scheduler may read of a virtual service. */
export interface SchedService<D extends SchedDest = SchedDest> {
  /**
   * Destinations in kernel list order: index 0 is the list head, i.e. the most
   * recently added server (ip_vs_ctl.c __ip_vs_update_dest uses list_add_rcu at the head).
   */
  readonly dests: readonly D[];
  /** SVC_F_* bits (sh/mh fallback and port flags). */
  readonly flags: number;
}

export interface Scheduler<D extends SchedDest = SchedDest> {
  readonly name: string;
  /** init_service: the service got this scheduler (it may already have destinations). */
  init(svc: SchedService<D>): void;
  /** add_dest: `dest` was just inserted at index 0 of svc.dests. */
  addDest(svc: SchedService<D>, dest: D): void;
  /** del_dest: `dest` was just removed; it was at `formerIndex` of svc.dests. */
  delDest(svc: SchedService<D>, dest: D, formerIndex: number): void;
  /** upd_dest: weight or thresholds of `dest` (still in svc.dests) changed. */
  updDest(svc: SchedService<D>, dest: D): void;
  /**
   * Pick a destination for a new connection from client caddr:cport, or null
   * ("no destination available"). Called on the per-packet path: must not allocate.
   */
  schedule(svc: SchedService<D>, caddr: number, cport: number): D | null;
  /**
   * Human-readable inputs of the decision for (caddr, cport), e.g. the hash bucket
   * and the state of the walk. Only for --trace-sched; may allocate.
   */
  explain(svc: SchedService<D>, caddr: number, cport: number): string;
}
