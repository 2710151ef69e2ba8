/**
 * Consistency checks of an engine's connection table for the fuzz tests: per-server
 * ActiveConn / InActConn / persistent counts recomputed from the table (as the engine
 * fuzz test does), and a fingerprint of everything a sync datagram could change, to show
 * that a refused datagram changed nothing.
 */
import { createHash } from 'node:crypto';
import { CF_INACTIVE, CF_TEMPLATE } from '../../src/table/conn-table.js';
import type { Engine } from '../../src/dataplane/engine.js';

/** Problems found comparing the servers' counters with a scan of the table (empty when sound). */
export function scanCounters(e: Engine): string[] {
  const t = e.table;
  const counts = new Map<number, [number, number, number]>();
  const bad: string[] = [];
  let live = 0;
  for (let i = 0; i < t.capacity; i++) {
    if (!t.live[i]) continue;
    live++;
    if (!e.dests[t.dest[i]!]) bad.push(`entry ${i} refers to a freed server id ${t.dest[i]}`);
    const c = counts.get(t.dest[i]!) ?? [0, 0, 0];
    if (t.flags[i]! & CF_TEMPLATE) c[2]++;
    else if (t.flags[i]! & CF_INACTIVE) c[1]++;
    else c[0]++;
    counts.set(t.dest[i]!, c);
  }
  if (live !== t.count) bad.push(`table.count ${t.count} but ${live} live entries`);
  for (const d of e.dests) {
    if (d === null) continue;
    const [a, i, p] = counts.get(d.id) ?? [0, 0, 0];
    if (d.activeConns !== a || d.inactConns !== i || d.persistConns !== p) {
      bad.push(`dest ${d.id}: counters ${d.activeConns}/${d.inactConns}/${d.persistConns}, table says ${a}/${i}/${p}`);
    }
  }
  return bad;
}

/** A hash of the table's arrays, its expiry times and every server's counters. */
export function tableFingerprint(e: Engine): string {
  const t = e.table;
  const h = createHash('sha1');
  const arrays = [t.live, t.proto, t.state, t.fwd, t.flags, t.caddr, t.vaddr, t.daddr, t.laddr, t.cport, t.vport, t.dport, t.lport, t.dest, t.svc, t.control, t.nControl, t.timeoutMs, t.timers.expiresAt];
  for (const a of arrays) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  h.update(String(t.count));
  for (const d of e.dests) if (d !== null) h.update(`${d.id}:${d.activeConns}/${d.inactConns}/${d.persistConns};`);
  return h.digest('hex');
}
