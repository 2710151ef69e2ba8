/**
 * `lb [options]`: start the balancer on this host (or network namespace).
 * Reads interfaces and routes from the kernel, builds the engine and its rules,
 * opens one capture per interface, installs the host guard, and cleans up on exit.
 */
import { Engine } from '../engine/engine.js';
import { Rules, RuleError, type ServiceSpec } from '../engine/rules.js';
import { RoutingTable, type Route } from '../engine/routing.js';
import { FWD_NAMES } from '../engine/model.js';
import { DROP_REASONS } from '../engine/verdict.js';
import { formatIPv4, formatMac } from '../packet/addr.js';
import { PROTO_TCP, PROTO_UDP } from '../packet/ipv4.js';
import { STATE_NAMES } from '../table/tcp-state.js';
import { openPorts, IoError, type IoKind } from '../io/open-ports.js';
import { fanoutProgram } from '../io/ring/fanout-bpf.js';
import { HostGuard } from '../io/host-guard.js';
import { Runtime } from '../io/runtime.js';
import { PcapTap } from '../io/pcap-tap.js';
import { DoctorRunner } from '../diag/runner.js';
import { deviceFor, readInterfaces, readNeighbours, readRoutes, sysctl, type IfaceInfo } from '../io/sysinfo.js';
import type { LbOptions } from './options.js';
import { ControlPlane, StartupError } from '../control/plane.js';
import { ConfigError } from '../config/errors.js';
import { HaError, startHa, type HaHandle } from '../ha/ha.js';

export class StartError extends Error {}

function chooseInterfaces(o: LbOptions, all: IfaceInfo[]): IfaceInfo[] {
  let names = o.ifaces;
  if (names.length === 0 && o.vip === null) {
    // Rules come from --rules/--config: every interface that is up and has an address.
    names = all.filter((i) => i.up && i.ip !== 0).map((i) => i.name);
    if (names.length === 0) throw new StartError('no interface with an IPv4 address is up; give --iface');
  } else if (names.length === 0) {
    const targets = [o.vip, ...o.rs.map((r) => r.addr)].filter((a): a is number => a !== null);
    names = [...new Set(targets.map((a) => deviceFor(formatIPv4(a))).filter((d): d is string => d !== null && d !== 'lo'))];
    if (names.length === 0) throw new StartError('no interface reaches the VIP or the real servers; give --iface');
  }
  return names.map((n) => {
    const i = all.find((x) => x.name === n);
    if (!i) throw new StartError(`interface '${n}' does not exist here (have: ${all.map((x) => x.name).join(', ') || 'none'})`);
    if (!i.up) throw new StartError(`interface '${n}' is down`);
    return i;
  });
}

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
  rules: Rules;
  plane: ControlPlane;
  /** VRRP, connection sync and metrics (src/ha); null fields when not configured. */
  ha: HaHandle | null;
  stop: () => void;
}

