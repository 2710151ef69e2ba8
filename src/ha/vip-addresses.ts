/**
 * VRRP virtual addresses on the interface, as keepalived manages them (vrrp_state_become_master
 * adds virtual_ipaddress entries with netlink, vrrp_restore_interface removes them on BACKUP,
 * FAULT and at shutdown): so `ip addr` on a director shows which one is master. The VIP is then
 * a local address and the balancer takes only its services' frames (dataplane/vip-table.ts).
 * keepalived's default prefix for an address given without one is /32 (/128 for IPv6, added
 * with IFA_F_NODAD: `nodad`, so the address is usable at once rather than after DAD).
 */
import { execFileSync } from 'node:child_process';
import { formatIPv4 } from '../packet/addr.js';

export type RunIp = (args: string[]) => void;

const realIp: RunIp = (args) => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

export class VipAddresses {
  /** VIP ('a.b.c.d/32' or 'x::y/128') -> interface it was added to by us. */
  private readonly added = new Map<string, string>();
  private readonly run: RunIp;
  private readonly log: (s: string) => void;

  constructor(log: (s: string) => void, run: RunIp = realIp) {
    this.run = run;
    this.log = log;
  }

  /** Add or remove vip on dev; true when something changed. Errors are logged, never thrown. */
  set(vip: number, dev: string, owned: boolean): boolean {
    return this.setPrefix(`${formatIPv4(vip >>> 0)}/32`, dev, owned, []);
  }

  /** The same for an IPv6 VIP (inet_ntop text), as /128 without DAD. */
  set6(vip: string, dev: string, owned: boolean): boolean {
    return this.setPrefix(`${vip}/128`, dev, owned, ['nodad']);
  }

  private setPrefix(a: string, dev: string, owned: boolean, flags: string[]): boolean {
    const have = this.added.get(a);
    if (owned && have === undefined) {
      try {
        this.run(['addr', 'add', a, 'dev', dev, ...flags]);
      } catch (err) {
        // EEXIST: the operator put it there already; we then leave it there at the end too.
        if (!/File exists/.test(String((err as { stderr?: Buffer }).stderr ?? err))) {
          this.log(`vrrp: could not add ${a} to ${dev}: ${String((err as Error).message).split('\n')[0]}`);
        }
        return false;
      }
      this.added.set(a, dev);
      return true;
    }
    if (!owned && have !== undefined) {
      this.remove(a, have);
      return true;
    }
    return false;
  }

  /** Shutdown: every address we added goes (keepalived does the same on exit). */
  removeAll(): void {
    for (const [a, dev] of [...this.added]) this.remove(a, dev);
  }

  private remove(a: string, dev: string): void {
    this.added.delete(a);
    try {
      this.run(['addr', 'del', a, 'dev', dev]);
    } catch {
      /* already gone */
    }
  }
}
