/**
 * The health-check scheduler (control plane, off the packet path).
 *
 * Every checker is an independent loop, as in keepalived's checker threads:
 *   first probe after a random delay in [0, warmup]  (spreads probes over delay_loop so many
 *                                                    servers never probe in one burst)
 *   probe -> stepChecker -> ServiceHealthModel -> HealthActions
 *   next probe after delay_loop, or delay_before_retry while retrying
 * The next probe of a checker is only scheduled once its previous probe has finished, so a
 * checker never has two probes in flight. A global limit caps the probes running at once;
 * checkers that are due while the limit is reached wait in FIFO order.
 */
import { initialCheckerState, stepChecker, type CheckerState } from './checker-state.js';
import { realClock, type HealthClock, type TimerHandle } from './clock.js';
import { initialMiscWeight, miscFailureWeight, miscSuccessWeight, type MiscWeightState } from './misc-weight.js';
import { runProbe, type ProbeFn } from './probe.js';
import { ServiceHealthModel } from './service-model.js';
import type { CheckerSpec, HealthAction, HealthActions, HealthServiceSpec, ProbeResult } from './types.js';

export interface HealthRunnerOptions {
  clock?: HealthClock;
  probe?: ProbeFn;
  /** Uniform [0, 1) source for the warmup spread; Math.random by default. */
  random?: () => number;
  /** Maximum probes in flight across all checkers (default 64). */
  maxConcurrent?: number;
}

interface CheckerSlot {
  readonly service: ServiceHealthModel;
  readonly rsKey: string;
  readonly spec: CheckerSpec;
  readonly label: string;
  state: CheckerState;
  misc: MiscWeightState;
  timer: TimerHandle | null;
  inFlight: AbortController | null;
  queued: boolean;
}

export interface RealServerStatus {
  key: string;
  alive: boolean;
  inTable: boolean;
  effectiveWeight: number;
  failedCheckers: number;
}

export interface ServiceStatus {
  key: string;
  quorumUp: boolean;
  liveWeight: number;
  sorryActive: boolean;
  servers: RealServerStatus[];
}

export class HealthRunner {
  readonly models: ServiceHealthModel[];
  private readonly slots: CheckerSlot[] = [];
  private readonly queue: CheckerSlot[] = [];
  private readonly clock: HealthClock;
  private readonly probe: ProbeFn;
  private readonly random: () => number;
  private readonly maxConcurrent: number;
  private running = 0;
  private started = false;
  private stopped = false;

  constructor(services: HealthServiceSpec[], private readonly actions: HealthActions, opts: HealthRunnerOptions = {}) {
    this.clock = opts.clock ?? realClock();
    this.probe = opts.probe ?? runProbe;
    this.random = opts.random ?? Math.random;
    this.maxConcurrent = Math.max(1, opts.maxConcurrent ?? 64);
    this.models = services.map((s) => new ServiceHealthModel(s));
    services.forEach((svc, i) => {
      const model = this.models[i] as ServiceHealthModel;
      for (const rs of svc.realServers) {
        rs.checkers.forEach((spec, n) => {
          this.slots.push({
            service: model,
            rsKey: rs.key,
            spec,
            label: `${spec.type}_CHECK#${n} ${rs.key} of ${svc.key}`,
            state: initialCheckerState(spec.retry, spec.alpha),
            misc: initialMiscWeight,
            timer: null,
            inFlight: null,
            queued: false,
          });
        });
      }
    });
  }

  /** Install the initial dests (init_services) and arm every checker after its warmup. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const m of this.models) this.dispatch(m.init());
    for (const slot of this.slots) this.arm(slot, Math.floor(this.random() * slot.spec.warmupMs));
  }

  /** Stop all timers and abort running probes. The table is left as it is. */
  stop(): void {
    this.stopped = true;
    for (const slot of this.slots) {
      if (slot.timer) this.clock.clearTimer(slot.timer);
      slot.timer = null;
      slot.inFlight?.abort();
    }
    this.queue.length = 0;
  }

