/**
 * Runs keepalived-style VRRP instances (src/vrrp/state-machine.ts) for real: timers, adverts in
 * and out, gratuitous ARPs, the engine's VIP activity, notify scripts and the sync-daemon role.
 * What keepalived's vrrp_scheduler.c does around vrrp.c, for a balancer that owns no kernel VIP:
 * "adding the VIP" (vrrp_state_become_master) is engine.setVipActive(vip, true), so the master
 * answers ARP for it and balances it; a backup keeps it passive (seed 004's notify scripts did
 * this by hand so the backup would not re-balance the master's packets).
 *
 * An IPv6 instance (spec.ipv6, VRRPv3 over IPv6, RFC 9568) sends its adverts to ff02::12 from
 * the interface's link-local address (vrrp/packet6.ts), makes its VIPs active with
 * setVipActive6, and announces them at takeover with one unsolicited Neighbour Advertisement
 * per VIP, garp_master_repeat times and again after garp_master_delay, where an IPv4 instance
 * sends gratuitous ARPs (keepalived's vrrp_send_link_update: ndisc_send_unsolicited_na).
 * IPv4 and IPv6 instances have separate VRID spaces on an interface (RFC 9568 §7.3).
 *
 * I/O is injected: frames go out through `ports[ifIndex].send` (the runtime's ports), adverts
 * come in through receive() (fed by a VrrpCapture per interface), time comes from `clock`. Unit
 * tests drive it with MemoryPorts and a fake clock.
 */
import { buildAdvertFrame, buildGarpFrame, parseAdvertFrame, VRRP_MCAST_GROUP, GARP_FRAME_LENGTH } from '../vrrp/frame.js';
import { checkAdvert, type CheckCode } from '../vrrp/checks.js';
import { VrrpStateMachine, TIMER_SLACK_MS, type VrrpAction, type VrrpEvent, type VrrpState, type VrrpTimer } from '../vrrp/state-machine.js';
import type { VrrpAdvert } from '../vrrp/packet.js';
import type { VrrpRunnerInstance } from './vrrp-config.js';
import { formatIPv4 } from '../packet/addr.js';
import { formatIPv6Bytes } from '../packet/addr6.js';
import { buildAdvert6Frame, parseAdvert6Frame, VRRP6_MCAST_GROUP } from '../vrrp/packet6.js';

export interface HaClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export interface HaPort {
  readonly mac: Uint8Array;
  send(frame: Uint8Array, len: number): boolean;
}

export interface VrrpRunnerDeps {
  /** By engine interface index. */
  ports: readonly HaPort[];
  setVipActive(addr: number, active: boolean): void;
  /** An IPv6 VIP (four words) active (MASTER) or passive; needed by IPv6 instances. */
  setVipActive6?: (words: Int32Array, active: boolean) => void;
  /** The unsolicited NA frame for an IPv6 VIP on an interface (Engine.unsolicitedNa); needed by IPv6 instances. */
  unsolicitedNa?: (words: Int32Array, ifIndex: number) => Uint8Array;
  clock: HaClock;
  /** Run a notify script (command line, extra arguments). Default: none. */
  runNotify?: (command: string, args: string[], env: Record<string, string>) => void;
  /** keepalived lvs_sync_daemon: the instance became master / backup. */
  onSyncRole?: (instance: string, role: 'master' | 'backup') => void;
  onState?: (instance: string, from: VrrpState, to: VrrpState) => void;
  log?: (s: string) => void;
}

/** Per-instance counters, for metrics and `lb top`. */
export interface VrrpInstanceStats {
  advertsSent: number;
  advertsReceived: number;
  /** Adverts refused by vrrp_check_packet, by reason. */
  rejected: Partial<Record<CheckCode | 'malformed', number>>;
  garpsSent: number;
  /** Unsolicited Neighbour Advertisements sent (IPv6 instances; their GARP counterpart). */
  nasSent: number;
  becameMaster: number;
  becameBackup: number;
  becameFault: number;
  /** clock.now() of the last state change. */
  lastTransitionAt: number;
}

