/**
 * `lb --config FILE --config-test` (alias `-t`, as keepalived) and `lb --rules FILE --check`:
 * parse everything the balancer would load at start, report every error and warning with
 * its file and line, and say whether it would start. No root, no network, nothing started:
 * --rules commands are applied to a scratch engine whose one interface reaches everything.
 * The same checks run at every start (preflight.ts) before anything is started.
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ConfigError, loadKeepalivedConfig, type ConfigWarning } from '../config/keepalived/index.js';
import { planFromKeepalived, type KeepalivedPlan } from '../control/keepalived-plan.js';
import { planRestore } from '../control/ipvsadm/restore.js';
import { loadServicesSync } from '../control/ipvsadm/services-file.js';
import { readHosts } from '../control/hosts.js';
import { ControlSession, type SessionEnv } from '../control/session.js';
import { RateEstimator } from '../control/estimator.js';
import { Engine } from '../dataplane/engine.js';
import { ServiceRegistry } from '../control/service-registry.js';
import { RoutingTable } from '../dataplane/routing.js';
import { HaError, haSettings } from '../ha/ha-settings.js';
import type { LbOptions } from './options.js';

export interface Diagnostic {
  file: string;
  /** 1-based; null for the file as a whole (unreadable, empty). */
  line: number | null;
  severity: 'error' | 'warning';
  message: string;
}

