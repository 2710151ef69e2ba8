/**
 * Master side of connection sync, pure: which connections to send and how they are packed into
 * datagrams. Mirrors ip_vs_sync.c ip_vs_sync_conn / ip_vs_sync_conn_needed (with the default
 * sync_refresh_period = 0) and the buffer handling of ip_vs_sync_buff_create, sb_queue_tail and
 * get_curr_sync_buff.
 *
 * Per packet the data plane calls onPacket(conn, pkts, now), pkts being the connection's incoming
 * packet count including this packet (cp->in_pkts after atomic_inc_return in ip_vs_in):
 *   - one-packet (OPS) connections are never synced (their template still is considered);
 *   - TCP is synced only in ESTABLISHED, FIN_WAIT, CLOSE, CLOSE_WAIT, TIME_WAIT; a change to one
 *     of these other than ESTABLISHED is synced at once;
 *   - otherwise (and for UDP, ESTABLISHED) when pkts % period == threshold (period > 0), or when
 *     pkts == threshold (period 0): with "3 50" that is packets 3, 53, 103, ...
 *   - a template (persistence) is then considered with its own counter incremented; templates skip
 *     the packet rule, so with refresh period 0 the kernel re-sends the template each time a
 *     connection it controls sees a packet. We do the same.
 * SCTP is handled like UDP here (the kernel filters SCTP states; tslb does not balance SCTP).
 *
 * Memory is bounded: one open buffer of maxlen bytes plus at most maxQueued ready datagrams;
 * when the queue is full a finished buffer is dropped (and counted), as sb_queue_tail does.
 */
import { CONN_F_ONE_PACKET, CONN_F_TEMPLATE, DEFAULT_SYNC_MAXLEN, DEFAULT_SYNC_PERIOD, DEFAULT_SYNC_THRESHOLD, IPVS_SYNC_FLUSH_TIME_MS, IPVS_SYNC_QLEN_MAX } from './constants.js';
import { IPPROTO_TCP } from '../lvs/proto.js';
import { S_CLOSE, S_CLOSE_WAIT, S_ESTABLISHED, S_FIN_WAIT, S_TIME_WAIT } from '../lvs/conn-state.js';
import { SYNC_HEADER_LEN, SYNC_V6_ENTRY_LEN, encodeEntry, encodeEntry6Words, entryLength, writeHeader, type SyncConnEntry, type Sync6WordsEntry } from './message.js';

/**
 * The master's connection as the sync sender sees it (struct ip_vs_conn's sync bookkeeping):
 * the wire entry plus old_state, in_pkts and the controlling template. Not a second shape of
 * the synced entry: the wire shape is SyncConnEntry, and the backup's bridge into the table is
 * ha/sync-codec.ts toSyncedConn. `oldState` and a template's `inPkts` are updated in place.
 */
export interface SyncSourceConn extends SyncConnEntry {
  /** cp->old_state: the state last synced (or last forced); start it equal to `state`. */
  oldState: number;
  /** cp->in_pkts; only read/incremented for templates reached through `control`. */
  inPkts: number;
  /** cp->control: the persistence template (or other controller) of this connection. */
  control?: SyncSourceConn;
}

/** The IPv6 counterpart of SyncSourceConn: the wire entry with word addresses (struct ip_vs_sync_v6). */
export interface Sync6SourceConn extends Sync6WordsEntry {
  oldState: number;
  inPkts: number;
  control?: Sync6SourceConn;
}

/** What the sync decision reads (and old_state, which it writes), the same for both families. */
export interface SyncDecisionConn {
  protocol: number;
  flags: number;
  state: number;
  oldState: number;
}

export interface SyncBatcherConfig {
  syncid: number;
  /** sync_maxlen: biggest datagram payload. Default 1472. */
  maxlen?: number;
  /** sync_threshold[0], default 3. */
  threshold?: number;
  /** sync_threshold[1] (sync_period), default 50; 0 = only once at `threshold`. */
  period?: number;
  /** Send a partly filled buffer this long after its first entry. Default 2000 ms. */
  flushMs?: number;
  /** Ready datagrams kept at most; default 32. */
  maxQueued?: number;
}

/** TCP states ip_vs_sync_conn_needed syncs (as a bit set over the state numbers). */
export const TCP_SYNCED_STATES = (1 << S_ESTABLISHED) | (1 << S_FIN_WAIT) | (1 << S_CLOSE) | (1 << S_CLOSE_WAIT) | (1 << S_TIME_WAIT);

/**
 * ip_vs_sync_conn_needed with sync_refresh_period = 0. Updates conn.oldState when the kernel
 * would (only when it decides to sync).
 */
export function syncNeeded(conn: SyncDecisionConn, pkts: number, threshold = DEFAULT_SYNC_THRESHOLD, period = DEFAULT_SYNC_PERIOD): boolean {
  let force = false;
  if (!(conn.flags & CONN_F_TEMPLATE) && conn.protocol === IPPROTO_TCP) {
    if (conn.state >= 31 || !((1 << conn.state) & TCP_SYNCED_STATES)) return false;
    force = conn.state !== conn.oldState;
    if (force && conn.state !== S_ESTABLISHED) {
      conn.oldState = conn.state;
      return true;
    }
  }
  if (period > 0) {
    if (!(conn.flags & CONN_F_TEMPLATE) && pkts % period !== threshold) return false;
  } else if (pkts !== threshold) {
    return false;
  }
  conn.oldState = conn.state;
  return true;
}

interface OpenBuffer {
  bytes: Uint8Array;
  used: number;
  nrConns: number;
  firstUse: number;
}

