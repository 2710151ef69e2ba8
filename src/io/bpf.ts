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
  /** false: leave ARP out (a fanout group's workers take ARP through a socket of their own). */
  arp?: boolean;
}

export interface LocalVip {
  addr: number;
  services: { proto: 'tcp' | 'udp'; port: number }[];
}

/** ICMP errors (destination unreachable, time exceeded, parameter problem), as ip_vs_in_icmp takes them. */
const ICMP_ERRORS = '(icmp[0] = 3 or icmp[0] = 11 or icmp[0] = 12)';

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
  return `not ether src ${formatMac(f.mac)} and (${parts.join(' or ')})`;
}
