/**
 * The per-server connection counts an entry moves between as its state changes, and the
 * reuse rule for an old entry, written once for both connection tables (conn.ts for IPv4,
 * conn6.ts for IPv6). They take the table's typed-array columns, not the table, so each
 * caller stays monomorphic.
 */
import { CF_INACTIVE, CF_NOOUTPUT, CF_TEMPLATE, NONE } from '../table/conn-table.js';
import type { TimerWheel } from '../table/timer-wheel.js';
import { DEST_F_AVAILABLE } from '../sched/types.js';
import { S_CLOSE, S_FIN_WAIT, S_TIME_WAIT, STATE_ACTIVE } from '../table/tcp-state.js';
import { markAfterUnbind } from '../sched/thresholds.js';
import type { RealServer } from './model.js';

const PERSIST_POSTPONE_MS = 60_000; // ip_vs_conn_expire: controlling entries wait in 60 s steps
import type { Settings } from './settings.js';

/**
 * Move entry e to state ns, between ActiveConn and InActConn as the state's activity changes
 * (set_tcp_state). conn.ts keeps the same lines in Conns.setState for the IPv4 path: called
 * from there, this function measured 5-7 % slower on the DR case (same-process A/B,
 * bench/results/micro-ipv6-ab-2026-12-03.md).
 */
export function moveState(state: Uint8Array, flags: Uint8Array, e: number, d: RealServer, ns: number): void {
  if (ns === state[e]) return;
  const inactive = (flags[e]! & CF_INACTIVE) !== 0;
  if (!inactive && !STATE_ACTIVE[ns]) {
    d.activeConns--;
    d.inactConns++;
    flags[e] = flags[e]! | CF_INACTIVE;
  } else if (inactive && STATE_ACTIVE[ns]) {
    d.activeConns++;
    d.inactConns--;
    flags[e] = flags[e]! & ~CF_INACTIVE;
  }
  state[e] = ns;
}

/** ip_vs_unbind_dest's counts: entry e (its flags) no longer counts on d. */
export function unbindCounts(flags: number, d: RealServer): void {
  if (flags & CF_TEMPLATE) d.persistConns--;
  else if (flags & CF_INACTIVE) d.inactConns--;
  else d.activeConns--;
  if (!(flags & CF_TEMPLATE)) markAfterUnbind(d);
}

/** is_new_conn_expected (conn_reuse_mode), and expire_nodest_conn for quiesced servers: a SYN may start over. */
export function mayReschedule(s: Settings, d: RealServer, state: number, flags: number): boolean {
  if (s.expireNodestConn && d.weight === 0) return true;
  if (s.connReuseMode === 0) return false;
  if (state === S_TIME_WAIT || state === S_CLOSE) return true;
  return (s.connReuseMode & 2) !== 0 && state === S_FIN_WAIT && (flags & CF_NOOUTPUT) !== 0;
}

/** ip_vs_check_template: a persistence template may send new connections to its server. */
export function templateUsable(s: Settings, d: RealServer | null | undefined): boolean {
  if (!d || !(d.flags & DEST_F_AVAILABLE)) return false;
  return !(s.expireQuiescentTemplate && d.weight === 0);
}

/**
 * ip_vs_conn_expire's first test: an entry that still controls others (a template with
 * connections) is not freed but waits another 60 s. True when it was postponed.
 */
export function postponeIfControlling(nControl: Int32Array, timeoutMs: Float64Array, timers: TimerWheel, e: number, now: number): boolean {
  if (nControl[e]! <= 0) return false;
  timeoutMs[e] = PERSIST_POSTPONE_MS;
  timers.arm(e, now + PERSIST_POSTPONE_MS);
  return true;
}

/** ip_vs_unbind_dest for entry e: off its server's counts and its template's. The caller frees the slot. */
export function unbindEntry(flags: Uint8Array, control: Int32Array, nControl: Int32Array, e: number, d: RealServer): void {
  unbindCounts(flags[e]!, d);
  const ctl = control[e]!;
  if (ctl !== NONE) nControl[ctl]!--;
}
