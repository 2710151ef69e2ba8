/**
 * Mutating a service's destination list exactly as ip_vs_ctl.c does, and telling the
 * scheduler (ip_vs_add_dest / ip_vs_edit_dest -> __ip_vs_update_dest, ip_vs_del_dest ->
 * __ip_vs_unlink_dest):
 *
 *   add  (-a): last_weight = weight; weight = w; flags |= AVAILABLE;
 *              if new u == 0 or new u > old u: clear OVERLOAD; set u, l
 *              insert at the list HEAD (list_add_rcu); sched.add_dest
 *   edit (-e): if w != 0: last_weight = w; weight = w; same flag/threshold steps; sched.upd_dest
 *   del  (-d): flags &= ~AVAILABLE; unlink; sched.del_dest
 *
 * Counters (active/inactive) are the engine's: a dest revived from the trash keeps them.
 */
import { DEST_F_AVAILABLE, type SchedDest, type Scheduler } from './types.js';
import { flagsAfterThresholdUpdate, thresholdsValid } from './thresholds.js';

/** A dest as the control plane holds it: the scheduler's view plus writable settings. */
export interface ListDest extends SchedDest {
  weight: number;
  lastWeight: number;
  flags: number;
  uThreshold: number;
  lThreshold: number;
}

/** The mutable side of a service that this module edits. */
export interface DestListService<D extends ListDest> {
  dests: D[];
  flags: number;
}

/** The -w/-x/-y values of an -a or -e command. */
export interface DestSettings {
  readonly weight: number;
  readonly uThreshold: number;
  readonly lThreshold: number;
}

/** ipvsadm accepts weights 0..65535 (the kernel itself only refuses < 0). */
export const MAX_WEIGHT = 65535;

export type DestSettingsError = 'weight-out-of-range' | 'lower-threshold-above-upper';

/** The -ERANGE checks of ip_vs_add_dest/ip_vs_edit_dest; null if the settings are acceptable. */
export function checkDestSettings(s: DestSettings): DestSettingsError | null {
  if (!Number.isInteger(s.weight) || s.weight < 0 || s.weight > MAX_WEIGHT) return 'weight-out-of-range';
  if (!thresholdsValid(s.uThreshold, s.lThreshold)) return 'lower-threshold-above-upper';
  return null;
}

/** ip_vs_lookup_dest: the dest with this address and port, if any. */
export function findDest<D extends ListDest>(svc: DestListService<D>, addr: number, port: number): D | undefined {
  return svc.dests.find((d) => d.addr === addr && d.port === port);
}

/** The settings part of __ip_vs_update_dest, common to add and edit. */
function applySettings(dest: ListDest, s: DestSettings, add: boolean): void {
  // keep last_weight as the latest non-0 weight (mh keeps a quiesced dest's slots with it)
  if (add || s.weight !== 0) dest.lastWeight = s.weight;
  dest.weight = s.weight;
  dest.flags |= DEST_F_AVAILABLE;
  dest.flags = flagsAfterThresholdUpdate(dest.flags, dest.uThreshold, s.uThreshold);
  dest.uThreshold = s.uThreshold;
  dest.lThreshold = s.lThreshold;
}

/**
 * -a: configure `dest` (new, or revived with its old counters and thresholds), put it at
 * the head of svc.dests and call sched.addDest. Validate with checkDestSettings first and
 * refuse duplicates (findDest) as ip_vs_add_dest does (-EEXIST).
 */
export function addDest<D extends ListDest>(
  svc: DestListService<D>,
  sched: Scheduler<D> | null,
  dest: D,
  settings: DestSettings,
): void {
  applySettings(dest, settings, true);
  svc.dests.unshift(dest);
  sched?.addDest(svc, dest);
}

/** -e: change weight and thresholds of a dest already in svc.dests, then sched.updDest. */
export function editDest<D extends ListDest>(
  svc: DestListService<D>,
  sched: Scheduler<D> | null,
  dest: D,
  settings: DestSettings,
): void {
  applySettings(dest, settings, false);
  sched?.updDest(svc, dest);
}

/**
 * -d: clear AVAILABLE, unlink `dest` and call sched.delDest with its former index.
 * Returns that index, or -1 (and does nothing) if the dest is not in the list (-ENOENT).
 */
export function removeDest<D extends ListDest>(svc: DestListService<D>, sched: Scheduler<D> | null, dest: D): number {
  const index = svc.dests.indexOf(dest);
  if (index < 0) return -1;
  dest.flags &= ~DEST_F_AVAILABLE;
  svc.dests.splice(index, 1);
  sched?.delDest(svc, dest, index);
  return index;
}
