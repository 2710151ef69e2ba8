/**
 * The capture filter: only what the engine owns, never its own transmissions.
 * Built without `inbound` (libpcap 1.10 loses the first packet with it) and with
 * `not ether src <our MAC>` (other handles see our sends as outgoing frames).
 */
import { formatIPv4, formatMac } from '../packet/addr.js';

export interface FilterInput {
  mac: Uint8Array;
  /** VIPs that are not addresses of this host: every frame to them is ours (ARP too). */
  vips: number[];
  /**
   * VIPs that are this host's own addresses: only their services' frames (and ICMP errors
   * sent to them, which may be about our NAT replies) are ours; ARP, ping and other ports
   * stay with the kernel.
   */
  localVips?: LocalVip[];
  /** NAT and full-NAT servers whose replies come back through us. */
  natServers: { proto: 'tcp' | 'udp'; addr: number; port: number }[];
  /** Full-NAT local addresses (replies are addressed to them). */
  localAddrs: number[];
  /** This host's own addresses: its own traffic with the servers (health checks) is not ours. */
  hostAddrs: number[];
  /** Worker k of n: only this share of the flows (see shardClauses). */
  shard?: Shard | null;
  /** false: leave ARP and Neighbour Discovery out (a fanout group's workers take them through a socket of their own). */
  arp?: boolean;
  /** IPv6 VIPs that are not addresses of this host (text): every frame to them is ours. */
  vips6?: string[];
  /** IPv6 VIPs that are this host's own: only their services' frames and ICMPv6 errors to them. */
  localVips6?: LocalVip6[];
  /** IPv6 NAT and full-NAT servers whose replies come back through us. */
  natServers6?: { proto: 'tcp' | 'udp'; addr: string; port: number }[];
  /** This host's own IPv6 addresses (link-local included): its own traffic with the servers is not ours. */
  hostAddrs6?: string[];
}

export interface LocalVip6 {
  addr: string;
  services: { proto: 'tcp' | 'udp'; port: number }[];
}

export interface LocalVip {
  addr: number;
  services: { proto: 'tcp' | 'udp'; port: number }[];
}

/** ICMP errors (destination unreachable, time exceeded, parameter problem), as ip_vs_in_icmp takes them. */
const ICMP_ERRORS = '(icmp[0] = 3 or icmp[0] = 11 or icmp[0] = 12)';

/**
 * ICMPv6 errors (RFC 4443: destination unreachable, packet too big, time exceeded, parameter
 * problem), the type read behind a 40-byte header as libpcap's `icmp6` assumes.
 */
const ICMP6_ERRORS = '(ip6[40] > 0 and ip6[40] < 5)';

/**
 * Neighbour Solicitation (135) and Advertisement (136), RFC 4861 4.3-4.4: the engine answers
 * NS for its non-local VIPs and learns next hops from NA and from NS source options
 * (the IPv6 counterpart of capturing every ARP frame).
 */
export const ND_FRAMES = '(icmp6 and (ip6[40] = 135 or ip6[40] = 136))';

export interface Shard {
  k: number;
  n: number;
  /** 'port' spreads one client's connections; 'addr' keeps a client on one worker (persistence, sh). */
  by: 'port' | 'addr';
}

/**
 * Disjoint capture filters for N engine processes: a connection always lands in the
 * same process, both directions. Client -> VIP is split by the client's source port
 * (or address); replies from servers by the destination port (or address), which is
 * the same client port or address (NAT), or the full-NAT local port this worker
 * allocated (FnatPool hands worker k only ports p with (p >> 1) % n = k).
 */
export function shardClauses(s: Shard): { inbound: string; reply: string } {
  const { k, n } = s;
  if (s.by === 'addr') return { inbound: `ip[12:4] % ${n} = ${k}`, reply: `ip[16:4] % ${n} = ${k}` };
  // Port >> 1: Linux's connect() picks even source ports (since 4.6), so the low bit carries nothing.
  const l4 = (off: number) => `((tcp and (tcp[${off}:2] >> 1) % ${n} = ${k}) or (udp and (udp[${off}:2] >> 1) % ${n} = ${k}))`;
  return { inbound: l4(0), reply: l4(2) };
}

