/**
 * Backup side of connection sync, pure: validate a received datagram and hand each usable entry to
 * the connection table through the SyncTarget interface (ha/sync-codec.ts applySyncToEngine implements it over the engine).
 * Mirrors ip_vs_process_message, ip_vs_proc_sync_conn and ip_vs_proc_conn (ip_vs_sync.c).
 *
 * Safety: the whole datagram is decoded and checked before anything is applied, so a malformed
 * datagram changes nothing (the kernel stops at the first bad entry but keeps the entries before it;
 * we are stricter). A lost datagram is harmless by design: every entry is a full, idempotent
 * snapshot of one connection, and the master re-sends active connections every `period` packets.
 */
import { CONN_F_BACKUP_MASK, CONN_F_BACKUP_UPD_MASK, CONN_F_FULLNAT, CONN_F_FWD_MASK, CONN_F_SYNC, CONN_F_TEMPLATE } from './constants.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../lvs/proto.js';
import { TCP_S_LAST, UDP_S_LAST } from '../lvs/conn-state.js';
import { decode, type Sync6ConnEntry, type SyncConnEntry } from './message.js';

/**
 * What the connection table must offer. Expected semantics, from ip_vs_proc_conn:
 *  - look up the connection by (protocol, caddr, cport, vaddr, vport) (templates: the template table);
 *  - if a non-template exists with another (daddr, dport): when the update is INACTIVE it is the
 *    expiry notice of a connection already replaced, so ignore it; otherwise expire the old one and
 *    create anew;
 *  - on an existing entry only CONN_F_BACKUP_UPD_MASK bits change (see mergeSyncFlags), moving the
 *    dest's active/inactive counters when INACTIVE flips;
 *  - a new entry is bound to the local dest with the same (vaddr, vport, daddr, dport, protocol,
 *    fwmark) if there is one, else kept unbound;
 *  - state, timeout and sequence data are always taken from the update; set in_pkts to the sync threshold.
 */
export interface SyncTarget {
  /**
   * A checked entry: flags masked with CONN_F_BACKUP_MASK and CONN_F_SYNC set
   * (ip_vs_proc_sync_conn); timeout 0 = the protocol's timeout for the state (180 s for a template).
   */
  upsert(entry: SyncConnEntry): void;
  /**
   * The same for an IPv6 entry (struct ip_vs_sync_v6, checked by validateSyncEntry6). A target
   * without it does not take IPv6: such entries are skipped with a reason.
   */
  upsert6?(entry: Sync6ConnEntry): void;
}

export interface ApplyOptions {
  /** Backup syncid; 0 accepts any. */
  syncid: number;
  /** Protocols the table supports; default TCP and UDP. */
  protocols?: readonly number[];
}

export interface ApplyReport {
  /** 'ok': entries applied; 'ignored': other syncid; 'malformed': nothing applied. */
  status: 'ok' | 'ignored' | 'malformed';
  error?: string;
  applied: number;
  /** index: the entry's position among the message's IPv4 entries, or among its IPv6 ones when `ipv6`. */
  skipped: { index: number; reason: string; ipv6?: true }[];
}

/** Number of states per protocol (pp->num_states). */
function numStates(protocol: number): number | undefined {
  if (protocol === IPPROTO_TCP) return TCP_S_LAST;
  if (protocol === IPPROTO_UDP) return UDP_S_LAST;
  return undefined;
}

/** Flags of an existing entry after an update (ip_vs_proc_conn): only INACTIVE and SEQ bits move. */
export function mergeSyncFlags(existing: number, incoming: number): number {
  return ((incoming & CONN_F_BACKUP_UPD_MASK) | (existing & ~CONN_F_BACKUP_UPD_MASK)) >>> 0;
}

/** Check one decoded entry; returns the entry as the table takes it, or the reason to skip it. */
export function validateSyncEntry(e: SyncConnEntry, protocols: readonly number[] = [IPPROTO_TCP, IPPROTO_UDP]): SyncConnEntry | string {
  if (e.unsupported) return e.unsupported;
  const flags = ((e.flags & CONN_F_BACKUP_MASK) | CONN_F_SYNC) >>> 0;
  if (!(flags & CONN_F_TEMPLATE)) {
    // ip_vs_proc_sync_conn: unknown protocol or out-of-range state skips the entry.
    const n = numStates(e.protocol);
    if (n === undefined || !protocols.includes(e.protocol)) return `unsupported protocol ${e.protocol}`;
    if (e.state >= n) return `invalid state ${e.state} for protocol ${e.protocol}`;
  }
  // Our additions: values no table should ever hold.
  if (e.vaddr === 0 || e.daddr === 0) return 'zero virtual or real-server address';
  if ((flags & CONN_F_FWD_MASK) === CONN_F_FULLNAT && !e.fullnat) return 'full-NAT entry without its local address';
  return { ...e, flags };
}

/** The IPv4 entry checks for an IPv6 entry; a full-NAT one cannot be placed (no IPv6 local address on the wire). */
export function validateSyncEntry6(e: Sync6ConnEntry, protocols: readonly number[] = [IPPROTO_TCP, IPPROTO_UDP]): Sync6ConnEntry | string {
  if (e.unsupported) return e.unsupported;
  const flags = ((e.flags & CONN_F_BACKUP_MASK) | CONN_F_SYNC) >>> 0;
  if (!(flags & CONN_F_TEMPLATE)) {
    const n = numStates(e.protocol);
    if (n === undefined || !protocols.includes(e.protocol)) return `unsupported protocol ${e.protocol}`;
    if (e.state >= n) return `invalid state ${e.state} for protocol ${e.protocol}`;
  }
  if (e.vaddr === '::' || e.daddr === '::') return 'zero virtual or real-server address';
  if ((flags & CONN_F_FWD_MASK) === CONN_F_FULLNAT) return 'full-NAT IPv6 entry: the sync format carries no IPv6 local address';
  return { ...e, flags };
}

/** Validate a received datagram and apply its entries to `target`. Never throws on bad input. */
export function applySyncDatagram(datagram: Uint8Array, target: SyncTarget, opts: ApplyOptions): ApplyReport {
  const report: ApplyReport = { status: 'ok', applied: 0, skipped: [] };
  let msg;
  try {
    msg = decode(datagram, 0, datagram.length);
  } catch (err) {
    return { ...report, status: 'malformed', error: (err as Error).message };
  }
  // A backup with syncid 0 accepts any syncid (ip_vs_process_message).
  if (opts.syncid !== 0 && msg.syncid !== opts.syncid) return { ...report, status: 'ignored', error: `syncid ${msg.syncid}` };
  const updates: SyncConnEntry[] = [];
  msg.conns.forEach((e, index) => {
    const r = validateSyncEntry(e, opts.protocols);
    if (typeof r === 'string') report.skipped.push({ index, reason: r });
    else updates.push(r);
  });
  const updates6: Sync6ConnEntry[] = [];
  msg.conns6.forEach((e, index) => {
    const r = target.upsert6 ? validateSyncEntry6(e, opts.protocols) : 'IPv6 entry: this receiver takes IPv4 only';
    if (typeof r === 'string') report.skipped.push({ index, reason: r, ipv6: true });
    else updates6.push(r);
  });
  for (const u of updates) {
    target.upsert(u);
    report.applied++;
  }
  for (const u of updates6) {
    target.upsert6!(u);
    report.applied++;
  }
  return report;
}