  /** stop() and then remove every dest like keepalived on exit (notifiers only with omega). */
  shutdown(omega = false): void {
    this.stop();
    for (const m of this.models) this.dispatch(m.shutdown(omega));
  }

  /** Probes currently running (for tests and metrics). */
  get inFlight(): number {
    return this.running;
  }

  status(): ServiceStatus[] {
    return this.models.map((m) => ({
      key: m.key,
      quorumUp: m.quorumUp,
      liveWeight: m.liveWeight(),
      sorryActive: m.sorry?.alive ?? false,
      servers: [...m.servers.values()].map((rs) => ({
        key: rs.dest.rsKey,
        alive: rs.alive,
        inTable: rs.set,
        effectiveWeight: rs.effectiveWeight,
        failedCheckers: rs.failedCheckers,
      })),
    }));
  }

  private arm(slot: CheckerSlot, delayMs: number): void {
    if (this.stopped) return;
    slot.timer = this.clock.setTimer(() => {
      slot.timer = null;
      this.due(slot);
    }, delayMs);
  }

  private due(slot: CheckerSlot): void {
    if (this.stopped || slot.inFlight || slot.queued) return;
    if (this.running >= this.maxConcurrent) {
      slot.queued = true;
      this.queue.push(slot);
      return;
    }
    this.launch(slot);
  }

  private launch(slot: CheckerSlot): void {
    const ac = new AbortController();
    slot.inFlight = ac;
    this.running++;
    let result: Promise<ProbeResult>;
    try {
      result = this.probe(slot.spec, ac.signal);
    } catch (e) {
      result = Promise.resolve({ ok: false, detail: `probe threw: ${(e as Error).message}` });
    }
    result
      .catch((e: unknown) => ({ ok: false, detail: `probe rejected: ${String(e)}` }))
      .then((r) => {
        slot.inFlight = null;
        this.running--;
        if (!this.stopped) this.onResult(slot, r);
        this.drainQueue();
      });
  }

  private drainQueue(): void {
    while (!this.stopped && this.running < this.maxConcurrent) {
      const next = this.queue.shift();
      if (!next) return;
      next.queued = false;
      this.launch(next);
    }
  }

  private onResult(slot: CheckerSlot, r: ProbeResult): void {
    const { spec, service, rsKey } = slot;
    const rs = service.servers.get(rsKey);
    const before = slot.state;
    if (spec.type === 'MISC' && spec.dynamic && r.ok && r.exitCode !== undefined && rs) {
      // check_misc.c updates the weight before the checker state.
      const w = miscSuccessWeight(slot.misc, r.exitCode, rs.effectiveWeight, rs.weight);
      slot.misc = w.state;
      if (w.newEffective !== null) this.dispatch(service.setEffectiveWeight(rsKey, w.newEffective));
    }
    const step = stepChecker(before, r.ok, spec);
    slot.state = step.state;
    if (spec.type === 'MISC' && spec.dynamic && !r.ok && rs) {
      const retried = step.report === null && before.isUp;
      const wentDown = step.report === 'down';
      // A kill leaves no exit code: forget the last one so the next success re-applies its weight.
      const w = miscFailureWeight(slot.misc, r.exitCode ?? -1, wentDown, rs.effectiveWeight, retried);
      slot.misc = w.state;
      service.setEffectiveWeightSilently(rsKey, w.effective);
    }
    if (step.report !== null && step.report !== (step.wasUp ? 'up' : 'down')) {
      this.actions.log(`${slot.label}: ${r.detail}`);
    }
    this.dispatch(service.onCheckerStep(rsKey, step, spec.alpha));
    this.arm(slot, step.nextDelayMs);
  }

  private dispatch(list: HealthAction[]): void {
    for (const a of list) {
      switch (a.kind) {
        case 'add-dest':
          this.actions.addDest(a.dest, a.weight);
          break;
        case 'edit-dest':
          this.actions.editDest(a.dest, a.weight);
          break;
        case 'del-dest':
          this.actions.delDest(a.dest);
          break;
        case 'notify':
          this.actions.runNotify(a.script, a.event);
          break;
        case 'log':
          this.actions.log(a.msg);
          break;
      }
    }
  }
}
