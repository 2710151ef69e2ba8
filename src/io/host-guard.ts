/**
 * Keep the host's own IP stack off the engine's frames: an nftables `netdev` ingress
 * table that drops, after the capture tap (AF_PACKET taps run before the ingress
 * hook), IPv4 frames to the VIPs and the NAT replies of real servers. Without it a
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
}

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
