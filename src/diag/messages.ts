/**
 * The doctor's words: one clear paragraph per finding, naming the server, the likely
 * cause and the fixes. Pure (finding in, text out) so the wording is tested.
 */
import { formatIPv4 } from '../lvs/addr.js';
import { FWD_DR } from '../lvs/fwd.js';
import { destName, serviceName } from '../lvs/names.js';
import type { DestRef, Finding } from './types.js';

/** How the director's own TCP connection to the server went (runner.ts probes). */
export type ProbeResult = 'open' | 'refused' | 'timeout' | 'skipped';

function server(d: DestRef): string {
  return destName(d.addr, d.port);
}

function service(d: DestRef): string {
  return serviceName(d.proto, d.vip, d.vport);
}

const DR_FIX =
  'fix on the real server: put the VIP on lo as a /32 (ip addr add VIP/32 dev lo), ' +
  'sysctl net.ipv4.conf.all.arp_ignore=1 and net.ipv4.conf.all.arp_announce=2 (also on its interface)';

/** Text for a finding; for 'nat-no-replies' the probe result chooses the explanation. */
export function describe(f: Finding, probe: ProbeResult = 'skipped', mac: string | null = null): string {
  switch (f.kind) {
    case 'nat-no-replies':
      return natNoReplies(f.dest, f.sent, probe, mac);
    case 'nat-replies-back':
      return `doctor: real server ${server(f.dest)} (${service(f.dest)}) answers through the director again.`;
    case 'vip-arp': {
      const vip = formatIPv4(f.vip);
      if (f.dest === null) {
        return `doctor: host ${f.mac} answers or announces ARP for the VIP ${vip}. Clients and routers may send VIP ` +
          'traffic straight to it instead of the balancer. If it is a second director, only one may own the VIP ' +
          '(VRRP backup keeps it passive); if it is a DR real server not listed here, ' + DR_FIX + '.';
      }
      const what = f.dest.fwd === FWD_DR ? 'DR real server' : 'real server';
      return `doctor: ${what} ${formatIPv4(f.dest.addr)} (${f.mac}) answers ARP for the VIP ${vip} ` +
        `(service ${service(f.dest)}): the router or clients can learn its MAC for the VIP and bypass the balancer ` +
        `(missing arp_ignore/arp_announce, seeds 001 and 004). ${cap(DR_FIX)}.`;
    }
    case 'dr-stalled':
      return `doctor: DR real server ${formatIPv4(f.dest.addr)} (${service(f.dest)}): ${f.stalled} clients kept ` +
        'repeating their SYN, so its replies never reach them. In DR the server must accept packets for the VIP and ' +
        'answer from the VIP straight to the client: VIP missing on its lo, a default route that does not reach ' +
        `the client, or rp_filter dropping them. ${cap(DR_FIX)}; its default route must reach the clients without ` +
        'passing the director.';
    case 'loop': {
      const who = f.dest ? `the MAC of DR real server ${formatIPv4(f.dest.addr)}` : 'a host that is not one of our servers';
      return `doctor: loop guard: new flows for a DR service arrived from ${f.mac} (${who}); ${f.hits} refused so far ` +
        '(drop reason loop_guard). Another director on that host is balancing the packets we sent it back to us ' +
        '(seed 004: keepalived and the real servers on the same hosts). Run the virtual servers only on the VRRP ' +
        'master (a backup keeps the VIP passive) or mark the director traffic so backups do not balance it.';
    }
  }
}

function natNoReplies(d: DestRef, sent: number, probe: ProbeResult, mac: string | null): string {
  const head = `doctor: NAT real server ${server(d)} (${service(d)}) was sent ${sent} packets and not one reply came ` +
    'back through the director';
  if (probe === 'refused') {
    return `${head}. The director's own connection to ${server(d)} is refused: nothing listens on that port.`;
  }
  if (probe === 'timeout') {
    return `${head}. The director's own connection to ${server(d)} gets no answer either` +
      `${mac ? ` although it answers ARP (${mac})` : ''}: the server is down, or a firewall drops the traffic.`;
  }
  const alive = probe === 'open' ? 'The server is alive (the director connects to it directly)' :
    mac ? `The server is alive (it answers ARP, ${mac})` : 'The server looks alive';
  return `${head}. ${alive}, so its replies take another way: its default route does not point at the director ` +
    '(seed 000: the VPC router got them and the client saw a stranger\'s SYN-ACK). ' +
    `Fix: route the real server's replies via the director (default gateway = the director or the VIP), ` +
    `or use full-NAT (--mode fnat --fnat-addr ADDR, or --rs ${formatIPv4(d.addr)}/fnat), which makes the ` +
    'server reply to the director whatever its routes are.';
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

