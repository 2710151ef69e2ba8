/**
 * From a parsed keepalived.conf to what the balancer runs: the IPVS services and real
 * servers (as keepalived's ipvswrapper would add them) and the health-check specs
 * (times converted from seconds to ms). Pure; errors name file, line and keyword.
 */
import type { KeepalivedConfig, Checker, Forwarding, LvsSyncDaemon, RealServer as KaRealServer, VirtualServer, VrrpInstance } from '../config/keepalived/schema.js';
import { ConfigError } from '../config/errors.js';
import { isSchedulerName } from '../sched/index.js';
import { SVC_F_ONEPACKET, SVC_F_SCHED_SH_FALLBACK, SVC_F_SCHED_SH_PORT } from '../sched/types.js';
import { parseIPv4, prefixToMask } from '../packet/addr.js';
import { PROTO_TCP, PROTO_UDP } from '../packet/ipv4.js';
import { FWD_DR, FWD_MASQ, FWD_TUNNEL } from '../lvs/fwd.js';
import { protoName } from '../lvs/proto.js';
import type { DestSpec, ServiceSpec } from '../control/service-registry.js';
import type { CheckerSpec, HealthRealServerSpec, HealthServiceSpec } from '../health/types.js';
import { expandGroupEntry } from '../config/keepalived/group-range.js';
import { IPV6_SUPPORTED_SO_FAR } from './ipv6-status.js';

export interface PlannedDest {
  key: string;
  spec: DestSpec;
}

export interface PlannedService {
  key: string;
  spec: ServiceSpec;
  dests: PlannedDest[];
}

export interface KeepalivedPlan {
  services: PlannedService[];
  health: HealthServiceSpec[];
  warnings: string[];
  /** vrrp_instance blocks, run by src/ha (VrrpRunner). */
  vrrp: VrrpInstance[];
  /** global_defs lvs_sync_daemon, if any (src/ha SyncRunner). */
  syncDaemon?: LvsSyncDaemon;
}

const ms = (s: number) => Math.round(s * 1000);

function fail(src: { file: string; line: number }, keyword: string, detail: string): never {
  throw new ConfigError(src.file, src.line, keyword, detail);
}

export function serviceKey(proto: number, addr: string, port: number): string {
  return `${protoName(proto)} ${addr}:${port}`;
}

/** lvs_method / lb_kind: NAT, DR, or TUN with the ipip tunnel type (keepalived's default). */
function method(vs: VirtualServer, f: Forwarding, src: { file: string; line: number }): number {
  if (f.method === 'NAT') return FWD_MASQ;
  if (f.method === 'DR') return FWD_DR;
  const type = f.tunnel?.type ?? 'ipip';
  if (type !== 'ipip') return fail(src, 'lvs_method', `TUN type ${type} is not supported by this balancer (use TUN type ipip) in virtual_server ${vs.name}`);
  return FWD_TUNNEL;
}

function checker(c: Checker, rs: KaRealServer, warnings: string[]): CheckerSpec | null {
  const common = { retry: c.retry, delayLoopMs: ms(c.delayLoop), delayBeforeRetryMs: ms(c.delayBeforeRetry), warmupMs: ms(c.warmup), alpha: c.alpha };
  switch (c.type) {
    case 'TCP_CHECK':
      return { ...common, type: 'TCP', target: target(c), connectTimeoutMs: ms(c.connectTimeout) };
    case 'HTTP_GET':
      return {
        ...common, type: 'HTTP', target: target(c), connectTimeoutMs: ms(c.connectTimeout), protocol: c.httpProtocol,
        ...(c.virtualhost !== undefined ? { virtualhost: c.virtualhost } : {}),
        urls: c.urls.map((u) => ({
          path: u.path, statusCodes: u.statusCodes.map(([a, b]) => [a, b] as [number, number]),
          ...(u.digest !== undefined ? { digest: u.digest } : {}), ...(u.virtualhost !== undefined ? { virtualhost: u.virtualhost } : {}),
        })),
      };
    case 'DNS_CHECK':
      return { ...common, type: 'DNS', target: target(c), connectTimeoutMs: ms(c.connectTimeout), queryType: c.queryType, name: c.name };
    case 'MISC_CHECK':
      return { ...common, type: 'MISC', path: c.path, timeoutMs: ms(c.timeout), dynamic: c.dynamic };
    default:
      warnings.push(`${c.source.file}:${c.source.line}: ${c.type} for ${rs.address} is not supported yet; the server is treated as healthy by that checker`);
      return null;
  }
}

function target(c: { connectIp: string; connectPort: number; bindTo?: string; bindPort?: number }) {
  return {
    host: c.connectIp, port: c.connectPort,
    ...(c.bindTo !== undefined ? { bindAddress: c.bindTo } : {}), ...(c.bindPort !== undefined ? { bindPort: c.bindPort } : {}),
  };
}

/**
 * `errors`: collect the error of each virtual_server and go on with the next one
 * (lb --config-test reports them all); without it the first error is thrown.
 */
