/**
 * The connection lifecycle of conn.ts for IPv6 services, over ConnTable6: scheduling a new
 * flow (ip_vs_schedule, ip_vs_sched_persist with the prefix mask of an IPv6 service),
 * creating and binding its entry (ip_vs_conn_new), TCP state moves and expiry. The
 * counter moves and the reuse rule are dest-counts.ts, shared with IPv4; this file holds
 * what differs: 128-bit keys, passed as slots of the caller's scratch words (W_*).
 * Kept apart from conn.ts so the IPv4 path reads one table shape only.
 */
import * as ipv4 from '../packet/ipv4.js';
import { foldAddr6 } from '../packet/addr6.js';
import { AF_INET6 } from '../lvs/af.js';
import { CF_INACTIVE, CF_IN_REVERSE, CF_NOOUTPUT, CF_TEMPLATE, NONE } from '../table/conn-table.js';
import { ConnTable6, maskAddr6 } from '../table/conn-table6.js';
import { S_NONE, S_UDP, nextSecureTcpState, nextTcpState } from '../table/tcp-state.js';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT } from '../sched/types.js';
import { markAfterBind } from '../sched/thresholds.js';
import type { Guard } from '../defense/guard.js';
import { FWD_FNAT, RealServer, VirtualService, repliesBypass } from './model.js';
import { countConn } from './counters.js';
import { mayReschedule, moveState, postponeIfControlling, templateUsable, unbindEntry } from './dest-counts.js';
import { SCHED_FNAT_EXHAUSTED, SCHED_NO_DEST, SCHED_TABLE_FULL } from './conn.js';
import { Fnat6Pool } from './fnat-pool6.js';
import type { FrameCtx } from './frame-ctx.js';
import type { ServiceTable } from './service-table.js';
import type { Settings } from './settings.js';

/** Slots of the scratch words the IPv6 path fills per packet: client, VIP, template key. */
export const W_CLIENT = 0;
export const W_VIP = 1;
export const W_SNET = 2;
export const W_SLOTS = 3;

const NEW_CONN_TIMEOUT_MS = 3_000;

export class Conns6 {
  private readonly f: FrameCtx;
  readonly table: ConnTable6;
  /** Full-NAT IPv6 local addresses and ports. */
  readonly fnat = new Fnat6Pool();
  private readonly services: ServiceTable;
  private readonly settings: Settings;
  private readonly guard: Guard;
  private readonly timeoutsMs: Float64Array;
  /** The packet's addresses (W_* slots), filled by the IPv6 path before it calls in. */
  readonly w = new Int32Array(W_SLOTS * 4);
  private readonly expireFn: (e: number) => void;

  constructor(f: FrameCtx, table: ConnTable6, services: ServiceTable, settings: Settings, guard: Guard) {
    this.f = f;
    this.table = table;
    this.services = services;
    this.settings = settings;
    this.guard = guard;
    this.timeoutsMs = settings.timeoutsMs;
    this.expireFn = (e) => this.expire(e);
  }

  advance(now: number): void {
    this.table.timers.advance(now, this.expireFn);
  }

  /** The new-connection defences (defense/guard.ts), for the client's fold. */
  guardAdmit(svc: number, caddrFold: number, now: number): number {
    return this.guard.admit(svc, caddrFold, now);
  }

  mayReschedule(e: number): boolean {
    const t = this.table;
    return mayReschedule(this.settings, this.services.dests[t.dest[e]!]!, t.state[e]!, t.flags[e]!);
  }

