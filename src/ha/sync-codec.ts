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
 *
 * IPv6 (engine.table6): engine.hooks.sync6 calls onEntry6(e) the same way, and the entries go
 * out as ip_vs_sync_v6 in the same datagrams; the backup applies them with installSynced6
 * (dataplane/conn-sync6.ts). Not sent, and counted in `notSent6`: full-NAT entries (the wire
 * has no IPv6 local address: the tslb option carries an IPv4 one) and entries of an IPv4
 * tunnel server behind an IPv6 service (ip_vs_sync_v6 has no field for the server's family).
 */
import type { Engine, SyncedConn } from '../dataplane/engine.js';
import { installSynced6, type SyncedConn6 } from '../dataplane/conn-sync6.js';
import { parseIPv6 } from '../packet/addr6.js';
import { AF_INET6 } from '../lvs/af.js';
import { CF_INACTIVE, CF_NOOUTPUT, CF_TEMPLATE, NONE } from '../table/conn-table.js';
import { SyncBatcher, TCP_SYNCED_STATES, type Sync6SourceConn, type SyncBatcherConfig, type SyncSourceConn } from '../sync/batcher.js';
import { applySyncDatagram, type ApplyReport } from '../sync/apply.js';
import type { Sync6ConnEntry, SyncConnEntry } from '../sync/message.js';
import { CONN_F_DROUTE, CONN_F_FULLNAT, CONN_F_TUNNEL, CONN_F_INACTIVE, CONN_F_MASQ, CONN_F_NOOUTPUT, CONN_F_TEMPLATE, DEFAULT_SYNC_PERIOD, DEFAULT_SYNC_THRESHOLD } from '../sync/constants.js';
import { FWD_DR, FWD_FNAT, FWD_TUNNEL } from '../lvs/fwd.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../lvs/proto.js';
import { S_ESTABLISHED, S_UDP, UDP_S_NORMAL } from '../lvs/conn-state.js';

/** ip_vs_proc_conn: a template received without timeout lives 180 s (IP_VS_TEMPLATE_TIMEOUT). */
const TEMPLATE_TIMEOUT_MS = 180_000;

function blankConn(): SyncSourceConn {
  return { protocol: 0, flags: 0, state: 0, cport: 0, vport: 0, dport: 0, fwmark: 0, timeout: 0, caddr: 0, vaddr: 0, daddr: 0, oldState: 0, inPkts: 0 };
}

function blankConn6(): Sync6SourceConn {
  return { protocol: 0, flags: 0, state: 0, cport: 0, vport: 0, dport: 0, fwmark: 0, timeout: 0, addrs: new Int32Array(12), oldState: 0, inPkts: 0 };
}

/** The shadow arrays of SyncSource for table6, allocated at its first IPv6 entry. */
class Shadow6 {
  readonly oldState: Uint8Array;
  /** The client address (4 words) and ports the slot's old_state belongs to. */
  readonly ownerCaddr: Int32Array;
  readonly ownerPorts: Uint32Array;
  readonly tplPkts: Uint32Array;
  constructor(n: number) {
    this.oldState = new Uint8Array(n);
    this.ownerCaddr = new Int32Array(n * 4);
    this.ownerPorts = new Uint32Array(n);
    this.tplPkts = new Uint32Array(n);
  }
}

/**
 * The part of syncNeeded (batcher.ts) that says "no" without changing old_state: a TCP state
 * that is never synced, or the packet rule failing while no forced state change is pending.
 */
function surelyNotNeededFor(tcpConn: boolean, state: number, oldState: number, pkts: number, threshold: number, period: number): boolean {
  if (tcpConn) {
    if (state >= 31 || !((1 << state) & TCP_SYNCED_STATES)) return true;
    if (state !== oldState && state !== S_ESTABLISHED) return false;
  }
  return period > 0 ? pkts % period !== threshold : pkts !== threshold;
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
  private readonly conn6 = blankConn6();
  private readonly tmpl6 = blankConn6();
  private shadow6: Shadow6 | null = null;
  /** IPv6 entries due for sync that the wire cannot carry (see the file comment). */
  readonly notSent6 = { fullnat: 0, otherFamilyServer: 0 };

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

  /** surelyNotNeededFor entry e of the IPv4 table. */
  private surelyNotNeeded(e: number, pkts: number): boolean {
    const t = this.engine.table;
    if (t.flags[e]! & CF_TEMPLATE) return false;
    this.claim(e);
    return surelyNotNeededFor(t.proto[e] === IPPROTO_TCP, t.state[e]!, this.oldState[e]!, pkts, this.threshold, this.period);
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

  /** After a client packet on entry e of engine.table6 (engine.hooks.sync6). */
  onEntry6(e: number, now: number): void {
    const t = this.engine.table6;
    const sh = (this.shadow6 ??= new Shadow6(t.capacity));
    const ctl = t.control[e]!;
    const controlled = ctl !== NONE && t.live[ctl] === 1;
    if (!controlled && !(t.flags[e]! & CF_TEMPLATE)) {
      this.claim6(sh, e);
      if (surelyNotNeededFor(t.proto[e] === IPPROTO_TCP, t.state[e]!, sh.oldState[e]!, t.inPkts[e]!, this.threshold, this.period)) return;
    }
    if (t.fwd[e] === FWD_FNAT) {
      this.notSent6.fullnat++;
      return;
    }
    if (t.daf[e] !== AF_INET6) {
      this.notSent6.otherFamilyServer++;
      return;
    }
    this.view6(sh, e, this.conn6);
    if (controlled) {
      this.view6(sh, ctl, this.tmpl6);
      this.tmpl6.inPkts = sh.tplPkts[ctl]!;
      this.conn6.control = this.tmpl6;
    } else {
      this.conn6.control = undefined;
    }
    this.batcher.onPacket6(this.conn6, t.inPkts[e]!, now);
    sh.oldState[e] = this.conn6.oldState;
    if (this.conn6.control) {
      sh.oldState[ctl] = this.tmpl6.oldState;
      sh.tplPkts[ctl] = this.tmpl6.inPkts;
    }
  }

  /** claim for a table6 slot: its owner is the client address (4 words) and the two ports. */
  private claim6(sh: Shadow6, e: number): void {
    const t = this.engine.table6;
    const ports = ((t.cport[e]! << 16) | t.vport[e]!) >>> 0;
    const o = sh.ownerCaddr;
    const c = t.caddr;
    const i = e * 4;
    if (sh.ownerPorts[e] === ports && o[i] === c[i] && o[i + 1] === c[i + 1] && o[i + 2] === c[i + 2] && o[i + 3] === c[i + 3]) return;
    o[i] = c[i]!;
    o[i + 1] = c[i + 1]!;
    o[i + 2] = c[i + 2]!;
    o[i + 3] = c[i + 3]!;
    sh.ownerPorts[e] = ports;
    sh.oldState[e] = syncState(t.proto[e]!, t.state[e]!, (t.flags[e]! & CF_TEMPLATE) !== 0);
    sh.tplPkts[e] = 0;
  }

  /** view for a table6 entry: addresses copied as words (client, virtual, server). */
  private view6(sh: Shadow6, e: number, c: Sync6SourceConn): void {
    const t = this.engine.table6;
    const template = (t.flags[e]! & CF_TEMPLATE) !== 0;
    this.claim6(sh, e);
    c.protocol = t.proto[e]!;
    c.flags = syncFlags(t.fwd[e]!, t.flags[e]!);
    c.state = syncState(t.proto[e]!, t.state[e]!, template);
    c.oldState = sh.oldState[e]!;
    const a = c.addrs;
    const i = e * 4;
    for (let k = 0; k < 4; k++) {
      a[k] = t.caddr[i + k]!;
      a[4 + k] = t.vaddr[i + k]!;
      a[8 + k] = t.daddr[i + k]!;
    }
    c.cport = t.cport[e]!;
    c.vport = t.vport[e]!;
    c.dport = t.dport[e]!;
    c.fwmark = 0;
    c.timeout = Math.min(0xffffffff, Math.max(0, Math.round(t.timeoutMs[e]! / 1000)));
    c.inPkts = 0;
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

/** toSyncedConn for an IPv6 entry: the text addresses as words, the same timeout defaults. */
export function toSyncedConn6(e: Sync6ConnEntry, timeoutsMs: ArrayLike<number>): SyncedConn6 {
  const template = (e.flags & CONN_F_TEMPLATE) !== 0;
  const state = template ? 0 : e.protocol === IPPROTO_UDP ? S_UDP : e.state;
  const deflt = template ? TEMPLATE_TIMEOUT_MS : (timeoutsMs[state] ?? 0);
  const addrs = new Int32Array(12);
  [e.caddr, e.vaddr, e.daddr].forEach((text, slot) => {
    const w = parseIPv6(text);
    if (w === null) throw new Error(`sync entry address '${text}' is not IPv6`);
    addrs.set(w.subarray(0, 4), slot * 4);
  });
  return {
    proto: e.protocol, addrs, cport: e.cport, vport: e.vport, dport: e.dport,
    state, template, timeoutMs: e.timeout === 0 ? deflt : e.timeout * 1000,
    inactive: (e.flags & CONN_F_INACTIVE) !== 0,
  };
}

export interface ApplyToEngineResult extends ApplyReport {
  /** Entries the engine could not place (no such service or server here). */
  unbound: number;
}

/** Backup: validate a datagram and install/refresh its connections in the engine. */
export function applySyncToEngine(engine: Engine, dg: Uint8Array, syncid: number, now: number, onConn?: (c: SyncedConn) => void): ApplyToEngineResult {
  let unbound = 0;
  const parts6 = { table: engine.table6, registry: engine.registry, unbindAndFree: (e: number) => engine.conns6.unbindAndFree(e) };
  const report = applySyncDatagram(dg, {
    upsert: (u) => {
      const c = toSyncedConn(u, engine.settings.timeoutsMs);
      if (engine.syncConn(c, now)) onConn?.(c);
      else unbound++;
    },
    upsert6: (u) => {
      if (!installSynced6(parts6, toSyncedConn6(u, engine.settings.timeoutsMs), now)) unbound++;
    },
  }, { syncid, protocols: [IPPROTO_TCP, IPPROTO_UDP] });
  return { ...report, unbound };
}
