/**
 * keepalived's VRRP instance state machine (INIT / BACKUP / MASTER / FAULT), pure.
 *
 * Mirrors vrrp.c (vrrp_state_backup, vrrp_state_master_rx, vrrp_state_master_tx,
 * vrrp_state_goto_master, vrrp_state_become_master, vrrp_state_leave_master) and
 * vrrp_scheduler.c (vrrp_init_state, vrrp_dispatcher_read_timeout, try_up_instance).
 *
 * No sockets and no timers inside: the driver calls handle(event, now) with a monotonic clock in
 * ms and carries out the returned actions, in order. One pending timer per name: 'arm-timer'
 * replaces any earlier one of that name, 'cancel-timer' removes it. Adverts must have passed
 * checkAdvert (checks.ts) first; rejected ones are simply not delivered, which in BACKUP is exactly
 * keepalived's "ignore_advert" (the down timer keeps running).
 *
 * Not modelled: sync groups, track scripts/interfaces weights, VMAC, IPsec AH counters, the
 * "rogue address owner" back-off, garp_master_refresh, delayed start.
 */
import type { VrrpAdvert } from './packet.js';
import type { NotifyKind, VrrpAction, VrrpEvent, VrrpInstanceConfig, VrrpState, VrrpTimer } from './instance-types.js';
import { VRRP_DOWN_TIMER_ADVERTS, VRRP_PRIO_OWNER, VRRP_PRIO_STOP, masterDownIntervalMs, skewMinMs, skewTimeMs } from './timers.js';

export type { NotifyKind, VrrpAction, VrrpEvent, VrrpInstanceConfig, VrrpState, VrrpTimer };

/** A timer event more than this much before its deadline is stale (re-armed since) and ignored. */
export const TIMER_SLACK_MS = 1;

export class VrrpStateMachine {
  readonly version: 2 | 3;
  readonly advertIntMs: number;
  private readonly cfg: VrrpInstanceConfig;
  private st: VrrpState = 'INIT';
  private started = false;
  private ifUp: boolean;
  private vipsOwned = false;
  private masterAdverIntMs: number;
  private deadline: Partial<Record<VrrpTimer, number>> = {};
  /** When preempt_delay ends (keepalived preempt_time); undefined = not running. */
  private preemptUntil: number | undefined;
  private master: { ip: number; priority: number; ip6?: Uint8Array } | undefined;

  constructor(cfg: VrrpInstanceConfig) {
    this.version = cfg.version ?? 2;
    this.advertIntMs = cfg.advertIntMs ?? 1000;
    const unit = this.version === 2 ? 1000 : 10;
    if (!Number.isInteger(cfg.vrid) || cfg.vrid < 1 || cfg.vrid > 255) throw new Error(`virtual_router_id must be 1..255, got ${cfg.vrid}`);
    if (!Number.isInteger(cfg.priority) || cfg.priority < 1 || cfg.priority > 255) throw new Error(`priority must be 1..255, got ${cfg.priority}`);
    if (this.advertIntMs <= 0 || this.advertIntMs % unit !== 0 || this.advertIntMs / unit > (this.version === 2 ? 255 : 4095)) {
      throw new Error(`advert_int ${this.advertIntMs} ms is not a valid VRRPv${this.version} interval`);
    }
    this.cfg = cfg;
    this.ifUp = cfg.interfaceUp ?? true;
    this.masterAdverIntMs = this.advertIntMs;
  }

  get state(): VrrpState {
    return this.st;
  }
  /** The router we last accepted as master (BACKUP), if any. */
  get currentMaster(): { ip: number; priority: number; ip6?: Uint8Array } | undefined {
    return this.master;
  }
  /** Deadline of a timer, or undefined when not armed. */
  timerDeadline(timer: VrrpTimer): number | undefined {
    return this.deadline[timer];
  }
  get skewMs(): number {
    return skewTimeMs(this.version, this.cfg.priority, this.masterAdverIntMs);
  }
  get masterDownIntervalMs(): number {
    const n = this.cfg.downTimerAdverts ?? VRRP_DOWN_TIMER_ADVERTS;
    return masterDownIntervalMs(this.version, this.cfg.priority, this.masterAdverIntMs, n);
  }

