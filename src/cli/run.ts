/**
 * `lb [options]`: start the balancer on this host (or network namespace).
 * Reads interfaces and routes from the kernel, builds the engine and its rules,
 * opens one capture per interface, installs the host guard, and cleans up on exit.
 */
import { Engine } from '../dataplane/engine.js';
import { applyDefense, describeDefense } from '../defense/options.js';
import { ServiceRegistry, RegistryError, type ServiceSpec } from '../control/service-registry.js';
import { RoutingTable, type Route, type Route6 } from '../dataplane/routing.js';
import { ipv6Bytes, parseIPv6 } from '../packet/addr6.js';
import { DROP_REASONS } from '../dataplane/verdict.js';
import { formatIPv4, formatMac } from '../packet/addr.js';
import { PROTO_TCP, PROTO_UDP } from '../packet/ipv4.js';
import { sameAddr } from '../lvs/addr.js';
import { stateName } from '../lvs/conn-state.js';
import { fwdName } from '../lvs/fwd.js';
import { destName, serviceName } from '../lvs/names.js';
import { endpointLabel, serviceLabel } from '../control/endpoint-names.js';
import { protoName } from '../lvs/proto.js';
import { openPorts, IoError, type IoKind, type OpenedPorts, type PortSpec } from '../io/open-ports.js';
import { fanoutProgram } from '../io/ring/fanout-bpf.js';
import type { FanoutJoin } from '../io/ring/ring-port.js';
import { HostGuard, type GuardRules } from '../io/host-guard.js';
import type { PacketPort } from '../io/port.js';
import { Runtime } from '../io/runtime.js';
import { PcapTap } from '../io/pcap-tap.js';
import { DoctorRunner } from '../diag/runner.js';
import { readHostAddresses, readHostAddresses6, readHostAddresses6Async, readHostAddressesAsync, type IfaceInfo } from '../io/sysinfo.js';
import { preflight, PreflightError, realProbes, type Probes } from './preflight.js';
import { basename, relative } from 'node:path';
import type { LbOptions } from './options.js';
import { defaultSocketPath } from './netns.js';
import { ControlPlane, StartupError } from '../control/plane.js';
import { ConfigError } from '../config/errors.js';
import { startHa, type HaHandle } from '../ha/ha.js';
import { startBgp, type BgpHandle } from '../bgp/bgp.js';

export class StartError extends Error {}

export function serviceSpecs(o: LbOptions): ServiceSpec[] {
  if (o.vip === null) return [];
  const base = { addr: o.vip, scheduler: o.sched, persistent: o.persist, netmask: o.persistMask, schedFlags: 0 };
  const specs: ServiceSpec[] = o.ports.map((port) => ({
    ...base, proto: o.proto === 'udp' ? PROTO_UDP : PROTO_TCP, port, ops: o.ops && o.proto === 'udp',
  }));
  for (const port of o.udpPorts) specs.push({ ...base, proto: PROTO_UDP, port, ops: o.ops });
  return specs;
}

export interface Balancer {
  runtime: Runtime;
  registry: ServiceRegistry;
  plane: ControlPlane;
  /** VRRP, connection sync and metrics (src/ha); null fields when not configured. */
  ha: HaHandle | null;
  /** --bgp: BIRD and the VIP routes (src/bgp); null without it. */
  bgp: BgpHandle | null;
  stop: () => void;
}

/** The host guard as the start uses it (a fake in tests). */
export interface Guard {
  readonly table: string;
  apply(r: GuardRules): void;
  remove(): void;
}

/**
 * What the start asks of the host: the checks' probes, and the things that act on it
 * (captures, the nft guard). Tests pass fakes to see what a start did or did not start.
 */
export interface StartDeps {
  probes: Probes;
  /** One port per interface on the backend `o.io` asks for (io/open-ports.ts). */
  openPorts(o: LbOptions, specs: PortSpec[], fanout: FanoutJoin | null): OpenedPorts;
  hostGuard(): Guard;
}

