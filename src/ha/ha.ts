/**
 * High availability for a running balancer, wired in one place so src/cli/run.ts only calls
 * startHa(): VRRP instances from keepalived.conf (VrrpRunner + one VrrpCapture per interface +
 * a link watcher), the connection sync daemon following the VRRP role (keepalived
 * lvs_sync_daemon), and the optional metrics endpoint.
 */
import { performance } from 'node:perf_hooks';
import type { Engine } from '../dataplane/engine.js';
import { RoutingTable, type Route } from '../dataplane/routing.js';
import type { PacketPort } from '../io/port.js';
import type { KeepalivedPlan } from '../control/keepalived-plan.js';
import { formatIPv4 } from '../packet/addr.js';
import { runScript } from '../health/script.js';
import { VrrpRunner, type HaClock } from './vrrp-runner.js';
import { haSettings } from './ha-settings.js';
import { VrrpCapture, watchLinks } from './vrrp-capture.js';
import { SyncRunner } from './sync-runner.js';
import { MetricsServer, parseMetricsAddress, renderMetrics } from '../observe/metrics.js';

import { VipAddresses } from './vip-addresses.js';
export { HaError, haSettings, type HaSettings } from './ha-settings.js';

export interface HaOptions {
  metrics: string | null;
  sync: 'auto' | 'on' | 'off';
  syncPeer: number | null;
  syncPort: number | null;
  syncId: number | null;
  /** N active directors (--bgp): sync without VRRP runs in role 'active' (send and receive). */
  nActive?: boolean;
  /** Add a VRRP VIP to its instance's interface while MASTER, as keepalived does (default true). */
  vrrpAddresses?: boolean;
}

export interface HaParams {
  engine: Engine;
  ports: readonly PacketPort[];
  /** ll6: the interface's IPv6 link-local address (IfaceInfo.ll6), an IPv6 VRRP instance's advert source. */
  ifaces: readonly { name: string; mac: Uint8Array; ip: number; ll6?: Uint8Array }[];
  routes: Route[];
  plan: KeepalivedPlan | null;
  opts: HaOptions;
  log: (s: string) => void;
  /** A VIP was added to or removed from an interface: the runtime refilters (local VIP). */
  addressesChanged?: () => void;
}

export interface HaHandle {
  vrrp: VrrpRunner | null;
  sync: SyncRunner | null;
  metrics: MetricsServer | null;
  /** After a rules change: VIPs of VRRP instances back to their instance's state. */
  reapply(): void;
  /** `lb top` / control socket: one line per instance and the sync daemon. */
  statusText(): string;
  stop(): void;
}

