/**
 * Keep the host's own IP stack off the engine's frames: an nftables `netdev` ingress
 * table that drops, after the capture tap (AF_PACKET taps run before the ingress
 * hook), frames to the VIPs and the NAT replies of real servers, IPv4 and IPv6. Neighbour
 * Discovery and MLD always reach the kernel (an explicit accept before the IPv6 drops): it
 * keeps the host's own neighbour cache, addresses and multicast listening alive. Without it a
 * host with ip_forward=1 would forward a second copy or answer with ICMP/RST.
 * Installed at start in the namespace the engine runs in, replaced on rule changes,
 * deleted at exit. Table name carries the pid so parallel engines never collide.
 */
import { execFileSync } from 'node:child_process';
import { formatIPv4 } from '../packet/addr.js';

export interface GuardRules {
  devices: string[];
  /** VIPs that are not local: everything to them is dropped after the tap. */
  vips: number[];
  /** Local VIPs: only their services' frames; ARP, ICMP and other ports reach the kernel. */
  localServices?: { proto: 'tcp' | 'udp'; addr: number; port: number }[];
  natServers: { proto: 'tcp' | 'udp'; addr: number; port: number }[];
  localAddrs: number[];
  /** This host's own addresses: replies to them (health checks, admin) must pass. */
  hostAddrs: number[];
  /** The IPv6 counterparts (text addresses); absent = none. */
  vips6?: string[];
  localServices6?: { proto: 'tcp' | 'udp'; addr: string; port: number }[];
  natServers6?: { proto: 'tcp' | 'udp'; addr: string; port: number }[];
  hostAddrs6?: string[];
}

/**
 * ICMPv6 the host stack needs whatever the engine owns: MLD (130-132, MLDv2 report 143;
 * RFC 2710, RFC 3810) and ND (router/neighbour solicitation and advertisement, redirect,
 * 133-137; RFC 4861). nft's meta l4proto walks extension headers (ipv6_find_hdr), so MLD
 * behind its hop-by-hop header matches too.
 */
export const ND_MLD_ACCEPT = 'icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, nd-router-solicit, ' +
  'nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect, mld2-listener-report } accept';

export class HostGuard {
  readonly table = `tslb_${process.pid}`;
  private installed = false;

  /** The nft script for the rules (pure, tested without root). */
  script(r: GuardRules): string {
    const lines = [`table netdev ${this.table} {}`, `delete table netdev ${this.table}`, `table netdev ${this.table} {`];
    r.devices.forEach((dev, i) => {
      lines.push(`  chain ingress_${i} {`, `    type filter hook ingress device "${dev}" priority 0; policy accept;`);
      for (const v of [...r.vips, ...r.localAddrs]) lines.push(`    ip daddr ${formatIPv4(v)} counter drop`);
      for (const s of r.localServices ?? []) lines.push(`    ip daddr ${formatIPv4(s.addr)} ${s.proto} dport ${s.port} counter drop`);
      const mine = r.hostAddrs.length ? `ip daddr != { ${r.hostAddrs.map(formatIPv4).join(', ')} } ` : '';
      for (const s of r.natServers) lines.push(`    ${mine}ip saddr ${formatIPv4(s.addr)} ${s.proto} sport ${s.port} counter drop`);
      lines.push(...v6Rules(r));
      lines.push('  }');
    });
    lines.push('}');
    return lines.join('\n') + '\n';
  }

  apply(r: GuardRules): void {
    execFileSync('nft', ['-f', '-'], { input: this.script(r), stdio: ['pipe', 'ignore', 'pipe'] });
    this.installed = true;
  }

  remove(): void {
    if (!this.installed) return;
    try {
      execFileSync('nft', ['delete', 'table', 'netdev', this.table], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
    this.installed = false;
  }
}

/** The IPv6 rules of one chain: ND and MLD accepted first, then the drops as for IPv4. */
function v6Rules(r: GuardRules): string[] {
  const vips = r.vips6 ?? [], locals = r.localServices6 ?? [], servers = r.natServers6 ?? [], host = r.hostAddrs6 ?? [];
  if (vips.length + locals.length + servers.length === 0) return [];
  const out = [`    ${ND_MLD_ACCEPT}`];
  for (const v of vips) out.push(`    ip6 daddr ${v} counter drop`);
  for (const s of locals) out.push(`    ip6 daddr ${s.addr} ${s.proto} dport ${s.port} counter drop`);
  const mine = host.length ? `ip6 daddr != { ${host.join(', ')} } ` : '';
  for (const s of servers) out.push(`    ${mine}ip6 saddr ${s.addr} ${s.proto} sport ${s.port} counter drop`);
  return out;
}
