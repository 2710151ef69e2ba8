/**
 * keepalived defaults for checker timing (docs/ipvs-behaviour.md §6.4; check_api.c `queue_checker`,
 * check_data.c `validate_check_config`, check_dns.c, check_misc.c, check_http.c), for the
 * adapter that turns parsed configuration into CheckerSpec values. All values in ms.
 */
import type { CheckerSpec } from './types.js';

/** KEEPALIVED_DEFAULT_DELAY */
export const DEFAULT_DELAY_LOOP_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

export interface InheritedTiming {
  /** Values set on the checker, else on the real server, else on the virtual server. */
  retry?: number;
  delayLoopMs?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  connectTimeoutMs?: number;
}

export interface ResolvedTiming {
  retry: number;
  delayLoopMs: number;
  delayBeforeRetryMs: number;
  warmupMs: number;
  connectTimeoutMs: number;
}

/** Fill the unset timing fields with the defaults of checker type `type`. */
export function resolveCheckerTiming(type: CheckerSpec['type'], t: InheritedTiming): ResolvedTiming {
  const delayLoopMs = t.delayLoopMs ?? DEFAULT_DELAY_LOOP_MS;
  // default_retry: 1, DNS_CHECK 3, MISC_CHECK 0.
  const retry = t.retry ?? (type === 'DNS' ? 3 : type === 'MISC' ? 0 : 1);
  // default_delay_before_retry: 1 s, HTTP/SSL 3 s; 0 (DNS) means "use delay_loop".
  const delayBeforeRetryMs = t.delayBeforeRetryMs ?? (type === 'HTTP' ? 3_000 : type === 'DNS' ? delayLoopMs : 1_000);
  return {
    retry,
    delayLoopMs,
    delayBeforeRetryMs,
    warmupMs: t.warmupMs ?? delayLoopMs,
    connectTimeoutMs: t.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  };
}
