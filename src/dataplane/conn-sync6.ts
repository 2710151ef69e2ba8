/**
 * Connection sync, backup side, for IPv6 services (ip_vs_proc_conn with af AF_INET6): what
 * conn-sync.ts installSynced does for IPv4, over ConnTable6. A synced connection is bound to
 * the local IPv6 server with the same (proto, vaddr, vport, daddr, dport) and counted on it
 * as a local entry would be (dest-counts.ts); a NAT entry is CF_SYNCED until its client sends
 * through us (its MAC is unknown until then; setClientHop6). Control plane (sync receiver),
 * not per packet.
 *
 * Addresses are words (packet/addr6.ts) in one Int32Array: caddr at slot 0, vaddr at slot 1,
 * daddr at slot 2 (SYNC6_C, SYNC6_V, SYNC6_D).
 */
import * as ipv4 from '../packet/ipv4.js';
import { sameAddr6 } from '../packet/addr6.js';
import { AF_INET6 } from '../lvs/af.js';
import { CF_INACTIVE, CF_IN_REVERSE, CF_NOOUTPUT, CF_SYNCED, CF_TEMPLATE, NONE } from '../table/conn-table.js';
import type { ConnTable6 } from '../table/conn-table6.js';
import { S_NONE, S_UDP, STATE_ACTIVE } from '../table/tcp-state.js';
import { repliesBypass, type RealServer } from './model.js';
import { moveState } from './dest-counts.js';
import type { ServiceTable } from './service-table.js';

export const SYNC6_C = 0;
export const SYNC6_V = 1;
export const SYNC6_D = 2;

/** An IPv6 connection as the sync protocol carries it. */
export interface SyncedConn6 {
  proto: number;
  /** 12 words: client, virtual and real-server address (slots SYNC6_C, SYNC6_V, SYNC6_D). */
  addrs: Int32Array;
  cport: number;
  vport: number;
  dport: number;
  /** Engine state number (S_UDP for UDP, S_NONE for a template). */
  state: number;
  template: boolean;
  timeoutMs: number;
  /** The master's IP_VS_CONN_F_INACTIVE (absent: derived from the TCP state). */
  inactive?: boolean;
}

/** What installSynced6 needs of the engine: its IPv6 table, the services, and the entry release of conn6.ts. */
export interface Sync6Parts {
  table: ConnTable6;
  registry: ServiceTable;
  /** Conns6.unbindAndFree: unbind (counts) and free an entry. */
  unbindAndFree(e: number): void;
}

/**
 * Install or refresh an IPv6 connection received from the master director, with the synced
 * state and timeout. Returns false when no such service/server exists here (or the table is full).
 */
export function installSynced6(x: Sync6Parts, c: SyncedConn6, now: number): boolean {
  const t = x.table;
  const a = c.addrs;
  const svc = x.registry.find6(c.proto, a, SYNC6_V, c.vport);
  if (svc === null) return false;
  const d = svc.dests.find((s) => s.af === AF_INET6 && sameAddr6(s.addr6, 0, a, SYNC6_D) && (s.port === c.dport || c.template));
  if (!d) return false;
  let e = t.findForward(c.proto, a, SYNC6_C, c.cport, a, SYNC6_V, c.vport, c.template);
  if (e !== NONE && !c.template && (t.daf[e] !== AF_INET6 || !sameAddr6(t.daddr, e, a, SYNC6_D) || t.dport[e] !== c.dport)) {
    // Another real server for the same client tuple: as installSynced (ip_vs_proc_conn).
    const inactive = c.inactive ?? (c.proto === ipv4.PROTO_TCP ? !STATE_ACTIVE[c.state] : true);
    if (inactive) return true;
    if (t.nControl[e] !== 0) return false;
    x.unbindAndFree(e);
    e = NONE;
  }
  if (e === NONE) {
    const bypass = repliesBypass(d.fwd);
    const rev = bypass || c.template ? 0 : CF_IN_REVERSE;
    // NAT: the reverse key's local end is the client (as conn6.ts newConn); a template's is its client net.
    e = t.insert(c.proto, a, SYNC6_C, c.cport, a, SYNC6_V, c.vport, AF_INET6, d.addr6, 0, c.dport, a, SYNC6_C, c.cport,
      (c.template ? CF_TEMPLATE : CF_INACTIVE | CF_SYNCED) | rev | (bypass ? CF_NOOUTPUT : 0));
    if (e === NONE) return false;
    bind(t, e, svc.id, d);
    t.state[e] = c.template || c.proto === ipv4.PROTO_TCP ? S_NONE : S_UDP;
    if (c.template) d.persistConns++;
    else d.inactConns++;
  }
  if (!c.template && c.proto === ipv4.PROTO_TCP) {
    const bound = x.registry.dests[t.dest[e]!]!;
    moveState(t.state, t.flags, e, bound, c.state);
  }
  t.timeoutMs[e] = c.timeoutMs;
  t.timers.arm(e, now + c.timeoutMs);
  return true;
}

function bind(t: ConnTable6, e: number, svcId: number, d: RealServer): void {
  t.fwd[e] = d.fwd;
  t.dest[e] = d.id;
  t.svc[e] = svcId;
}

/**
 * The client-side next hop (MAC at mac[off..off+6], interface) of an IPv6 entry, clearing
 * CF_SYNCED: Conns.setClientHop for table6. For the IPv6 path's first client packet on a
 * synced entry, and for HA at takeover.
 */
export function setClientHop6(t: ConnTable6, e: number, mac: Uint8Array, off: number, ifi: number): void {
  for (let i = 0; i < 6; i++) t.cmac[e * 6 + i] = mac[off + i]!;
  t.ciface[e] = ifi;
  t.flags[e] = t.flags[e]! & ~CF_SYNCED;
}
