/**
 * ARP on the data plane (arp_process, seen from the director): replies and requests teach
 * the neighbour table the MACs of our next hops (and release frames that waited for them),
 * requests for an active VIP are answered on the interfaces where we speak for it, and
 * another host claiming one of our VIPs is recorded for the control plane.
 */
import * as arp from '../packet/arp.js';
import { DROP, V_CONSUMED } from './verdict.js';
import type { FrameCtx } from './frame-ctx.js';
import type { NextHop } from './next-hop.js';
import type { VipTable } from './vip-table.js';
import * as frames from './frames.js';

export function arpInput(f: FrameCtx, hop: NextHop, vips: VipTable, b: Uint8Array, len: number, l3: number, ifi: number): number {
  if (len - l3 < arp.ARP_LEN || !arp.isEthernetIPv4(b, l3)) return f.drop(DROP.arp_malformed);
  const spa = arp.senderIp(b, l3);
  const tpa = arp.targetIp(b, l3);
  const n = hop.neigh.find(spa, ifi);
  if (n >= 0 && spa !== 0) {
    hop.neigh.learn(n, b, l3 + arp.OFF_SHA, f.now);
    hop.pending.release(n); // neigh_update: the queued frames may go (takeQueued)
  }
  const c = f.counters;
  if (spa !== 0 && vips.index(spa) >= 0) {
    // Someone else speaks for our VIP (we never see our own frames here).
    c.vipArpConflicts++;
    for (let k = 0; k < 6; k++) c.conflictMac[k] = b[l3 + arp.OFF_SHA + k]!;
    c.conflictIp = spa;
    c.conflictIface = ifi;
  }
  if (arp.op(b, l3) === arp.ARP_REQUEST && spa !== tpa) {
    const vi = vips.index(tpa);
    // A local VIP is the kernel's to answer (it sees the same request).
    if (vi >= 0 && vips.active[vi] && !vips.local[vi] && (vips.arpMask[vi]! & (1 << ifi)) !== 0) {
      c.arpReplies++;
      return f.emit(b, frames.arpReplyInPlace(b, l3, f.ifaces[ifi]!.mac), ifi);
    }
  }
  if (n >= 0) return V_CONSUMED;
  return f.drop(DROP.arp_ignored);
}