  /** The advert we send with `priority` (vrrp_build_vrrp_v2 / _v3). */
  advertPacket(priority: number): VrrpAdvert {
    const adv: VrrpAdvert = {
      version: this.version,
      vrid: this.cfg.vrid,
      priority,
      adverInt: this.version === 2 ? this.advertIntMs / 1000 : this.advertIntMs / 10,
      addresses: [...this.cfg.vips],
    };
    if (this.version === 2) {
      adv.authType = this.cfg.authType ?? 0;
      if (this.cfg.authData) adv.authData = this.cfg.authData;
    }
    return adv;
  }

  handle(event: VrrpEvent, now: number): VrrpAction[] {
    const out: VrrpAction[] = [];
    switch (event.type) {
      case 'start':
        if (this.st === 'INIT') this.start(now, out);
        break;
      case 'timer':
        this.onTimer(event.timer, now, out);
        break;
      case 'advert':
        if (event.advert.vrid !== this.cfg.vrid) break;
        if (this.st === 'BACKUP') this.backupRx(event.advert, event.srcIp, event.srcIp6, now, out);
        else if (this.st === 'MASTER') this.masterRx(event.advert, event.srcIp, event.srcIp6, now, out);
        break;
      case 'interface-down':
        this.ifUp = false;
        this.interfaceDown(out);
        break;
      case 'interface-up':
        this.ifUp = true;
        if (this.st === 'FAULT') this.comeUp(now, out);
        break;
      case 'shutdown':
        this.shutdown(out);
        break;
    }
    return out;
  }

  // --- transitions -------------------------------------------------------------------------

  /** vrrp_init_state */
  private start(now: number, out: VrrpAction[]): void {
    this.started = true;
    out.push({ type: 'set-vips', owned: false }); // vrrp_restore_interface(force): clear leftovers
    if (!this.ifUp) {
      this.setState('FAULT', out);
      out.push({ type: 'notify', kind: 'fault' });
      return;
    }
    if (this.cfg.initialState === 'MASTER' && this.cfg.priority === VRRP_PRIO_OWNER) {
      // keepalived arms a 1 us down timer from BACKUP; we take that transition at once.
      this.goToMaster(now, out);
      return;
    }
    this.enterBackup(out);
    out.push({ type: 'sync-daemon', role: 'backup' });
    // "state MASTER" below 255: wait one advert interval (+ minimal skew) for an existing master.
    const wait = this.cfg.initialState === 'MASTER' ? this.masterAdverIntMs + skewMinMs(this.version, this.masterAdverIntMs) : this.masterDownIntervalMs;
    this.arm('advert', now + wait, out);
  }

  private onTimer(timer: VrrpTimer, now: number, out: VrrpAction[]): void {
    const due = this.deadline[timer];
    if (due === undefined || now + TIMER_SLACK_MS < due) return; // cancelled or re-armed since
    delete this.deadline[timer];
    if (timer === 'garp') {
      if (this.st === 'MASTER' && this.vipsOwned) this.sendGarps(out);
      return;
    }
    if (this.st === 'BACKUP') this.goToMaster(now, out); // master down timer expired
    else if (this.st === 'MASTER') this.masterTx(now, out);
  }

  /** vrrp_state_goto_master + vrrp_state_master_tx */
  private goToMaster(now: number, out: VrrpAction[]): void {
    this.setState('MASTER', out);
    this.masterAdverIntMs = this.advertIntMs;
    this.master = undefined;
    this.masterTx(now, out);
  }

