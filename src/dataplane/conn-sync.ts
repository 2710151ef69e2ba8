/**
 * Connection sync, backup side (ip_vs_proc_conn): connections streamed by the master
 * director are installed in the local table, bound to the local server with the same
 * (proto, vaddr, vport, daddr, dport), through the same helpers as local entries
 * (conn.ts). A NAT entry learns its client's next hop from the first client packet after
 * takeover (CF_SYNCED until then). Control plane (sync receiver), not per packet.
 */
import * as ipv4 from '../packet/ipv4.js';
import { CF_INACTIVE, CF_IN_REVERSE, CF_NOOUTPUT, CF_SYNCED, CF_TEMPLATE, NONE } from '../table/conn-table.js';
import { S_NONE, S_UDP, STATE_ACTIVE } from '../table/tcp-state.js';
import { repliesBypass } from './model.js';
import type { Conns } from './conn.js';

/** A connection as the sync protocol carries it (addresses unsigned or int32). */
export interface SyncedConn {
  proto: number;
  caddr: number;
  cport: number;
  vaddr: number;
  vport: number;
  daddr: number;
  dport: number;
  state: number;
  template: boolean;
  timeoutMs: number;
  laddr?: number;
  lport?: number;
  /** The master's IP_VS_CONN_F_INACTIVE (absent: derived from the TCP state). */
  inactive?: boolean;
}

/**
 * Install or refresh a connection received from the master director, with the synced
 * state and timeout. Returns false when no such service/server exists here.
 */
export function installSynced(x: Conns, c: SyncedConn, now: number): boolean {
  const t = x.table;
  const svc = x.services.find(c.proto, c.vaddr, c.vport);
  if (svc === null) return false;
  const d = svc.dests.find((s) => s.addr === (c.daddr | 0) && (s.port === c.dport || c.template));
  if (!d) return false;
  let e = t.findForward(c.proto, c.caddr | 0, c.cport, c.vaddr | 0, c.vport, c.template);
  if (e !== NONE && !c.template && (t.daddr[e] !== (c.daddr | 0) || t.dport[e] !== c.dport)) {
    // The same client tuple on another real server (the client reused its port): an INACTIVE
    // update is the expiry message of the connection already replaced and is ignored; any other
    // replaces it (ip_vs_proc_conn: ip_vs_conn_expire_now, then a new entry).
    const inactive = c.inactive ?? (c.proto === ipv4.PROTO_TCP ? !STATE_ACTIVE[c.state] : true);
    if (inactive) return true;
    if (t.nControl[e] !== 0) return false;
    x.unbindAndFree(e);
    e = NONE;
  }
  if (e === NONE) {
    const bypass = repliesBypass(d.fwd);
    const rev = bypass || c.template ? 0 : CF_IN_REVERSE;
    const laddr = c.laddr !== undefined ? c.laddr | 0 : c.caddr | 0;
    const lport = c.lport ?? c.cport;
    e = t.insert(c.proto, c.caddr | 0, c.cport, c.vaddr | 0, c.vport, d.addr, c.dport, laddr, lport,
      (c.template ? CF_TEMPLATE : CF_INACTIVE | CF_SYNCED) | rev | (bypass ? CF_NOOUTPUT : 0));
    if (e === NONE) return false;
    x.bind(e, svc, d);
    t.state[e] = c.template || c.proto === ipv4.PROTO_TCP ? S_NONE : S_UDP;
    if (c.template) d.persistConns++;
    else d.inactConns++;
  }
  // Counters move on the server the entry is bound to.
  if (!c.template && c.proto === ipv4.PROTO_TCP) x.setState(e, x.services.dests[t.dest[e]!]!, c.state);
  t.timeoutMs[e] = c.timeoutMs;
  t.timers.arm(e, now + c.timeoutMs);
  return true;
}