export const realClock: HaClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A notify command line plus arguments, quoted for splitCommand. */
function commandLine(cmd: string, args: string[]): string {
  return [cmd, ...args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`)].join(' ');
}

export async function startHa(p: HaParams): Promise<HaHandle> {
  const { engine, ports, ifaces, log, opts } = p;
  const indexOf = (name: string): number | undefined => {
    const i = ifaces.findIndex((x) => x.name === name);
    return i >= 0 ? i : undefined;
  };
  const settings = haSettings(p.plan, opts, indexOf, (i) => ifaces[i]!.ip, (i) => ifaces[i]!.ll6);
  const { specs } = settings;
  let vrrp: VrrpRunner | null = null;
  let sync: SyncRunner | null = null;
  let metrics: MetricsServer | null = null;
  const captures: VrrpCapture[] = [];
  let stopLinks: (() => void) | null = null;

  const syncInstance = settings.sync?.instance;
  if (settings.syncWithoutVrrp) log('warning: connection sync needs a vrrp_instance to follow (master sends, backup receives), or --bgp (every director sends and receives); sync is off');
  if (settings.sync) {
    const { ifIndex, group, daemon: sd } = settings.sync;
    sync = new SyncRunner(engine, new RoutingTable(p.routes), {
      syncid: opts.syncId ?? sd?.syncId ?? 0,
      peer: opts.syncPeer,
      localIp: ifaces[ifIndex]!.ip >>> 0,
      ...(opts.syncPort !== null || sd?.port !== undefined ? { port: opts.syncPort ?? sd!.port! } : {}),
      ...(sd?.ttl !== undefined ? { ttl: sd.ttl } : {}),
      ...(group !== null ? { group } : {}),
      ...(sd?.maxlen !== undefined ? { maxlen: sd.maxlen } : {}),
    }, realClock, log);
    await sync.start();
    if (settings.sync.instance === null) sync.setRole('active');
  }

  const addrs = opts.vrrpAddresses === false ? null : new VipAddresses(log);
  if (specs.length > 0) {
    const devOf = new Map<number, string>();
    const devOf6 = new Map<string, { dev: string; text: string }>();
    for (const s of specs) {
      if (s.ipv6) for (const v of s.ipv6.vips) devOf6.set(v.words.join(','), { dev: ifaces[s.ifIndex]!.name, text: v.text });
      else for (const v of s.machine.vips) devOf.set(v >>> 0, ifaces[s.ifIndex]!.name);
    }
    const runner = new VrrpRunner(specs, {
      ports,
      setVipActive: (a, on) => {
        engine.setVipActive(a, on);
        const dev = devOf.get(a >>> 0);
        if (addrs && dev !== undefined && addrs.set(a, dev, on)) p.addressesChanged?.();
      },
      setVipActive6: (w, on) => {
        engine.setVipActive6(w, on);
        const at = devOf6.get(w.join(','));
        if (addrs && at !== undefined && addrs.set6(at.text, at.dev, on)) p.addressesChanged?.();
      },
      unsolicitedNa: (w, ifi) => engine.unsolicitedNa(w, ifi),
      clock: realClock,
      runNotify: (cmd, args, env) => {
        void runScript(commandLine(cmd, args), { timeoutMs: 0, env: { ...process.env, ...env } }).then((o) => {
          if (o.kind !== 'exited' || o.code !== 0) log(`vrrp: notify '${cmd}' ended: ${JSON.stringify(o)}`);
        });
      },
      onSyncRole: (instance, role) => {
        if (sync && instance === syncInstance) sync.setRole(role);
      },
      log,
    });
    vrrp = runner;
    for (const ifIndex of new Set(specs.map((s) => s.ifIndex))) {
      const ifc = ifaces[ifIndex]!;
      const on = specs.filter((s) => s.ifIndex === ifIndex);
      const families = { ipv4: on.some((s) => !s.ipv6), ipv6: on.some((s) => s.ipv6 !== undefined) };
      captures.push(new VrrpCapture(ifc.name, ifc.mac, (frame, len) => runner.receive(ifIndex, frame, len), families));
    }
    runner.start();
    stopLinks = watchLinks(ifaces.map((i) => i.name), (i, up) => {
      log(`vrrp: link ${ifaces[i]!.name} ${up ? 'up' : 'down'}`);
      runner.setLink(i, up);
    });
    for (const s of specs) {
      log(`vrrp: instance ${s.name} on ${ifaces[s.ifIndex]!.name}: vrid ${s.machine.vrid}, priority ${s.machine.priority}, advert_int ${(s.machine.advertIntMs ?? 1000) / 1000}s` +
        `${s.machine.nopreempt ? ', nopreempt' : ''}, VIP ${s.ipv6 ? s.ipv6.vips.map((v) => v.text).join(' ') : s.machine.vips.map(formatIPv4).join(' ')}` +
        `${s.ipv6 ? `, VRRPv3 over IPv6 from ${s.ipv6.src}` : ''}` +
        `${s.unicastPeers.length ? `, unicast to ${s.unicastPeers.map(formatIPv4).join(' ')}` : ''}`);
    }
  }

  if (opts.metrics !== null) {
    const { host, port } = parseMetricsAddress(opts.metrics);
    metrics = await MetricsServer.listen(host, port, () => renderMetrics({ engine, vrrp, sync: sync?.stats ?? null }));
    log(`metrics: http://${metrics.address}/metrics`);
  }

  return {
    vrrp, sync, metrics,
    reapply: () => vrrp?.reapply(),
    statusText: () => {
      const lines: string[] = [];
      for (const s of vrrp?.status() ?? []) {
        const master = s.master6 ?? (s.master !== undefined ? formatIPv4(s.master) : undefined);
        lines.push(`VRRP ${s.name} vrid ${s.vrid} prio ${s.priority} ${s.state}${master !== undefined ? ` (master ${master})` : ''} ` +
          `adverts out ${s.stats.advertsSent} in ${s.stats.advertsReceived}`);
      }
      if (sync) {
        const st = sync.stats;
        lines.push(`SYNC ${st.role} ${sync.destination} sent ${st.datagramsSent} dropped ${st.datagramsDropped} received ${st.datagramsReceived} applied ${st.connsApplied} skipped ${st.connsSkipped}`);
      }
      return lines.length ? lines.join('\n') + '\n' : '';
    },
    stop: () => {
      stopLinks?.();
      vrrp?.stop(); // priority-0 advert while the ports are still open
      addrs?.removeAll();
      for (const c of captures) c.close();
      sync?.stop();
      metrics?.close();
    },
  };
}
