/**
 * From a parsed keepalived.conf to what the balancer runs: the IPVS services and real
 * servers (as keepalived's ipvswrapper would add them) and the health-check specs
 * (times converted from seconds to ms). Pure; errors name file, line and keyword.
 */
import type { KeepalivedConfig, Checker, Forwarding, LvsSyncDaemon, RealServer as KaRealServer, VirtualServer, VirtualServerGroup, VrrpInstance } from '../config/keepalived/schema.js';
import { ConfigError } from '../config/errors.js';
import { isSchedulerName } from '../sched/index.js';
import { SVC_F_ONEPACKET, SVC_F_SCHED_SH_FALLBACK, SVC_F_SCHED_SH_PORT } from '../sched/types.js';
import { parseIPv4, prefixToMask } from '../packet/addr.js';
import { parseIPv6 } from '../packet/addr6.js';
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
  /** The health spec whose checkers decide this service's servers: the virtual_server's (a group's services share one). */
  healthKey: string;
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
  // Every group entry is checked, used or not, so --config-test lists a bad range wherever it is.
  for (const g of cfg.virtualServerGroups) {
    for (const e of g.entries) {
      try {
        expandGroupEntry(e);
      } catch (err) {
        collect(err);
      }
    }
  }
  for (const vs of cfg.virtualServers) {
    try {
      planService(vs, cfg.virtualServerGroups, warnings, services, health);
    } catch (err) {
      collect(err);
    }
  }
  const sync = cfg.globalDefs.lvsSyncDaemon;
  return { services, health, warnings, vrrp: cfg.vrrpInstances, ...(sync ? { syncDaemon: sync } : {}) };
}

/** One virtual address of a virtual_server: its own, or each address a group entry stands for. */
interface Vip {
  text: string;
  port: number;
  v6: boolean;
  src: { file: string; line: number };
}

function vipsOf(vs: VirtualServer, groups: readonly VirtualServerGroup[], warnings: string[]): Vip[] {
  const src = vs.source;
  if (vs.kind === 'address' && vs.address !== undefined && vs.port !== undefined) {
    return [{ text: vs.address, port: vs.port, v6: vs.family === 'inet6', src }];
  }
  if (vs.kind === 'group') {
    const g = groups.find((x) => x.name === vs.group);
    if (!g) fail(src, 'virtual_server', `group ${vs.group}: no virtual_server_group of that name`);
    const out: Vip[] = [];
    for (const e of g.entries) {
      if (e.kind !== 'address' || e.port === undefined) {
        warnings.push(`${e.source.file}:${e.source.line}: virtual_server_group ${g.name}: fwmark entries are not supported yet; skipped`);
        continue;
      }
      // keepalived adds one IPVS service per address of the entry (ipvs_group_range_cmd).
      for (const a of expandGroupEntry(e)) out.push({ text: a, port: e.port, v6: e.family === 'inet6', src: e.source });
    }
    return out;
  }
  warnings.push(`${src.file}:${src.line}: virtual_server ${vs.name}: fwmark virtual servers are not supported yet; skipped`);
  return [];
}

/** An address of the family the service has: IPv4 number or IPv6 words; a ConfigError otherwise. */
function endpoint(text: string, v6: boolean, src: { file: string; line: number }, keyword: string, what: string): { addr: number; addr6?: Int32Array } {
  const a4 = parseIPv4(text);
  if (a4 !== null && !v6) return { addr: a4 };
  const a6 = a4 === null ? parseIPv6(text) : null;
  if (a6 !== null && v6) return { addr: 0, addr6: a6 };
  if (a4 === null && a6 === null) fail(src, keyword, `an address, got '${text}'`);
  return fail(src, keyword, `${what} is IPv${v6 ? 4 : 6} and its virtual server IPv${v6 ? 6 : 4} (${IPV6_SUPPORTED_SO_FAR})`);
}

