/**
 * What the kernel of this (network namespace's) host says about interfaces, routes
 * and neighbours, read with `ip -j` at start-up and on rule changes. Never per packet.
 */
import { execFile, execFileSync } from 'node:child_process';
import { parseIPv4, parseMac } from '../packet/addr.js';

export interface IfaceInfo {
  name: string;
  mac: Uint8Array;
  mtu: number;
  /** First IPv4 address and prefix, or 0/0. */
  ip: number;
  prefixLen: number;
  up: boolean;
}

export interface KernelRoute {
  dst: number;
  prefixLen: number;
  dev: string;
  gateway: number;
}

function ipJson(args: string[]): unknown[] {
  const out = execFileSync('ip', ['-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trim() === '' ? [] : (JSON.parse(out) as unknown[]);
}

interface IpAddrJson {
  ifname: string;
  address?: string;
  mtu: number;
  operstate?: string;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

export function readInterfaces(): IfaceInfo[] {
  return (ipJson(['addr', 'show']) as IpAddrJson[])
    .filter((l) => l.ifname !== 'lo' && l.address)
    .map((l) => {
      const v4 = (l.addr_info ?? []).find((a) => a.family === 'inet');
      return {
        name: l.ifname,
        mac: parseMac(l.address!) ?? new Uint8Array(6),
        mtu: l.mtu,
        ip: v4 ? parseIPv4(v4.local) ?? 0 : 0,
        prefixLen: v4 ? v4.prefixlen : 0,
        up: (l.flags ?? []).includes('UP'),
      };
    });
}

/**
 * Every IPv4 address of this host (network namespace), `lo` and secondary addresses
 * included: a VIP among them is local, as IPVS wants it (the kernel owns ARP, ping and
 * other ports of that address; the balancer takes only its services' frames).
 */
export function readHostAddresses(): { addr: number; dev: string }[] {
  return hostAddressesOf(ipJson(['-4', 'addr', 'show']) as IpAddrJson[]);
}

/**
 * The same without blocking the event loop (the periodic check runs beside the packet path:
 * a synchronous `ip` would stall the rings for milliseconds). Errors give null.
 */
export function readHostAddressesAsync(done: (a: { addr: number; dev: string }[] | null) => void): void {
  execFile('ip', ['-j', '-4', 'addr', 'show'], { encoding: 'utf8' }, (err, out) => {
    if (err) return done(null);
    try {
      done(hostAddressesOf(out.trim() === '' ? [] : (JSON.parse(out) as IpAddrJson[])));
    } catch {
      done(null);
    }
  });
}

function hostAddressesOf(links: IpAddrJson[]): { addr: number; dev: string }[] {
  const out: { addr: number; dev: string }[] = [];
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      const n = a.family === 'inet' ? parseIPv4(a.local) : null;
      if (n !== null) out.push({ addr: n >>> 0, dev: l.ifname });
    }
  }
  return out;
}

interface IpRouteJson {
  dst: string;
  dev: string;
  gateway?: string;
}

export function readRoutes(): KernelRoute[] {
  const routes: KernelRoute[] = [];
  for (const r of ipJson(['-4', 'route', 'show', 'table', 'main']) as IpRouteJson[]) {
    let dst = 0, prefixLen = 0;
    if (r.dst !== 'default') {
      const [a, p] = r.dst.split('/');
      const n = parseIPv4(a!);
      if (n === null) continue;
      dst = n;
      prefixLen = p === undefined ? 32 : Number(p);
    }
    routes.push({ dst, prefixLen, dev: r.dev, gateway: r.gateway ? parseIPv4(r.gateway) ?? 0 : 0 });
  }
  return routes;
}

/** The device the kernel would use to reach addr (`ip route get`), or null. */
export function deviceFor(addr: string): string | null {
  try {
    const r = ipJson(['route', 'get', addr]) as { dev?: string }[];
    return r[0]?.dev ?? null;
  } catch {
    return null;
  }
}

/** Known neighbours (REACHABLE/STALE/PERMANENT), to prime the engine's table. */
export function readNeighbours(): { ip: number; dev: string; mac: Uint8Array }[] {
  const out: { ip: number; dev: string; mac: Uint8Array }[] = [];
  for (const n of ipJson(['-4', 'neigh', 'show']) as { dst: string; dev: string; lladdr?: string }[]) {
    const ip = parseIPv4(n.dst);
    const mac = n.lladdr ? parseMac(n.lladdr) : null;
    if (ip !== null && mac) out.push({ ip, dev: n.dev, mac });
  }
  return out;
}

export function sysctl(name: string): string | null {
  try {
    return execFileSync('sysctl', ['-n', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}