  /** vrrp_state_master_tx: the advert goes first so the old master drops the VIPs before our GARPs. */
  private masterTx(now: number, out: VrrpAction[]): void {
    this.sendAdvert(this.cfg.priority, out);
    if (!this.vipsOwned) this.becomeMaster(now, out);
    this.arm('advert', now + this.advertIntMs, out);
  }

  /** vrrp_state_become_master */
  private becomeMaster(now: number, out: VrrpAction[]): void {
    this.vipsOwned = true;
    out.push({ type: 'set-vips', owned: true });
    this.sendGarps(out);
    const delay = this.cfg.garpMasterDelayMs ?? 5000;
    if (delay > 0) this.arm('garp', now + delay, out);
    out.push({ type: 'notify', kind: 'master' });
    out.push({ type: 'sync-daemon', role: 'master' });
  }

  /** vrrp_state_backup */
  private backupRx(adv: VrrpAdvert, src: number, src6: Uint8Array | undefined, now: number, out: VrrpAction[]): void {
    const mine = this.cfg.priority;
    const delay = this.cfg.preemptDelayMs ?? 0;
    if (adv.priority === VRRP_PRIO_STOP) {
      // The master is stopping: take over after only the skew time.
      this.arm('advert', now + this.skewMs, out);
      return;
    }
    const preemptDelayRunning = delay > 0 && (this.preemptUntil === undefined || this.preemptUntil > now);
    if (this.cfg.nopreempt || adv.priority >= mine || preemptDelayRunning) {
      if (this.version === 3) this.masterAdverIntMs = adv.adverInt * 10; // RFC 5798: learn Master_Adver_Interval
      this.master = masterOf(src, src6, adv.priority);
      if (delay > 0) {
        if (adv.priority >= mine) this.preemptUntil = undefined;
        else if (this.preemptUntil === undefined) this.preemptUntil = now + delay;
      }
      this.arm('advert', now + this.masterDownIntervalMs, out);
      return;
    }
    // Lower priority and we may preempt: ignore it, so our down timer runs out.
    this.master = masterOf(src, src6, adv.priority);
  }

  /** vrrp_state_master_rx (+ the timer reset done by vrrp_dispatcher_read) */
  private masterRx(adv: VrrpAdvert, src: number, src6: Uint8Array | undefined, now: number, out: VrrpAction[]): void {
    const mine = this.cfg.priority;
    const own6 = this.cfg.primaryIp6;
    // vrrp_saddr_cmp: > 0 when theirs is higher
    const cmp = own6 !== undefined && src6 !== undefined ? compareBytes(src6, own6) : compareAddr(src, this.cfg.primaryIp);
    const resetTimer = !this.cfg.lowerPrioNoAdvert;
    const theyWin = adv.priority > mine || (adv.priority === mine && cmp > 0);
    if (adv.priority === VRRP_PRIO_STOP || (this.cfg.higherPrioSendAdvert && theyWin)) {
      this.sendAdvert(mine, out);
      if (adv.priority === VRRP_PRIO_STOP) {
        if (resetTimer) this.arm('advert', now + this.advertIntMs, out);
        return;
      }
    }
    if (adv.priority < mine || (adv.priority === mine && cmp < 0)) {
      // A lower-priority router thinks it is master: advertise now to force a new election.
      if (!this.cfg.lowerPrioNoAdvert) this.sendAdvert(mine, out);
      out.push({ type: 'notify', kind: 'master-rx-lower-pri' });
    } else if (theyWin) {
      if (this.version === 3) this.masterAdverIntMs = adv.adverInt * 10;
      this.master = masterOf(src, src6, adv.priority);
      this.leaveMaster(out);
      this.arm('advert', now + this.masterDownIntervalMs, out);
      return;
    }
    if (resetTimer) this.arm('advert', now + this.advertIntMs, out);
  }