export async function startBalancer(o: LbOptions, log: (s: string) => void): Promise<Balancer> {
  const all = readInterfaces();
  const ifaces = chooseInterfaces(o, all);
  if (o.vip !== null) {
    const owner = all.find((i) => i.ip === o.vip);
    if (owner) {
      throw new StartError(
        `the VIP ${formatIPv4(o.vip)} is assigned to ${owner.name} on this host: the kernel would own its TCP flows ` +
        `and reset them. Remove it (ip addr del ${formatIPv4(o.vip)}/${owner.prefixLen} dev ${owner.name}); the balancer answers ARP for the VIP itself.`,
      );
    }
  }
  const engine = new Engine({
    ifaces: ifaces.map((i) => ({ name: i.name, mac: i.mac, mtu: i.mtu, ip: i.ip })),
    maxConns: o.maxConns,
    checksum: o.checksum,
  });
  const shard = o.worker && o.worker.n > 1
    ? { k: o.worker.k, n: o.worker.n, by: o.shardBy ?? (o.persist > 0 || o.sched === 'sh' ? 'addr' as const : 'port' as const) }
    : null;
  if (o.fnatAddrs.length) engine.fnat.configure(o.fnatAddrs, o.fnatPorts[0], o.fnatPorts[1], shard?.k ?? 0, shard?.n ?? 1);
  const index = new Map(ifaces.map((i, n) => [i.name, n]));
  const routes: Route[] = readRoutes()
    .filter((r) => index.has(r.dev))
    .map((r) => ({ dst: r.dst, prefixLen: r.prefixLen, iface: index.get(r.dev)!, gateway: r.gateway }));
  const rules = new Rules(engine, new RoutingTable(routes));
  rules.answerArp = shard === null || shard.k === 0;
  const specs = serviceSpecs(o);
  for (const spec of specs) {
    rules.addService(spec);
    // A --rs port applies to the --port service(s); --udp-port services use their own port.
    const own = spec.proto === PROTO_UDP && o.udpPorts.includes(spec.port) && o.proto !== 'udp';
    for (const rs of o.rs) {
      rules.addDest(spec, {
        addr: rs.addr, port: own || !rs.port ? spec.port : rs.port, weight: rs.weight, fwd: rs.fwd ?? o.mode, uThreshold: 0, lThreshold: 0,
      });
    }
  }
  primeNeighbours(engine, ifaces);
  if (o.traceSched) {
    engine.trace = (svc, d, caddr, cport, inputs) =>
      log(`sched ${svc.scheduler.name} ${formatIPv4(caddr)}:${cport} -> ${d ? `${formatIPv4(d.addr)}:${d.port}` : 'none'} | ${inputs}`);
  }
  const guard = o.hostGuard ? new HostGuard() : null;
  let opened;
  try {
    // Workers on the ring backend: one fanout group (its program is set again once the services are known).
    const fanout = shard !== null && o.fanoutGroup !== null && o.io !== 'pcap' ? { group: o.fanoutGroup, program: fanoutProgram(shard, []) } : null;
    // With fanout, nothing until the services are known (0x88b5: IEEE 802 local experimental EtherType).
    const initial = (mac: Uint8Array) => `not ether src ${formatMac(mac)} and ${fanout ? 'ether proto 0x88b5' : 'arp'}`;
    opened = openPorts(o.io, ifaces.map((i) => ({ name: i.name, mac: i.mac, mtu: i.mtu, filter: initial(i.mac) })), fanout);
  } catch (err) {
    if (err instanceof IoError) throw new StartError(err.message);
    throw err;
  }
  const ports = opened.ports;
  log(`io: ${opened.kind} (${opened.why})`);
  // With workers each process writes its own files (IF.wK.pcap ...): one file per writer.
  const pcap = o.pcapDir !== null ? new PcapTap(o.pcapDir, ifaces.map((i) => (shard ? `${i.name}.w${shard.k}` : i.name))) : null;
  let doctor: DoctorRunner | null = null;
  const fanout = opened.kind === 'ring' && shard !== null && o.fanoutGroup !== null;
  if (shard) log(`worker ${shard.k}/${shard.n}: ${fanout ? `PACKET_FANOUT group ${o.fanoutGroup} splits the flows` : 'capture filters split the flows'} (by ${shard.by})`);
  const runtime = new Runtime(engine, ports, { guard: guard ? (r) => guard.apply(r) : null, tap: pcap ? pcap.tap : null, shard, fanout });
  runtime.onHint = log;
  let stopped = false;
  let ha: HaHandle | null = null;
  // VRRP first: a re-created VIP must be passive again before the runtime announces it.
  const plane = new ControlPlane(rules, { rulesFile: o.rulesFile, saveOnExit: o.saveOnExit, config: o.config, socket: o.socket }, () => { ha?.reapply(); runtime.rulesChanged(); }, log);
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      ha?.stop();
      plane.stop();
    } finally {
      runtime.stop();
      guard?.remove();
      doctor?.stop();
      pcap?.close();
    }
  };
  process.on('exit', stop); // last resort: never leave nft rules behind
  try {
    await plane.start();
    if ((plane.keepalivedPlan?.vrrp.length ?? 0) > 0 && shard !== null) throw new StartError('vrrp_instance with --workers is not supported yet: run one process per director');
    if (shard === null || shard.k === 0) {
      ha = await startHa({ engine, ports, ifaces, routes, plan: plane.keepalivedPlan, opts: o, log });
      const h = ha;
      plane.haStatus = () => h.statusText();
    }
  } catch (err) {
    stop();
    if (err instanceof StartupError || err instanceof RuleError || err instanceof HaError) throw new StartError(err.message);
    if (err instanceof ConfigError) throw err;
    throw err;
  }
  runtime.start();
  // One doctor per balancer: with workers, worker 0 (its share of the flows, and the one answering ARP).
  if (o.doctor && (shard === null || shard.k === 0)) doctor = new DoctorRunner(runtime, log).start();
  summary(o, runtime, log, guard, opened.kind);
  if (pcap) log(`pcap: writing ${pcap.files.join(', ')}`);
  return { runtime, rules, plane, ha, stop };
}

