/**
 * Defaults and inheritance applied after parsing, a paraphrase of
 * keepalived's check_parser.c `vs_end_handler` / `rs_end_handler` and
 * check_data.c `validate_check_config`:
 *   - protocol (UDP), scheduler (wlc) and forwarding method (NAT) defaults,
 *     each reported as keepalived reports them;
 *   - real servers inherit alpha, inhibit_on_failure, retry, connect_timeout,
 *     delay_loop, warmup, delay_before_retry and weight from the virtual
 *     server; checkers inherit from the real server (checkers.ts);
 *   - unless NAT, a real server's port is forced to the virtual server's
 *     ("ports don't match - resetting"); fwmark services clear it;
 *   - the quorum is capped at the total real server weight and the
 *     hysteresis kept below the quorum.
 */
import type { Diagnostics } from './diagnostics.js';
import { finishChecker } from './checkers.js';
import type { RealServerDraft } from './real-server.js';
import type { Forwarding, RealServer, SorryServer, VirtualServer, VirtualServerGroup } from './schema.js';
import { IPVS_SVC_PERSISTENT_TIMEOUT, type VirtualServerDraft } from './virtual-server.js';

const NAT: Forwarding = { method: 'NAT' };

function formatVs(d: VirtualServerDraft, protocol: string | undefined): string {
  if (d.kind === 'fwmark') return `fwmark ${d.fwmark}`;
  if (d.kind === 'group') return `group ${d.group}`;
  const host = d.family === 'inet6' ? `[${d.address}]` : d.address;
  return `${host}:${d.port}${protocol ? `/${protocol}` : ''}`;
}

