/**
 * Connection sync between the engine's table and IPVS sync messages (v1, src/sync/), pure.
 *
 * Master side (SyncSource): engine.hooks.sync calls onEntry(e) after each client packet; the entry is
 * viewed through one reusable SyncSourceConn (no allocation per packet) and handed to the
 * SyncBatcher, which applies ip_vs_sync_conn's rule (TCP states, sync_threshold "3 50",
 * templates with their controlled connection) and packs datagrams.
 * cp->old_state lives in a shadow array indexed by entry; an entry slot reused for another
 * connection is detected by its tuple and starts over, as a new ip_vs_conn would.
 *
 * Backup side (applySyncToEngine): ip_vs_proc_conn through Engine.syncConn, which binds the
 * connection to the local server with the same (proto, vaddr, vport, daddr, dport).
 */
import type { Engine, SyncedConn } from '../dataplane/engine.js';
import { CF_INACTIVE, CF_NOOUTPUT, CF_TEMPLATE, NONE } from '../table/conn-table.js';
import { SyncBatcher, TCP_SYNCED_STATES, type SyncBatcherConfig, type SyncSourceConn } from '../sync/batcher.js';
import { applySyncDatagram, type ApplyReport } from '../sync/apply.js';
import type { SyncConnEntry } from '../sync/message.js';
import { CONN_F_DROUTE, CONN_F_FULLNAT, CONN_F_TUNNEL, CONN_F_INACTIVE, CONN_F_MASQ, CONN_F_NOOUTPUT, CONN_F_TEMPLATE, DEFAULT_SYNC_PERIOD, DEFAULT_SYNC_THRESHOLD } from '../sync/constants.js';
import { FWD_DR, FWD_FNAT, FWD_TUNNEL } from '../lvs/fwd.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../lvs/proto.js';
import { S_ESTABLISHED, S_UDP, UDP_S_NORMAL } from '../lvs/conn-state.js';

/** ip_vs_proc_conn: a template received without timeout lives 180 s (IP_VS_TEMPLATE_TIMEOUT). */
const TEMPLATE_TIMEOUT_MS = 180_000;

function blankConn(): SyncSourceConn {
  return { protocol: 0, flags: 0, state: 0, cport: 0, vport: 0, dport: 0, fwmark: 0, timeout: 0, caddr: 0, vaddr: 0, daddr: 0, oldState: 0, inPkts: 0 };
}

export class SyncSource {
  readonly batcher: SyncBatcher;
  private readonly engine: Engine;
  private readonly conn = blankConn();
  private readonly tmpl = blankConn();
  /** Per entry: old_state, and the tuple it belongs to (to notice slot reuse). */
  private readonly oldState: Uint8Array;
  private readonly ownerCaddr: Int32Array;
  private readonly ownerPorts: Uint32Array;
  private readonly tplPkts: Uint32Array;

  private readonly threshold: number;
  private readonly period: number;

  constructor(engine: Engine, cfg: SyncBatcherConfig) {
    this.engine = engine;
    this.threshold = cfg.threshold ?? DEFAULT_SYNC_THRESHOLD;
    this.period = cfg.period ?? DEFAULT_SYNC_PERIOD;
    this.batcher = new SyncBatcher(cfg);
    const n = engine.table.capacity;
    this.oldState = new Uint8Array(n);
    this.ownerCaddr = new Int32Array(n);
    this.ownerPorts = new Uint32Array(n);
    this.tplPkts = new Uint32Array(n);
  }

  /** After a client packet on entry e (engine.hooks.sync). */
  onEntry(e: number, now: number): void {
    const t = this.engine.table;
    const ctl = t.control[e]!;
    const controlled = ctl !== NONE && t.live[ctl] === 1;
    // Fast path (most packets): no template and syncNeeded would say no; nothing to build.
    if (!controlled && this.surelyNotNeeded(e, t.inPkts[e]!)) return;
    this.view(e, this.conn);
    if (controlled) {
      this.view(ctl, this.tmpl);
      this.tmpl.inPkts = this.tplPkts[ctl]!;
      this.conn.control = this.tmpl;
    } else {
      this.conn.control = undefined; // not `delete`: keeps the object's shape (no dictionary mode)
    }
    this.batcher.onPacket(this.conn, t.inPkts[e]!, now);
    this.oldState[e] = this.conn.oldState;
    if (this.conn.control) {
      this.oldState[ctl] = this.tmpl.oldState;
      this.tplPkts[ctl] = this.tmpl.inPkts;
    }
  }

  /** Datagrams ready to send (full ones, and the open one once it is 2 s old). */
  take(now: number): Uint8Array[] {
    return this.batcher.takeReady(now);
  }

  flushAll(): Uint8Array[] {
    return this.batcher.flushAll();
  }

  /**
   * The part of syncNeeded (batcher.ts) that says "no" without changing old_state: a TCP state
   * that is never synced, or the packet rule failing while no forced state change is pending.
   */
  private surelyNotNeeded(e: number, pkts: number): boolean {
    const t = this.engine.table;
    if (t.flags[e]! & CF_TEMPLATE) return false;
    this.claim(e);
    const tcpConn = t.proto[e] === IPPROTO_TCP;
    const state = t.state[e]!;
    if (tcpConn) {
      if (state >= 31 || !((1 << state) & TCP_SYNCED_STATES)) return true;
      if (state !== this.oldState[e] && state !== S_ESTABLISHED) return false;
    }
    return this.period > 0 ? pkts % this.period !== this.threshold : pkts !== this.threshold;
  }