export const realStartDeps: StartDeps = {
  probes: realProbes,
  openPorts: (o, specs, fanout) => {
    try {
      return openPorts(o.io, specs, fanout);
    } catch (err) {
      throw err instanceof IoError ? new StartError(err.message) : err;
    }
  },
  hostGuard: () => new HostGuard(),
};

/** One line for an error of the start phase: what failed, and its own message. */
function startFailure(what: string, err: unknown): StartError {
  if (err instanceof StartError) return err;
  const e = err as NodeJS.ErrnoException;
  const hint = e.code === 'EADDRINUSE' ? ' (another process uses it)' : e.code === 'EACCES' || e.code === 'EPERM' ? ' (permission denied: run as root)' : '';
  return new StartError(`${what}: ${(e.message ?? String(err)).split('\n')[0]}${hint}`);
}

/**
 * Start the balancer in three phases:
 *  1. checks (preflight.ts): privileges, tools, interfaces, --config/--rules, the VIP, the socket;
 *  2. build, in memory: engine, rules, --vip/--rs services, --rules and --config loaded, VRRP/sync settings;
 *  3. start: captures, then VRRP/sync, health checks and the control socket, then the packet path
 *     (filters, nft guard, gratuitous ARP), the doctor.
 * A failure in 1 or 2 has started nothing; one in 3 stops what was started. Either is a StartError.
 */