/**
 * Every frame handed to receive(), counted under exactly one outcome (per-instance counters
 * say which instance and why; these also count what no instance could).
 */
export interface VrrpRxStats {
  frames: number;
  /** Received while the runner is stopped. */
  notRunning: number;
  /** Not a VRRP advert the parser accepts (truncated, not IPv4/VRRP, bad version, ...). */
  malformed: number;
  /** A VRID no instance on that interface runs (another router's). */
  otherVrid: number;
  /** Refused by the checks (wrong auth, TTL, checksum, interval, ...). */
  rejected: number;
  accepted: number;
}

class RunningInstance {
  readonly spec: VrrpRunnerInstance;
  readonly sm: VrrpStateMachine;
  readonly timers = new Map<VrrpTimer, unknown>();
  readonly stats: VrrpInstanceStats = {
    advertsSent: 0, advertsReceived: 0, rejected: {}, garpsSent: 0, nasSent: 0, becameMaster: 0, becameBackup: 0, becameFault: 0, lastTransitionAt: 0,
  };
  vipsOwned = false;
  /** MACs of unicast peers, learnt from their adverts (else the frame goes to broadcast). */
  readonly peerMacs = new Map<number, Uint8Array>();
  /** IPv6 instance: its VIPs' text, in the order of the adverts' address list. */
  readonly vipTexts6: string[];