  /** A slot now holding another connection starts over, as a new ip_vs_conn would. */
  private claim(e: number): void {
    const t = this.engine.table;
    const ports = ((t.cport[e]! << 16) | t.vport[e]!) >>> 0;
    if (this.ownerCaddr[e] === t.caddr[e] && this.ownerPorts[e] === ports) return;
    this.ownerCaddr[e] = t.caddr[e]!;
    this.ownerPorts[e] = ports;
    this.oldState[e] = syncState(t.proto[e]!, t.state[e]!, (t.flags[e]! & CF_TEMPLATE) !== 0);
    this.tplPkts[e] = 0;
  }

  /** Fill `c` from table entry e, with old_state from the shadow array (reset on slot reuse). */
  private view(e: number, c: SyncSourceConn): void {
    const t = this.engine.table;
    const template = (t.flags[e]! & CF_TEMPLATE) !== 0;
    const state = syncState(t.proto[e]!, t.state[e]!, template);
    this.claim(e);
    c.protocol = t.proto[e]!;
    c.flags = syncFlags(t.fwd[e]!, t.flags[e]!);
    c.state = state;
    c.oldState = this.oldState[e]!;
    c.caddr = t.caddr[e]! >>> 0;
    c.cport = t.cport[e]!;
    c.vaddr = t.vaddr[e]! >>> 0;
    c.vport = t.vport[e]!;
    c.daddr = t.daddr[e]! >>> 0;
    c.dport = t.dport[e]!;
    c.fwmark = 0;
    c.timeout = Math.min(0xffffffff, Math.max(0, Math.round(t.timeoutMs[e]! / 1000)));
    c.inPkts = 0;
    c.fullnat = t.fwd[e] === FWD_FNAT && !template ? { laddr: t.laddr[e]! >>> 0, lport: t.lport[e]! } : undefined;
  }
}

/** Engine state -> IPVS wire state (TCP numbering is the kernel's; UDP has one state). */
export function syncState(proto: number, state: number, template: boolean): number {
  if (template) return 0;
  if (proto === IPPROTO_UDP || state === S_UDP) return UDP_S_NORMAL;
  return state;
}

/** Engine flags and method -> IP_VS_CONN_F_* (ip_vs_sync_conn_v0/v1 send cp->flags without HASHED). */
export function syncFlags(fwd: number, cf: number): number {
  let f = fwd === FWD_DR ? CONN_F_DROUTE : fwd === FWD_FNAT ? CONN_F_FULLNAT : fwd === FWD_TUNNEL ? CONN_F_TUNNEL : CONN_F_MASQ;
  if (cf & CF_TEMPLATE) f |= CONN_F_TEMPLATE;
  if (cf & CF_INACTIVE) f |= CONN_F_INACTIVE;
  if (cf & CF_NOOUTPUT) f |= CONN_F_NOOUTPUT;
  return f;
}

/**
 * The bridge from the wire to the table: a checked entry (validateSyncEntry) as Engine.syncConn
 * wants it, with the timeout defaults of ip_vs_proc_conn (0 = the state's timeout, 180 s for a template).
 */
export function toSyncedConn(e: SyncConnEntry, timeoutsMs: ArrayLike<number>): SyncedConn {
  const template = (e.flags & CONN_F_TEMPLATE) !== 0;
  const state = template ? 0 : e.protocol === IPPROTO_UDP ? S_UDP : e.state;
  const deflt = template ? TEMPLATE_TIMEOUT_MS : (timeoutsMs[state] ?? 0);
  const c: SyncedConn = {
    proto: e.protocol, caddr: e.caddr, cport: e.cport, vaddr: e.vaddr, vport: e.vport, daddr: e.daddr, dport: e.dport,
    state, template, timeoutMs: e.timeout === 0 ? deflt : e.timeout * 1000,
    inactive: (e.flags & CONN_F_INACTIVE) !== 0,
  };
  if (e.fullnat) {
    c.laddr = e.fullnat.laddr;
    c.lport = e.fullnat.lport;
  }
  return c;
}

export interface ApplyToEngineResult extends ApplyReport {
  /** Entries the engine could not place (no such service or server here). */
  unbound: number;
}

/** Backup: validate a datagram and install/refresh its connections in the engine. */
export function applySyncToEngine(engine: Engine, dg: Uint8Array, syncid: number, now: number, onConn?: (c: SyncedConn) => void): ApplyToEngineResult {
  let unbound = 0;
  const report = applySyncDatagram(dg, {
    upsert: (u) => {
      const c = toSyncedConn(u, engine.settings.timeoutsMs);
      if (engine.syncConn(c, now)) onConn?.(c);
      else unbound++;
    },
  }, { syncid, protocols: [IPPROTO_TCP, IPPROTO_UDP] });
  return { ...report, unbound };
}
