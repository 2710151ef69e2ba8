/**
 * Per-checker retry logic of keepalived, as a pure state machine.
 *
 * Mirrors `tcp_epilog()` (check_tcp.c); `dns_final()`, the MISC child handler and the HTTP
 * `epilog()` count the same way. In pseudo-code, for a probe result `ok`:
 *
 *   if ok or ((isUp or not hasRun) and retryIt >= retry):
 *       retryIt = 0
 *       if ok and (not isUp or not hasRun):        report UP
 *       elif not ok and (isUp or not hasRun):      report DOWN
 *       next = delay_loop
 *   elif isUp:                                     # failure with retries left
 *       retryIt += 1; next = delay_before_retry
 *   else:                                          # failure while already down
 *       next = delay_loop
 *   hasRun = true
 *
 * `validate_check_config()` starts `retryIt` at `retry`, so the very first failure reports DOWN
 * at once; afterwards an UP checker needs `retry + 1` consecutive failures (the default
 * `retry 1` means 2). `alpha` starts the checker DOWN.
 */

export interface CheckerState {
  readonly isUp: boolean;
  readonly hasRun: boolean;
  /** Consecutive failures already retried (keepalived `retry_it`). */
  readonly retryIt: number;
}

export interface CheckerTiming {
  retry: number;
  delayLoopMs: number;
  delayBeforeRetryMs: number;
}

/**
 * What the result means for the real server. `report` is the verdict passed on to
 * `update_svr_checker_state()`; it is also emitted on the first run when it does not change
 * `isUp`, because keepalived runs notifiers in that case (alpha, or a first failure).
 */
export interface CheckerStep {
  state: CheckerState;
  /** Delay before the next probe, in ms. */
  nextDelayMs: number;
  report: 'up' | 'down' | null;
  /** isUp / hasRun before this result. */
  wasUp: boolean;
  firstRun: boolean;
}

/** Initial state after configuration (`queue_checker` + `validate_check_config`). */
export function initialCheckerState(retry: number, alpha: boolean): CheckerState {
  return { isUp: !alpha, hasRun: false, retryIt: retry };
}

/** Feeds one probe result into the checker; see the file header for the rules. */
export function stepChecker(s: CheckerState, ok: boolean, t: CheckerTiming): CheckerStep {
  const firstRun = !s.hasRun;
  let isUp = s.isUp;
  let retryIt = s.retryIt;
  let nextDelayMs = t.delayLoopMs;
  let report: 'up' | 'down' | null = null;

  if (ok || ((s.isUp || firstRun) && s.retryIt >= t.retry)) {
    retryIt = 0;
    if (ok && (!s.isUp || firstRun)) {
      report = 'up';
      isUp = true;
    } else if (!ok && (s.isUp || firstRun)) {
      report = 'down';
      isUp = false;
    }
  } else if (s.isUp) {
    retryIt = s.retryIt + 1;
    nextDelayMs = t.delayBeforeRetryMs;
  }

  return {
    state: { isUp, hasRun: true, retryIt },
    nextDelayMs,
    report,
    wasUp: s.isUp,
    firstRun,
  };
}