export async function startBalancer(o: LbOptions, log: (s: string) => void, deps: StartDeps = realStartDeps): Promise<Balancer> {
  // ---- 1. checks
  let checked;
  try {
    checked = await preflight(o, deps.probes);
  } catch (err) {
    if (err instanceof PreflightError) throw new StartError(err.message);
    throw err;
  }
  const { ifaces } = checked;

  // ---- 2. build, in memory only
  const engine = new Engine({
    ifaces: ifaces.map((i) => ({ name: i.name, mac: i.mac, mtu: i.mtu, ip: i.ip, ...(i.ll6 ? { ll6: i.ll6 } : {}), ...(i.ip6 ? { ip6: i.ip6 } : {}) })),
    maxConns: o.maxConns,
    checksum: o.checksum,
  });
  engine.settings.sloppyTcp = o.sloppyTcp === 'on';
  engine.settings.sloppyTcpMh = o.sloppyTcp === 'auto' && o.bgp !== null;
  applyDefense(engine.guard, o.defense, o.maxConns);
  const shard = o.worker && o.worker.n > 1
    ? { k: o.worker.k, n: o.worker.n, by: o.shardBy ?? (o.persist > 0 || o.sched === 'sh' ? 'addr' as const : 'port' as const) }
    : null;
  if (o.fnatAddrs.length) engine.fnat.configure(o.fnatAddrs, o.fnatPorts[0], o.fnatPorts[1], shard?.k ?? 0, shard?.n ?? 1);
  if (o.fnatAddrs6.length) engine.conns6.fnat.configure(o.fnatAddrs6, o.fnatPorts[0], o.fnatPorts[1]);
  const index = new Map(ifaces.map((i, n) => [i.name, n]));
  const routes: Route[] = checked.routes
    .filter((r) => index.has(r.dev))
    .map((r) => ({ dst: r.dst, prefixLen: r.prefixLen, iface: index.get(r.dev)!, gateway: r.gateway }));
  const routes6: Route6[] = [];
  for (const r of checked.routes6) {
    const dst = parseIPv6(r.dst);
    const gateway = r.gateway === null ? null : parseIPv6(r.gateway);
    if (dst !== null && index.has(r.dev)) routes6.push({ dst, prefixLen: r.prefixLen, iface: index.get(r.dev)!, gateway });
  }
  const routing = new RoutingTable(routes, routes6);
  const registry = new ServiceRegistry(engine, routing);
  // With --bgp the routers route the VIP to this director's own address: no ARP for it.
  registry.answerArp = (shard === null || shard.k === 0) && o.bgp === null;
  const specs = serviceSpecs(o);
  const ruleStep = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (err instanceof RegistryError) throw new StartError(`${what}: ${err.message}${/no route/.test(err.message) ? ': give --iface for the interface that reaches it, or add a route' : ''}`);
      throw err;
    }
  };
  for (const spec of specs) {
    ruleStep(`--vip ${formatIPv4(spec.addr)} --port ${spec.port}`, () => registry.addService(spec));
    // A --rs port applies to the --port service(s); --udp-port services use their own port.
    const own = spec.proto === PROTO_UDP && o.udpPorts.includes(spec.port) && o.proto !== 'udp';
    for (const rs of o.rs) {
      ruleStep(`--rs ${rs.text}`, () => registry.addDest(spec, {
        addr: rs.addr, port: own || !rs.port ? spec.port : rs.port, weight: rs.weight, fwd: rs.fwd ?? o.mode, uThreshold: 0, lThreshold: 0,
      }));
    }
  }
  // --vip: the balancer owns that VIP (answers ARP for it) even while it has no service.
  const ownVip = o.vip !== null && registry.answerArp ? ownedVip(engine, routing, o.vip) : () => undefined;
  ownVip();
  primeNeighbours(engine, ifaces, deps.probes.readNeighbours(), deps.probes.readNeighbours6?.() ?? []);
  if (o.traceSched) {
    engine.hooks.trace = (svc, d, caddr, cport, inputs) =>
      log(`sched ${svc.scheduler.name} ${destName(caddr, cport)} -> ${d ? destName(d.addr, d.port) : 'none'} | ${inputs}`);
  }
  // Rule changes reach the packet path (filters, nft guard, VRRP state) once it runs.
  let live = false;
  let runtime: Runtime | null = null;
  let ha: HaHandle | null = null;
  let bgp: BgpHandle | null = null;
  const changed = () => {
    ownVip();
    if (!live) return;
    ha?.reapply();
    bgp?.reapply();
    runtime!.rulesChanged();
  };
  const plane = new ControlPlane(registry, { rulesFile: o.rulesFile, saveOnExit: o.saveOnExit, config: o.config, socket: o.socket }, changed, log);
  try {
    plane.load();
  } catch (err) {
    if (err instanceof StartupError || err instanceof RegistryError || err instanceof ConfigError) throw new StartError(err.message);
    throw err;
  }

  // ---- 3. start; stop() undoes whatever of it ran
  const ports: PacketPort[] = [];
  let guard: Guard | null = null;
  let pcap: PcapTap | null = null;
  let doctor: DoctorRunner | null = null;
  let stopped = false;
  let planeStarted = false;
  /** save = false when the start itself failed: --save-on-exit is for a balancer that ran. */
  const stop = (save = true) => {
    if (stopped) return;
    stopped = true;
    try {
      bgp?.stop(); // withdraw first, while the packet path still forwards
      ha?.stop();
      if (planeStarted) plane.stop(save);
    } finally {
      if (runtime) runtime.stop();
      else for (const p of ports) p.close();
      guard?.remove();
      doctor?.stop();
      pcap?.close();
    }
  };
  process.on('exit', () => stop()); // last resort: never leave nft rules behind
  const step = async <T>(what: string, fn: () => T | Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      stop(false);
      throw startFailure(what, err);
    }
  };
  // Workers on the ring backend: one fanout group (its program is set again once the services are known).
  const fanoutJoin = shard !== null && o.fanoutGroup !== null && o.io !== 'pcap' ? { group: o.fanoutGroup, program: fanoutProgram(shard, []) } : null;
  // With fanout, nothing until the services are known (0x88b5: IEEE 802 local experimental EtherType).
  const initial = (mac: Uint8Array) => `not ether src ${formatMac(mac)} and ${fanoutJoin ? 'ether proto 0x88b5' : 'arp'}`;
  const opened = await step(`capture on ${ifaces.map((i) => i.name).join(', ')}`, () =>
    deps.openPorts(o, ifaces.map((i) => ({ name: i.name, mac: i.mac, mtu: i.mtu, filter: initial(i.mac) })), fanoutJoin));
  ports.push(...opened.ports);
  const ioKind = opened.kind;
  log(`io: ${opened.kind} (${opened.why})`);
  const fanout = opened.kind === 'ring' && fanoutJoin !== null;
  if (shard) log(`worker ${shard.k}/${shard.n}: ${fanout ? `PACKET_FANOUT group ${o.fanoutGroup} splits the flows` : 'capture filters split the flows'} (by ${shard.by})`);
  // With workers each process writes its own files (IF.wK.pcap ...): one file per writer.
  if (o.pcapDir !== null) pcap = await step(`--pcap-dir ${o.pcapDir}`, () => new PcapTap(o.pcapDir!, ifaces.map((i) => (shard ? `${i.name}.w${shard.k}` : i.name))));
  if (o.hostGuard) guard = deps.hostGuard();
  const g = guard;
  const rt = new Runtime(engine, ports, {
    guard: g ? (r) => g.apply(r) : null, tap: pcap ? pcap.tap : null, shard, fanout,
    hostAddresses: () => new Set(readHostAddresses().map((a) => a.addr)),
    hostAddressesAsync: (done) => readHostAddressesAsync((a) => done(a && new Set(a.map((x) => x.addr)))),
    hostAddresses6: () => new Set(readHostAddresses6()),
    hostAddresses6Async: (done) => readHostAddresses6Async((a) => done(a && new Set(a))),
  });
  rt.onHint = log;
  runtime = rt;
  // VRRP first: a re-created VIP must be passive again before the runtime announces it.
  if (shard === null || shard.k === 0) {
    ha = await step('high availability (VRRP, sync, metrics)', () => startHa({ engine, ports, ifaces, routes, plan: plane.keepalivedPlan, opts: { ...o, nActive: o.bgp !== null }, log, addressesChanged: () => live && rt.rulesChanged() }));
    const h = ha;
    plane.haStatus = () => h.statusText();
  }
  planeStarted = true;
  await step('control plane', () => plane.start());
  live = true;
  ha?.reapply();
  await step('packet path (capture filters, nft host guard)', () => rt.start());
  if (o.bgp !== null) {
    const b = (bgp = await step('bgp (BIRD 2, VIP routes)', () => startBgp({ engine, ifaces, routes, opts: o.bgp!, socket: o.socket, hasCommand: (c) => deps.probes.hasCommand(c), log })));
    const prev = plane.haStatus;
    plane.haStatus = () => [prev?.() ?? '', b.statusText()].filter((x) => x !== '').join('\n');
  }
  // One doctor per balancer: with workers, worker 0 (its share of the flows, and the one answering ARP).
  if (o.doctor && (shard === null || shard.k === 0)) doctor = new DoctorRunner(rt, log).start();
  summary(o, rt, log, guard, deps.probes, ioKind);
  if (pcap) log(`pcap: writing ${pcap.files.join(', ')}`);
  return { runtime: rt, registry, plane, ha, bgp, stop: () => stop() };
}