export class SyncBatcher {
  private readonly syncid: number;
  private readonly maxlen: number;
  private readonly threshold: number;
  private readonly period: number;
  private readonly flushMs: number;
  private readonly maxQueued: number;
  private open: OpenBuffer | undefined;
  private readonly ready: Uint8Array[] = [];
  /** Finished datagrams dropped because the queue was full. */
  droppedBuffers = 0;
  /** Entries that were selected for sync (including templates). */
  entriesQueued = 0;

  constructor(cfg: SyncBatcherConfig) {
    this.syncid = cfg.syncid;
    this.maxlen = cfg.maxlen ?? DEFAULT_SYNC_MAXLEN;
    this.threshold = cfg.threshold ?? DEFAULT_SYNC_THRESHOLD;
    this.period = cfg.period ?? DEFAULT_SYNC_PERIOD;
    this.flushMs = cfg.flushMs ?? IPVS_SYNC_FLUSH_TIME_MS;
    this.maxQueued = cfg.maxQueued ?? IPVS_SYNC_QLEN_MAX;
    if (!Number.isInteger(this.syncid) || this.syncid < 0 || this.syncid > 255) throw new Error('syncid must be 0..255');
    if (this.maxlen < SYNC_HEADER_LEN + 36 || this.maxlen > 0xffff) throw new Error(`sync maxlen ${this.maxlen} out of range`);
  }

  /** ip_vs_sync_conn: consider `conn` (pkts = its packet count) and then its controller chain. */
  onPacket(conn: SyncSourceConn, pkts: number, now: number): void {
    let cp: SyncSourceConn | undefined = conn;
    let n = pkts;
    for (let depth = 0; cp && depth < 8; depth++) {
      if (!(cp.flags & CONN_F_ONE_PACKET) && syncNeeded(cp, n, this.threshold, this.period)) this.add(cp, now);
      const ctl: SyncSourceConn | undefined = cp.control;
      if (!ctl) break;
      n = ctl.flags & CONN_F_TEMPLATE ? ++ctl.inPkts : this.threshold;
      cp = ctl;
    }
  }

  /**
   * onPacket for an IPv6 connection (ip_vs_sync_conn with cp->af == AF_INET6): the same rule,
   * 72-byte ip_vs_sync_v6 entries in the same datagrams as the IPv4 ones (the kernel mixes them).
   */
  onPacket6(conn: Sync6SourceConn, pkts: number, now: number): void {
    let cp: Sync6SourceConn | undefined = conn;
    let n = pkts;
    for (let depth = 0; cp && depth < 8; depth++) {
      if (!(cp.flags & CONN_F_ONE_PACKET) && syncNeeded(cp, n, this.threshold, this.period)) {
        const off = this.reserve(SYNC_V6_ENTRY_LEN, now);
        this.commit(off + encodeEntry6Words(cp, this.open!.bytes, off));
      }
      const ctl: Sync6SourceConn | undefined = cp.control;
      if (!ctl) break;
      n = ctl.flags & CONN_F_TEMPLATE ? ++ctl.inPkts : this.threshold;
      cp = ctl;
    }
  }

  /** When the open buffer must be sent at the latest (undefined when empty). */
  nextFlushAt(): number | undefined {
    return this.open ? this.open.firstUse + this.flushMs : undefined;
  }

  /** Datagrams to send now: every full one, plus the open one if it is flushMs old (next_sync_buff). */
  takeReady(now: number): Uint8Array[] {
    if (this.open && now - this.open.firstUse >= this.flushMs) this.finish();
    return this.ready.splice(0);
  }

  /** Everything, including a partly filled buffer (e.g. when leaving MASTER). */
  flushAll(): Uint8Array[] {
    if (this.open) this.finish();
    return this.ready.splice(0);
  }

  /** Bytes held (open buffer capacity plus queued datagrams): bounded by (maxQueued + 1) * maxlen. */
  get heldBytes(): number {
    return (this.open?.bytes.length ?? 0) + this.ready.reduce((s, b) => s + b.length, 0);
  }

  private add(conn: SyncSourceConn, now: number): void {
    const len = entryLength(conn);
    const off = this.reserve(len, now);
    this.commit(off + encodeEntry(conn, this.open!.bytes, off));
  }

  /**
   * Room for one entry of `len` bytes in the open buffer (finishing a full one first): the
   * aligned offset to write it at. commit() counts it once written (an encoder that throws
   * leaves the buffer as it was).
   */
  private reserve(len: number, now: number): number {
    if (this.open) {
      const pad = (4 - this.open.used) & 3;
      if (this.open.used + pad + len > this.open.bytes.length || this.open.nrConns === 255) this.finish();
    }
    if (!this.open) {
      // ip_vs_sync_buff_create: an oversized entry still gets a buffer of its own.
      const cap = Math.max(len + SYNC_HEADER_LEN, this.maxlen);
      this.open = { bytes: new Uint8Array(cap), used: SYNC_HEADER_LEN, nrConns: 0, firstUse: now };
    }
    const b = this.open;
    return b.used + ((4 - b.used) & 3); // zero padding: the buffer is freshly zeroed
  }

  private commit(end: number): void {
    const b = this.open!;
    b.used = end;
    b.nrConns++;
    this.entriesQueued++;
  }

  private finish(): void {
    const b = this.open;
    this.open = undefined;
    if (!b || b.nrConns === 0) return;
    writeHeader(b.bytes, 0, this.syncid, b.used, b.nrConns);
    if (this.ready.length >= this.maxQueued) {
      this.droppedBuffers++;
      return;
    }
    this.ready.push(b.bytes.slice(0, b.used));
  }
}