function primeNeighbours(engine: Engine, ifaces: IfaceInfo[]): void {
  const n = engine.neigh;
  for (const k of readNeighbours()) {
    const ifi = ifaces.findIndex((i) => i.name === k.dev);
    const slot = ifi >= 0 ? n.find(k.ip, ifi) : -1;
    if (slot >= 0) n.set(slot, k.mac, 0);
  }
}

function summary(o: LbOptions, rt: Runtime, log: (s: string) => void, guard: HostGuard | null, io: IoKind): void {
  const e = rt.engine;
  rt.ports.forEach((p, i) => log(`capture ${p.name} (${formatMac(p.mac)}, mtu ${p.mtu}, ip ${formatIPv4(e.ifaces[i]!.ip)})`));
  for (const v of e.vipList()) {
    const on = rt.ports.filter((_, i) => v.arpMask & (1 << i)).map((p) => p.name);
    log(`VIP ${formatIPv4(v.addr)}: ARP answered on ${on.join(', ')}, gratuitous ARP sent`);
  }
  for (const s of e.services) {
    log(`service ${s.proto === PROTO_UDP ? 'UDP' : 'TCP'} ${formatIPv4(s.addr)}:${s.port} ${s.scheduler.name}${s.timeoutS ? ` persistent ${s.timeoutS}` : ''}`);
    for (const d of [...s.dests].reverse()) {
      log(`  -> ${formatIPv4(d.addr)}:${d.port} ${FWD_NAMES[d.fwd]} weight ${d.weight} via ${rt.ports[d.iface]!.name}`);
    }
  }
  if (guard) log(`host guard: nft table netdev ${guard.table} drops VIP and NAT reply frames after capture`);
  else if (sysctl('net.ipv4.ip_forward') === '1') log('warning: ip_forward=1 and --no-host-guard: the kernel will also forward the VIP traffic');
  if (io === 'ring') {
    log('offloads: partial checksums and GSO super-frames pass through with their virtio-net headers');
  } else {
    log('offloads: partial checksums are detected and completed; super-frames (GRO/TSO) cannot be forwarded on pcap and are counted');
  }
}

/** Human summary printed at shutdown: what happened to every packet. */
export function finalReport(e: Engine): string {
  const lines = [`frames: ${e.rxFrames} received, ${e.txFrames} sent, ${e.arpReplies} ARP replies, ${e.icmpSent} ICMP errors`];
  for (const s of e.services) {
    lines.push(`service ${s.proto === PROTO_UDP ? 'UDP' : 'TCP'} ${formatIPv4(s.addr)}:${s.port}: ${s.stats.conns} conns, ${s.stats.inPkts} in, ${s.stats.outPkts} out`);
    for (const d of [...s.dests].sort((a, b) => a.addr - b.addr)) {
      lines.push(`  -> ${formatIPv4(d.addr)}:${d.port} conns ${d.stats.conns} active ${d.activeConns} inactive ${d.inactConns} in ${d.stats.inPkts} out ${d.stats.outPkts}`);
    }
  }
  lines.push(`offloads: ${e.partialFrames} partial checksums (${e.partialCompleted} completed here), ${e.gsoFrames} GSO frames (${e.superFramesDropped} dropped: pcap cannot send them), ${e.neighQueued} frames waited for ARP (${e.neighFlushed} sent)`);
  const drops = DROP_REASONS.map((r, i) => [r, e.drops[i]!] as const).filter(([, n]) => n > 0);
  lines.push(`drops: ${drops.length ? drops.map(([r, n]) => `${r}=${n}`).join(' ') : 'none'}`);
  lines.push(`connections in table: ${e.table.count} (${countStates(e)})`);
  return lines.join('\n');
}

function countStates(e: Engine): string {
  const t = e.table;
  const c = new Map<string, number>();
  for (let i = 0; i < t.capacity; i++) if (t.live[i]) c.set(STATE_NAMES[t.state[i]!]!, (c.get(STATE_NAMES[t.state[i]!]!) ?? 0) + 1);
  return [...c].map(([k, v]) => `${k} ${v}`).join(', ') || 'empty';
}

export { RuleError };