/**
 * Keeps `vip` in the engine's VIP table (ARP answered, gratuitous ARP at start) while no
 * service uses it: a bare `--vip` owns its VIP as a director with the address configured
 * does, before any `ipvsadm -A`. Called after every rule change (the table is rebuilt
 * from the services).
 */
function ownedVip(engine: Engine, routing: RoutingTable, vip: number): () => void {
  const all = (1 << engine.ifaces.length) - 1;
  const arpMask = routing.onLinkMask(vip) || all;
  return () => {
    const list = engine.vipList();
    if (list.some((v) => v.addr === vip >>> 0)) return;
    engine.setVips([...list.map((v) => ({ addr: v.addr, arpMask: v.arpMask })), { addr: vip, arpMask }]);
  };
}

function primeNeighbours(
  engine: Engine, ifaces: IfaceInfo[], known: { ip: number; dev: string; mac: Uint8Array }[], known6: { ip: string; dev: string; mac: Uint8Array }[],
): void {
  const n = engine.neigh;
  for (const k of known) {
    const ifi = ifaces.findIndex((i) => i.name === k.dev);
    const slot = ifi >= 0 ? n.find(k.ip, ifi) : -1;
    if (slot >= 0) n.set(slot, k.mac, 0);
  }
  const b = new Uint8Array(16);
  for (const k of known6) {
    const ifi = ifaces.findIndex((i) => i.name === k.dev);
    const a = ipv6Bytes(k.ip);
    if (ifi < 0 || a === null) continue;
    b.set(a);
    const slot = n.find6At(b, 0, ifi);
    if (slot >= 0) n.set(slot, k.mac, 0);
  }
}