/** Returns the resolved virtual server, or undefined when keepalived would drop it. */
export function resolveVirtualServer(
  d: VirtualServerDraft,
  groups: ReadonlyMap<string, VirtualServerGroup>,
  diag: Diagnostics,
): VirtualServer | undefined {
  const where = d.source;
  const label = formatVs(d, d.protocol);
  const group = d.kind === 'group' ? groups.get(d.group!) : undefined;
  if (d.kind === 'group' && !group) {
    diag.warn(where, 'virtual_server', `virtual_server_group '${d.group}' is not defined - ignoring the virtual server`);
    return undefined;
  }

  // rs_end_handler: the address family must match, unless tunnelled.
  let family = d.family;
  const drafts: RealServerDraft[] = [];
  for (const rs of d.realServers) {
    if (rs.forwarding?.method === 'TUN' || (d.forwarding?.method === 'TUN' && !rs.forwarding)) {
      drafts.push(rs);
      continue;
    }
    family ??= rs.family;
    if (rs.family !== family) {
      diag.warn(rs.source, 'real_server', `address family of virtual server ${label} and real server ${rs.address} don't match - skipping real server`);
      continue;
    }
    drafts.push(rs);
  }
  if (drafts.length === 0) {
    diag.warn(where, 'virtual_server', `virtual server ${label} has no real servers - ignoring`);
    return undefined;
  }

  const addressBased = d.kind === 'address' || (group?.entries.some((e) => e.kind === 'address') ?? false);
  let protocol = d.protocol;
  let persistenceTimeout = d.persistenceTimeout ?? 0;
  const flags = { ...d.flags };
  if (addressBased) {
    if (!protocol) {
      diag.warn(where, 'virtual_server', `virtual server ${label}: no protocol set - defaulting to UDP`);
      protocol = 'UDP';
    }
    if (flags.ops && protocol !== 'UDP') {
      diag.warn(where, 'virtual_server', `virtual server ${label}: one packet scheduling requires UDP - resetting`);
      flags.ops = false;
    }
    const zeroPort = d.kind === 'address' ? d.port === 0 : group!.entries.some((e) => e.kind === 'address' && !e.port);
    if (persistenceTimeout === 0 && zeroPort) {
      diag.warn(where, 'virtual_server', `virtual server ${label}: zero port only valid for persistent services - setting`);
      persistenceTimeout = IPVS_SVC_PERSISTENT_TIMEOUT;
    }
  } else if (protocol) {
    diag.warn(where, 'virtual_server', `virtual server ${label}: protocol specified for fwmark - protocol will be ignored`);
    protocol = undefined;
  }
  let scheduler = d.scheduler;
  if (!scheduler) {
    diag.warn(where, 'virtual_server', `virtual server ${label}: no scheduler set, setting default 'wlc'`);
    scheduler = 'wlc';
  }
  let vsForwarding = d.forwarding;
  const defaultForwarding = (): Forwarding => {
    if (!vsForwarding) {
      diag.warn(where, 'virtual_server', `virtual server ${label}: no forwarding method set, setting default NAT`);
      vsForwarding = NAT;
    }
    return vsForwarding;
  };

  const realServers: RealServer[] = [];
  for (const rs of drafts) {
    if (realServers.some((r) => r.address === rs.address && r.configuredPort === rs.configuredPort)) {
      diag.warn(rs.source, 'real_server', `virtual server ${label}: real server ${rs.address} is duplicated - removing second rs`);
      continue;
    }
    realServers.push(inheritFromVs(rs, d, rs.forwarding ?? defaultForwarding()));
  }

  let sorryServer: SorryServer | undefined;
  if (d.sorryServer) {
    const s = d.sorryServer;
    if (!(s.forwarding?.method === 'TUN') && family !== undefined && s.family !== family) {
      diag.warn(s.source, 'sorry_server', `address family of virtual server ${label} and sorry server don't match - skipping sorry server`);
    } else {
      sorryServer = { address: s.address, port: s.port, inhibit: s.inhibit, forwarding: s.forwarding ?? defaultForwarding(), source: s.source };
      const twin = realServers.find((r) => r.address === s.address && r.port === s.port);
      if (twin && twin.inhibitOnFailure !== sorryServer.inhibit) {
        diag.warn(s.source, 'sorry_server', `real server ${s.address} matches sorry server, but inhibit setting differs - using the real server's`);
        sorryServer.inhibit = twin.inhibitOnFailure;
      }
    }
  }

  const weightSum = realServers.reduce((sum, r) => sum + r.weight, 0);
  let quorum = d.quorum;
  if (quorum > weightSum) {
    diag.warn(where, 'virtual_server', `quorum ${quorum} for ${label} exceeds total weight of real servers ${weightSum}, reducing quorum to ${weightSum}`);
    quorum = weightSum;
  }
  let hysteresis = d.hysteresis;
  if (hysteresis >= quorum && hysteresis > 0) {
    const fixed = Math.max(quorum - 1, 0);
    diag.warn(where, 'virtual_server', `virtual server ${label}: hysteresis ${hysteresis} >= quorum ${quorum}; setting hysteresis to ${fixed}`);
    hysteresis = fixed;
  }

  fixPorts(d, label, realServers, sorryServer, diag);

  for (const [i, rs] of realServers.entries()) {
    const draft = drafts.find((x) => x.source === rs.source) ?? drafts[i]!;
    rs.checkers = draft.checkers.map((c) => finishChecker(c, {
      rsAddress: rs.address,
      rsConnectPort: rs.configuredPort || rs.port,
      rsDelayLoop: rs.delayLoop,
      rsConnectTimeout: rs.connectTimeout,
      rsAlpha: rs.alpha,
      vsDelayLoop: d.delayLoop,
      ...(rs.retry !== undefined ? { rsRetry: rs.retry } : {}),
      ...(rs.delayBeforeRetry !== undefined ? { rsDelayBeforeRetry: rs.delayBeforeRetry } : {}),
      ...(rs.warmup !== undefined ? { rsWarmup: rs.warmup } : {}),
      ...(rs.virtualhost !== undefined ? { rsVirtualhost: rs.virtualhost } : {}),
      ...(d.virtualhost !== undefined ? { vsVirtualhost: d.virtualhost } : {}),
    }));
  }

  const out: VirtualServer = {
    kind: d.kind, name: formatVs({ ...d, family }, protocol), scheduler, forwarding: vsForwarding ?? NAT,
    persistenceTimeout, flags, quorum, hysteresis, alpha: d.alpha, omega: d.omega, inhibitOnFailure: d.inhibitOnFailure,
    delayLoop: d.delayLoop, connectTimeout: d.connectTimeout, weight: d.weight, haSuspend: d.haSuspend, realServers, source: d.source,
  };
  assignDefined(out, {
    address: d.address, port: d.port, family, fwmark: d.fwmark, group: d.group, protocol, sorryServer,
    persistenceGranularity: d.persistenceGranularity, persistenceEngine: d.persistenceEngine,
    quorumUp: d.quorumUp, quorumDown: d.quorumDown, retry: d.retry, delayBeforeRetry: d.delayBeforeRetry,
    warmup: d.warmup, virtualhost: d.virtualhost, smtpAlert: d.smtpAlert,
  });
  return out;
}