  constructor(spec: VrrpRunnerInstance) {
    this.spec = spec;
    this.sm = new VrrpStateMachine(spec.machine);
    this.vipTexts6 = spec.ipv6 ? spec.ipv6.vips.map((v) => v.text) : [];
  }
}

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export class VrrpRunner {
  readonly rx: VrrpRxStats = { frames: 0, notRunning: 0, malformed: 0, otherVrid: 0, rejected: 0, accepted: 0 };
  private readonly inst: RunningInstance[];
  private readonly deps: VrrpRunnerDeps;
  private readonly garpBuf = new Uint8Array(GARP_FRAME_LENGTH);
  private running = false;

  constructor(instances: readonly VrrpRunnerInstance[], deps: VrrpRunnerDeps) {
    const ids = new Set<string>();
    for (const s of instances) {
      const key = `${s.ifIndex}/${s.ipv6 ? 6 : 4}/${s.machine.vrid}`;
      if (ids.has(key)) throw new Error(`vrrp_instance ${s.name}: another ${s.ipv6 ? 'IPv6' : 'IPv4'} instance already uses virtual_router_id ${s.machine.vrid} on that interface`);
      ids.add(key);
      if (!deps.ports[s.ifIndex]) throw new Error(`vrrp_instance ${s.name}: no port for interface index ${s.ifIndex}`);
      if (s.ipv6 && (!deps.setVipActive6 || !deps.unsolicitedNa)) throw new Error(`vrrp_instance ${s.name}: IPv6 instance without setVipActive6/unsolicitedNa`);
    }
    this.inst = instances.map((s) => new RunningInstance(s));
    this.deps = deps;
  }

  /** vrrp_init_state for every instance: VIPs passive, then BACKUP (or MASTER at once for an owner). */
  start(): void {
    this.running = true;
    for (const i of this.inst) this.dispatch(i, { type: 'start' });
  }

  /** Shutdown: a master sends its priority-0 advert and releases the VIPs; timers stop. */
  stop(): void {
    if (!this.running) return;
    for (const i of this.inst) this.dispatch(i, { type: 'shutdown' });
    for (const i of this.inst) for (const h of i.timers.values()) this.deps.clock.clearTimer(h);
    this.running = false;
  }

  /** A captured frame (only protocol 112 is expected; anything else is counted malformed). */
  receive(ifIndex: number, frame: Uint8Array, len: number): void {
    this.rx.frames++;
    if (!this.running) {
      this.rx.notRunning++;
      return;
    }
    if (len >= 14 && frame[12] === 0x86 && frame[13] === 0xdd) {
      this.receive6(ifIndex, frame, len);
      return;
    }
    let parsed;
    try {
      parsed = parseAdvertFrame(frame, len);
    } catch {
      this.rx.malformed++;
      for (const i of this.inst) if (i.spec.ifIndex === ifIndex && !i.spec.ipv6) bump(i.stats.rejected, 'malformed');
      return;
    }
    const i = this.inst.find((x) => x.spec.ifIndex === ifIndex && !x.spec.ipv6 && x.spec.machine.vrid === parsed.advert.vrid);
    if (!i) { // another router's VRID: not ours (vrrp_dispatcher_read finds no instance)
      this.rx.otherVrid++;
      return;
    }
    const verdict = checkAdvert(
      { advert: parsed.advert, srcIp: parsed.srcIp, dstIp: parsed.dstIp, ttl: parsed.ttl, checksumOk: parsed.vrrpChecksumOk && parsed.ipChecksumOk, vrrpLength: parsed.vrrpLength },
      i.spec.checks,
    );
    if (verdict.verdict !== 'ok') {
      this.rx.rejected++;
      bump(i.stats.rejected, verdict.code ?? 'malformed');
      return;
    }
    this.rx.accepted++;
    i.stats.advertsReceived++;
    if (i.spec.unicastPeers.includes(parsed.srcIp)) i.peerMacs.set(parsed.srcIp, frame.slice(6, 12));
    this.dispatch(i, { type: 'advert', advert: parsed.advert, srcIp: parsed.srcIp });
  }

  /**
   * A VRRPv3 advert over IPv6: parseAdvert6Frame does RFC 9568 §7.1's first checks (next
   * header 112, hop limit 255, checksum over the pseudo-header; failures count as malformed),
   * then the length and checkAdvert's (vrrp_check_packet) with the addresses as indices of
   * ours (an address we do not have gets an index past our list) and the destination's
   * multicast-ness in the IPv4 terms checkAdvert reads.
   */
  private receive6(ifIndex: number, frame: Uint8Array, len: number): void {
    let parsed;
    try {
      parsed = parseAdvert6Frame(frame, len);
    } catch {
      this.rx.malformed++;
      for (const i of this.inst) if (i.spec.ifIndex === ifIndex && i.spec.ipv6) bump(i.stats.rejected, 'malformed');
      return;
    }
    const a6 = parsed.advert;
    const i = this.inst.find((x) => x.spec.ifIndex === ifIndex && x.spec.ipv6 && x.spec.machine.vrid === a6.vrid);
    if (!i) {
      this.rx.otherVrid++;
      return;
    }
    const payloadLen = (frame[18]! << 8) | frame[19]!;
    if (payloadLen !== 8 + 16 * a6.addresses.length) {
      this.rx.rejected++;
      bump(i.stats.rejected, 'length');
      return;
    }
    const ours = i.vipTexts6;
    const advert: VrrpAdvert = {
      version: 3, type: a6.type ?? 1, vrid: a6.vrid, priority: a6.priority, adverInt: a6.adverInt,
      addresses: a6.addresses.map((text, j) => {
        const k = ours.indexOf(text);
        return k >= 0 ? k : ours.length + j;
      }),
    };
    const verdict = checkAdvert(
      { advert, srcIp: 0, dstIp: parsed.dstIp === VRRP6_MCAST_GROUP ? VRRP_MCAST_GROUP : 0, ttl: 255, checksumOk: true },
      i.spec.checks,
    );
    if (verdict.verdict !== 'ok') {
      this.rx.rejected++;
      bump(i.stats.rejected, verdict.code ?? 'malformed');
      return;
    }
    this.rx.accepted++;
    i.stats.advertsReceived++;
    this.dispatch(i, { type: 'advert', advert, srcIp: 0, srcIp6: frame.slice(22, 38) });
  }

  /** Link state of an interface (keepalived's netlink link watcher): FAULT while down. */
  setLink(ifIndex: number, up: boolean): void {
    if (!this.running) return;
    for (const i of this.inst) if (i.spec.ifIndex === ifIndex) this.dispatch(i, { type: up ? 'interface-up' : 'interface-down' });
  }

  /** Re-assert the VIPs' activity after the engine's VIP list changed (new services start active). */
  reapply(): void {
    for (const i of this.inst) this.setVips(i, i.vipsOwned);
  }

  /** Every IPv4 VIP some instance manages (VIPs outside VRRP stay always active). */
  managedVips(): number[] {
    return [...new Set(this.inst.flatMap((i) => (i.spec.ipv6 ? [] : i.spec.machine.vips)))];
  }

  /** Every IPv6 VIP some instance manages, as inet_ntop text. */
  managedVips6(): string[] {
    return [...new Set(this.inst.flatMap((i) => i.vipTexts6))];
  }

  /** vips: an IPv4 instance's; an IPv6 instance has vips6 (text) and, as BACKUP, master6. */
  status(): {
    name: string; ifIndex: number; vrid: number; priority: number; state: VrrpState; vips: number[]; master?: number;
    vips6?: string[]; master6?: string; stats: VrrpInstanceStats;
  }[] {
    return this.inst.map((i) => {
      const m = i.sm.currentMaster;
      const base = { name: i.spec.name, ifIndex: i.spec.ifIndex, vrid: i.spec.machine.vrid, priority: i.spec.machine.priority, state: i.sm.state };
      if (i.spec.ipv6) return { ...base, vips: [], vips6: [...i.vipTexts6], ...(m?.ip6 ? { master6: formatIPv6Bytes(m.ip6, 0) } : {}), stats: i.stats };
      return { ...base, vips: [...i.spec.machine.vips], ...(m ? { master: m.ip } : {}), stats: i.stats };
    });
  }

  state(name: string): VrrpState | undefined {
    return this.inst.find((i) => i.spec.name === name)?.sm.state;
  }

  // -----------------------------------------------------------------------------------------

  private dispatch(i: RunningInstance, ev: VrrpEvent): void {
    const actions = i.sm.handle(ev, this.deps.clock.now());
    for (const a of actions) this.act(i, a);
  }

  private act(i: RunningInstance, a: VrrpAction): void {
    const d = this.deps;
    switch (a.type) {
      case 'state':
        i.stats.lastTransitionAt = d.clock.now();
        if (a.to === 'MASTER') i.stats.becameMaster++;
        else if (a.to === 'BACKUP') i.stats.becameBackup++;
        else if (a.to === 'FAULT') i.stats.becameFault++;
        d.log?.(`vrrp: ${i.spec.name} (vrid ${i.spec.machine.vrid}, priority ${i.spec.machine.priority}): ${a.from} -> ${a.to}`);
        d.onState?.(i.spec.name, a.from, a.to);
        break;
      case 'send-advert':
        this.sendAdvert(i, a.advert);
        break;
      case 'set-vips': {
        i.vipsOwned = a.owned;
        this.setVips(i, a.owned);
        const names = i.spec.ipv6 ? i.vipTexts6 : i.spec.machine.vips.map(formatIPv4);
        if (a.owned || i.sm.state !== 'INIT') d.log?.(`vrrp: ${i.spec.name}: VIP ${names.join(', ')} ${a.owned ? 'active here' : 'passive here'}`);
        break;
      }
      case 'send-garps':
        this.sendGarps(i, a.vips, a.repeat);
        break;
      case 'notify':
        this.notify(i, a.kind);
        break;
      case 'sync-daemon':
        d.onSyncRole?.(i.spec.name, a.role);
        break;
      case 'arm-timer':
        this.arm(i, a.timer, a.at);
        break;
      case 'cancel-timer': {
        const h = i.timers.get(a.timer);
        if (h !== undefined) d.clock.clearTimer(h);
        i.timers.delete(a.timer);
        break;
      }
    }
  }

  private arm(i: RunningInstance, timer: VrrpTimer, at: number): void {
    const clock = this.deps.clock;
    const old = i.timers.get(timer);
    if (old !== undefined) clock.clearTimer(old);
    const fire = (): void => {
      i.timers.delete(timer);
      if (!this.running) return;
      const due = i.sm.timerDeadline(timer);
      if (due === undefined) return;
      // A host timer may fire a little early; the machine would ignore it as stale, so re-arm.
      if (clock.now() + TIMER_SLACK_MS < due) {
        i.timers.set(timer, clock.setTimer(fire, due - clock.now()));
        return;
      }
      this.dispatch(i, { type: 'timer', timer });
    };
    i.timers.set(timer, clock.setTimer(fire, Math.max(0, at - clock.now())));
  }

  private setVips(i: RunningInstance, owned: boolean): void {
    const v6 = i.spec.ipv6;
    if (v6) for (const v of v6.vips) this.deps.setVipActive6!(v.words, owned);
    else for (const v of i.spec.machine.vips) this.deps.setVipActive(v, owned);
  }

  /** vrrp_send_adv: to 224.0.0.18, or to each unicast peer in turn; an IPv6 instance to ff02::12. */
  private sendAdvert(i: RunningInstance, advert: VrrpAdvert): void {
    const port = this.deps.ports[i.spec.ifIndex]!;
    const v6 = i.spec.ipv6;
    if (v6) {
      const frame = buildAdvert6Frame(
        { vrid: advert.vrid, priority: advert.priority, adverInt: advert.adverInt, addresses: i.vipTexts6 },
        { srcMac: port.mac, srcIp: v6.src },
      );
      if (port.send(frame, frame.length)) i.stats.advertsSent++;
      return;
    }
    const srcIp = i.spec.machine.primaryIp;
    const dests = i.spec.unicastPeers.length ? i.spec.unicastPeers : [VRRP_MCAST_GROUP];
    for (const dstIp of dests) {
      const dstMac = dstIp === VRRP_MCAST_GROUP ? undefined : (i.peerMacs.get(dstIp) ?? BROADCAST);
      const frame = buildAdvertFrame(advert, { srcMac: port.mac, srcIp, dstIp, ...(dstMac ? { dstMac } : {}) });
      if (port.send(frame, frame.length)) i.stats.advertsSent++;
    }
  }

  /**
   * send_gratuitous_arp_immediate, garp_master_repeat times per VIP; for an IPv6 instance one
   * unsolicited NA per VIP instead (`vips` are then indices of spec.ipv6.vips).
   */
  private sendGarps(i: RunningInstance, vips: readonly number[], repeat: number): void {
    const port = this.deps.ports[i.spec.ifIndex]!;
    const v6 = i.spec.ipv6;
    if (v6) {
      for (let r = 0; r < repeat; r++) {
        for (const k of vips) {
          const frame = this.deps.unsolicitedNa!(v6.vips[k]!.words, i.spec.ifIndex);
          if (port.send(frame, frame.length)) i.stats.nasSent++;
        }
      }
      return;
    }
    for (let r = 0; r < repeat; r++) {
      for (const v of vips) {
        buildGarpFrame(v, port.mac, this.garpBuf);
        if (port.send(this.garpBuf, this.garpBuf.length)) i.stats.garpsSent++;
      }
    }
  }

  /**
   * notify_master / notify_backup / notify_fault / notify_stop run without arguments; the generic
   * `notify` script gets: INSTANCE <name> <MASTER|BACKUP|FAULT|STOP> <priority> (keepalived notify_instance_exec).
   */
  private notify(i: RunningInstance, kind: string): void {
    const run = this.deps.runNotify;
    if (!run) return;
    const n = i.spec.notify;
    const state = kind === 'master' ? 'MASTER' : kind === 'backup' ? 'BACKUP' : kind === 'fault' ? 'FAULT' : kind === 'stop' ? 'STOP' : null;
    if (state === null) return;
    const env = { TSLB_VRRP_INSTANCE: i.spec.name, TSLB_VRRP_STATE: state };
    const specific = kind === 'master' ? n.master : kind === 'backup' ? n.backup : kind === 'fault' ? n.fault : n.stop;
    if (specific) run(specific, [], env);
    if (n.any) run(n.any, ['INSTANCE', i.spec.name, state, String(i.spec.machine.priority)], env);
  }
}

function bump<K extends string>(o: Partial<Record<K, number>>, k: K): void {
  o[k] = (o[k] ?? 0) + 1;
}
