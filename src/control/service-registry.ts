/**
 * The service/server registry: control-plane edits of the engine's services and real
 * servers, with the kernel's semantics and libipvs's error texts (ip_vs_ctl.c:
 * ip_vs_add_service, ip_vs_edit_service, ip_vs_del_service, ip_vs_add_dest,
 * ip_vs_edit_dest, ip_vs_del_dest, ip_vs_zero_all, ip_vs_set_timeout). It changes the data
 * plane only through its ServiceTable (dataplane/service-table.ts). Never per packet.
 */
import { createScheduler } from '../sched/index.js';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT } from '../sched/types.js';
import { addDest as listAdd, checkDestSettings, editDest as listEdit, findDest, removeDest } from '../sched/dest-list.js';
import * as E from './ipvsadm/strerror.js';
import { S_ESTABLISHED, S_FIN_WAIT, S_UDP } from '../table/tcp-state.js';
import { formatIPv4 } from '../packet/addr.js';
import { formatIPv6, prefixToMask6 } from '../packet/addr6.js';
import { AF_INET6 } from '../lvs/af.js';
import { fwdName } from '../lvs/fwd.js';
import { IPV6_SUPPORTED_SO_FAR } from './ipv6-status.js';
import { FWD_FNAT, FWD_TUNNEL, RealServer, Stats, VirtualService, repliesBypass } from '../dataplane/model.js';
import { sameDestAddr } from '../dataplane/service-table.js';
import type { Engine } from '../dataplane/engine.js';
import type { RoutingTable } from '../dataplane/routing.js';

/** A refused edit; the message is libipvs's text (ipvs_strerror) or names the value. */
export class RegistryError extends Error {}

export interface ServiceKey {
  proto: number;
  /** The IPv4 address; ignored for an IPv6 service (addr6 given). */
  addr: number;
  port: number;
  /** An IPv6 service's address, four words (packet/addr6.ts). */
  addr6?: Int32Array;
}

export interface ServiceSpec extends ServiceKey {
  scheduler: string;
  /** Persistence timeout in seconds, 0 = not persistent. */
  persistent: number;
  /** IPv4: the mask as a number; IPv6: the prefix length (ipvsadm -M 64, default 128). */
  netmask: number;
  ops: boolean;
  /** Scheduler flags (sh-fallback, sh-port, ...). */
  schedFlags: number;
  /** Sloppy TCP for this service; undefined leaves it as it is (ipvsadm -E has no such flag). */
  sloppyTcp?: boolean;
}

export interface DestSpec {
  addr: number;
  port: number;
  /** An IPv6 server's address, four words; its service must be IPv6 too. */
  addr6?: Int32Array;
  weight: number;
  fwd: number;
  uThreshold: number;
  lThreshold: number;
}

const SVC_SCHED_FLAG_MASK = 0x38;

export class ServiceRegistry {
  readonly engine: Engine;
  private readonly routing: RoutingTable;
  /** False for workers other than the first of a multi-process balancer: one ARP speaker per VIP. */
  answerArp = true;

  constructor(engine: Engine, routing: RoutingTable) {
    this.engine = engine;
    this.routing = routing;
  }

  findService(k: ServiceKey): VirtualService | null {
    // A VirtualService may be passed as its own key: an IPv4 one has an empty addr6.
    const a6 = addr6Of(k);
    if (a6 !== null) return this.engine.registry.find6(k.proto, a6, 0, k.port);
    return this.engine.findService(k.proto, k.addr, k.port);
  }

  private mustFind(k: ServiceKey, missing: string): VirtualService {
    const s = this.findService(k);
    if (s === null) throw new RegistryError(missing);
    return s;
  }