function summary(o: LbOptions, rt: Runtime, log: (s: string) => void, guard: Guard | null, probes: Probes, io: IoKind): void {
  const e = rt.engine;
  rt.ports.forEach((p, i) => log(`capture ${p.name} (${formatMac(p.mac)}, mtu ${p.mtu}, ip ${formatIPv4(e.ifaces[i]!.ip)})`));
  const hostAddrs = (() => {
    try {
      return readHostAddresses();
    } catch {
      return [];
    }
  })();
  for (const v of e.vipList()) {
    if (v.local) {
      const dev = hostAddrs.filter((a) => a.addr === v.addr >>> 0).map((a) => a.dev).join(', ');
      const svcs = e.services.filter((s) => sameAddr(s.addr, v.addr)).map((s) => `${protoName(s.proto)} ${s.port}`);
      log(`VIP ${formatIPv4(v.addr)}: a local address (on ${dev}): the kernel keeps its ARP, ping and other ports; the balancer takes ${svcs.length ? svcs.join(', ') : 'no port yet'} and the replies`);
      continue;
    }
    const on = rt.ports.filter((_, i) => v.arpMask & (1 << i)).map((p) => p.name);
    if (o.bgp !== null) {
      log(`VIP ${formatIPv4(v.addr)}: not a local address, routed here by BGP (no ARP answered for it)`);
      continue;
    }
    log(`VIP ${formatIPv4(v.addr)}: not a local address: ARP answered on ${on.join(', ')}, gratuitous ARP sent`);
  }
  for (const s of e.services) {
    log(`service ${serviceLabel(s)} ${s.scheduler.name}${s.timeoutS ? ` persistent ${s.timeoutS}` : ''}`);
    for (const d of [...s.dests].reverse()) {
      log(`  -> ${endpointLabel(d)} ${fwdName(d.fwd)} weight ${d.weight} via ${rt.ports[d.iface]!.name}`);
    }
  }
  if (o.vip !== null) for (const line of emptyVipHint(o, e)) log(line);
  log(`defense: ${describeDefense(e.guard)} (table ${e.table.capacity} entries)`);
  if (guard) log(`host guard: nft table netdev ${guard.table} drops VIP and NAT reply frames after capture`);
  else if (probes.sysctl('net.ipv4.ip_forward') === '1') log('warning: ip_forward=1 and --no-host-guard: the kernel will also forward the VIP traffic');
  if (io === 'ring') {
    log('offloads: partial checksums and GSO super-frames pass through with their virtio-net headers');
  } else {
    log('offloads: partial checksums are detected and completed; super-frames (GRO/TSO) cannot be forwarded on pcap and are counted');
  }
}

/** How the user runs `lb ipvsadm` against this balancer (its socket when not the default). */
export function clientCommand(o: Pick<LbOptions, 'socket'>, defaultSocket = defaultSocketPath(), script = process.argv[1] ?? 'dist/lb.js'): string {
  const self = basename(script) === 'lb' ? 'lb' : `node ${relative(process.cwd(), script) || script}`;
  return `${self}${o.socket !== defaultSocket ? ` --socket ${o.socket}` : ''} ipvsadm`;
}

