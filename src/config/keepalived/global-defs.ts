/**
 * `global_defs { ... }`: kept verbatim, with `router_id` and `lvs_sync_daemon`
 * (core/global_parser.c `lvs_syncd_handler`) also typed.
 */
import type { Diagnostics } from './diagnostics.js';
import type { ConfigNode } from './parser.js';
import type { GlobalDefs, LvsSyncDaemon } from './schema.js';
import { fail, parseIp, parseUnsigned, requireArg, requireBlock } from './values.js';
import { toRaw } from './vrrp.js';

export function parseGlobalDefs(node: ConfigNode, into: GlobalDefs, diag: Diagnostics): void {
  for (const n of requireBlock(node)) {
    into.entries.push(toRaw(n));
    if (n.keyword === 'router_id') {
      into.routerId = requireArg(n, 0, 'a router id');
    } else if (n.keyword === 'lvs_sync_daemon') {
      if (into.lvsSyncDaemon) diag.warn(n, n.keyword, `already specified as ${into.lvsSyncDaemon.interface} - ignoring`);
      else into.lvsSyncDaemon = parseLvsSyncDaemon(n);
    }
  }
}

/** `<IFACE> [inst] <VRRP_INSTANCE> [id N] [maxlen N] [port N] [ttl N] [group IP]` (also the old `<IFACE> <INST> [SYNCID]`). */
function parseLvsSyncDaemon(n: ConfigNode): LvsSyncDaemon {
  const out: { -readonly [K in keyof LvsSyncDaemon]: LvsSyncDaemon[K] } = { interface: requireArg(n, 0, 'an interface name'), source: n };
  for (let i = 1; i < n.args.length; i++) {
    const word = n.args[i]!;
    const value = (): string => requireArg(n, ++i, `a value after '${word}'`);
    switch (word) {
      case 'inst': out.instance = value(); break;
      case 'id': out.syncId = parseUnsigned(n, value(), 0, 255, 'a sync id'); break;
      case 'maxlen': out.maxlen = parseUnsigned(n, value(), 1, 65535 - 20 - 8, 'a message length'); break;
      case 'port': out.port = parseUnsigned(n, value(), 1, 65535, 'a port'); break;
      case 'ttl': out.ttl = parseUnsigned(n, value(), 1, 255, 'a TTL'); break;
      case 'group': out.group = parseIp(n, value(), 'a multicast group address').address; break;
      default:
        // Backward compatible positional form: IFACE VRRP_INSTANCE [SYNC_ID].
        if (i === 1) out.instance = word;
        else if (i === 2) out.syncId = parseUnsigned(n, word, 0, 255, 'a sync id');
        else fail(n, `expected inst, id, maxlen, port, ttl or group, got '${word}'`);
    }
  }
  return out;
}
