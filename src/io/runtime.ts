/**
 * Wires ports to the engine: each captured frame goes through Engine.process and the
 * verdict is acted on at once (the capture buffer is only valid during the callback).
 * Also owns the periodic work: connection expiry ticks, ARP resolution of next hops,
 * gratuitous ARP at start, and keeping capture filters and host-guard rules in step
 * with the services.
 */
import { performance } from 'node:perf_hooks';
import { Engine } from '../dataplane/engine.js';
import { V_EMIT, type Verdict } from '../dataplane/verdict.js';
import { FWD_FNAT, repliesBypass } from '../lvs/fwd.js';
import { IPPROTO_UDP } from '../lvs/proto.js';
import { AF_INET, AF_INET6 } from '../lvs/af.js';
import { formatIPv6, formatIPv6Bytes } from '../packet/addr6.js';
import type { PacketPort } from './port.js';
import { buildFilter, type FilterInput, type Shard } from './bpf.js';
import type { GuardRules } from './host-guard.js';
import { RingPort } from './ring/ring-port.js';
import { RingDriver } from './ring/driver.js';
import { fanoutProgram } from './ring/fanout-bpf.js';

export interface RuntimeHooks {
  /** Called with the new host-guard rules whenever services change (null = no guard). */
  guard?: ((r: GuardRules) => void) | null;
  /** Frames seen and sent, per interface, for --pcap-dir. */
  tap?: ((ifi: number, dir: 'in' | 'out', frame: Uint8Array, len: number) => void) | null;
  /** Multi-process: this runtime's share of the flows. */
  shard?: Shard | null;
  /**
   * Ring backend with workers: the ports are in one PACKET_FANOUT group whose program
   * splits the flows (ring/fanout-bpf.ts); the capture filters then carry no shard clause.
   */
  fanout?: boolean;
  /**
   * This host's IPv4 addresses (unsigned), read again on rule changes and every 2 s (VRRP
   * or the operator may add a VIP): a VIP among them is local (dataplane/vip-table.ts).
   */
  hostAddresses?: (() => Set<number>) | null;
  /** The same, read without blocking (the periodic check); null when unreadable this time. */
  hostAddressesAsync?: ((done: (s: Set<number> | null) => void) => void) | null;
  /**
   * This host's IPv6 addresses (text as formatIPv6 writes it; io/sysinfo.ts readHostAddresses6),
   * read with the IPv4 ones: an IPv6 VIP among them is local (dataplane/vip6-table.ts), and
   * the host's own IPv6 traffic with the servers is left out of the capture.
   */
  hostAddresses6?: (() => Set<string>) | null;
  hostAddresses6Async?: ((done: (s: Set<string> | null) => void) => void) | null;
  /** The engine's clock in ms (default performance.now); a pcap replay gives the records' times. */
  clock?: () => number;
}

export class Runtime {
  readonly engine: Engine;
  readonly ports: PacketPort[];
  private readonly hooks: RuntimeHooks;
  private timer: NodeJS.Timeout | null = null;
  private garpTimer: NodeJS.Timeout | null = null;
  private lastFilter: string[] = [];
  /** Ring backend: drains the rings in batches; the clock is read once per batch. */
  driver: RingDriver | null = null;
  private batchNow = 0;
  private batched = false;

  private readonly clock: () => number;

  constructor(engine: Engine, ports: PacketPort[], hooks: RuntimeHooks = {}) {
    this.engine = engine;
    this.ports = ports;
    this.hooks = hooks;
    this.clock = hooks.clock ?? (() => performance.now());
  }

  /** The host's IPv6 addresses as last read (hostAddresses6). */
  private host6: ReadonlySet<string> = new Set();

  /** Read the host's addresses again; true when a VIP (either family) became local or stopped being so. */
  refreshLocal(): boolean {
    const v4 = this.refreshLocal4();
    return this.refreshLocal6() || v4;
  }

  private refreshLocal4(): boolean {
    const read = this.hooks.hostAddresses;
    if (!read) return false;
    let set: Set<number>;
    try {
      set = read();
    } catch {
      return false; // `ip` failed this once: keep what we know
    }
    return this.engine.vips.setLocal(set);
  }

