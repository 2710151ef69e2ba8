/**
 * One virtual server's health state (pure: methods return the actions to perform, no I/O).
 *
 * Mirrors keepalived ipwrapper.c:
 *   init()              init_service_rs + update_quorum_state(init) + sorry-server inhibit add
 *   onCheckerStep()     update_svr_checker_state -> perform_svr_state -> update_quorum_state
 *   setEffectiveWeight  update_svr_wgt (MISC_CHECK misc_dynamic)
 *   shutdown()          clear_service_vs (forced removal, notifiers only with `omega`)
 * The kernel table is only touched for a server while the quorum is up or no sorry server is
 * in the pool; the quorum transitions then swap the alive servers and the sorry server.
 */
import type { CheckerStep } from './checker-state.js';
import { decideQuorum, initialQuorumUp, normalizeQuorum, weighLive, type QuorumParams } from './quorum.js';
import {
  applyCheckerVerdict,
  countCheckerChange,
  ipvsCmd,
  realWeight,
  type RealServerRuntime,
} from './real-server-state.js';
import type { HealthAction, HealthServiceSpec, NotifyEventKind } from './types.js';

export class ServiceHealthModel {
  readonly key: string;
  readonly quorum: QuorumParams;
  quorumUp: boolean;
  readonly servers = new Map<string, RealServerRuntime>();
  readonly sorry: RealServerRuntime | null;
  private readonly spec: HealthServiceSpec;
  private out: HealthAction[] = [];

  constructor(spec: HealthServiceSpec) {
    this.spec = spec;
    this.key = spec.key;
    let total = 0;
    for (const rs of spec.realServers) {
      total += rs.weight;
      const alphaCheckers = rs.checkers.filter((c) => c.alpha).length;
      this.servers.set(rs.key, {
        dest: { svcKey: spec.key, rsKey: rs.key, address: rs.address, port: rs.port },
        weight: rs.weight,
        inhibit: rs.inhibitOnFailure,
        ...(rs.notifyUp !== undefined ? { notifyUp: rs.notifyUp } : {}),
        ...(rs.notifyDown !== undefined ? { notifyDown: rs.notifyDown } : {}),
        alive: false,
        set: false,
        // validate_check_config marks every alpha checker failed before the first run.
        failedCheckers: alphaCheckers,
        effectiveWeight: rs.weight,
      });
    }
    const s = spec.sorryServer;
    this.sorry = s
      ? {
          dest: { svcKey: spec.key, rsKey: s.key, address: s.address, port: s.port },
          weight: s.weight ?? 1,
          inhibit: s.inhibit,
          alive: false,
          set: false,
          failedCheckers: 0,
          effectiveWeight: s.weight ?? 1,
        }
      : null;
    this.quorum = normalizeQuorum(spec.quorum, spec.hysteresis, total);
    this.quorumUp = initialQuorumUp(this.quorum);
  }

  /** Start-up: add the servers that need no check first, then settle the quorum. */
  init(): HealthAction[] {
    for (const rs of this.servers.values()) {
      // init_service_rs: without alpha servers go in before their first check; in alpha mode
      // only inhibited ones go in (quiesced, weight 0).
      if ((rs.failedCheckers === 0 && !rs.alive) || (rs.inhibit && !rs.set)) {
        this.emitCmd(rs, 'add');
        if (rs.failedCheckers === 0) rs.alive = true;
      }
    }
    this.updateQuorum(true);
    const sorry = this.sorry;
    if (sorry && sorry.inhibit && !sorry.set) {
      // Pretend a failed checker so ipvs_cmd adds it with weight 0 (init_service_vs).
      sorry.failedCheckers = 1;
      this.emitCmd(sorry, 'add');
      sorry.failedCheckers = 0;
    }
    return this.flush();
  }

  /** Feed one checker step (from stepChecker) of real server `rsKey`. */
  onCheckerStep(rsKey: string, step: CheckerStep, alpha: boolean): HealthAction[] {
    const rs = this.servers.get(rsKey);
    if (!rs || step.report === null) return this.flush();
    const decision = applyCheckerVerdict(rs, step.report, step.wasUp, step.firstRun, alpha);
    if (decision === 'notify-only') {
      this.notifyServer(rs);
    } else if (step.wasUp !== (step.report === 'up')) {
      if (decision === 'server-up') this.performServerState(rs, true);
      if (decision === 'server-down') this.performServerState(rs, false);
      countCheckerChange(rs, step.report);
    }
    return this.flush();
  }

  /** `update_svr_wgt(weight, vs, rs, true)`: a new effective weight for `rsKey`. */
  setEffectiveWeight(rsKey: string, weight: number): HealthAction[] {
    const rs = this.servers.get(rsKey);
    if (!rs) return this.flush();
    const oldW = realWeight(rs.effectiveWeight);
    const newW = realWeight(weight);
    rs.effectiveWeight = weight;
    if (newW !== oldW) {
      this.log(`Changing weight from ${oldW} to ${newW} for ${rs.alive ? '' : 'in'}active service ${rsKey} of VS ${this.key}`);
      if (rs.set && rs.alive && this.kernelFollowsServers()) {
        this.out.push({ kind: 'edit-dest', dest: rs.dest, weight: newW });
      }
      this.updateQuorum(false);
    }
    return this.flush();
  }

