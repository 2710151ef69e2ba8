/**
 * Real-server bookkeeping of keepalived's checker daemon (pure, no I/O).
 *
 * - A real server is alive iff none of its checkers is failed (`num_failed_checkers == 0`,
 *   `set_checker_state`, `update_svr_checker_state` in ipwrapper.c).
 * - `set` says whether the dest is currently in the IPVS table; `ipvsCmd()` applies the
 *   inhibit_on_failure rewriting of `ipvs_cmd()` (ipvswrapper.c): DEL of an inhibited server
 *   becomes EDIT weight 0, ADD of an inhibited server already present becomes EDIT.
 */
import type { DestRef, HealthAction } from './types.js';

/** IPVS weights are a signed 32-bit int in the kernel (`IPVS_WEIGHT_LIMIT`). */
export const IPVS_WEIGHT_LIMIT = 0x7fffffff;

export interface RealServerRuntime {
  readonly dest: DestRef;
  /** Configured weight (`iweight`). */
  readonly weight: number;
  readonly inhibit: boolean;
  readonly notifyUp?: string;
  readonly notifyDown?: string;
  alive: boolean;
  /** The dest is in the table (keepalived `rs->set`). */
  set: boolean;
  failedCheckers: number;
  /** Configured weight plus MISC_CHECK dynamic offsets (may leave the 0..limit range). */
  effectiveWeight: number;
}

/** `real_weight()` (check_data.h): clamp the effective weight into what IPVS accepts. */
export function realWeight(effective: number): number {
  if (effective < 0) return 0;
  if (effective > IPVS_WEIGHT_LIMIT) return IPVS_WEIGHT_LIMIT;
  return effective;
}

/**
 * Translate an add/remove of a dest into the table operation keepalived would issue
 * (`ipvs_cmd`), updating `rs.set`. Returns null when there is nothing to send (removing a dest
 * that is not in the table, where the kernel would only answer ENOENT).
 */
export function ipvsCmd(rs: RealServerRuntime, cmd: 'add' | 'del'): HealthAction | null {
  if (cmd === 'del') {
    if (!rs.set) return null;
    if (rs.inhibit) return { kind: 'edit-dest', dest: rs.dest, weight: 0 };
    rs.set = false;
    return { kind: 'del-dest', dest: rs.dest };
  }
  if (rs.inhibit && rs.set) {
    return { kind: 'edit-dest', dest: rs.dest, weight: realWeight(rs.effectiveWeight) };
  }
  const wasSet = rs.set;
  rs.set = true;
  // A new inhibited dest whose checkers still fail goes in quiesced (ipvs_cmd, init_service_rs).
  const weight = !wasSet && rs.inhibit && rs.failedCheckers > 0 ? 0 : realWeight(rs.effectiveWeight);
  return { kind: 'add-dest', dest: rs.dest, weight };
}

/**
 * What `update_svr_checker_state(alive, checker)` decides for a checker verdict:
 * - 'server-up' / 'server-down': call perform_svr_state (the server changes state);
 * - 'notify-only': first run that did not change the checker (alpha, or a first failure):
 *   only the notifier for the server's current state runs;
 * - null: nothing at server level.
 * It also updates `failedCheckers` like `set_checker_state`.
 */
export function applyCheckerVerdict(
  rs: RealServerRuntime,
  verdict: 'up' | 'down',
  checkerWasUp: boolean,
  firstRun: boolean,
  alpha: boolean,
): 'server-up' | 'server-down' | 'notify-only' | null {
  const alive = verdict === 'up';
  if (checkerWasUp === alive) {
    return firstRun && (alpha || !alive) ? 'notify-only' : null;
  }
  // perform_svr_state runs before the counter moves: up when this is the last failed checker,
  // down when this is the first one.
  let decision: 'server-up' | 'server-down' | null = null;
  if (alive && rs.failedCheckers <= 1) decision = 'server-up';
  if (!alive && rs.failedCheckers === 0) decision = 'server-down';
  return decision;
}

/** `set_checker_state`: move the failed-checker count after the decision above was acted on. */
export function countCheckerChange(rs: RealServerRuntime, verdict: 'up' | 'down'): void {
  if (verdict === 'down') rs.failedCheckers++;
  else if (rs.failedCheckers > 0) rs.failedCheckers--;
}
