/**
 * MISC_CHECK `misc_dynamic` weight bookkeeping (pure), after `misc_check_child_thread`
 * (check_misc.c).
 *
 * Each dynamic checker owns an offset `curWeight` added to the server's effective weight.
 * On a successful exit status that differs from the last one:
 *     effective = effective - curWeight;  curWeight = status ? status - 2 - configuredWeight : 0
 *     effective += curWeight              -> update_svr_wgt(effective)
 * so one dynamic checker exiting with N sets the weight to N - 2.
 * A failing exit status that takes the checker down drops the offset without a kernel update
 * (the server is being removed anyway). Exit 0 with misc_dynamic restores the configured weight.
 */

export interface MiscWeightState {
  curWeight: number;
  /** keepalived starts from a zeroed struct, so the first exit 0 changes nothing. */
  lastExitCode: number;
}

export const initialMiscWeight: MiscWeightState = { curWeight: 0, lastExitCode: 0 };

/** Is this exit status a success? 0 always; 2..255 only with misc_dynamic. */
export function miscExitOk(status: number, dynamic: boolean): boolean {
  return status === 0 || (dynamic && status >= 2 && status <= 255);
}

/**
 * Successful exit: returns the new weight state and, when it changed, the new effective weight
 * to pass to `ServiceHealthModel.setEffectiveWeight`.
 */
export function miscSuccessWeight(
  s: MiscWeightState,
  status: number,
  effectiveWeight: number,
  configuredWeight: number,
): { state: MiscWeightState; newEffective: number | null } {
  if (status === s.lastExitCode) return { state: s, newEffective: null };
  const curWeight = status ? status - 2 - configuredWeight : 0;
  const newEffective = effectiveWeight - s.curWeight + curWeight;
  return { state: { curWeight, lastExitCode: status }, newEffective };
}

/**
 * Failed exit status. `wentDown` is true when this failure reported the checker down (retries
 * exhausted) and false when it was retried or the checker was already down. Returns the new
 * state and the effective weight with the offset removed (applied without a kernel update).
 */
export function miscFailureWeight(
  s: MiscWeightState,
  status: number,
  wentDown: boolean,
  effectiveWeight: number,
  retried: boolean,
): { state: MiscWeightState; effective: number } {
  if (retried) return { state: s, effective: effectiveWeight };
  if (wentDown) return { state: { curWeight: 0, lastExitCode: status }, effective: effectiveWeight - s.curWeight };
  return { state: { ...s, lastExitCode: status }, effective: effectiveWeight };
}
