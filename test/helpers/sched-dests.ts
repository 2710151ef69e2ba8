/** Plain destinations for scheduler tests: the fields a scheduler and dest-list read. */
import type { ListDest } from '../../src/sched/dest-list.js';

export interface TDest extends ListDest {
  readonly name: string;
}

/** A dest at 10.0.0.<last>, or at a dotted address. Weight is set by addDest. */
export function mk(name: string, addr: number | string, port = 80): TDest {
  const a = typeof addr === 'number' ? (10 << 24) | addr : addr.split('.').reduce((x, o) => ((x << 8) | Number(o)) >>> 0, 0);
  return { name, addr: a, port, weight: 0, lastWeight: 0, flags: 0, activeConns: 0, inactConns: 0, uThreshold: 0, lThreshold: 0 };
}

/** The -w/-x/-y settings of an -a or -e with only a weight. */
export const set = (weight: number) => ({ weight, uThreshold: 0, lThreshold: 0 });