  /**
   * Set the effective weight without touching the table or the quorum: a MISC_CHECK that goes
   * down drops its dynamic offset this way just before the server is removed (check_misc.c).
   */
  setEffectiveWeightSilently(rsKey: string, weight: number): void {
    const rs = this.servers.get(rsKey);
    if (rs) rs.effectiveWeight = weight;
  }

  /** `clear_service_vs`: remove every dest (inhibited ones too); notifiers only with omega. */
  shutdown(omega: boolean): HealthAction[] {
    const all = [...this.servers.values(), ...(this.sorry ? [this.sorry] : [])];
    for (const rs of all) {
      if (rs.set) {
        rs.set = false;
        this.out.push({ kind: 'del-dest', dest: rs.dest });
      }
      if (!rs.alive) continue;
      rs.alive = false;
      if (omega && rs !== this.sorry) this.notifyServer(rs);
    }
    if (this.quorumUp || omega) {
      this.quorumUp = false;
      if (omega) this.notifyQuorum();
    }
    return this.flush();
  }

  /** Sum of the effective weights of the alive servers. */
  liveWeight(): number {
    return weighLive(this.servers.values());
  }

  /** perform_svr_state */
  private performServerState(rs: RealServerRuntime, alive: boolean): void {
    if (rs.alive === alive) return;
    const verb = alive ? (rs.inhibit ? 'Enabling' : 'Adding') : rs.inhibit ? 'Disabling' : 'Removing';
    this.log(`${verb} service ${rs.dest.rsKey} ${rs.inhibit ? 'of' : alive ? 'to' : 'from'} VS ${this.key}`);
    if (this.kernelFollowsServers()) this.emitCmd(rs, alive ? 'add' : 'del');
    rs.alive = alive;
    this.notifyServer(rs);
    this.updateQuorum(false);
  }

  /** update_quorum_state */
  private updateQuorum(init: boolean): void {
    const sorry = this.sorry;
    const d = decideQuorum(this.quorumUp, this.liveWeight(), this.quorum, init, !!sorry && !sorry.alive);
    const { quorum, hysteresis } = this.quorum;
    if (d.change === 'gain') {
      this.quorumUp = true;
      this.log(`Gained quorum ${quorum}+${hysteresis}=${d.threshold} <= ${d.sum} for VS ${this.key}`);
      if (sorry && sorry.alive) {
        this.log(`${sorry.inhibit ? 'Disabling' : 'Removing'} sorry server ${sorry.dest.rsKey} from VS ${this.key}`);
        this.emitCmd(sorry, 'del');
        sorry.alive = false;
        this.performQuorumState(true);
      }
      this.notifyQuorum();
    } else if (d.change === 'loss') {
      this.quorumUp = false;
      this.log(`${init ? 'Starting with quorum down' : 'Lost quorum'} ${quorum}-${hysteresis}=${d.threshold} > ${d.sum} for VS ${this.key}`);
      if (sorry && !sorry.alive) {
        this.log(`${sorry.inhibit ? 'Enabling' : 'Adding'} sorry server ${sorry.dest.rsKey} to VS ${this.key}`);
        this.performQuorumState(false);
        this.emitCmd(sorry, 'add');
        sorry.alive = true;
      }
      this.notifyQuorum();
    }
  }

  /** perform_quorum_state: add or remove every alive server. */
  private performQuorumState(add: boolean): void {
    this.log(`${add ? 'Adding alive servers to' : 'Removing alive servers from'} the pool for VS ${this.key}`);
    for (const rs of this.servers.values()) if (rs.alive) this.emitCmd(rs, add ? 'add' : 'del');
  }

  /** "Change only if we have quorum or no sorry server" (perform_svr_state, update_svr_wgt). */
  private kernelFollowsServers(): boolean {
    return this.quorumUp || !this.sorry || !this.sorry.alive;
  }

  private emitCmd(rs: RealServerRuntime, cmd: 'add' | 'del'): void {
    const a = ipvsCmd(rs, cmd);
    if (a) this.out.push(a);
  }

  /** do_rs_notifies: the script follows the server's current state. */
  private notifyServer(rs: RealServerRuntime): void {
    const script = rs.alive ? rs.notifyUp : rs.notifyDown;
    const kind: NotifyEventKind = rs.alive ? 'rs-up' : 'rs-down';
    if (script) this.out.push({ kind: 'notify', script, event: { kind, svcKey: this.key, rsKey: rs.dest.rsKey } });
  }

  /** do_vs_notifies */
  private notifyQuorum(): void {
    const script = this.quorumUp ? this.spec.quorumUp : this.spec.quorumDown;
    const kind: NotifyEventKind = this.quorumUp ? 'quorum-up' : 'quorum-down';
    if (script) this.out.push({ kind: 'notify', script, event: { kind, svcKey: this.key } });
  }

  private log(msg: string): void {
    this.out.push({ kind: 'log', msg });
  }

  private flush(): HealthAction[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}
