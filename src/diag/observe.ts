/**
 * Read what the doctor needs from a running engine (control plane, never per packet):
 * per-server counters and resolved MACs, the ARP-conflict and loop-guard counters.
 */
import type { Engine } from '../dataplane/engine.js';
import { formatMac } from '../packet/addr.js';
import { scanHandshakes } from './handshakes.js';
import type { DestObs, Observation } from './types.js';

export function observeDests(e: Engine): DestObs[] {
  const out: DestObs[] = [];
  for (const s of e.services) {
    for (const d of s.dests) {
      const n = d.neigh;
      const mac = n >= 0 && e.neigh.valid[n] ? formatMac(e.neigh.mac, n * 6) : null;
      out.push({
        id: d.id, addr: d.addr >>> 0, port: d.port, proto: s.proto, fwd: d.fwd, vip: s.addr >>> 0, vport: s.port,
        mac, conns: d.stats.conns, inPkts: d.stats.inPkts, outPkts: d.stats.outPkts,
      });
    }
  }
  return out;
}

/**
 * One observation. `scanFor` lists the DR dest ids whose handshakes should be counted
 * this time (PathDoctor.wantsHandshakeScan); empty = no scan.
 */
export function observe(e: Engine, now: number, dests: DestObs[], scanFor: ReadonlySet<number>): Observation {
  return {
    now,
    dests,
    vipArpConflicts: e.counters.vipArpConflicts,
    conflictMac: formatMac(e.counters.conflictMac),
    conflictIp: e.counters.conflictIp >>> 0,
    loopGuardHits: e.counters.loopGuardHits,
    loopMac: formatMac(e.counters.loopMac),
    handshakes: scanFor.size > 0 ? scanHandshakes(e.table, scanFor) : null,
  };
}
