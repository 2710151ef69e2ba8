/** The few printf conversions the listings use, and print_largenum. */

/** "%-Ns": left-justified, never truncated. */
export const padRight = (s: string | number, width: number): string => String(s).padEnd(width);
/** "%Ns" / "%Nllu": right-justified, never truncated. */
export const padLeft = (s: string | number, width: number): string => String(s).padStart(width);

/**
 * print_largenum (ipvsadm.c): 9 columns. Below 10^8 the number itself; then
 * thousands "K" (< 10^9), millions "M" (< 10^11), billions "G" (< 10^14),
 * trillions "T", each as "%8llu" plus the letter. With --exact: the number in
 * a field of 9, or of its length + 1 when it has more than 8 digits.
 */
export function printLargenum(n: number, exact: boolean): string {
  const v = Math.max(0, Math.trunc(n));
  if (exact) {
    const digits = String(v);
    return padLeft(digits, digits.length <= 8 ? 9 : digits.length + 1);
  }
  if (v < 1e8) return padLeft(v, 9);
  if (v < 1e9) return `${padLeft(Math.floor(v / 1e3), 8)}K`;
  if (v < 1e11) return `${padLeft(Math.floor(v / 1e6), 8)}M`;
  if (v < 1e14) return `${padLeft(Math.floor(v / 1e9), 8)}G`;
  return `${padLeft(Math.floor(v / 1e12), 8)}T`;
}