function planService(vs: VirtualServer, groups: readonly VirtualServerGroup[], warnings: string[], services: PlannedService[], health: HealthServiceSpec[]): void {
  const src = vs.source;
  const vips = vipsOf(vs, groups, warnings);
  if (vips.length === 0) return;
  if (vs.protocol === 'SCTP') fail(src, 'protocol', 'TCP or UDP (SCTP is not supported)');
  if (!isSchedulerName(vs.scheduler)) fail(src, 'lvs_sched', `one of rr wrr lc wlc sh sed nq mh (this balancer has no '${vs.scheduler}')`);
  const proto = vs.protocol === 'TCP' ? PROTO_TCP : PROTO_UDP;
  const v6 = vips[0]!.v6;
  if (vips.some((v) => v.v6 !== v6)) fail(src, 'virtual_server', `group ${vs.group} mixes IPv4 and IPv6 addresses; keepalived's real servers have one family`);
  // persistence_granularity: an IPv4 netmask (or prefix length), for IPv6 a prefix length (ipvsadm -M).
  let netmask = v6 ? 128 : -1;
  if (vs.persistenceGranularity !== undefined) {
    const g = vs.persistenceGranularity;
    if (v6) {
      if (!/^\d+$/.test(g) || Number(g) < 1 || Number(g) > 128) fail(src, 'persistence_granularity', `an IPv6 prefix length 1..128, got ${g}`);
      netmask = Number(g);
    } else {
      const m = /^\d+$/.test(g) ? prefixToMask(Number(g)) : parseIPv4(g);
      if (m === null) fail(src, 'persistence_granularity', `a netmask, got ${g}`);
      netmask = m | 0;
    }
  }
  let schedFlags = 0;
  if (vs.flags.ops) schedFlags |= SVC_F_ONEPACKET;
  if (vs.flags.shFallback || vs.flags.mhFallback || vs.flags.flag1) schedFlags |= SVC_F_SCHED_SH_FALLBACK;
  if (vs.flags.shPort || vs.flags.mhPort || vs.flags.flag2) schedFlags |= SVC_F_SCHED_SH_PORT;
  const healthKey = vs.kind === 'group' ? `${protoName(proto)} group ${vs.group}` : serviceKey(proto, vips[0]!.text, vips[0]!.port);
  const base = { proto, scheduler: vs.scheduler, persistent: vs.persistenceTimeout, netmask, ops: vs.flags.ops, schedFlags: schedFlags & ~SVC_F_ONEPACKET, sloppyTcp: vs.flags.sloppyTcp };
  const dests: PlannedDest[] = [];
  const rsSpecs: HealthRealServerSpec[] = [];
  for (const rs of vs.realServers) {
    const ra = endpoint(rs.address, v6, rs.source, 'real_server', `real_server ${rs.address} of virtual_server ${vs.name}`);
    const rkey = `${rs.address}:${rs.port}`;
    const fwd = method(vs, rs.forwarding, rs.source);
    dests.push({
      key: rkey,
      spec: {
        ...ra, port: rs.port, weight: rs.weight, fwd,
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
    const sa = endpoint(sorry.address, v6, sorry.source, 'sorry_server', `sorry_server ${sorry.address} of virtual_server ${vs.name}`);
    dests.push({
      key: `${sorry.address}:${sorry.port}`,
      spec: { ...sa, port: sorry.port, weight: 1, fwd: method(vs, sorry.forwarding, sorry.source), uThreshold: 0, lThreshold: 0 },
    });
  }
  for (const vip of vips) {
    const spec: ServiceSpec = { ...base, ...endpoint(vip.text, v6, vip.src, 'virtual_server', 'the address'), port: vip.port };
    services.push({ key: serviceKey(proto, vip.text, vip.port), healthKey, spec, dests });
  }
  const key = healthKey;
  health.push({
    key, quorum: vs.quorum, hysteresis: vs.hysteresis, realServers: rsSpecs,
    ...(vs.quorumUp ? { quorumUp: vs.quorumUp.command } : {}), ...(vs.quorumDown ? { quorumDown: vs.quorumDown.command } : {}),
    ...(sorry ? { sorryServer: { key: `${sorry.address}:${sorry.port}`, address: sorry.address, port: sorry.port, inhibit: sorry.inhibit } } : {}),
  });
}
