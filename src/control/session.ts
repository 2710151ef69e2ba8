/**
 * Runs ipvsadm command lines against the running engine: read-only commands render
 * a snapshot with ipvsadm's formats, state-changing ones go through the ServiceRegistry with the
 * kernel's semantics and ipvsadm's error texts. `-R` reads commands from stdin.
 */
import { parseIPv4 } from '../packet/addr.js';
import { parseIPv6 } from '../packet/addr6.js';
import { PROTO_TCP, PROTO_UDP } from '../packet/ipv4.js';
import { fwdFromName } from '../lvs/fwd.js';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT } from '../sched/types.js';
import { ServiceRegistry, RegistryError, type DestSpec, type ServiceKey, type ServiceSpec } from './service-registry.js';
import { parseIpvsadmArgs, type ParseEnv } from './ipvsadm/args.js';
import type { Command, DestSpec as CmdDest, ServiceTarget } from './ipvsadm/command.js';
import { renderReadOnly, type Output } from './ipvsadm/format-other.js';
import type { NameEnv } from './ipvsadm/names.js';
import { planRestore } from './ipvsadm/restore.js';
import { KERNEL_ERROR_EXIT_STATUS } from './ipvsadm/strerror.js';
import type { RateEstimator } from './estimator.js';
import { engineSnapshot } from './take-snapshot.js';

export type SessionEnv = ParseEnv & NameEnv;

export class ControlSession {
  readonly registry: ServiceRegistry;
  private readonly est: RateEstimator;
  private readonly env: SessionEnv;
  private readonly changed: () => void;
  private readonly now: () => number;

  constructor(registry: ServiceRegistry, est: RateEstimator, env: SessionEnv, changed: () => void, now: () => number) {
    this.registry = registry;
    this.est = est;
    this.env = env;
    this.changed = changed;
    this.now = now;
  }

  /** One `ipvsadm ARGS` invocation. */
  run(argv: readonly string[], stdin = ''): Output {
    const parsed = parseIpvsadmArgs(argv, this.env);
    if (!parsed.ok) return { stdout: '', stderr: parsed.error.stderr, status: parsed.error.status };
    const cmd = parsed.command;
    if (cmd.cmd === 'restore') return this.restore(stdin);
    const snapshotNeeded = cmd.cmd === 'list' || cmd.cmd === 'save' || cmd.cmd === 'help' || cmd.cmd === 'version';
    if (snapshotNeeded) {
      const withConns = cmd.cmd === 'list' && cmd.what === 'connections';
      const out = renderReadOnly(cmd, engineSnapshot(this.registry.engine, this.est, this.now(), withConns), this.env);
      if (out) return out;
    }
    return this.apply(cmd);
  }

  /** ipvsadm -R: each line applied in order; an error that ends ipvsadm ends the restore. */
  restore(text: string): Output {
    const plan = planRestore(text, this.env);
    let stderr = '';
    let status = 0;
    for (const line of plan.lines) {
      if (plan.stop && line.lineNumber === plan.stop.lineNumber) break; // its message is in plan.stop
      if (!line.result.ok) {
        stderr += line.result.error.stderr;
        status = line.result.error.status;
        continue;
      }
      const out = this.apply(line.result.command);
      stderr += out.stderr;
      if (out.status !== 0) status = out.status;
    }
    if (plan.stop) return { stdout: plan.stop.stdout, stderr: stderr + plan.stop.stderr, status: plan.stop.status };
    return { stdout: '', stderr, status };
  }

  /** A state-changing command. */
  apply(cmd: Command): Output {
    try {
      this.applyOrThrow(cmd);
      return { stdout: '', stderr: '', status: 0 };
    } catch (err) {
      if (err instanceof RegistryError) return { stdout: '', stderr: `${err.message}\n`, status: KERNEL_ERROR_EXIT_STATUS };
      throw err;
    }
  }

  private applyOrThrow(cmd: Command): void {
    const r = this.registry;
    switch (cmd.cmd) {
      case 'add-service':
      case 'edit-service': {
        const spec: ServiceSpec = {
          ...serviceKey(cmd.service), scheduler: cmd.settings.scheduler, persistent: cmd.settings.flags & SVC_F_PERSISTENT ? cmd.settings.timeout : 0,
          netmask: cmd.settings.netmask, ops: (cmd.settings.flags & SVC_F_ONEPACKET) !== 0, schedFlags: cmd.settings.flags,
        };
        if (cmd.cmd === 'add-service') r.addService(spec);
        else r.editService(spec);
        break;
      }
      case 'delete-service': r.delService(serviceKey(cmd.service)); break;
      case 'flush': r.clear(); break;
      case 'add-server': r.addDest(serviceKey(cmd.service), destSpec(cmd.dest)); break;
      case 'edit-server': r.editDest(serviceKey(cmd.service), destSpec(cmd.dest)); break;
      case 'delete-server': {
        const d = destSpec(cmd.dest);
        r.delDest(serviceKey(cmd.service), d.addr, d.port, d.addr6 ?? null);
        break;
      }
      case 'set': r.setTimeouts(cmd.timeouts.tcp, cmd.timeouts.tcpfin, cmd.timeouts.udp); break;
      case 'zero': {
        const k = cmd.service ? serviceKey(cmd.service) : undefined;
        r.zero(k);
        for (const s of k ? [r.findService(k)!] : r.engine.services) {
          this.est.reset(s.stats);
          for (const d of s.dests) this.est.reset(d.stats);
        }
        break;
      }
      case 'start-daemon':
      case 'stop-daemon':
        throw new RegistryError('The kernel sync daemon is not available: use the balancer\'s own connection sync (keepalived lvs_sync_daemon in --config)');
      default:
        throw new RegistryError(`ipvsadm command '${cmd.cmd}' is not supported here`);
    }
    this.changed();
  }
}

function serviceKey(t: ServiceTarget): ServiceKey {
  if (t.fwmark !== 0) throw new RegistryError('Firewall-mark services (-f) are not supported by this balancer');
  if (t.proto !== 'TCP' && t.proto !== 'UDP') throw new RegistryError('Protocol not available');
  const proto = t.proto === 'TCP' ? PROTO_TCP : PROTO_UDP;
  if (t.af === 'inet6') {
    const addr6 = parseIPv6(t.addr);
    if (addr6 === null) throw new RegistryError(`bad address ${t.addr}`);
    return { proto, addr: 0, port: t.port, addr6 };
  }
  const addr = parseIPv4(t.addr);
  if (addr === null) throw new RegistryError(`bad address ${t.addr}`);
  return { proto, addr, port: t.port };
}

function destSpec(d: CmdDest): DestSpec {
  const addr6 = parseIPv4(d.addr) === null ? parseIPv6(d.addr) : null;
  const addr = addr6 === null ? parseIPv4(d.addr) : 0;
  if (addr === null) throw new RegistryError(`bad address ${d.addr}`);
  if (d.fwd === 'Tunnel' && d.tunnel.type !== 'ipip') {
    throw new RegistryError(`Tunnel type ${d.tunnel.type} is not supported: use ipip (the default of -i)`);
  }
  const fwd = fwdFromName(d.fwd);
  const spec: DestSpec = { addr, port: d.port, weight: d.weight, fwd, uThreshold: d.uThreshold, lThreshold: d.lThreshold };
  if (addr6 !== null) spec.addr6 = addr6;
  return spec;
}
