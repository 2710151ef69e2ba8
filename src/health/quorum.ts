/**
 * Quorum arithmetic of a virtual server (pure), after keepalived ipwrapper.c.
 *
 *   sum       = Σ real_weight(effective weight) over alive real servers   (weigh_live_realservers)
 *   threshold = quorum + (up ? -hysteresis : +hysteresis)                  (update_quorum_state)
 *   gain  when not up and sum >= threshold
 *   loss  when up and (sum == 0 or sum < threshold)
 *   at start-up only: quorum down with a sorry server not yet in the pool counts as a "loss",
 *   so the sorry server is added and quorum_down runs.
 */
import { realWeight } from './real-server-state.js';

export interface QuorumParams {
  quorum: number;
  hysteresis: number;
}

/**
 * Config-time fixes of `validate_check_config` (check_data.c): the quorum is at least 1
 * (parser) and at most the total configured weight, and the hysteresis stays below the quorum.
 */
export function normalizeQuorum(quorum: number, hysteresis: number, totalWeight: number): QuorumParams {
  let q = Math.max(1, Math.trunc(quorum));
  if (q > totalWeight) q = Math.max(0, totalWeight);
  let h = Math.max(0, Math.trunc(hysteresis));
  if (h >= q) h = Math.max(0, q - 1);
  return { quorum: q, hysteresis: h };
}

/** `weigh_live_realservers`. */
export function weighLive(servers: Iterable<{ alive: boolean; effectiveWeight: number }>): number {
  let sum = 0;
  for (const rs of servers) if (rs.alive) sum += realWeight(rs.effectiveWeight);
  return sum;
}

/** The state before any server is alive (`set_quorum_states` runs with sum 0 at start-up). */
export function initialQuorumUp(p: QuorumParams): boolean {
  return 0 >= p.quorum + p.hysteresis;
}

export interface QuorumDecision {
  change: 'gain' | 'loss' | null;
  threshold: number;
  sum: number;
}

/**
 * `update_quorum_state` decision. `sorryNeedsAdding` = a sorry server exists and is not alive,
 * which at init forces the "starting with quorum down" branch.
 */
export function decideQuorum(
  up: boolean,
  sum: number,
  p: QuorumParams,
  init: boolean,
  sorryNeedsAdding: boolean,
): QuorumDecision {
  const threshold = p.quorum + (up ? -1 : 1) * p.hysteresis;
  if (!up && sum >= threshold) return { change: 'gain', threshold, sum };
  if ((up && (sum === 0 || sum < threshold)) || (init && !up && sorryNeedsAdding)) {
    return { change: 'loss', threshold, sum };
  }
  return { change: null, threshold, sum };
}
