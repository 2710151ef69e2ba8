/**
 * What the engine says about a frame, and why it dropped one.
 * The verdict is a small integer; its details (interface, buffer, length, offload word,
 * drop reason) are in one preallocated Verdict the engine fills and the port reads, so
 * nothing is allocated per packet.
 */
export const V_DROP = 0;
/** Emit verdict.buf[0, len) on interface verdict.iface. */
export const V_EMIT = 1;
/** The frame was used (e.g. an ARP reply was learnt) and nothing is sent. */
export const V_CONSUMED = 2;

/** Drop reasons: index into Counters.drops; names are what the counters print. */
export const DROP_REASONS = [
  'runt_frame', // shorter than an Ethernet header
  'unknown_ethertype',
  'own_frame', // sent by this engine (loop guard)
  'other_host', // unicast to another MAC, seen because the capture is promiscuous
  'ip_truncated', // IP header or total length beyond the captured bytes
  'ip_bad_version',
  'ip_bad_ihl',
  'ip_bad_length',
  'ip_bad_checksum',
  'ip_fragment',
  'l4_truncated',
  'l4_bad_header',
  'unsupported_protocol',
  'not_ours', // neither a service nor return traffic of a known connection
  'no_service', // VIP but no service on that port
  'tcp_no_conn', // non-SYN segment without a connection (tcp_conn_schedule)
  'no_destination', // scheduler found no server (ICMP unreachable sent, ip_vs_leave)
  'dest_unavailable', // server deleted; expire_nodest_conn=0 drops silently
  'table_full',
  'ttl_exceeded',
  'oversize', // larger than the egress MTU (GSO/GRO super-frame or no DF to fragment)
  'neigh_unresolved', // next hop MAC not known and the wait queue full (or no neighbour entry)
  'neigh_timeout', // queued for a next hop that did not answer ARP in time
  'icmp_bad_checksum',
  'icmp_unrelated',
  'arp_malformed',
  'arp_ignored',
  'vip_passive', // VIP owned by another director (VRRP backup)
  'fnat_ports_exhausted',
  'loop_guard', // sent by one of this service's DR real servers: another director (seed 004)
  'client_mac_unknown', // reply on a synced connection before its client sent through us
  'tunnel_gso', // segment of a GSO super-frame to a tunnel server that found no free queue slot (dataplane/tunnel.ts)
  // New connections refused by src/defense/guard.ts, in the order of its GUARD_* results:
  'defense_drop_packet', // drop_packet (ip_vs_todrop): one new connection in drop_rate while the table is short of room
  'svc_conn_rate', // the service's new-connection cap for this second (--svc-conn-rate)
  'client_conn_rate', // the client prefix's new-connection cap for this second (--client-conn-rate)
  // IPv6 (dataplane/ipv6-path.ts):
  'ip6_bad_ext_header', // extension headers truncated, too many, or no upper layer (ipv6_find_hdr < 0)
  'nd_invalid', // a Neighbour Solicitation/Advertisement that fails RFC 4861 7.1 checks
  'nd_ignored', // valid ND, neither for one of our addresses nor from a next hop we resolve
  'unsupported_fwd_ipv6', // an IPv6 entry with a method not built for IPv6 yet (full-NAT, tunnel)
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

function reasonIndex(): Record<DropReason, number> {
  const o = {} as Record<DropReason, number>;
  DROP_REASONS.forEach((r, i) => (o[r] = i));
  return o;
}
export const DROP = reasonIndex();

/** The details of the last verdict, valid until the next call into the engine. */
export class Verdict {
  /** The frame to send: interface, buffer and length. */
  iface = 0;
  buf: Uint8Array;
  len = 0;
  /** Offload word of the frame sent (packet/offload.ts), -1 for a frame the engine built (complete checksums). */
  offload = -1;
  /** Index into DROP_REASONS of the last drop. */
  reason = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }
}
