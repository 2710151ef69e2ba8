/**
 * N active directors (docs/scale-out.md), wired in one place so src/cli/run.ts only calls
 * startBgp() once the packet path runs, and stop() first when it stops: bird.conf generated
 * from the --bgp options (bird-conf.ts), BIRD started or reconfigured (bird.ts), the TUN
 * device that holds the VIP routes (vip-route.ts) and the announcer that keeps them in step
 * with what the director can serve (announcer.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Engine } from '../dataplane/engine.js';
import { RoutingTable, type Route } from '../dataplane/routing.js';
import { formatIPv4 } from '../packet/addr.js';
import { Announcer } from './announcer.js';
import { Bird } from './bird.js';
import { birdConfig, type BirdSettings } from './bird-conf.js';
import { peerAs, type BgpOptions } from './options.js';
import { TunVipRoutes } from './vip-route.js';

export class BgpError extends Error {}

export interface BgpParams {
  engine: Engine;
  ifaces: readonly { name: string; ip: number }[];
  routes: Route[];
  opts: BgpOptions;
  /** The control socket: the default --bgp-dir is beside it. */
  socket: string;
  hasCommand(cmd: string): boolean;
  log: (s: string) => void;
}

export interface BgpHandle {
  announcer: Announcer;
  bird: Bird;
  dir: string;
  /** After a rules change: announce or withdraw now rather than at the next poll. */
  reapply(): void;
  statusText(): string;
  stop(): void;
}

export function bgpDir(o: BgpOptions, socket: string): string {
  return o.dir ?? `${socket.replace(/\.sock$/, '')}.bgp`;
}

/** Pure: the BIRD settings for these options (router id and source address from the routes). */
export function birdSettings(o: BgpOptions, ifaces: readonly { name: string; ip: number }[], routes: Route[], dir: string): BirdSettings {
  const table = new RoutingTable(routes);
  const first = o.peers[0]!;
  const hop = table.lookup(first.addr);
  if (hop === null) throw new BgpError(`--bgp-peer ${formatIPv4(first.addr)}: no route to it from the balancer's interfaces`);
  const local = ifaces[hop.iface]?.ip ?? 0;
  if (local === 0) throw new BgpError(`--bgp-peer ${formatIPv4(first.addr)}: interface ${ifaces[hop.iface]?.name} has no IPv4 address to peer from`);
  for (const p of o.peers.slice(1)) {
    const h = table.lookup(p.addr);
    if (h === null || h.iface !== hop.iface) throw new BgpError(`--bgp-peer ${formatIPv4(p.addr)}: not reached through ${ifaces[hop.iface]!.name} like the first peer (one source address for all sessions)`);
  }
  return {
    routerId: o.routerId ?? local,
    localAddr: local,
    localAs: o.localAs,
    peers: o.peers.map((p, i) => ({ name: `peer${i + 1}`, addr: p.addr, as: peerAs(o, p) })),
    holdS: o.holdS,
    bfd: o.bfdMs > 0 ? { intervalMs: o.bfdMs, multiplier: o.bfdMultiplier } : null,
    table: o.table,
    ifname: o.ifname,
    logFile: `${dir}/bird.log`,
  };
}

export async function startBgp(p: BgpParams): Promise<BgpHandle> {
  const o = p.opts;
  for (const cmd of ['bird', 'birdc', 'ip']) {
    if (!p.hasCommand(cmd)) throw new BgpError(`--bgp: '${cmd}' is not on PATH: install BIRD 2 (apt-get install bird2), or add /usr/sbin to PATH`);
  }
  const dir = bgpDir(o, p.socket);
  const settings = birdSettings(o, p.ifaces, p.routes, dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const bird = new Bird(dir);
  writeFileSync(bird.conf, birdConfig(settings), { mode: 0o600 });
  bird.check();
  const routes = new TunVipRoutes(o.ifname, o.table);
  routes.open();
  let how: string;
  try {
    how = await bird.start();
  } catch (err) {
    routes.close();
    throw err;
  }
  const peers = settings.peers.map((x) => `${formatIPv4(x.addr)} AS ${x.as}`).join(', ');
  p.log(`bgp: BIRD ${how} (${bird.conf}, socket ${bird.socket}): AS ${o.localAs} from ${formatIPv4(settings.localAddr)} to ${peers}, hold ${o.holdS} s, ${settings.bfd ? `BFD ${o.bfdMs} ms x ${o.bfdMultiplier}` : 'no BFD'}; VIP routes in table ${o.table} via ${o.ifname}`);
  const announcer = new Announcer(p.engine, routes, p.log).start();
  let stopped = false;
  // BIRD gone while the balancer runs (killed, crashed): the routers lose the session (its TCP
  // connection closes, or BFD) and with it the VIPs; start it again so they come back.
  let restarting = false;
  const watch = setInterval(() => {
    if (stopped || restarting || bird.alivePid() !== null) return;
    restarting = true;
    p.log(`bgp: BIRD is not running (pid file ${bird.pidFile}); starting it again`);
    bird.start().then(
      (again) => p.log(`bgp: BIRD ${again}`),
      (err: unknown) => p.log(`bgp: cannot start BIRD again: ${(err as Error).message}`),
    ).finally(() => (restarting = false));
  }, 1000);
  watch.unref();
  return {
    announcer,
    bird,
    dir,
    reapply: () => announcer.evaluate(),
    statusText: () => announcer.statusText(),
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(watch);
      announcer.stop();
      bird.stop();
    },
  };
}
