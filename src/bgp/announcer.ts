/**
 * Which VIPs this director may announce, and keeping the VIP routes (vip-route.ts) in step.
 *
 * A VIP is announced while the director can serve it, keepalived's quorum idea reduced to its
 * core: the packet path runs, the VIP is active (not passive under VRRP), it has at least one
 * service, and **every** service on it has at least one real server up (in the service, weight
 * above 0: a failed health check removes the server or sets its weight to 0). Every service,
 * not any: the routers send all of the VIP's traffic to an announcing director, so one that has
 * lost the servers of one port would blackhole that port while its peers still serve it.
 * (The price: a port whose servers are down everywhere takes the VIP down on every director.)
 */
import type { Engine } from '../dataplane/engine.js';
import { formatIPv4 } from '../packet/addr.js';
import { serviceName } from '../lvs/names.js';
import { DEST_F_AVAILABLE } from '../sched/types.js';
import type { VipRoutes } from './vip-route.js';

export interface VipReadiness {
  vip: number;
  ok: boolean;
  /** Why (for the log and lb top): "2 services, 3/3 real servers up" or what is missing. */
  why: string;
}

/** Pure: the readiness of every VIP of the engine's services (unsigned addresses). */
export function vipReadiness(engine: Engine): VipReadiness[] {
  const byVip = new Map<number, { services: number; up: number; all: number; missing: string[] }>();
  for (const s of engine.services) {
    const vip = s.addr >>> 0;
    let r = byVip.get(vip);
    if (!r) byVip.set(vip, (r = { services: 0, up: 0, all: 0, missing: [] }));
    r.services++;
    let up = 0;
    for (const d of s.dests) if (d.flags & DEST_F_AVAILABLE && d.weight > 0) up++;
    r.up += up;
    r.all += s.dests.length;
    if (up === 0) r.missing.push(`${serviceName(s.proto, s.addr, s.port)} has no real server up (0 of ${s.dests.length})`);
  }
  const active = new Map(engine.vipList().map((v) => [v.addr >>> 0, v.active]));
  const out: VipReadiness[] = [];
  for (const [vip, r] of byVip) {
    if (active.get(vip) === false) out.push({ vip, ok: false, why: 'VIP passive (VRRP backup)' });
    else if (r.missing.length > 0) out.push({ vip, ok: false, why: r.missing.join('; ') });
    else out.push({ vip, ok: true, why: `${r.services} service${r.services > 1 ? 's' : ''}, ${r.up}/${r.all} real servers up` });
  }
  return out.sort((a, b) => a.vip - b.vip);
}

export class Announcer {
  private readonly engine: Engine;
  private readonly routes: VipRoutes;
  private readonly log: (s: string) => void;
  /** Announced VIPs (unsigned) and the reason last logged for each VIP. */
  private readonly up = new Set<number>();
  private readonly lastWhy = new Map<number, string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Announcements and withdrawals made (metrics, tests). */
  announcements = 0;
  withdrawals = 0;

  constructor(engine: Engine, routes: VipRoutes, log: (s: string) => void) {
    this.engine = engine;
    this.routes = routes;
    this.log = log;
  }

  /** Check now and then every `ms` (health changes arrive as weight changes, polled). */
  start(ms = 200): this {
    this.evaluate();
    this.timer = setInterval(() => this.evaluate(), ms);
    this.timer.unref();
    return this;
  }

  /** Bring the routes in line with the readiness of every VIP; logs each change once. */
  evaluate(): void {
    if (this.stopped) return;
    const seen = new Set<number>();
    for (const r of vipReadiness(this.engine)) {
      seen.add(r.vip);
      const was = this.up.has(r.vip);
      if (r.ok && !was) {
        try {
          this.routes.add(r.vip);
        } catch (err) {
          this.say(r.vip, `bgp: cannot announce ${formatIPv4(r.vip)}/32: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
          continue;
        }
        this.up.add(r.vip);
        this.announcements++;
        this.say(r.vip, `bgp: announce ${formatIPv4(r.vip)}/32 (${r.why})`);
      } else if (!r.ok && was) {
        this.routes.del(r.vip);
        this.up.delete(r.vip);
        this.withdrawals++;
        this.say(r.vip, `bgp: withdraw ${formatIPv4(r.vip)}/32 (${r.why})`);
      } else if (!r.ok && !this.lastWhy.has(r.vip)) {
        this.say(r.vip, `bgp: not announcing ${formatIPv4(r.vip)}/32 (${r.why})`);
      }
    }
    for (const vip of [...this.up]) {
      if (seen.has(vip)) continue;
      this.routes.del(vip);
      this.up.delete(vip);
      this.withdrawals++;
      this.say(vip, `bgp: withdraw ${formatIPv4(vip)}/32 (no service left on it)`);
    }
  }

  private say(vip: number, line: string): void {
    this.lastWhy.set(vip, line);
    this.log(line);
  }

  announced(): number[] {
    return [...this.up].sort((a, b) => a - b);
  }

  /** One line per VIP for lb top / the control socket. */
  statusText(): string {
    return vipReadiness(this.engine)
      .map((r) => `BGP ${formatIPv4(r.vip)}/32 ${this.up.has(r.vip) ? 'announced' : 'withdrawn'} (${r.why})`)
      .join('\n');
  }

  /** Stop: every route goes with the device (routes.close()). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.up.size > 0) this.log(`bgp: withdraw ${[...this.up].map((v) => `${formatIPv4(v)}/32`).join(' ')} (stopping)`);
    this.withdrawals += this.up.size;
    this.up.clear();
    this.routes.close();
  }
}
