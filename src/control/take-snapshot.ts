/**
 * Takes the engine's state as ipvsadm sees it: fills the shapes of snapshot-types.ts that the formatters print.
 * Control plane only: allocates freely, scans the connection table for -c.
 */
import type { Engine } from '../dataplane/engine.js';
import type { RealServer, Stats, VirtualService } from '../dataplane/model.js';
import { formatIPv4 } from '../lvs/addr.js';
import { AF_INET6 } from '../lvs/af.js';
import { formatIPv6 } from '../packet/addr6.js';
import { stateName } from '../lvs/conn-state.js';
import { fwdName } from '../lvs/fwd.js';
import { protoName } from '../lvs/proto.js';
import { CF_TEMPLATE } from '../table/conn-table.js';
import type { RateEstimator } from './estimator.js';
import type { ConnSnapshot, DestSnapshot, ServiceSnapshot, Snapshot, StatsSnapshot } from './snapshot-types.js';
import { DEFAULT_CONN_TABLE_SIZE } from './snapshot-types.js';

function stats(s: Stats): StatsSnapshot {
  return { conns: s.conns, inpkts: s.inPkts, outpkts: s.outPkts, inbytes: s.inBytes, outbytes: s.outBytes };
}

function dest(d: RealServer, est: RateEstimator): DestSnapshot {
  return {
    addr: d.af === AF_INET6 ? formatIPv6(d.addr6) : formatIPv4(d.addr), port: d.port, fwd: fwdName(d.fwd), weight: d.weight,
    uThreshold: d.uThreshold, lThreshold: d.lThreshold,
    activeConns: d.activeConns, inactConns: d.inactConns, persistConns: d.persistConns,
    stats: stats(d.stats), rates: est.rates(d.stats),
  };
}

function service(s: VirtualService, est: RateEstimator): ServiceSnapshot {
  return {
    proto: protoName(s.proto), addr: s.af === AF_INET6 ? formatIPv6(s.addr6) : formatIPv4(s.addr), port: s.port, fwmark: 0,
    scheduler: s.scheduler.name, flags: s.flags, timeout: s.timeoutS, netmask: s.af === AF_INET6 ? s.netmask : s.netmask >>> 0, pe: '',
    dests: s.dests.map((d) => dest(d, est)), stats: stats(s.stats), rates: est.rates(s.stats),
  };
}

/** Connection entries as /proc/net/ip_vs_conn lists them (templates: client port 0, state ASSURED as on 6.1). */
export function connections(e: Engine, now: number): ConnSnapshot[] {
  const t = e.table;
  const out: ConnSnapshot[] = [];
  for (let i = 0; i < t.capacity; i++) {
    if (!t.live[i]) continue;
    const template = (t.flags[i]! & CF_TEMPLATE) !== 0;
    out.push({
      proto: protoName(t.proto[i]!),
      expires: Math.max(0, Math.floor((t.timers.expiresAt[i]! - now) / 1000)), // (expires - jiffies) / HZ
      state: template ? 'ASSURED' : stateName(t.state[i]!),
      clientAddr: formatIPv4(t.caddr[i]!), clientPort: t.cport[i]!,
      virtualAddr: formatIPv4(t.vaddr[i]!), virtualPort: t.vport[i]!,
      destAddr: formatIPv4(t.daddr[i]!), destPort: t.dport[i]!,
    });
  }
  const t6 = e.table6;
  for (let i = 0; i < t6.capacity; i++) {
    if (!t6.live[i]) continue;
    const template = (t6.flags[i]! & CF_TEMPLATE) !== 0;
    out.push({
      proto: protoName(t6.proto[i]!),
      expires: Math.max(0, Math.floor((t6.timers.expiresAt[i]! - now) / 1000)),
      state: template ? 'ASSURED' : stateName(t6.state[i]!),
      clientAddr: formatIPv6(t6.caddr, i), clientPort: t6.cport[i]!,
      virtualAddr: formatIPv6(t6.vaddr, i), virtualPort: t6.vport[i]!,
      destAddr: t6.daf[i] === AF_INET6 ? formatIPv6(t6.daddr, i) : formatIPv4(t6.daddr[i * 4 + 3]!), destPort: t6.dport[i]!,
    });
  }
  return out;
}

export function engineSnapshot(e: Engine, est: RateEstimator, now: number, withConns: boolean): Snapshot {
  return {
    services: e.services.map((s) => service(s, est)),
    conns: withConns ? connections(e, now) : [],
    timeouts: { tcp: e.settings.timeoutsMs[1]! / 1000, tcpfin: e.settings.timeoutsMs[4]! / 1000, udp: e.settings.timeoutsMs[11]! / 1000 },
    connTableSize: DEFAULT_CONN_TABLE_SIZE,
    daemons: [],
  };
}
