/**
 * The connection lifecycle of IPVS (ip_vs_conn.c, ip_vs_core.c): scheduling a new flow
 * (ip_vs_schedule, ip_vs_sched_persist), creating and binding its entry (ip_vs_conn_new,
 * ip_vs_bind_dest), the TCP state moves that shift a server's active/inactive counts
 * (set_tcp_state), templates (ip_vs_check_template), and expiry (ip_vs_conn_expire,
 * ip_vs_unbind_dest). Entries received by sync (conn-sync.ts) use the same helpers.
 */
import * as ipv4 from '../packet/ipv4.js';
import { ConnTable, CF_INACTIVE, CF_IN_REVERSE, CF_NOOUTPUT, CF_SYNCED, CF_TEMPLATE, NONE } from '../table/conn-table.js';
import { S_NONE, S_UDP, STATE_ACTIVE, nextSecureTcpState, nextTcpState } from '../table/tcp-state.js';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT } from '../sched/types.js';
import { markAfterBind } from '../sched/thresholds.js';
import { mayReschedule, postponeIfControlling, templateUsable, unbindEntry } from './dest-counts.js';
import { FWD_FNAT, RealServer, VirtualService, repliesBypass } from './model.js';
import { FnatPool } from './fnat-pool.js';
import { countConn } from './counters.js';
import type { FrameCtx } from './frame-ctx.js';
import type { ServiceTable } from './service-table.js';
import type { Hooks, Settings } from './settings.js';
import { Guard } from '../defense/guard.js';

const NEW_CONN_TIMEOUT_MS = 3_000; // ip_vs_conn_new, replaced by the first state transition

/** schedule()'s failures; a result >= table capacity is one-packet scheduling (capacity + dest id). */
export const SCHED_NO_DEST = -1;
export const SCHED_TABLE_FULL = -2;
export const SCHED_FNAT_EXHAUSTED = -3;

export class Conns {
  private readonly f: FrameCtx;
  readonly table: ConnTable;
  readonly services: ServiceTable;
  private readonly settings: Settings;
  private readonly hooks: Hooks;
  /** Per-state timeouts (settings.timeoutsMs, the same array). */
  private readonly timeoutsMs: Float64Array;
  readonly fnat = new FnatPool();
  /** New-connection defences (src/defense): drop_entry, drop_packet, secure_tcp, rate caps. */
  readonly guard: Guard;
  private readonly expireFn: (e: number) => void;

  constructor(f: FrameCtx, table: ConnTable, services: ServiceTable, settings: Settings, hooks: Hooks) {
    this.f = f;
    this.table = table;
    this.services = services;
    this.settings = settings;
    this.hooks = hooks;
    this.timeoutsMs = settings.timeoutsMs;
    this.expireFn = (e) => this.expire(e);
    this.guard = new Guard(table, (e) => this.unbindAndFree(e));
  }

  /** Run the timer wheel up to `now` (every frame past the next tick, and from tick()). */
  advance(now: number): void {
    this.table.timers.advance(now, this.expireFn);
  }

  /** is_new_conn_expected (conn_reuse_mode), and expire_nodest_conn for quiesced servers. */
  mayReschedule(e: number): boolean {
    const t = this.table;
    return mayReschedule(this.settings, this.services.dests[t.dest[e]!]!, t.state[e]!, t.flags[e]!);
  }

  /**
   * ip_vs_schedule / ip_vs_sched_persist. Returns the new entry, a SCHED_* failure, or
   * capacity + dest id for one-packet scheduling (no entry is created).
   */
  schedule(b: Uint8Array, ifi: number, svc: VirtualService, proto: number, caddr: number, cport: number, vaddr: number, vport: number): number {
    const t = this.table;
    let tmpl = NONE;
    let d: RealServer | null;
    if (svc.flags & SVC_F_PERSISTENT) {
      const snet = caddr & svc.netmask;
      const tvport = svc.port === 21 ? 0 : vport;
      tmpl = t.findForward(proto, snet, 0, vaddr, tvport, true);
      if (tmpl !== NONE && !this.templateValid(tmpl)) {
        this.invalidateTemplate(tmpl);
        tmpl = NONE;
      }
      if (tmpl === NONE) {
        d = this.pick(svc, caddr, cport);
        if (d === null) return SCHED_NO_DEST;
        tmpl = t.insert(proto, snet, 0, vaddr, tvport, d.addr, svc.port === 21 ? 0 : d.port, snet, 0, CF_TEMPLATE);
        if (tmpl === NONE) return SCHED_TABLE_FULL;
        this.bind(tmpl, svc, d);
        t.state[tmpl] = S_NONE;
        t.timeoutMs[tmpl] = svc.timeoutS * 1000;
        d.persistConns++;
      } else {
        d = this.services.dests[t.dest[tmpl]!]!;
      }
      t.timers.expiresAt[tmpl] = this.f.now + t.timeoutMs[tmpl]!; // conn_put(ct) restarts the template timer
      t.timers.rearm(tmpl);
    } else {
      d = this.pick(svc, caddr, cport);
      if (d === null) return SCHED_NO_DEST;
    }
    if ((svc.flags & SVC_F_ONEPACKET) && proto === ipv4.PROTO_UDP) return t.capacity + d.id;
    return this.newConn(b, ifi, svc, d, tmpl, proto, caddr, cport, vaddr, vport);
  }