  addService(spec: ServiceSpec): VirtualService {
    if (this.findService(spec)) throw new RegistryError(E.SERVICE_EXISTS);
    if (spec.port === 0 && spec.persistent === 0) throw new RegistryError(E.ZERO_PORT_NON_PERSISTENT);
    const sched = createScheduler<RealServer>(spec.scheduler);
    if (!sched) throw new RegistryError(E.SCHED_NOT_FOUND);
    const svc = new VirtualService(spec.proto, spec.addr, spec.port, sched, addr6Of(spec));
    this.applyServiceSpec(svc, spec);
    this.engine.registry.add(svc);
    sched.init(svc);
    this.refreshVips();
    return svc;
  }

  editService(spec: ServiceSpec): void {
    const svc = this.mustFind(spec, E.NO_SUCH_SERVICE);
    if (spec.scheduler !== svc.scheduler.name) {
      const sched = createScheduler<RealServer>(spec.scheduler);
      if (!sched) throw new RegistryError(E.SCHED_NOT_FOUND);
      svc.scheduler = sched;
      this.applyServiceSpec(svc, spec);
      sched.init(svc);
    } else {
      this.applyServiceSpec(svc, spec);
    }
  }

  private applyServiceSpec(svc: VirtualService, spec: ServiceSpec): void {
    let flags = svc.flags & ~(SVC_F_PERSISTENT | SVC_F_ONEPACKET | SVC_SCHED_FLAG_MASK);
    if (spec.persistent > 0) flags |= SVC_F_PERSISTENT;
    if (spec.ops) flags |= SVC_F_ONEPACKET;
    flags |= spec.schedFlags & SVC_SCHED_FLAG_MASK;
    svc.flags = flags;
    svc.timeoutS = spec.persistent;
    svc.netmask = spec.netmask | 0;
    if (svc.af === AF_INET6) svc.mask6 = prefixToMask6(spec.netmask);
    if (spec.sloppyTcp !== undefined) svc.sloppyTcp = spec.sloppyTcp;
  }

  delService(k: ServiceKey): void {
    const svc = this.mustFind(k, E.NO_SUCH_SERVICE);
    // Unlink every dest like __ip_vs_del_service; their connections drain or are dropped.
    for (const d of [...svc.dests]) this.unlinkDest(svc, d);
    this.engine.registry.remove(svc);
    this.refreshVips();
  }

  clear(): void {
    for (const s of [...this.engine.services]) this.delService(s);
  }

  addDest(k: ServiceKey, spec: DestSpec): RealServer {
    const svc = this.mustFind(k, E.SERVICE_NOT_DEFINED);
    const port = repliesBypass(spec.fwd) ? svc.port : spec.port; // ipvsadm forces the port for -g and -i
    const addr6 = addr6Of(spec);
    this.checkFamily(svc, spec);
    if (lookupDest(svc, spec.addr, addr6, port)) throw new RegistryError(E.DEST_EXISTS);
    this.checkSettings(spec);
    if (spec.fwd === FWD_TUNNEL) this.tunnelSource(spec.addr, addr6);
    // ip_vs_trash_get_dest: a deleted dest still referenced by connections comes back as it was.
    let d = this.engine.registry.findDeleted(spec.addr, port, svc, addr6);
    if (d === null) {
      d = new RealServer(spec.addr, port, spec.weight, spec.fwd, addr6);
      this.engine.registry.addDest(d);
    } else if (d.svcId !== svc.id) {
      // __ip_vs_update_dest: a dest joining another service object (here: the same key,
      // re-created after -C/-D) starts with zeroed counters (ip_vs_zero_stats).
      resetStats(d.stats);
    }
    d.svcId = svc.id;
    d.fwd = spec.fwd;
    this.route(d);
    d.svc = svc;
    listAdd(svc, svc.scheduler, d, spec);
    return d;
  }