/** A --vip with no service, or services with no server, as a fresh IPVS: how to add them. */
export function emptyVipHint(o: LbOptions, e: Engine, cmd = clientCommand(o)): string[] {
  const vip = formatIPv4(o.vip!);
  const own = e.services.filter((s) => sameAddr(s.addr, o.vip!));
  if (own.length === 0) {
    return [
      `VIP ${vip}: no services yet (as a fresh IPVS); add them with ipvsadm commands, e.g.`,
      `  ${cmd} -A -t ${vip}:80 -s rr`,
      `  ${cmd} -a -t ${vip}:80 -r REAL_SERVER:80 -m`,
    ];
  }
  return own.filter((s) => s.dests.length === 0).map((s) => {
    const t = s.proto === PROTO_UDP ? '-u' : '-t';
    return `service ${serviceName(s.proto, s.addr, s.port)} has no real server yet: ${cmd} -a ${t} ${vip}:${s.port} -r REAL_SERVER:${s.port} -m`;
  });
}

/** Human summary printed at shutdown: what happened to every packet. */
export function finalReport(e: Engine, ports: readonly PacketPort[] = []): string {
  const lines = [`frames: ${e.counters.rxFrames} received, ${e.counters.txFrames} sent, ${e.counters.arpReplies} ARP replies, ${e.counters.icmpSent} ICMP errors${e.ipip.packets > 0 ? `, ${e.ipip.packets} IPIP packets to tunnel servers` : ''}${e.ip6ip6.packets > 0 ? `, ${e.ip6ip6.packets} ip6ip6 packets to tunnel servers` : ''}`];
  for (const s of e.services) {
    lines.push(`service ${serviceLabel(s)}: ${s.stats.conns} conns, ${s.stats.inPkts} in, ${s.stats.outPkts} out`);
    for (const d of [...s.dests].sort((a, b) => a.addr - b.addr)) {
      lines.push(`  -> ${endpointLabel(d)} conns ${d.stats.conns} active ${d.activeConns} inactive ${d.inactConns} in ${d.stats.inPkts} out ${d.stats.outPkts}`);
    }
  }
  lines.push(`offloads: ${e.counters.partialFrames} partial checksums (${e.counters.partialCompleted} completed here), ${e.counters.gsoFrames} GSO frames (${e.counters.superFramesDropped} dropped: pcap cannot send them${e.ipip.segmented + e.ip6ip6.segmented > 0 ? `; ${e.ipip.segmented + e.ip6ip6.segmented} segmented for tunnel servers` : ''}), ${e.counters.neighQueued} frames waited for ARP (${e.counters.neighFlushed} sent)`);
  for (const p of ports) {
    // Frames that never reached the engine: a full receive ring, a refused transmit.
    const ring = p.readDrops ? `, ${p.readDrops()} dropped by the kernel (ring full)` : '';
    if (ring || p.txErrors) lines.push(`io ${p.name}: ${p.txErrors} transmit errors${ring}`);
  }
  const drops = DROP_REASONS.map((r, i) => [r, e.counters.drops[i]!] as const).filter(([, n]) => n > 0);
  lines.push(`drops: ${drops.length ? drops.map(([r, n]) => `${r}=${n}`).join(' ') : 'none'}`);
  lines.push(`connections in table: ${e.table.count} (${countStates(e)})${e.table6.count > 0 ? `, IPv6 table: ${e.table6.count}` : ''}`);
  return lines.join('\n');
}

function countStates(e: Engine): string {
  const t = e.table;
  const c = new Map<string, number>();
  for (let i = 0; i < t.capacity; i++) if (t.live[i]) c.set(stateName(t.state[i]!), (c.get(stateName(t.state[i]!)) ?? 0) + 1);
  return [...c].map(([k, v]) => `${k} ${v}`).join(', ') || 'empty';
}

export { RegistryError };