/** Copies only the defined values (keeps optional properties absent rather than undefined). */
function assignDefined<T extends object>(target: T, values: Partial<T>): void {
  for (const [k, v] of Object.entries(values)) if (v !== undefined) (target as Record<string, unknown>)[k] = v;
}

function inheritFromVs(rs: RealServerDraft, vs: VirtualServerDraft, forwarding: Forwarding): RealServer {
  const out: RealServer = {
    address: rs.address, family: rs.family, port: rs.configuredPort, configuredPort: rs.configuredPort,
    weight: rs.weight ?? vs.weight, forwarding, inhibitOnFailure: rs.inhibitOnFailure ?? vs.inhibitOnFailure,
    alpha: rs.alpha ?? vs.alpha, connectTimeout: rs.connectTimeout ?? vs.connectTimeout,
    delayLoop: rs.delayLoop ?? vs.delayLoop, checkers: [], source: rs.source,
  };
  assignDefined(out, {
    uThreshold: rs.uThreshold, lThreshold: rs.lThreshold, notifyUp: rs.notifyUp, notifyDown: rs.notifyDown,
    retry: rs.retry ?? vs.retry, delayBeforeRetry: rs.delayBeforeRetry ?? vs.delayBeforeRetry,
    warmup: rs.warmup ?? vs.warmup, virtualhost: rs.virtualhost, smtpAlert: rs.smtpAlert,
  });
  return out;
}

/** Port rules at the end of `validate_check_config`. */
function fixPorts(d: VirtualServerDraft, label: string, reals: RealServer[], sorry: SorryServer | undefined, diag: Diagnostics): void {
  // For groups keepalived only warns about mismatches and keeps the ports as written.
  if (d.kind === 'group') return;
  const vsPort = d.port ?? 0;
  const servers: Array<{ s: RealServer | SorryServer; what: string; keyword: string }> = reals.map((s) => ({ s, what: `real server ${s.address}`, keyword: 'real_server' }));
  if (sorry) servers.push({ s: sorry, what: 'sorry server', keyword: 'sorry_server' });
  for (const { s, what, keyword } of servers) {
    if (s.forwarding.method === 'NAT') {
      if (d.kind === 'address' && s.port === 0) s.port = vsPort;
      continue;
    }
    if (d.kind === 'fwmark') {
      if (s.port !== 0) {
        diag.warn(s.source, keyword, `fwmark virtual server ${label}, ${what} has port specified - clearing`);
        s.port = 0;
      }
    } else if (s.port === 0) {
      s.port = vsPort;
    } else if (s.port !== vsPort) {
      diag.warn(s.source, keyword, `virtual server ${label} and ${what} ports don't match - resetting`);
      s.port = vsPort;
    }
  }
}
