/**
 * ICMPv6 errors that quote a balanced flow, translated as ip_vs_in_icmp_v6 and
 * ip_vs_out_icmp_v6 do (every error type, 0..127, is related):
 *  - in: an error about a reply we sent from VIP:vport to a client (a router's Packet Too
 *    Big, say) goes to the real server, with the outer destination and the quoted source
 *    address and port turned back into the server's (ip_vs_nat_icmp_v6, inout = 0); for DR
 *    it goes to the server as it is, the server owning the VIP, and for a tunnel inside ip6ip6;
 *  - out: a NAT server's error about a packet it got from a client goes to the client from
 *    the VIP, the quoted destination turned back into VIP:vport (inout = 1).
 * Full-NAT entries also swap the local address and port for the client's, both ways.
 * As the kernel does, the quoted L4 checksum is left stale and the ICMPv6 checksum is
 * computed again over the whole message.
 */
import { readU16, writeU16 } from '../packet/bytes.js';
import { readAddr6, writeAddr6 } from '../packet/addr6.js';
import { setMacs } from '../packet/ethernet.js';
import * as icmpv6 from '../packet/icmpv6.js';
import { NEXTHDR_TCP, NEXTHDR_UDP, OFF_DST, OFF_HOPLIMIT, OFF_SRC } from '../packet/ipv6.js';
import { UL_FRAGOFF, UL_OFFSET, UL_SLOTS, findUpperLayer } from '../packet/ipv6-ext.js';
import { AF_INET6 } from '../lvs/af.js';
import { NONE } from '../table/conn-table.js';
import type { ConnTable6 } from '../table/conn-table6.js';
import { FWD_DR, FWD_FNAT, FWD_MASQ, FWD_TUNNEL } from './model.js';
import { writeIp6ip6 } from './tunnel6.js';
import { statsIn, statsOut } from './counters.js';
import { DROP } from './verdict.js';
import type { FrameCtx } from './frame-ctx.js';
import type { NextHop } from './next-hop.js';
import type { ServiceTable } from './service-table.js';
import type { Vip6Table } from './vip6-table.js';

/** Scratch word slots: the quoted source and destination. */
const Q_SRC = 0;
const Q_DST = 1;

export class Icmp6 {
  private readonly f: FrameCtx;
  private readonly table: ConnTable6;
  private readonly services: ServiceTable;
  private readonly vips: Vip6Table;
  private readonly hop: NextHop;
  private readonly w = new Int32Array(8);
  private readonly ul = new Int32Array(UL_SLOTS);

  constructor(f: FrameCtx, table: ConnTable6, services: ServiceTable, vips: Vip6Table, hop: NextHop) {
    this.f = f;
    this.table = table;
    this.services = services;
    this.vips = vips;
    this.hop = hop;
  }

  /** An ICMPv6 error (type < 128) at c of the packet b[l3, end) that came in on ifi. */
  error(b: Uint8Array, l3: number, c: number, end: number): number {
    const f = this.f;
    const inner = icmpv6.innerOffset(b, c, end);
    if (inner < 0) return f.drop(DROP.l4_truncated);
    const ul = this.ul;
    const proto = findUpperLayer(b, inner, end, ul);
    // The quote must name TCP/UDP and hold its ports (a non-first fragment has none).
    if (proto !== NEXTHDR_TCP && proto !== NEXTHDR_UDP) return f.drop(DROP.icmp_unrelated);
    const il4 = ul[UL_OFFSET]!;
    if (ul[UL_FRAGOFF] !== 0 || il4 + 4 > end) return f.drop(DROP.l4_truncated);
    if (!icmpv6.verifyChecksum(b, l3, c, end - c)) return f.drop(DROP.icmp_bad_checksum);
    const w = this.w;
    readAddr6(b, inner + OFF_SRC, w, Q_SRC);
    readAddr6(b, inner + OFF_DST, w, Q_DST);
    const qsport = readU16(b, il4);
    const qdport = readU16(b, il4 + 2);
    const t = this.table;
    const total = end - l3;
    // in: about VIP:vport -> client, addressed to the VIP.
    if (this.vips.indexAt(b, l3 + OFF_DST) >= 0) {
      const e = t.findForward(proto, w, Q_DST, qdport, w, Q_SRC, qsport, false);
      if (e === NONE) return f.drop(DROP.not_ours);
      const d = this.services.dests[t.dest[e]!]!;
      statsIn(f.counters, d, this.services.byId[t.svc[e]!]!, total);
      const fwd = t.fwd[e]!;
      if (fwd === FWD_MASQ || fwd === FWD_FNAT) {
        writeAddr6(b, l3 + OFF_DST, t.daddr, e);
        writeAddr6(b, inner + OFF_SRC, t.daddr, e);
        writeU16(b, il4, t.dport[e]!);
        if (fwd === FWD_FNAT) {
          // The server knows the flow as laddr:lport -> RIP: the error comes from our local address.
          writeAddr6(b, l3 + OFF_SRC, t.laddr, e);
          writeAddr6(b, inner + OFF_DST, t.laddr, e);
          writeU16(b, il4 + 2, t.lport[e]!);
        }
        icmpv6.fillChecksum(b, l3, c, end - c);
      } else if (fwd !== FWD_DR && fwd !== FWD_TUNNEL) {
        return f.drop(DROP.unsupported_fwd_ipv6);
      }
      if (b[l3 + OFF_HOPLIMIT]! <= 1) return f.drop(DROP.ttl_exceeded);
      b[l3 + OFF_HOPLIMIT]!--;
      if (fwd === FWD_TUNNEL) {
        // ip_vs_icmp_xmit_v6 hands a tunnel entry's error to its transmitter: encapsulated as it is.
        const src = f.ifaces[d.iface]!.ip6;
        const len = src === undefined ? -1 : writeIp6ip6(f.scratch, b, l3, end, src, d.addr6, 0);
        if (len < 0) return f.drop(DROP.oversize);
        return this.hop.send(d.neigh, f.scratch, len, d.iface);
      }
      return this.hop.send(d.neigh, b, end, d.iface);
    }
    // out: a NAT server about client -> RIP:dport.
    const e = t.findReverse(proto, AF_INET6, w, Q_DST, qdport, w, Q_SRC, qsport);
    if (e === NONE) return f.drop(DROP.not_ours);
    statsOut(f.counters, this.services.dests[t.dest[e]!]!, this.services.byId[t.svc[e]!]!, total);
    writeAddr6(b, l3 + OFF_SRC, t.vaddr, e);
    writeAddr6(b, inner + OFF_DST, t.vaddr, e);
    writeU16(b, il4 + 2, t.vport[e]!);
    if (t.fwd[e] === FWD_FNAT) {
      writeAddr6(b, l3 + OFF_DST, t.caddr, e);
      writeAddr6(b, inner + OFF_SRC, t.caddr, e);
      writeU16(b, il4, t.cport[e]!);
    }
    icmpv6.fillChecksum(b, l3, c, end - c);
    if (b[l3 + OFF_HOPLIMIT]! <= 1) return f.drop(DROP.ttl_exceeded);
    b[l3 + OFF_HOPLIMIT]!--;
    const out = t.ciface[e]!;
    setMacs(b, t.cmac, e * 6, f.ifaces[out]!.mac);
    return f.emit(b, end, out);
  }
}
