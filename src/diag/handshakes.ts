/**
 * DR replies never reach the director, so whether a DR real server answers can only be
 * read from the client's side of the conversation. With the input-only state table
 * (ip_vs_proto_tcp.c, tcp_states_dos / the INPUT_ONLY rows) a client that got the
 * server's SYN-ACK sends an ACK and the entry leaves SYN_RECV; a client that did not
 * repeats its SYN and the entry stays in SYN_RECV with several packets counted. Such
 * entries are "stalled": the server's replies never reached the client (no VIP on lo,
 * wrong default route, or rp_filter on the way back).
 */
import { IPPROTO_TCP } from '../lvs/proto.js';
import { CF_TEMPLATE, type ConnTable } from '../table/conn-table.js';
import { S_SYN_RECV } from '../lvs/conn-state.js';
import type { HandshakeCount } from './types.js';


/**
 * Count stalled and progressed TCP entries per dest id, for the dest ids in `wanted`.
 * O(table capacity); the runner calls it only when a DR server received packets.
 */
export function scanHandshakes(t: ConnTable, wanted: ReadonlySet<number>, minRepeats = 2): Map<number, HandshakeCount> {
  const out = new Map<number, HandshakeCount>();
  for (const id of wanted) out.set(id, { stalled: 0, progressed: 0 });
  if (wanted.size === 0) return out;
  for (let e = 0; e < t.capacity; e++) {
    if (!t.live[e] || t.proto[e] !== IPPROTO_TCP || t.flags[e]! & CF_TEMPLATE) continue;
    const c = out.get(t.dest[e]!);
    if (c === undefined) continue;
    if (t.state[e] === S_SYN_RECV) {
      if (t.inPkts[e]! >= minRepeats) c.stalled++;
    } else {
      c.progressed++;
    }
  }
  return out;
}