  editDest(k: ServiceKey, spec: DestSpec): void {
    const svc = this.mustFind(k, E.SERVICE_NOT_DEFINED);
    const port = repliesBypass(spec.fwd) ? svc.port : spec.port;
    const d = lookupDest(svc, spec.addr, addr6Of(spec), port);
    if (!d) throw new RegistryError(E.NO_SUCH_DEST);
    this.checkFamily(svc, spec);
    this.checkSettings(spec);
    if (spec.fwd === FWD_TUNNEL) this.tunnelSource(d.addr, d.af === AF_INET6 ? d.addr6 : null);
    d.fwd = spec.fwd;
    listEdit(svc, svc.scheduler, d, spec);
  }

  delDest(k: ServiceKey, addr: number, port: number, addr6: Int32Array | null = null): void {
    const svc = this.mustFind(k, E.SERVICE_NOT_DEFINED);
    const d = lookupDest(svc, addr, addr6, port) ?? lookupDest(svc, addr, addr6, svc.port);
    if (!d) throw new RegistryError(E.NO_SUCH_DEST);
    this.unlinkDest(svc, d);
  }

  /** __ip_vs_unlink_dest + __ip_vs_del_dest: the dest goes to the "trash" until unreferenced. */
  private unlinkDest(svc: VirtualService, d: RealServer): void {
    removeDest(svc, svc.scheduler, d);
    d.svc = null;
    this.engine.registry.release(d);
  }

  /**
   * IPVS allows a server of another family than its service only for tunnelling
   * (ip_vs_add_dest: "Different address family is allowed only for tunneling servers");
   * IPv6 forwarding is built for NAT and DR so far.
   */
  private checkFamily(svc: VirtualService, spec: DestSpec): void {
    const v6 = addr6Of(spec) !== null;
    if (v6 && spec.fwd === FWD_FNAT && this.engine.conns6.fnat.size === 0) {
      throw new RegistryError('full-NAT to an IPv6 server needs an IPv6 local address: give --fnat-addr with an IPv6 address the real servers route back to');
    }
    if (v6 !== (svc.af === AF_INET6)) {
      throw new RegistryError(`${E.NOT_SUPPORTED_IPV6} (${fwdName(spec.fwd)} to an IPv${v6 ? 6 : 4} server of an IPv${svc.af === AF_INET6 ? 6 : 4} service: ${IPV6_SUPPORTED_SO_FAR})`);
    }
  }

  private checkSettings(spec: DestSpec): void {
    const err = checkDestSettings(spec);
    if (err === 'weight-out-of-range') throw new RegistryError(`weight ${spec.weight} out of range 0..65535`);
    if (err) throw new RegistryError(E.INVALID_OPERATION);
  }

  /** Interface and next hop that reach the server; the neighbour slot to resolve. */
  private route(d: RealServer): void {
    if (d.af === AF_INET6) {
      const hop6 = this.routing.lookup6(d.addr6);
      if (hop6 === null) throw new RegistryError(`no route to real server ${formatIPv6(d.addr6)} from the engine's interfaces`);
      d.iface = hop6.iface;
      d.neigh = this.engine.neigh.ensure6(hop6.nextHop, 0, hop6.iface);
      return;
    }
    const hop = this.routing.lookup(d.addr);
    if (hop === null) throw new RegistryError(`no route to real server ${formatIPv4(d.addr)} from the engine's interfaces`);
    d.iface = hop.iface;
    d.neigh = this.engine.neigh.ensure(hop.nextHop, hop.iface);
  }

  /** The outer source of a tunnel is the egress interface's address (the route's source). */
  private tunnelSource(addr: number, addr6: Int32Array | null = null): void {
    if (addr6 !== null) {
      const hop6 = this.routing.lookup6(addr6);
      const iface6 = hop6 === null ? undefined : this.engine.ifaces[hop6.iface];
      if (iface6 !== undefined && iface6.ip6 === undefined) {
        throw new RegistryError(`tunnel to ${formatIPv6(addr6)}: interface ${iface6.name} has no global IPv6 address to send the ip6ip6 tunnel from`);
      }
      return;
    }
    const hop = this.routing.lookup(addr);
    const iface = hop === null ? undefined : this.engine.ifaces[hop.iface];
    if (iface !== undefined && iface.ip === 0) {
      throw new RegistryError(`tunnel to ${formatIPv4(addr)}: interface ${iface.name} has no IPv4 address to send the tunnel from`);
    }
  }

