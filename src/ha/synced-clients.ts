/**
 * After a takeover, NAT connections received by sync do not know their client's next hop yet
 * (the engine learns it from the first client packet, CF_SYNCED). In a download the client has
 * nothing to send until data arrives, and the data (server -> client) is dropped as
 * client_mac_unknown: the flow would stall. The kernel has no such problem because ip_vs_out
 * routes the reply (ip_route_output). So, on becoming master, we do the routing for those
 * entries: next hop of the client address by the routing table, its MAC from the engine's
 * neighbour table (ARP-resolved by the runtime), then the entry looks like one that has seen
 * its client.
 * Engine.setClientHop does the write.
 *
 * On the backup, warmNeighbour() creates the neighbour slot for each synced client's next hop as
 * connections arrive, so the runtime resolves it by ARP before any takeover.
 */
import type { Engine } from '../dataplane/engine.js';
import type { RoutingTable } from '../dataplane/routing.js';
import { CF_SYNCED, CF_TEMPLATE } from '../table/conn-table.js';

/** Keep the neighbour table for HA next hops well below its capacity. */
const NEIGH_HEADROOM = 256;

export function warmNeighbour(engine: Engine, routing: RoutingTable, caddr: number): void {
  const hop = routing.lookup(caddr >>> 0);
  if (!hop) return;
  const n = engine.neigh;
  if (n.find(hop.nextHop, hop.iface) >= 0) return;
  if (n.size >= n.capacity - NEIGH_HEADROOM) return;
  n.ensure(hop.nextHop, hop.iface);
}

/** Give every CF_SYNCED entry whose client next hop is resolved its MAC; returns how many are left. */
export function primeSyncedClients(engine: Engine, routing: RoutingTable): { primed: number; pending: number } {
  const t = engine.table;
  const n = engine.neigh;
  let primed = 0;
  let pending = 0;
  for (let e = 0; e < t.capacity; e++) {
    if (!t.live[e] || (t.flags[e]! & (CF_SYNCED | CF_TEMPLATE)) !== CF_SYNCED) continue;
    const hop = routing.lookup(t.caddr[e]! >>> 0);
    const slot = hop ? n.find(hop.nextHop, hop.iface) : -1;
    if (!hop || slot < 0 || !n.valid[slot]) {
      if (hop && slot < 0 && n.size < n.capacity - NEIGH_HEADROOM) n.ensure(hop.nextHop, hop.iface);
      pending++;
      continue;
    }
    engine.setClientHop(e, n.mac, slot * 6, hop.iface);
    primed++;
  }
  return { primed, pending };
}
