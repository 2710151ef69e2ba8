/**
 * Scheduler registry: name -> a fresh per-service scheduler instance, as
 * ip_vs_scheduler_get() (ip_vs_sched.c) hands each service its own sched_data.
 */
import type { SchedDest, Scheduler } from './types.js';
import { createRrScheduler } from './rr.js';
import { createWrrScheduler } from './wrr.js';
import { createLcScheduler } from './lc.js';
import { createWlcScheduler } from './wlc.js';
import { createShScheduler } from './sh.js';
import { createSedScheduler } from './sed.js';
import { createNqScheduler } from './nq.js';
import { createMhScheduler } from './mh.js';

/** The schedulers we implement, in the order ipvsadm's man page and help list them. */
export const SCHEDULER_NAMES = ['rr', 'wrr', 'lc', 'wlc', 'sh', 'sed', 'nq', 'mh'] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** ipvsadm's default scheduler (DEF_SCHED in ipvsadm.c). */
export const DEFAULT_SCHEDULER: SchedulerName = 'wlc';

export function isSchedulerName(name: string): name is SchedulerName {
  return (SCHEDULER_NAMES as readonly string[]).includes(name);
}

/** A new scheduler instance for one service, or null for an unknown name. Call init() next. */
export function createScheduler<D extends SchedDest = SchedDest>(name: string): Scheduler<D> | null {
  switch (name) {
    case 'rr': return createRrScheduler<D>();
    case 'wrr': return createWrrScheduler<D>();
    case 'lc': return createLcScheduler<D>();
    case 'wlc': return createWlcScheduler<D>();
    case 'sh': return createShScheduler<D>();
    case 'sed': return createSedScheduler<D>();
    case 'nq': return createNqScheduler<D>();
    case 'mh': return createMhScheduler<D>();
    default: return null;
  }
}
