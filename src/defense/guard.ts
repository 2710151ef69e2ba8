/**
 * The new-connection guard the data plane calls once per new connection (and from its
 * timer tick): IPVS's defence strategies (levels.ts, drop-entry.ts) driven by the table's
 * fill, secure_tcp's state table and shorter handshake timeouts, and the per-service and
 * per-prefix caps (flood-guard.ts). docs/reliability.md maps the settings to the sysctls.
 */
import type { ConnTable } from '../table/conn-table.js';
import { S_SYNACK, S_SYN_RECV } from '../table/tcp-state.js';
import { DefenseLevels } from './levels.js';
import { DropEntry } from './drop-entry.js';
import { ADMIT, FloodGuard } from './flood-guard.js';

/** admit() results; the engine counts each refusal under a drop reason of the same order. */
export const GUARD_ADMIT = 0;
export const GUARD_DROP_PACKET = 1;
export const GUARD_SERVICE_RATE = 2;
export const GUARD_PREFIX_RATE = 3;

/** DEFENSE_TIMER_PERIOD (ip_vs_ctl.c): levels re-evaluated, drop_entry run, once a second. */
const PERIOD_MS = 1000;

export class Guard {
  readonly levels = new DefenseLevels();
  readonly dropEntry = new DropEntry();
  readonly flood = new FloodGuard();
  /**
   * While secure_tcp's table is in force, SYN_RECV and SYNACK last at most this long (ms);
   * 0 keeps the normal timeouts, as the kernel's secure_tcp does (beyond IPVS: a spoofed
   * SYN then holds its entry 10 s instead of 60 s).
   */
  secureSynRecvMs = 10_000;
  private nextAt = 0;

  constructor(private readonly table: ConnTable, private readonly free: (e: number) => void) {}

  /** The new-connection path: GUARD_ADMIT, or which defence refuses this one. */
  admit(svc: number, caddr: number, now: number): number {
    if (now >= this.nextAt) this.periodic(now);
    // ip_vs_todrop, as tcp_conn_schedule / udp_conn_schedule call it before scheduling.
    if (this.levels.dropRate !== 0 && this.levels.todrop()) return GUARD_DROP_PACKET;
    const r = this.flood.admit(svc, caddr, now);
    return r === ADMIT ? GUARD_ADMIT : r + 1;
  }

  /** Timer path of the data plane: the once-a-second work when it is due. */
  tick(now: number): void {
    if (now >= this.nextAt) this.periodic(now);
  }

  /** defense_work_handler: update_defense_level, then drop_entry if it is active. */
  periodic(now: number): void {
    this.nextAt = now + PERIOD_MS;
    const t = this.table;
    this.levels.update(t.capacity - t.count);
    if (this.levels.dropEntry) this.dropEntry.run(t, now, this.free);
  }

  /** Timeout (ms) of a TCP entry entering `state`, from the normal table `normal`. */
  timeoutMs(state: number, normal: Float64Array): number {
    const n = normal[state]!;
    if (!this.levels.secureTcp || this.secureSynRecvMs === 0 || (state !== S_SYN_RECV && state !== S_SYNACK)) return n;
    return this.secureSynRecvMs < n ? this.secureSynRecvMs : n;
  }

  /**
   * Settings changed (start-up, control plane): re-evaluate now, as writing the sysctl does,
   * and again at the next call whatever its clock (the data plane's time base is its own).
   */
  apply(): void {
    this.levels.update(this.table.capacity - this.table.count);
    this.nextAt = 0;
  }
}