export function planFromKeepalived(cfg: KeepalivedConfig, errors?: ConfigError[]): KeepalivedPlan {
  const warnings: string[] = [];
  const services: PlannedService[] = [];
  const health: HealthServiceSpec[] = [];
  const collect = (err: unknown) => {
    if (errors && err instanceof ConfigError) errors.push(err);
    else throw err;
  };
  // keepalived's IPv6 entries and ranges (ae00::2-9) parse and expand; the engine has no IPv6 path yet.
  for (const g of cfg.virtualServerGroups) {
    for (const e of g.entries) {
      if (e.family !== 'inet6') continue;
      try {
        const n = expandGroupEntry(e).length;
        const what = `entry ${e.address}${e.addressEnd ? ` to ${e.addressEnd}` : ''} of group ${g.name}${n > 1 ? `, ${n} addresses` : ''}`;
        fail(e.source, 'virtual_server_group', `IPv6 is not supported yet (${what}): ${IPV6_SUPPORTED_SO_FAR}`);
      } catch (err) {
        collect(err);
      }
    }
  }
  for (const vs of cfg.virtualServers) {
    try {
      planService(vs, warnings, services, health);
    } catch (err) {
      collect(err);
    }
  }
  const sync = cfg.globalDefs.lvsSyncDaemon;
  return { services, health, warnings, vrrp: cfg.vrrpInstances, ...(sync ? { syncDaemon: sync } : {}) };
}

function planService(vs: VirtualServer, warnings: string[], services: PlannedService[], health: HealthServiceSpec[]): void {
  const src = vs.source;
  if (vs.kind !== 'address' || vs.address === undefined || vs.port === undefined) {
    warnings.push(`${src.file}:${src.line}: virtual_server ${vs.name}: fwmark and group virtual servers are not supported yet; skipped`);
    return;
  }
  const addr = parseIPv4(vs.address);
  if (addr === null) fail(src, 'virtual_server', `IPv6 is not supported yet (virtual_server ${vs.name}): ${IPV6_SUPPORTED_SO_FAR}`);
  if (vs.protocol === 'SCTP') fail(src, 'protocol', 'TCP or UDP (SCTP is not supported)');
  if (!isSchedulerName(vs.scheduler)) fail(src, 'lvs_sched', `one of rr wrr lc wlc sh sed nq mh (this balancer has no '${vs.scheduler}')`);
  const proto = vs.protocol === 'TCP' ? PROTO_TCP : PROTO_UDP;
  let netmask = -1;
  if (vs.persistenceGranularity !== undefined) {
    const g = vs.persistenceGranularity;
    const m = /^\d+$/.test(g) ? prefixToMask(Number(g)) : parseIPv4(g);
    if (m === null) fail(src, 'persistence_granularity', `a netmask, got ${g}`);
    netmask = m | 0;
  }
  let schedFlags = 0;
  if (vs.flags.ops) schedFlags |= SVC_F_ONEPACKET;
  if (vs.flags.shFallback || vs.flags.mhFallback || vs.flags.flag1) schedFlags |= SVC_F_SCHED_SH_FALLBACK;
  if (vs.flags.shPort || vs.flags.mhPort || vs.flags.flag2) schedFlags |= SVC_F_SCHED_SH_PORT;
  const key = serviceKey(proto, vs.address, vs.port);
  const spec: ServiceSpec = {
    proto, addr, port: vs.port, scheduler: vs.scheduler, persistent: vs.persistenceTimeout, netmask,
    ops: vs.flags.ops, schedFlags: schedFlags & ~SVC_F_ONEPACKET, sloppyTcp: vs.flags.sloppyTcp,
  };
  const dests: PlannedDest[] = [];
  const rsSpecs: HealthRealServerSpec[] = [];
  for (const rs of vs.realServers) {
    const ra = parseIPv4(rs.address);
    if (ra === null) fail(rs.source, 'real_server', `IPv6 is not supported yet (real_server ${rs.address} of virtual_server ${vs.name}): ${IPV6_SUPPORTED_SO_FAR}`);
    const rkey = `${rs.address}:${rs.port}`;
    dests.push({
      key: rkey,
      spec: {
        addr: ra, port: rs.port, weight: rs.weight, fwd: method(vs, rs.forwarding, rs.source),
        uThreshold: rs.uThreshold ?? 0, lThreshold: rs.lThreshold ?? 0,
      },
    });
    const checkers = rs.checkers.map((c) => checker(c, rs, warnings)).filter((c): c is CheckerSpec => c !== null);
    rsSpecs.push({
      key: rkey, address: rs.address, port: rs.port, weight: rs.weight, inhibitOnFailure: rs.inhibitOnFailure, checkers,
      ...(rs.notifyUp ? { notifyUp: rs.notifyUp.command } : {}), ...(rs.notifyDown ? { notifyDown: rs.notifyDown.command } : {}),
    });
  }
  const sorry = vs.sorryServer;
  if (sorry) {
    const sa = parseIPv4(sorry.address);
    if (sa === null) fail(sorry.source, 'sorry_server', `IPv6 is not supported yet (sorry_server ${sorry.address} of virtual_server ${vs.name}): ${IPV6_SUPPORTED_SO_FAR}`);
    dests.push({
      key: `${sorry.address}:${sorry.port}`,
      spec: { addr: sa, port: sorry.port, weight: 1, fwd: method(vs, sorry.forwarding, sorry.source), uThreshold: 0, lThreshold: 0 },
    });
  }
  services.push({ key, spec, dests });
  health.push({
    key, quorum: vs.quorum, hysteresis: vs.hysteresis, realServers: rsSpecs,
    ...(vs.quorumUp ? { quorumUp: vs.quorumUp.command } : {}), ...(vs.quorumDown ? { quorumDown: vs.quorumDown.command } : {}),
    ...(sorry ? { sorryServer: { key: `${sorry.address}:${sorry.port}`, address: sorry.address, port: sorry.port, inhibit: sorry.inhibit } } : {}),
  });
}