  private refreshLocal6(): boolean {
    const read = this.hooks.hostAddresses6;
    if (!read) return false;
    try {
      return this.setLocal6(read());
    } catch {
      return false;
    }
  }

  /** True when a VIP's locality or the host's address list changed (both shape the filters). */
  private setLocal6(set: Set<string>): boolean {
    const same = set.size === this.host6.size && [...set].every((a) => this.host6.has(a));
    this.host6 = set;
    return this.engine.vips6.setLocal(set) || !same;
  }

  private refreshing = false;
  private refreshing6 = false;

  /** refreshLocal without blocking the packet path: `ip` runs in the background. */
  private refreshLocalLater(): void {
    const read = this.hooks.hostAddressesAsync;
    if (read && !this.refreshing) {
      this.refreshing = true;
      read((set) => {
        this.refreshing = false;
        if (set !== null && this.timer !== null && this.engine.vips.setLocal(set)) this.rulesChanged();
      });
    }
    const read6 = this.hooks.hostAddresses6Async;
    if (read6 && !this.refreshing6) {
      this.refreshing6 = true;
      read6((set) => {
        this.refreshing6 = false;
        if (set !== null && this.timer !== null && this.setLocal6(set)) this.rulesChanged();
      });
    }
  }

  /** Only the packet path: every port's frames through the engine, no timers or announcements (pcap replay). */
  attach(): void {
    this.ports.forEach((port, i) => port.onFrame((frame, len, offload) => this.onFrame(i, frame, len, offload)));
  }

  start(): void {
    this.refreshLocal();
    this.attach();
    if (this.ports.length > 0 && this.ports.every((p) => p instanceof RingPort)) {
      this.batched = true;
      this.driver = new RingDriver(this.ports as RingPort[], () => (this.batchNow = performance.now()));
    }
    this.rulesChanged();
    this.resolveNeighbours();
    this.announceVips(3);
    this.timer = setInterval(() => this.periodic(), 100);
    this.driver?.start();
  }

  private onFrame(ifi: number, frame: Uint8Array, len: number, offload: number): void {
    const tap = this.hooks.tap;
    if (tap) tap(ifi, 'in', frame, len);
    const e = this.engine;
    if (e.process(frame, len, ifi, this.batched ? this.batchNow : this.clock(), offload) === V_EMIT) this.send(e.verdict);
    if (e.pending.ready > 0) this.flushQueued();
  }

  /** Frames that waited for a next hop whose ARP reply just came (neigh_update). */
  private flushQueued(): void {
    const e = this.engine;
    while (e.takeQueued() >= 0) this.send(e.verdict);
  }

  /** The frame a verdict names goes out on its port. */
  private send(v: Verdict): void {
    const tap = this.hooks.tap;
    if (tap) tap(v.iface, 'out', v.buf, v.len);
    this.ports[v.iface]!.send(v.buf, v.len, v.offload);
  }

  private periodicCount = 0;

  private periodic(): void {
    this.engine.tick(this.clock());
    if (this.periodicCount % 20 === 19) this.refreshLocalLater();
    if (this.engine.counters.superFramesDropped > 0 && !this.superFrameHinted) this.hintSuperFrames();
    if (++this.periodicCount % 10 === 0) this.resolveNeighbours();
  }

  /** ARP for next hops we do not know yet (every second), and refresh known ones every 60 s. */
  resolveNeighbours(): void {
    const n = this.engine.neigh;
    const now = this.clock();
    for (let i = 0; i < n.size; i++) {
      const stale = n.valid[i] && now - n.learntAt[i]! > 60_000;
      if ((n.valid[i] && !stale) || now - n.lastRequest[i]! < 1000) continue;
      const req = this.engine.arpRequestFor(i);
      n.lastRequest[i] = now;
      if (req !== null) this.ports[req.iface]!.send(req.frame, req.frame.length);
    }
  }