  private pick(svc: VirtualService, caddr: number, cport: number): RealServer | null {
    const trace = this.hooks.trace;
    if (trace === null) return svc.scheduler.schedule(svc, caddr, cport);
    const inputs = svc.scheduler.explain(svc, caddr, cport);
    const d = svc.scheduler.schedule(svc, caddr, cport);
    trace(svc, d, caddr, cport, inputs);
    return d;
  }

  /** ip_vs_conn_new + ip_vs_bind_dest. */
  private newConn(
    b: Uint8Array, ifi: number, svc: VirtualService, d: RealServer, tmpl: number,
    proto: number, caddr: number, cport: number, vaddr: number, vport: number,
  ): number {
    const t = this.table;
    const dport = d.port !== 0 ? d.port : vport;
    let laddr = caddr;
    let lport = cport;
    let flags = CF_INACTIVE;
    if (repliesBypass(d.fwd)) flags |= CF_NOOUTPUT;
    else flags |= CF_IN_REVERSE;
    if (d.fwd === FWD_FNAT) {
      if (!this.fnat.allocate(t, proto, d.addr, dport)) return SCHED_FNAT_EXHAUSTED;
      laddr = this.fnat.addr;
      lport = this.fnat.port;
    }
    const e = t.insert(proto, caddr, cport, vaddr, vport, d.addr, dport, laddr, lport, flags);
    if (e === NONE) return SCHED_TABLE_FULL;
    this.bind(e, svc, d);
    t.state[e] = proto === ipv4.PROTO_TCP ? S_NONE : S_UDP;
    t.timeoutMs[e] = NEW_CONN_TIMEOUT_MS;
    for (let i = 0; i < 6; i++) t.cmac[e * 6 + i] = b[6 + i]!;
    t.ciface[e] = ifi;
    if (tmpl !== NONE) {
      t.control[e] = tmpl;
      t.nControl[tmpl]!++;
    }
    d.inactConns++;
    markAfterBind(d);
    countConn(this.f.counters, d, svc);
    return e;
  }

  /** The entry's forwarding method, server and service (ip_vs_bind_dest's fields). */
  bind(e: number, svc: VirtualService, d: RealServer): void {
    const t = this.table;
    t.fwd[e] = d.fwd;
    t.dest[e] = d.id;
    t.svc[e] = svc.id;
  }

  /** set_tcp_state: the next state of a TCP entry after a segment, and its timeout. */
  setTcpState(e: number, d: RealServer, dir: number, tflags: number): void {
    // secure_tcp in force: the kernel's tcp_states_dos table, and shorter handshakes (guard.ts);
    // the common case reads the normal timeout without a call.
    const secure = this.guard.levels.secureTcp;
    const t = this.table;
    const ns = secure ? nextSecureTcpState(dir, t.state[e]!, tflags) : nextTcpState(dir, t.state[e]!, tflags);
    this.setState(e, d, ns);
    this.table.timeoutMs[e] = secure ? this.guard.timeoutMs(ns, this.timeoutsMs) : this.timeoutsMs[ns]!;
  }

  /** Move to state ns, between ActiveConn and InActConn (dest-counts.ts moveState, inlined here for the IPv4 path). */
  setState(e: number, d: RealServer, ns: number): void {
    const t = this.table;
    if (ns === t.state[e]) return;
    const inactive = (t.flags[e]! & CF_INACTIVE) !== 0;
    if (!inactive && !STATE_ACTIVE[ns]) {
      d.activeConns--;
      d.inactConns++;
      t.flags[e] = t.flags[e]! | CF_INACTIVE;
    } else if (inactive && STATE_ACTIVE[ns]) {
      d.activeConns++;
      d.inactConns--;
      t.flags[e] = t.flags[e]! & ~CF_INACTIVE;
    }
    t.state[e] = ns;
  }

  /**
   * Set the client-side next hop (MAC at mac[off..off+6], interface) of an entry and clear
   * CF_SYNCED. Used per packet for synced entries, and by HA at takeover, where the kernel
   * would simply route the reply (ip_vs_out) and we look the client's next hop up instead.
   */
  setClientHop(e: number, mac: Uint8Array, off: number, ifi: number): void {
    const t = this.table;
    for (let i = 0; i < 6; i++) t.cmac[e * 6 + i] = mac[off + i]!;
    t.ciface[e] = ifi;
    t.flags[e] = t.flags[e]! & ~CF_SYNCED;
  }

  /** ip_vs_check_template. */
  private templateValid(tmpl: number): boolean {
    return templateUsable(this.settings, this.services.dests[this.table.dest[tmpl]!]);
  }

  /** An invalid template stops matching (the kernel rehashes it with vport 0xffff) and dies. */
  private invalidateTemplate(tmpl: number): void {
    if (this.table.nControl[tmpl] === 0) this.unbindAndFree(tmpl);
    else this.table.rekeyForward(tmpl, 0, 0xffff);
  }

  /** Timer expiry (ip_vs_conn_expire). */
  private expire(e: number): void {
    const t = this.table;
    if (!postponeIfControlling(t.nControl, t.timeoutMs, t.timers, e, this.f.now)) this.unbindAndFree(e);
  }

  /** ip_vs_unbind_dest + free; drops a deleted server once nothing refers to it. */
  unbindAndFree(e: number): void {
    const t = this.table;
    const d = this.services.dests[t.dest[e]!]!;
    unbindEntry(t.flags, t.control, t.nControl, e, d);
    t.remove(e);
    this.services.release(d);
  }
}
