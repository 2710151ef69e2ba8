/**
 * Connection thresholds (ipvsadm -x u_threshold / -y l_threshold) and the OVERLOAD flag,
 * as pure functions over the dest's flags and counters (docs/ipvs-behaviour.md §1.7).
 * A threshold of 0 means "unset". "total" = activeconns + inactconns (ip_vs_dest_totalconns);
 * persistence templates (persistconns) never count.
 *
 *   after bind   (ip_vs_bind_dest, the new connection already counted):
 *       u != 0 and total >= u              -> set OVERLOAD
 *   after unbind (ip_vs_unbind_dest, the connection already uncounted):
 *       l != 0: total < l                  -> clear OVERLOAD
 *       elif u != 0: total*4 < u*3         -> clear  (below 3/4 of the upper threshold)
 *       else                               -> clear
 *   on -a / -e   (__ip_vs_update_dest):
 *       new u == 0 or new u > old u        -> clear OVERLOAD (old u is 0 for a new dest)
 *   ip_vs_add_dest / ip_vs_edit_dest reject l > u with -ERANGE (so -y needs -x).
 *
 * (A later patch, "ip_vs_dest_update_overload", folds the bind/unbind rules into one; whether
 * and when it was merged was not checked. This file follows the long-standing code above.)
 */
import { DEST_F_OVERLOAD } from './types.js';

/** What the threshold rules read and write on a dest. */
export interface ThresholdDest {
  flags: number;
  readonly activeConns: number;
  readonly inactConns: number;
  readonly uThreshold: number;
  readonly lThreshold: number;
}

/** ip_vs_add_dest/ip_vs_edit_dest: false when l_threshold > u_threshold (-ERANGE). */
export function thresholdsValid(uThreshold: number, lThreshold: number): boolean {
  return lThreshold <= uThreshold;
}

/** Flags after a connection was bound to the dest; `total` already includes it. */
export function flagsAfterBind(flags: number, total: number, uThreshold: number): number {
  return uThreshold !== 0 && total >= uThreshold ? flags | DEST_F_OVERLOAD : flags;
}

/** Flags after a connection was unbound from the dest; `total` already excludes it. */
export function flagsAfterUnbind(flags: number, total: number, uThreshold: number, lThreshold: number): number {
  let clear: boolean;
  if (lThreshold !== 0) clear = total < lThreshold;
  else if (uThreshold !== 0) clear = total * 4 < uThreshold * 3;
  else clear = true;
  return clear ? flags & ~DEST_F_OVERLOAD : flags;
}

/** Flags after -a/-e set new thresholds (the old u_threshold is 0 for a fresh dest). */
export function flagsAfterThresholdUpdate(flags: number, oldUThreshold: number, newUThreshold: number): number {
  return newUThreshold === 0 || newUThreshold > oldUThreshold ? flags & ~DEST_F_OVERLOAD : flags;
}

/** Apply flagsAfterBind to a dest whose counters already include the new connection. */
export function markAfterBind(dest: ThresholdDest): void {
  dest.flags = flagsAfterBind(dest.flags, dest.activeConns + dest.inactConns, dest.uThreshold);
}

/** Apply flagsAfterUnbind to a dest whose counters already exclude the finished connection. */
export function markAfterUnbind(dest: ThresholdDest): void {
  dest.flags = flagsAfterUnbind(dest.flags, dest.activeConns + dest.inactConns, dest.uThreshold, dest.lThreshold);
}