  /**
   * Gratuitous ARP for every active VIP on the interfaces that answer for it, and an
   * unsolicited NA (RFC 4861 7.2.6) for every active IPv6 VIP on the interfaces that answer NS
   * for it; `times` times 1 s apart. A local VIP is announced by the kernel that owns it.
   */
  announceVips(times: number): void {
    const send = () => {
      for (const svcVip of this.vipInterfaces()) {
        const f = this.engine.gratuitousArp(svcVip.vip, svcVip.iface);
        this.ports[svcVip.iface]!.send(f, f.length);
      }
      for (const v of this.engine.vips6.list()) {
        if (!v.active || v.local) continue;
        for (let i = 0; i < this.ports.length; i++) {
          if (!(v.ndMask & (1 << i))) continue;
          const f = this.engine.unsolicitedNa(v.words, i);
          this.ports[i]!.send(f, f.length);
        }
      }
    };
    send();
    let left = times - 1;
    if (left > 0) {
      this.garpTimer = setInterval(() => {
        send();
        if (--left <= 0 && this.garpTimer) clearInterval(this.garpTimer);
      }, 1000);
    }
  }

  private vipInterfaces(): { vip: number; iface: number }[] {
    const out: { vip: number; iface: number }[] = [];
    const vips = this.engine.vipList();
    // A local VIP is announced by the kernel that owns it.
    for (const v of vips) for (let i = 0; i < this.ports.length; i++) if (v.arpMask & (1 << i) && v.active && !v.local) out.push({ vip: v.addr, iface: i });
    return out;
  }

  private announced = new Set<number>();
  private announced6 = new Set<string>();

  /** Services or servers changed: new capture filters and host-guard rules, new neighbours. */
  rulesChanged(): void {
    this.refreshLocal();
    if (this.timer) {
      // New VIPs are announced as at start; next hops of new servers are resolved now.
      const fresh = this.engine.vipList().filter((v) => !this.announced.has(v.addr));
      const fresh6 = this.engine.vips6.list().filter((v) => !this.announced6.has(v.text));
      if (fresh.length || fresh6.length) this.announceVips(1);
      this.resolveNeighbours();
    }
    for (const v of this.engine.vipList()) this.announced.add(v.addr);
    for (const v of this.engine.vips6.list()) this.announced6.add(v.text);
    const input = this.filterInput();
    const fanout = this.hooks.fanout === true && this.hooks.shard != null;
    // Fanout workers take ND through their ARP ring, like ARP, when any IPv6 service exists.
    const nd = (input.vips6?.length ?? 0) + (input.localVips6?.length ?? 0) + (input.natServers6?.length ?? 0) > 0;
    this.ports.forEach((p, i) => {
      const f = fanout ? buildFilter({ ...input, mac: p.mac, shard: null, arp: false }) : buildFilter({ ...input, mac: p.mac, shard: this.hooks.shard ?? null });
      if (this.lastFilter[i] !== f) {
        p.setFilter(f);
        if (fanout) {
          (p as RingPort).setFanoutProgram(fanoutProgram(this.hooks.shard!, [...input.vips, ...(input.localVips ?? []).map((v) => v.addr)]));
          (p as RingPort).setNeighbourFilter(nd);
        }
        this.lastFilter[i] = f;
      }
    });
    this.hooks.guard?.({
      devices: this.ports.map((p) => p.name),
      vips: input.vips,
      localServices: (input.localVips ?? []).flatMap((lv) => lv.services.map((s) => ({ ...s, addr: lv.addr }))),
      natServers: input.natServers,
      localAddrs: input.localAddrs,
      hostAddrs: input.hostAddrs,
      vips6: input.vips6 ?? [],
      localServices6: (input.localVips6 ?? []).flatMap((lv) => lv.services.map((s) => ({ ...s, addr: lv.addr }))),
      natServers6: input.natServers6 ?? [],
      hostAddrs6: input.hostAddrs6 ?? [],
    });
  }