export function buildFilter(f: FilterInput): string {
  const parts: string[] = f.arp === false ? [] : ['arp'];
  const sh = f.shard && f.shard.n > 1 ? shardClauses(f.shard) : null;
  // ICMP to a VIP (echo, errors) goes to worker 0 only.
  const inb = sh ? (f.shard!.k === 0 ? ` and (icmp or ${sh.inbound})` : ` and ${sh.inbound}`) : '';
  for (const v of f.vips) parts.push(`(dst host ${formatIPv4(v)}${inb})`);
  const svcInb = sh ? ` and ${sh.inbound}` : '';
  for (const lv of f.localVips ?? []) {
    if (lv.services.length === 0) continue;
    const ports = lv.services.map((s) => `(${s.proto} dst port ${s.port})`).join(' or ');
    parts.push(`(dst host ${formatIPv4(lv.addr)} and (${ports})${svcInb})`);
    if (!sh || f.shard!.k === 0) parts.push(`(icmp and dst host ${formatIPv4(lv.addr)} and ${ICMP_ERRORS})`);
  }
  const rep = sh ? ` and ${sh.reply}` : '';
  const notMineOnly = f.hostAddrs.map((a) => ` and not dst host ${formatIPv4(a)}`).join('');
  const notMine = notMineOnly + rep;
  const seen = new Set<string>();
  for (const s of f.natServers) {
    const k = `${s.proto} ${s.addr} ${s.port}`;
    if (seen.has(k)) continue;
    seen.add(k);
    parts.push(`(src host ${formatIPv4(s.addr)} and ${s.proto} src port ${s.port}${notMine})`);
  }
  if (!sh || f.shard!.k === 0) {
    for (const a of new Set(f.natServers.map((s) => s.addr))) parts.push(`(icmp and src host ${formatIPv4(a)}${notMineOnly})`);
  }
  for (const a of f.localAddrs) parts.push(`(dst host ${formatIPv4(a)}${rep})`);
  // IPv6 is not sharded: with workers, worker 0 takes all of it (as fanout-bpf.ts sends every
  // non-IPv4 frame to worker 0), the others none.
  if (!sh || f.shard!.k === 0) parts.push(...ipv6Clauses(f));
  return `not ether src ${formatMac(f.mac)} and (${parts.join(' or ')})`;
}

/** The IPv6 counterparts of the IPv4 clauses above, unsharded. */
function ipv6Clauses(f: FilterInput): string[] {
  const vips = f.vips6 ?? [];
  const locals = f.localVips6 ?? [];
  const servers = f.natServers6 ?? [];
  const parts: string[] = [];
  if (f.arp !== false && (vips.length > 0 || locals.length > 0 || servers.length > 0)) parts.push(ND_FRAMES);
  for (const v of vips) parts.push(`(ip6 dst host ${v})`);
  for (const lv of locals) {
    if (lv.services.length === 0) continue;
    const ports = lv.services.map((s) => `(${s.proto} dst port ${s.port})`).join(' or ');
    parts.push(`(ip6 dst host ${lv.addr} and (${ports}))`);
    parts.push(`(icmp6 and ip6 dst host ${lv.addr} and ${ICMP6_ERRORS})`);
  }
  const notMine = (f.hostAddrs6 ?? []).map((a) => ` and not ip6 dst host ${a}`).join('');
  const seen = new Set<string>();
  for (const s of servers) {
    const k = `${s.proto} ${s.addr} ${s.port}`;
    if (seen.has(k)) continue;
    seen.add(k);
    parts.push(`(ip6 src host ${s.addr} and ${s.proto} src port ${s.port}${notMine})`);
  }
  for (const a of new Set(servers.map((s) => s.addr))) parts.push(`(icmp6 and ip6 src host ${a}${notMine})`);
  return parts;
}