  /** ip_vs_schedule / ip_vs_sched_persist for the client in w[W_CLIENT] to the VIP in w[W_VIP]. */
  schedule(b: Uint8Array, ifi: number, svc: VirtualService, proto: number, cport: number, vport: number): number {
    const t = this.table;
    const w = this.w;
    let tmpl = NONE;
    let d: RealServer | null;
    if (svc.flags & SVC_F_PERSISTENT) {
      maskAddr6(w, W_CLIENT, svc.mask6, w, W_SNET);
      const tvport = svc.port === 21 ? 0 : vport;
      tmpl = t.findForward(proto, w, W_SNET, 0, w, W_VIP, tvport, true);
      if (tmpl !== NONE && !this.templateValid(tmpl)) {
        if (t.nControl[tmpl] === 0) this.unbindAndFree(tmpl);
        else t.rekeyForward(tmpl, 0, 0xffff);
        tmpl = NONE;
      }
      if (tmpl === NONE) {
        d = this.pick(svc, cport);
        if (d === null) return SCHED_NO_DEST;
        tmpl = t.insert(proto, w, W_SNET, 0, w, W_VIP, tvport, AF_INET6, d.addr6, 0, svc.port === 21 ? 0 : d.port, w, W_SNET, 0, CF_TEMPLATE);
        if (tmpl === NONE) return SCHED_TABLE_FULL;
        this.bind(tmpl, svc, d);
        t.state[tmpl] = S_NONE;
        t.timeoutMs[tmpl] = svc.timeoutS * 1000;
        d.persistConns++;
      } else {
        d = this.services.dests[t.dest[tmpl]!]!;
      }
      t.timers.expiresAt[tmpl] = this.f.now + t.timeoutMs[tmpl]!;
      t.timers.rearm(tmpl);
    } else {
      d = this.pick(svc, cport);
      if (d === null) return SCHED_NO_DEST;
    }
    if ((svc.flags & SVC_F_ONEPACKET) && proto === ipv4.PROTO_UDP) return t.capacity + d.id;
    return this.newConn(b, ifi, svc, d, tmpl, proto, cport, vport);
  }

  /** The schedulers hash an IPv6 client by its fold, as ip_vs_sh_hashkey / ip_vs_mh_hashkey do. */
  private pick(svc: VirtualService, cport: number): RealServer | null {
    return svc.scheduler.schedule(svc, foldAddr6(this.w, W_CLIENT), cport);
  }

  private newConn(b: Uint8Array, ifi: number, svc: VirtualService, d: RealServer, tmpl: number, proto: number, cport: number, vport: number): number {
    const t = this.table;
    const w = this.w;
    const dport = d.port !== 0 ? d.port : vport;
    const flags = CF_INACTIVE | (repliesBypass(d.fwd) ? CF_NOOUTPUT : CF_IN_REVERSE);
    // NAT: replies come from the server to the client, so the reverse key's local end is the
    // client; full-NAT: to a local address and port of ours.
    let l = w;
    let ls = W_CLIENT;
    let lport = cport;
    if (d.fwd === FWD_FNAT) {
      const pool = this.fnat;
      if (!pool.allocate(t, proto, d.addr6, 0, dport)) return SCHED_FNAT_EXHAUSTED;
      l = pool.addrs;
      ls = pool.slot;
      lport = pool.port;
    }
    const e = t.insert(proto, w, W_CLIENT, cport, w, W_VIP, vport, AF_INET6, d.addr6, 0, dport, l, ls, lport, flags);
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

  private bind(e: number, svc: VirtualService, d: RealServer): void {
    const t = this.table;
    t.fwd[e] = d.fwd;
    t.dest[e] = d.id;
    t.svc[e] = svc.id;
  }

  /** set_tcp_state, as Conns.setTcpState. */
  setTcpState(e: number, d: RealServer, dir: number, tflags: number): void {
    const t = this.table;
    const secure = this.guard.levels.secureTcp;
    const ns = secure ? nextSecureTcpState(dir, t.state[e]!, tflags) : nextTcpState(dir, t.state[e]!, tflags);
    moveState(t.state, t.flags, e, d, ns);
    t.timeoutMs[e] = secure ? this.guard.timeoutMs(ns, this.timeoutsMs) : this.timeoutsMs[ns]!;
  }

  private templateValid(tmpl: number): boolean {
    return templateUsable(this.settings, this.services.dests[this.table.dest[tmpl]!]);
  }

  private expire(e: number): void {
    const t = this.table;
    if (!postponeIfControlling(t.nControl, t.timeoutMs, t.timers, e, this.f.now)) this.unbindAndFree(e);
  }

  unbindAndFree(e: number): void {
    const t = this.table;
    const d = this.services.dests[t.dest[e]!]!;
    unbindEntry(t.flags, t.control, t.nControl, e, d);
    t.remove(e);
    this.services.release(d);
  }
}