  filterInput(): Omit<FilterInput, 'mac'> {
    // IPv4 from the AF_INET services only: an IPv6 service's addr is a hash fold, not an address.
    const services = this.engine.services.filter((s) => s.af === AF_INET);
    const local = new Set(this.engine.vipList().filter((v) => v.local).map((v) => v.addr >>> 0));
    const vips = [...new Set(services.map((s) => s.addr >>> 0))].filter((a) => !local.has(a));
    const localVips: NonNullable<FilterInput['localVips']> = [...local].map((addr) => ({
      addr,
      services: services.filter((s) => s.addr >>> 0 === addr).map((s) => ({ proto: protoName(s.proto), port: s.port })),
    }));
    const natServers: FilterInput['natServers'] = [];
    for (const s of services) {
      for (const d of s.dests) {
        if (repliesBypass(d.fwd) || d.af !== AF_INET) continue;
        natServers.push({ proto: protoName(s.proto), addr: d.addr, port: d.port || s.port });
      }
    }
    const localAddrs = services.some((s) => s.dests.some((d) => d.fwd === FWD_FNAT)) ? [...this.engine.fnat.addrs] : [];
    const hostAddrs = this.engine.ifaces.map((i) => i.ip >>> 0).filter((a) => a !== 0);
    return { vips, localVips, natServers, localAddrs, hostAddrs, ...this.filterInput6() };
  }

  /** The IPv6 half of filterInput: the same split, with text addresses. */
  private filterInput6(): Pick<FilterInput, 'vips6' | 'localVips6' | 'natServers6' | 'hostAddrs6'> {
    const services = this.engine.services.filter((s) => s.af === AF_INET6);
    const local = new Set(this.engine.vips6.list().filter((v) => v.local).map((v) => v.text));
    const text = new Map(services.map((s) => [s, formatIPv6(s.addr6, 0)]));
    const vips6 = [...new Set(text.values())].filter((a) => !local.has(a));
    // Full-NAT IPv6 local addresses: every frame to them is ours, as for a non-local VIP.
    const pool = this.engine.conns6.fnat;
    if (services.some((s) => s.dests.some((d) => d.fwd === FWD_FNAT))) {
      for (let i = 0; i < pool.size; i++) {
        const a = formatIPv6(pool.addrs, i);
        if (!vips6.includes(a)) vips6.push(a);
      }
    }
    const localVips6: NonNullable<FilterInput['localVips6']> = [...local].map((addr) => ({
      addr,
      services: services.filter((s) => text.get(s) === addr).map((s) => ({ proto: protoName(s.proto), port: s.port })),
    }));
    const natServers6: NonNullable<FilterInput['natServers6']> = [];
    for (const s of services) {
      for (const d of s.dests) {
        if (repliesBypass(d.fwd) || d.af !== AF_INET6) continue;
        natServers6.push({ proto: protoName(s.proto), addr: formatIPv6(d.addr6, 0), port: d.port || s.port });
      }
    }
    const hostAddrs6 = new Set<string>();
    for (const i of this.engine.ifaces) if (i.ll6) hostAddrs6.add(formatIPv6Bytes(i.ll6, 0));
    for (const a of this.host6) hostAddrs6.add(a);
    return { vips6, localVips6, natServers6, hostAddrs6: [...hostAddrs6] };
  }

  private superFrameHinted = false;
  /** Called once with the hint when the pcap backend first drops a super-frame. */
  onHint: ((msg: string) => void) | null = null;

  private hintSuperFrames(): void {
    this.superFrameHinted = true;
    const p = this.ports[this.engine.counters.superFrameIface];
    if (!p || !this.onHint) return;
    this.onHint(
      `warning: frames larger than the MTU of ${p.name} arrive (GRO/TSO super-frames) and --io pcap cannot send them whole: ` +
      `use the default ring backend, or turn merging off: ethtool -K ${p.name} gro off on this host, ` +
      `and ethtool -K <sender's interface> tso off gso off on the hosts that send them (counted as oversize)`,
    );
  }

  stop(): void {
    this.driver?.stop();
    if (this.timer) clearInterval(this.timer);
    if (this.garpTimer) clearInterval(this.garpTimer);
    this.timer = this.garpTimer = null;
    for (const p of this.ports) p.close();
  }
}

function protoName(proto: number): 'tcp' | 'udp' {
  return proto === IPPROTO_UDP ? 'udp' : 'tcp';
}
