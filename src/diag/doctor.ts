/**
 * The path doctor's decisions: fed one Observation per tick, it returns what is new
 * and worth saying. Each problem is reported once (per server or per MAC) and
 * re-armed only when it has cleared, so a log never fills with the same warning.
 * No timers, no I/O: see runner.ts for those.
 */
import { assessReturnPath, CounterHistory, DEFAULT_RETURN_PATH, type ReturnPathConfig } from './return-path.js';
import { FWD_DR, FWD_MASQ } from '../lvs/fwd.js';
import { IPPROTO_TCP } from '../lvs/proto.js';
import { destRef, type DestObs, type Finding, type Observation } from './types.js';

export interface DoctorConfig extends ReturnPathConfig {
  /** DR: stalled handshakes (see handshakes.ts) needed before warning. */
  minStalled: number;
}

export const DEFAULT_DOCTOR: DoctorConfig = { ...DEFAULT_RETURN_PATH, minStalled: 2 };


export class PathDoctor {
  readonly cfg: DoctorConfig;
  private readonly history = new Map<number, CounterHistory>();
  /** Dest ids currently reported, per kind. */
  private readonly natReported = new Set<number>();
  private readonly stalledReported = new Set<number>();
  /** MACs already reported for ARP conflicts and loop-guard hits. */
  private readonly arpMacs = new Set<string>();
  private readonly loopMacs = new Set<string>();
  private lastArpConflicts = -1;
  private lastLoopHits = -1;
  /** DR dest ids -> inPkts at the last tick, to know when a handshake scan is worth it. */
  private readonly drIn = new Map<number, number>();

  constructor(cfg: Partial<DoctorConfig> = {}) {
    this.cfg = { ...DEFAULT_DOCTOR, ...cfg };
  }

  /** DR TCP dest ids that received packets since the last tick: scan the table for them. */
  wantsHandshakeScan(dests: readonly DestObs[]): Set<number> {
    const ids = new Set<number>();
    for (const d of dests) {
      if (d.fwd !== FWD_DR || d.proto !== IPPROTO_TCP) continue;
      const before = this.drIn.get(d.id);
      if (before === undefined || d.inPkts !== before) ids.add(d.id);
      // A reported server is rescanned so the warning can clear once it is fixed.
      if (this.stalledReported.has(d.id)) ids.add(d.id);
      this.drIn.set(d.id, d.inPkts);
    }
    return ids;
  }

  observe(o: Observation): Finding[] {
    const out: Finding[] = [];
    this.returnPath(o, out);
    this.vipArp(o, out);
    this.stalled(o, out);
    this.loop(o, out);
    return out;
  }

  private returnPath(o: Observation, out: Finding[]): void {
    const live = new Set<number>();
    for (const d of o.dests) {
      if (d.fwd !== FWD_MASQ || d.proto !== IPPROTO_TCP) continue;
      live.add(d.id);
      let h = this.history.get(d.id);
      if (h === undefined) this.history.set(d.id, (h = new CounterHistory()));
      h.push({ t: o.now, conns: d.conns, inPkts: d.inPkts, outPkts: d.outPkts }, this.cfg.windowMs + 1000);
      const a = assessReturnPath(h, o.now, this.cfg);
      if (a.verdict === 'no-replies' && !this.natReported.has(d.id)) {
        this.natReported.add(d.id);
        out.push({ kind: 'nat-no-replies', dest: destRef(d), sent: a.sent });
      } else if (a.verdict === 'replies' && this.natReported.delete(d.id)) {
        out.push({ kind: 'nat-replies-back', dest: destRef(d) });
      }
    }
    for (const id of this.history.keys()) if (!live.has(id)) this.history.delete(id);
  }

  private vipArp(o: Observation, out: Finding[]): void {
    // The first tick starts from -1, so conflicts counted before the doctor started count too.
    const changed = o.vipArpConflicts !== this.lastArpConflicts;
    this.lastArpConflicts = o.vipArpConflicts;
    if (!changed || o.vipArpConflicts === 0) return;
    if (this.arpMacs.has(o.conflictMac)) return;
    this.arpMacs.add(o.conflictMac);
    const d = o.dests.find((x) => x.mac === o.conflictMac) ?? null;
    out.push({ kind: 'vip-arp', mac: o.conflictMac, vip: o.conflictIp, dest: d ? destRef(d) : null });
  }

  private stalled(o: Observation, out: Finding[]): void {
    if (o.handshakes === null) return;
    for (const d of o.dests) {
      const c = o.handshakes.get(d.id);
      if (c === undefined) continue;
      if (c.stalled >= this.cfg.minStalled && !this.stalledReported.has(d.id)) {
        this.stalledReported.add(d.id);
        out.push({ kind: 'dr-stalled', dest: destRef(d), stalled: c.stalled });
      } else if (c.stalled === 0) {
        this.stalledReported.delete(d.id);
      }
    }
  }

  private loop(o: Observation, out: Finding[]): void {
    const changed = o.loopGuardHits !== this.lastLoopHits;
    this.lastLoopHits = o.loopGuardHits;
    if (!changed || o.loopGuardHits === 0 || this.loopMacs.has(o.loopMac)) return;
    this.loopMacs.add(o.loopMac);
    const d = o.dests.find((x) => x.mac === o.loopMac && x.fwd === FWD_DR) ?? null;
    out.push({ kind: 'loop', mac: o.loopMac, hits: o.loopGuardHits, dest: d ? destRef(d) : null });
  }
}
