/**
 * The capture filter: only what the engine owns, never its own transmissions.
 * Built without `inbound` (libpcap 1.10 loses the first packet with it) and with
 * `not ether src <our MAC>` (other handles see our sends as outgoing frames).
 */
import { formatIPv4, formatMac } from '../packet/addr.js';

export interface FilterInput {
  mac: Uint8Array;
  vips: number[];
  /** NAT and full-NAT servers whose replies come back through us. */
  natServers: { proto: 'tcp' | 'udp'; addr: number; port: number }[];
  /** Full-NAT local addresses (replies are addressed to them). */
  localAddrs: number[];
  /** This host's own addresses: its own traffic with the servers (health checks) is not ours. */
  hostAddrs: number[];
}

export function buildFilter(f: FilterInput): string {
  const parts: string[] = ['arp'];
  for (const v of f.vips) parts.push(`dst host ${formatIPv4(v)}`);
  const notMine = f.hostAddrs.map((a) => ` and not dst host ${formatIPv4(a)}`).join('');
  const seen = new Set<string>();
  for (const s of f.natServers) {
    const k = `${s.proto} ${s.addr} ${s.port}`;
    if (seen.has(k)) continue;
    seen.add(k);
    parts.push(`(src host ${formatIPv4(s.addr)} and ${s.proto} src port ${s.port}${notMine})`);
  }
  for (const a of new Set(f.natServers.map((s) => s.addr))) parts.push(`(icmp and src host ${formatIPv4(a)}${notMine})`);
  for (const a of f.localAddrs) parts.push(`dst host ${formatIPv4(a)}`);
  return `not ether src ${formatMac(f.mac)} and (${parts.join(' or ')})`;
}