/** `FILE:LINE: error: MESSAGE`, as compilers print it (editors jump to it). */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}${d.line !== null ? `:${d.line}` : ''}: ${d.severity}: ${d.message}`;
}

export interface FilesCheck {
  diagnostics: Diagnostic[];
  /** The keepalived.conf plan, when --config parsed far enough. */
  plan: KeepalivedPlan | null;
  /** What would be loaded: for the summary line. */
  counts: { services: number; servers: number; vrrp: number };
}

export function errorsOf(c: FilesCheck): Diagnostic[] {
  return c.diagnostics.filter((d) => d.severity === 'error');
}

/** Interfaces of the host, when known (start-up); null for --config-test (names not checked). */
export interface CheckContext {
  ifaces: readonly { name: string; ip: number; ll6?: Uint8Array }[] | null;
}

/** Check --config and --rules of `o`, as the start would load them. */
export function checkFiles(o: Pick<LbOptions, 'config' | 'rulesFile' | 'sync' | 'workers' | 'worker'>, ctx: CheckContext = { ifaces: null }): FilesCheck {
  const out: FilesCheck = { diagnostics: [], plan: null, counts: { services: 0, servers: 0, vrrp: 0 } };
  if (o.rulesFile !== null) checkRules(o.rulesFile, out);
  if (o.config !== null) checkConfig(o.config, o, ctx, out);
  out.diagnostics = inFileOrder(out.diagnostics);
  return out;
}

function read(path: string, what: string, out: FilesCheck): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    const fix = code === 'ENOENT' ? 'check the path' : code === 'EACCES' ? 'check its permissions' : code === 'EISDIR' ? 'give a file' : 'check it';
    out.diagnostics.push({ file: path, line: null, severity: 'error', message: `cannot read the ${what} (${code}): ${fix}` });
    return null;
  }
}

function sessionEnv(): SessionEnv {
  const hosts = readHosts();
  return { services: loadServicesSync(), hostByAddr: (a) => hosts.byAddr.get(a), lookupHost: (n) => hosts.byName.get(n) };
}

/** A scratch engine: one interface with a default route, so any real server is reachable. */
function scratchRegistry(): ServiceRegistry {
  const engine = new Engine({ ifaces: [{ name: 'check0', mac: new Uint8Array(6), mtu: 1500, ip: 0 }], maxConns: 16 });
  return new ServiceRegistry(engine, new RoutingTable([{ dst: 0, prefixLen: 0, iface: 0, gateway: 0 }]));
}

function checkRules(path: string, out: FilesCheck): void {
  const text = read(path, '--rules file', out);
  if (text === null) return;
  const err = (line: number | null, message: string) => out.diagnostics.push({ file: path, line, severity: 'error', message });
  if (text.trim() === '') {
    err(null, "the file is empty; the balancer refuses to start with no rules (seed 003's lost rules): restore it, or start without --rules");
    return;
  }
  const env = sessionEnv();
  const registry = scratchRegistry();
  const session = new ControlSession(registry, new RateEstimator(), env, () => undefined, () => 0);
  const plan = planRestore(text, env);
  for (const line of plan.lines) {
    if (plan.stop && line.lineNumber === plan.stop.lineNumber) break;
    if (!line.result.ok) {
      err(line.lineNumber, line.result.error.stderr.trim() || `ipvsadm exit status ${line.result.error.status}`);
      continue;
    }
    const r = session.apply(line.result.command);
    if (r.status !== 0) err(line.lineNumber, r.stderr.trim());
  }
  if (plan.stop) err(plan.stop.lineNumber, `${plan.stop.stderr.trim() || 'this line'} ends the restore (ipvsadm -R stops here)`);
  const svcs = registry.engine.services;
  out.counts.services += svcs.length;
  out.counts.servers += svcs.reduce((n, s) => n + s.dests.length, 0);
}

function fromWarning(w: ConfigWarning): Diagnostic {
  return { file: w.file, line: w.line, severity: 'warning', message: w.keyword !== undefined ? `keyword '${w.keyword}': ${w.message}` : w.message };
}

function fromError(e: ConfigError): Diagnostic {
  return { file: e.file, line: e.line, severity: 'error', message: `keyword '${e.keyword}': ${e.detail}` };
}

/** Plan warnings are "FILE:LINE: text". */
function fromPlanWarning(w: string): Diagnostic {
  const m = /^(.*?):(\d+): (.*)$/s.exec(w);
  return m ? { file: m[1]!, line: Number(m[2]), severity: 'warning', message: m[3]! } : { file: '', line: null, severity: 'warning', message: w };
}

function checkConfig(path: string, o: Pick<LbOptions, 'sync' | 'workers' | 'worker'>, ctx: CheckContext, out: FilesCheck): void {
  if (read(path, '--config file', out) === null) return;
  const errors: ConfigError[] = [];
  let loaded;
  try {
    loaded = loadKeepalivedConfig(path, { errors });
  } catch (err) {
    // The file structure itself (braces, quotes, includes): nothing after it can be read.
    if (err instanceof ConfigError) out.diagnostics.push({ ...fromError(err), file: err.file === resolvePath(path) ? path : err.file });
    else out.diagnostics.push({ file: path, line: null, severity: 'error', message: (err as Error).message });
    return;
  }
  // The loader names the main file by its absolute path; print it as the user wrote it.
  const asGiven = (d: Diagnostic): Diagnostic => (d.file === resolvePath(path) ? { ...d, file: path } : d);
  const planErrors: ConfigError[] = [];
  const plan = planFromKeepalived(loaded.config, planErrors);
  const found = [...loaded.warnings.map(fromWarning), ...errors.map(fromError), ...planErrors.map(fromError), ...plan.warnings.map(fromPlanWarning)];
  out.diagnostics.push(...found.map(asGiven));
  out.plan = plan;
  out.counts.services += plan.services.length;
  out.counts.servers += plan.services.reduce((n, s) => n + s.dests.length, 0);
  out.counts.vrrp += plan.vrrp.length;
  const vrrpFirst = plan.vrrp[0];
  if (vrrpFirst && (o.workers > 1 || (o.worker !== null && o.worker.n > 1))) {
    out.diagnostics.push({ file: vrrpFirst.source.file === resolvePath(path) ? path : vrrpFirst.source.file, line: vrrpFirst.source.line, severity: 'error', message: 'vrrp_instance with --workers is not supported yet: run one process per director' });
  }
  // VRRP and sync settings; interface names only when the host's interfaces are known.
  const names = ctx.ifaces?.map((i) => i.name) ?? null;
  const indexOf = (name: string): number | undefined => {
    if (names === null) return 0;
    const i = names.indexOf(name);
    return i >= 0 ? i : undefined;
  };
  try {
    const ifaces = ctx.ifaces;
    if (ifaces) haSettings(plan, o, indexOf, (i) => ifaces[i]!.ip, (i) => ifaces[i]!.ll6);
    else haSettings(plan, o, indexOf, () => 1);
  } catch (err) {
    if (!(err instanceof HaError)) throw err;
    const file = err.source && err.source.file !== resolvePath(path) ? err.source.file : path;
    out.diagnostics.push({ file, line: err.source?.line ?? null, severity: 'error', message: err.detail });
  }
}

/** Files in the order they first appear, lines ascending within each (stable). */
function inFileOrder(ds: Diagnostic[]): Diagnostic[] {
  const order = new Map<string, number>();
  for (const d of ds) if (!order.has(d.file)) order.set(d.file, order.size);
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => order.get(a.d.file)! - order.get(b.d.file)! || (a.d.line ?? 0) - (b.d.line ?? 0) || a.i - b.i)
    .map((x) => x.d);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `lb ... --config-test`: prints the diagnostics (stderr) and the verdict; returns the exit status. */
export function runConfigTest(o: LbOptions, write: { out: (s: string) => void; err: (s: string) => void }): number {
  const c = checkFiles(o);
  for (const d of c.diagnostics) write.err(`${formatDiagnostic(d)}\n`);
  const errors = errorsOf(c).length;
  const warnings = c.diagnostics.length - errors;
  const files = [o.config, o.rulesFile].filter((f): f is string => f !== null).join(', ');
  if (errors > 0) {
    write.err(`lb: ${files}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}: the balancer would not start\n`);
    return 1;
  }
  const what = [plural(c.counts.services, 'virtual service'), plural(c.counts.servers, 'real server')];
  if (c.counts.vrrp > 0) what.push(plural(c.counts.vrrp, 'vrrp instance'));
  write.out(`lb: ${files}: configuration OK (${what.join(', ')}; ${plural(warnings, 'warning')})\n`);
  return 0;
}