  /** vrrp_state_leave_master towards BACKUP (no priority-0 advert: the winner is already master). */
  private leaveMaster(out: VrrpAction[]): void {
    if (this.vipsOwned) out.push({ type: 'sync-daemon', role: 'backup' });
    this.releaseVips(out);
    this.enterBackup(out);
  }

  private interfaceDown(out: VrrpAction[]): void {
    if (this.st === 'MASTER') {
      // leave_master with wantstate FAULT: tell the others at once with priority 0.
      if (this.vipsOwned) out.push({ type: 'sync-daemon', role: 'backup' });
      this.sendAdvert(VRRP_PRIO_STOP, out);
      this.releaseVips(out);
    } else if (this.st !== 'BACKUP') return;
    this.cancelAll(out);
    this.setState('FAULT', out);
    out.push({ type: 'notify', kind: 'fault' });
  }

  /** try_up_instance + vrrp_state_leave_fault */
  private comeUp(now: number, out: VrrpAction[]): void {
    if (!this.started) return;
    this.masterAdverIntMs = this.advertIntMs;
    if (this.cfg.initialState === 'MASTER' && this.cfg.priority === VRRP_PRIO_OWNER) {
      this.goToMaster(now, out);
      return;
    }
    this.enterBackup(out);
    this.arm('advert', now + this.masterDownIntervalMs, out);
  }

  private shutdown(out: VrrpAction[]): void {
    if (this.st === 'MASTER') {
      this.sendAdvert(VRRP_PRIO_STOP, out); // speeds up the backups' takeover (skew only)
      this.releaseVips(out);
    }
    if (this.st === 'INIT') return;
    this.cancelAll(out);
    this.setState('INIT', out);
    this.started = false;
    this.master = undefined;
    out.push({ type: 'notify', kind: 'stop' });
  }

  // --- helpers -----------------------------------------------------------------------------

  private enterBackup(out: VrrpAction[]): void {
    this.setState('BACKUP', out);
    this.preemptUntil = undefined;
    out.push({ type: 'notify', kind: 'backup' });
  }

  private releaseVips(out: VrrpAction[]): void {
    if (this.deadline.garp !== undefined) {
      delete this.deadline.garp;
      out.push({ type: 'cancel-timer', timer: 'garp' });
    }
    this.vipsOwned = false;
    out.push({ type: 'set-vips', owned: false });
  }

  private sendAdvert(priority: number, out: VrrpAction[]): void {
    out.push({ type: 'send-advert', priority, advert: this.advertPacket(priority) });
  }

  private sendGarps(out: VrrpAction[]): void {
    const repeat = this.cfg.garpMasterRepeat ?? 5;
    if (repeat > 0 && this.cfg.vips.length > 0) out.push({ type: 'send-garps', vips: this.cfg.vips, repeat });
  }

  private arm(timer: VrrpTimer, at: number, out: VrrpAction[]): void {
    this.deadline[timer] = at;
    out.push({ type: 'arm-timer', timer, at });
  }

  private cancelAll(out: VrrpAction[]): void {
    for (const t of ['advert', 'garp'] as const) {
      if (this.deadline[t] !== undefined) {
        delete this.deadline[t];
        out.push({ type: 'cancel-timer', timer: t });
      }
    }
  }

  private setState(to: VrrpState, out: VrrpAction[]): void {
    if (to !== this.st) out.push({ type: 'state', from: this.st, to });
    this.st = to;
  }
}

function masterOf(ip: number, ip6: Uint8Array | undefined, priority: number): { ip: number; priority: number; ip6?: Uint8Array } {
  return ip6 === undefined ? { ip, priority } : { ip, priority, ip6 };
}

/** Comparison of two IPv6 addresses as four host-order words in turn (inet_inaddrcmp for AF_INET6), i.e. byte order. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Unsigned comparison of two IPv4 addresses (inet_inaddrcmp compares host-order values). */
function compareAddr(a: number, b: number): number {
  return (a >>> 0) - (b >>> 0);
}
