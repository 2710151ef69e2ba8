/**
 * VRRP timer formulas as keepalived computes them (vrrp.h VRRP_TIMER_SKEW, VRRP_MS_DOWN_TIMER),
 * in milliseconds. With priorities as integers these values are exact binary fractions
 * (multiples of 1000/256 ms), so sums of them compare exactly.
 *
 *   skew_time            = (256 - priority) / 256 * interval    (RFC 3768 §6.1: interval = 1 s;
 *                                                                RFC 5798 §6.1: Master_Adver_Interval)
 *   master_down_interval = down_timer_adverts (3) * interval + skew_time
 *
 * keepalived uses 255 in the skew for an address owner even if its effective priority dropped.
 * VRRPv2 skew does not depend on the advert interval (it is (256 - p)/256 seconds).
 */

export const VRRP_PRIO_OWNER = 255;
export const VRRP_PRIO_STOP = 0;
export const VRRP_DOWN_TIMER_ADVERTS = 3;

/** Skew time in ms. `masterAdverIntMs` only matters for v3. */
export function skewTimeMs(version: 2 | 3, priority: number, masterAdverIntMs: number): number {
  const units = 256 - priority;
  return version === 3 ? (units * masterAdverIntMs) / 256 : (units * 1000) / 256;
}

/** VRRP_TIMER_SKEW_MIN: the skew of a priority-255 router, used by the "state MASTER" start-up rule. */
export function skewMinMs(version: 2 | 3, masterAdverIntMs: number): number {
  return skewTimeMs(version, 255, masterAdverIntMs);
}

/** Master_Down_Interval in ms. */
export function masterDownIntervalMs(
  version: 2 | 3,
  priority: number,
  masterAdverIntMs: number,
  downTimerAdverts = VRRP_DOWN_TIMER_ADVERTS,
): number {
  return downTimerAdverts * masterAdverIntMs + skewTimeMs(version, priority, masterAdverIntMs);
}