  /** ip_vs_zero_all / ip_vs_zero_service. */
  zero(k?: ServiceKey): void {
    const svcs = k ? [this.mustFind(k, E.NO_SUCH_SERVICE)] : this.engine.services;
    for (const s of svcs) {
      resetStats(s.stats);
      for (const d of s.dests) resetStats(d.stats);
    }
    if (!k) resetStats(this.engine.counters.stats);
  }

  /** ipvsadm --set tcp tcpfin udp (ip_vs_set_timeout): 0 leaves a value unchanged. */
  setTimeouts(tcpS: number, tcpfinS: number, udpS: number): void {
    const t = this.engine.settings.timeoutsMs;
    if (tcpS > 0) t[S_ESTABLISHED] = tcpS * 1000;
    if (tcpfinS > 0) t[S_FIN_WAIT] = tcpfinS * 1000;
    if (udpS > 0) t[S_UDP] = udpS * 1000;
  }

  timeouts(): { tcp: number; tcpfin: number; udp: number } {
    const t = this.engine.settings.timeoutsMs;
    return { tcp: t[S_ESTABLISHED]! / 1000, tcpfin: t[S_FIN_WAIT]! / 1000, udp: t[S_UDP]! / 1000 };
  }

  /** The VIP lists and where to answer ARP (IPv6: NS) for each (on-link interfaces, else all). */
  refreshVips(): void {
    const all = (1 << this.engine.ifaces.length) - 1;
    const seen = new Map<number, number>();
    const seen6 = new Map<string, { words: Int32Array; ndMask: number }>();
    for (const s of this.engine.services) {
      if (s.af === AF_INET6) {
        const key = formatIPv6(s.addr6);
        if (!seen6.has(key)) seen6.set(key, { words: s.addr6, ndMask: this.answerArp ? this.routing.onLinkMask6(s.addr6) || all : 0 });
        continue;
      }
      if (!seen.has(s.addr)) seen.set(s.addr, this.routing.onLinkMask(s.addr) || all);
    }
    // Full-NAT local addresses are ours too: replies come back to them, we answer ARP (NS).
    for (const a of this.engine.fnat.addrs) if (!seen.has(a)) seen.set(a, this.routing.onLinkMask(a) || all);
    const pool6 = this.engine.conns6.fnat;
    for (let i = 0; i < pool6.size; i++) {
      const words = pool6.addrs.slice(i * 4, i * 4 + 4);
      const key = formatIPv6(words);
      if (!seen6.has(key)) seen6.set(key, { words, ndMask: this.answerArp ? this.routing.onLinkMask6(words) || all : 0 });
    }
    this.engine.setVips([...seen].map(([addr, arpMask]) => ({ addr, arpMask: this.answerArp ? arpMask : 0 })), [...seen6.values()]);
  }
}

/** The IPv6 address of a key or spec, null for IPv4 (a model object passed as a spec has an empty addr6). */
function addr6Of(x: { addr6?: Int32Array }): Int32Array | null {
  return x.addr6 !== undefined && x.addr6.length === 4 ? x.addr6 : null;
}

/** ip_vs_lookup_dest: the service's server with this address (IPv4 addr, or addr6) and port. */
function lookupDest(svc: VirtualService, addr: number, addr6: Int32Array | null, port: number): RealServer | undefined {
  if (addr6 === null) return findDest(svc, addr | 0, port);
  return svc.dests.find((d) => d.port === port && sameDestAddr(d, addr, addr6));
}

function resetStats(s: Stats): void {
  s.conns = s.inPkts = s.outPkts = s.inBytes = s.outBytes = 0;
}
