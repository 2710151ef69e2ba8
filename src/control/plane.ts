/**
 * The control plane of a running balancer: ipvsadm commands over the control socket,
 * rules loaded from an ipvsadm-save file, keepalived.conf virtual servers with their
 * health checks, the 2-second rate estimator, reload (SIGHUP / `lb reload`) applying
 * only the difference, and --save-on-exit. Never on the per-packet path.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { ServiceRegistry, ServiceKey } from './service-registry.js';
import { RegistryError } from './service-registry.js';
import { loadKeepalivedConfig } from '../config/keepalived/index.js';
import { formatWarning } from '../config/keepalived/index.js';
import { HealthRunner } from '../health/runner.js';
import { execNotify } from '../health/notify.js';
import type { DestRef, HealthActions } from '../health/types.js';
import { protoName } from '../lvs/proto.js';
import { addrText, endpointLabel, serviceLabel } from './endpoint-names.js';
import { sameDestAddr } from '../dataplane/service-table.js';
import type { RealServer } from '../dataplane/model.js';
import { planRestore, describeRestoreError } from './ipvsadm/restore.js';
import type { Command } from './ipvsadm/command.js';
import { loadServicesSync } from './ipvsadm/services-file.js';
import { ControlSession, type SessionEnv } from './session.js';
import { ESTIMATOR_INTERVAL_MS, RateEstimator } from './estimator.js';
import { ControlServer, type ControlRequest } from './server.js';
import { planFromKeepalived, type KeepalivedPlan, type PlannedDest } from './keepalived-plan.js';
import { readHosts } from './hosts.js';
import type { Output } from './ipvsadm/format-other.js';
import { runSysctl } from './sysctl.js';

export class StartupError extends Error {}

export interface PlaneOptions {
  rulesFile: string | null;
  saveOnExit: string | null;
  config: string | null;
  socket: string | null;
}

export class ControlPlane {
  readonly session: ControlSession;
  readonly est = new RateEstimator();
  private readonly sessionEnv: SessionEnv;
  private readonly registry: ServiceRegistry;
  private readonly opts: PlaneOptions;
  private readonly changed: () => void;
  private readonly log: (s: string) => void;
  private server: ControlServer | null = null;
  private health: HealthRunner | null = null;
  private plan: KeepalivedPlan | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Servers removed by a reload, kept at weight 0 until their connections are gone. */
  private readonly draining = new Map<string, { svc: ServiceKey; dest: DestKey }>();

  constructor(registry: ServiceRegistry, opts: PlaneOptions, changed: () => void, log: (s: string) => void) {
    this.registry = registry;
    this.opts = opts;
    this.changed = changed;
    this.log = log;
    const hosts = readHosts();
    this.sessionEnv = { services: loadServicesSync(), hostByAddr: (a) => hosts.byAddr.get(a), lookupHost: (n) => hosts.byName.get(n) };
    this.session = new ControlSession(registry, this.est, this.sessionEnv, changed, () => performance.now());
  }

  private loaded = false;

  /**
   * Load --rules and the services of --config into the rules: memory only, nothing
   * started (no health check, no timer, no socket), so a bad file fails the start
   * before any side effect. start() calls it when it has not run yet.
   */
  load(): void {
    if (this.loaded) return;
    if (this.opts.rulesFile) this.loadRulesFile(this.opts.rulesFile);
    if (this.opts.config) {
      this.plan = this.loadConfig(this.opts.config);
      this.addServices(this.plan, true);
    }
    this.loaded = true;
  }

  /** Load (if not yet), start health checks, open the control socket. */
  async start(): Promise<void> {
    this.load();
    if (this.plan) {
      this.startHealth(this.plan);
      this.changed();
    }
    this.timer = setInterval(() => this.periodic(), ESTIMATOR_INTERVAL_MS);
    this.timer.unref();
    if (this.opts.socket) {
      this.server = await ControlServer.listen(this.opts.socket, (req) => this.handle(req), { log: this.log });
      this.log(`control socket ${this.opts.socket} (mode 0600): node dist/lb.js ipvsadm -L -n`);
    }
  }

  /** The keepalived.conf plan loaded at start or last reload (vrrp_instance blocks for src/ha), if any. */
  get keepalivedPlan(): KeepalivedPlan | null {
    return this.plan;
  }

  /** HA status text for `lb top` (set by src/ha when VRRP or sync runs). */
  haStatus: (() => string) | null = null;

  private handle(req: ControlRequest): Output {
    if (req.reload) return this.reload();
    if (req.ha) return { stdout: this.haStatus?.() ?? '', stderr: '', status: 0 };
    if (req.sysctl) return runSysctl(this.registry.engine, req.sysctl);
    return this.session.run(req.argv ?? [], req.stdin ?? '');
  }

  /** An ipvsadm-save file: an empty or unreadable one is an error naming it, never an empty configuration. */
  loadRulesFile(path: string): void {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new StartupError(`--rules ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (text.trim() === '') throw new StartupError(`--rules ${path}: the file is empty; refusing to start with no rules (seed 003's lost rules)`);
    const plan = planRestore(text, this.sessionEnv);
    for (const line of plan.lines) {
      const bad = describeRestoreError(line);
      if (bad) throw new StartupError(`--rules ${path}: ${bad}`);
      if (!line.result.ok) continue;
      const out = this.session.apply(line.result.command);
      if (out.status !== 0) throw new StartupError(`--rules ${path}: line ${line.lineNumber}: ${out.stderr.trim()}`);
    }
    if (plan.stop) throw new StartupError(`--rules ${path}: line ${plan.stop.lineNumber}: ${plan.stop.stderr.trim() || 'ends the restore'}`);
    this.log(`rules loaded from ${path}: ${this.registry.engine.services.length} service(s)`);
  }

  private loadConfig(path: string): KeepalivedPlan {
    const { config, warnings } = loadKeepalivedConfig(path);
    for (const w of warnings) this.log(`warning: ${formatWarning(w)}`);
    const plan = planFromKeepalived(config);
    for (const w of plan.warnings) this.log(`warning: ${w}`);
    return plan;
  }

  /** Services from the plan; real servers are added by the health runner's start-up (init_service_rs). */
  private applyPlan(plan: KeepalivedPlan, initial: boolean): void {
    this.addServices(plan, initial);
    this.startHealth(plan);
    this.changed();
  }

  private addServices(plan: KeepalivedPlan, initial: boolean): void {
    for (const s of plan.services) {
      const cur = this.registry.findService(s.spec);
      if (!cur) this.registry.addService(s.spec);
      else if (!initial) this.registry.editService(s.spec);
    }
  }

  private startHealth(plan: KeepalivedPlan): void {
    // keepalived migrates checker state across a reload (migrate_checkers): a server that
    // was down stays down until a check succeeds, so its checkers start failed (alpha).
    const down = new Set<string>();
    for (const s of this.health?.status() ?? []) for (const r of s.servers) if (!r.alive) down.add(`${s.key} ${r.key}`);
    const specs = plan.health.map((svc) => ({
      ...svc,
      realServers: svc.realServers.map((rs) =>
        down.has(`${svc.key} ${rs.key}`) ? { ...rs, checkers: rs.checkers.map((c) => ({ ...c, alpha: true })) } : rs),
    }));
    this.health?.stop();
    this.health = new HealthRunner(specs, this.healthActions(plan));
    this.health.start();
  }

  private healthActions(plan: KeepalivedPlan): HealthActions {
    // A checker's verdict applies to the server in every service of its virtual_server (a group's several).
    const find = (ref: DestRef): { key: string; svc: ServiceKey; d: PlannedDest }[] => {
      const out: { key: string; svc: ServiceKey; d: PlannedDest }[] = [];
      for (const s of plan.services) {
        if (s.healthKey !== ref.svcKey) continue;
        const d = s.dests.find((x) => x.key === ref.rsKey);
        if (d) out.push({ key: s.key, svc: s.spec, d });
      }
      return out;
    };
    const guard = (what: string, fn: () => void) => {
      try {
        fn();
        this.changed();
      } catch (err) {
        if (err instanceof RegistryError) this.log(`health: ${what}: ${err.message}`);
        else throw err;
      }
    };
    return {
      addDest: (ref, weight) => {
        for (const f of find(ref)) {
          this.draining.delete(`${f.key} ${ref.rsKey}`);
          const spec = { ...f.d.spec, weight };
          guard(`add ${ref.rsKey}`, () => {
            if (this.registry.findService(f.svc)?.dests.some((x) => isDest(x, spec))) this.registry.editDest(f.svc, spec);
            else this.registry.addDest(f.svc, spec);
          });
        }
      },
      editDest: (ref, weight) => {
        for (const f of find(ref)) guard(`edit ${ref.rsKey}`, () => this.registry.editDest(f.svc, { ...f.d.spec, weight }));
      },
      delDest: (ref) => {
        for (const f of find(ref)) guard(`delete ${ref.rsKey}`, () => this.registry.delDest(f.svc, f.d.spec.addr, f.d.spec.port, f.d.spec.addr6 ?? null));
      },
      runNotify: (script, event) => execNotify(script, event),
      log: (msg) => this.log(`health: ${msg}`),
    };
  }

  /**
   * Re-read the configuration and apply only the difference. Servers that stay keep
   * their connections; removed servers get weight 0 (no new connections) and are
   * deleted once their connections have ended; removed services likewise.
   */
  reload(): Output {
    try {
      if (this.opts.config) {
        const next = this.loadConfig(this.opts.config);
        this.drainRemoved(this.plan, next);
        this.plan = next;
        this.applyPlan(next, false);
      } else if (this.opts.rulesFile) {
        this.reloadRules(this.opts.rulesFile);
      } else {
        return { stdout: '', stderr: 'lb: nothing to reload (no --config or --rules)\n', status: 1 };
      }
      return { stdout: 'reloaded\n', stderr: '', status: 0 };
    } catch (err) {
      return { stdout: '', stderr: `lb: reload failed, configuration unchanged: ${(err as Error).message}\n`, status: 1 };
    }
  }

  private drainRemoved(prev: KeepalivedPlan | null, next: KeepalivedPlan): void {
    for (const s of prev?.services ?? []) {
      const ns = next.services.find((x) => x.key === s.key);
      for (const d of s.dests) {
        if (ns?.dests.some((x) => x.key === d.key)) continue;
        this.drain(s.spec, d.spec, `${s.key} ${d.key}`);
      }
    }
  }

  /** --rules reload: servers not in the file drain; services and servers in it are added or edited. */
  private reloadRules(path: string): void {
    const text = readFileSync(path, 'utf8');
    if (text.trim() === '') throw new Error(`${path} is empty`);
    const plan = planRestore(text, this.sessionEnv);
    const bad = plan.lines.find((l) => !l.result.ok);
    if (bad || plan.stop) throw new Error(`${path}: ${bad ? describeRestoreError(bad) : `line ${plan.stop!.lineNumber}`}`);
    const cmds = plan.lines.map((l) => (l.result.ok ? l.result.command : null)).filter((c): c is Command => c !== null);
    const wanted = new Set<string>();
    // Keys in one form on both sides: the parser's addresses are inet_ntop text, as addrText's.
    const keyOf = (proto: string, a: string, p: number, da: string, dp: number) => `${proto} ${a}:${p} ${da}:${dp}`;
    for (const c of cmds) if (c.cmd === 'add-server') wanted.add(keyOf(c.service.proto, c.service.addr, c.service.port, c.dest.addr, c.dest.port));
    for (const svc of this.registry.engine.services) {
      for (const d of svc.dests) {
        if (wanted.has(keyOf(protoName(svc.proto), addrText(svc), svc.port, addrText(d), d.port))) continue;
        this.drain(svc, d, `${serviceLabel(svc)} ${endpointLabel(d)}`);
      }
    }
    for (const c of cmds) {
      let out = this.session.apply(c);
      if (out.status !== 0 && (c.cmd === 'add-service' || c.cmd === 'add-server') && /already exists/.test(out.stderr)) {
        out = this.session.apply({ ...c, cmd: c.cmd === 'add-service' ? 'edit-service' : 'edit-server' } as Command);
      }
      if (out.status !== 0) this.log(`reload: ${out.stderr.trim()}`);
    }
    this.changed();
  }

  private drain(svc: ServiceKey, dest: DestKey, key: string): void {
    const s = this.registry.findService(svc);
    const d = s?.dests.find((x) => isDest(x, dest));
    if (!s || !d) return;
    const k = destKey(d);
    this.registry.editDest(svc, { ...k, weight: 0, fwd: d.fwd, uThreshold: d.uThreshold, lThreshold: d.lThreshold });
    this.draining.set(key, { svc, dest: k });
    this.log(`draining ${key}: weight 0 until its ${d.activeConns + d.inactConns} connection(s) end`);
  }

  private periodic(): void {
    for (const s of this.registry.engine.services) {
      this.est.sample(s.stats);
      for (const d of s.dests) this.est.sample(d.stats);
    }
    for (const [key, x] of this.draining) {
      const s = this.registry.findService(x.svc);
      const d = s?.dests.find((y) => isDest(y, x.dest));
      if (!d || d.weight !== 0) {
        this.draining.delete(key);
        continue;
      }
      if (d.activeConns + d.inactConns === 0) {
        this.registry.delDest(x.svc, x.dest.addr, x.dest.port, x.dest.addr6 ?? null);
        this.draining.delete(key);
        this.log(`drained and removed ${key}`);
        this.changed();
      }
    }
  }

  /** Shutdown: stop checks, close the socket, write --save-on-exit atomically (temp file + rename) unless `save` is false. */
  stop(save = true): void {
    this.health?.stop();
    if (this.timer) clearInterval(this.timer);
    this.server?.close();
    const path = this.opts.saveOnExit;
    if (path && save) {
      const out = this.session.run(['-S', '-n']);
      const tmp = `${path}.tmp-${process.pid}`;
      writeFileSync(tmp, out.stdout, { mode: 0o600 });
      renameSync(tmp, path);
      this.log(`rules saved to ${path}`);
    }
  }
}

/** A server named by address (IPv4 number, or addr6 words) and port. */
interface DestKey {
  addr: number;
  port: number;
  addr6?: Int32Array;
}

function isDest(d: RealServer, k: DestKey): boolean {
  return d.port === k.port && sameDestAddr(d, k.addr, k.addr6 !== undefined && k.addr6.length === 4 ? k.addr6 : null);
}

function destKey(d: RealServer): DestKey {
  return d.addr6.length === 4 ? { addr: 0, port: d.port, addr6: d.addr6 } : { addr: d.addr, port: d.port };
}
