/**
 * What the kernel of this (network namespace's) host says about interfaces, routes
 * and neighbours, read with `ip -j` at start-up and on rule changes. Never per packet.
 */
import { execFile, execFileSync } from 'node:child_process';
import { parseIPv4, parseMac } from '../packet/addr.js';
import { canonicalIPv6, ipv6Bytes, isLinkLocal6, isMulticast6 } from '../packet/addr6.js';

export interface IfaceInfo {
  name: string;
  mac: Uint8Array;
  mtu: number;
  /** First IPv4 address and prefix, or 0/0. */
  ip: number;
  prefixLen: number;
  up: boolean;
  /** First usable link-local IPv6 address (scope link; 16 bytes), the source of our NS; absent if none. */
  ll6?: Uint8Array;
  /** First global IPv6 address (16 bytes): the outer source of ip6ip6 tunnels. */
  ip6?: Uint8Array;
}

export interface KernelRoute {
  dst: number;
  prefixLen: number;
  dev: string;
  gateway: number;
}

export interface KernelRoute6 {
  /** Canonical text (packet/addr6.ts formatIPv6), '::' for the default route. */
  dst: string;
  prefixLen: number;
  dev: string;
  gateway: string | null;
}

function ipJson(args: string[]): unknown[] {
  const out = execFileSync('ip', ['-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trim() === '' ? [] : (JSON.parse(out) as unknown[]);
}

export interface IpAddrJson {
  ifname: string;
  address?: string;
  mtu: number;
  operstate?: string;
  flags?: string[];
  addr_info?: IpAddrInfoJson[];
}

/** One entry of addr_info as `ip -j addr` prints it (iproute2 ipaddress.c print_addrinfo). */
export interface IpAddrInfoJson {
  family: string;
  local: string;
  prefixlen: number;
  scope?: string;
  tentative?: boolean;
  dadfailed?: boolean;
}

export function readInterfaces(): IfaceInfo[] {
  return interfacesOf(ipJson(['addr', 'show']) as IpAddrJson[]);
}

/** The interfaces in `ip -j addr show` output (pure: tested with iproute2-shaped JSON). */
export function interfacesOf(links: IpAddrJson[]): IfaceInfo[] {
  return links
    .filter((l) => l.ifname !== 'lo' && l.address)
    .map((l) => {
      const v4 = (l.addr_info ?? []).find((a) => a.family === 'inet');
      const info: IfaceInfo = {
        name: l.ifname,
        mac: parseMac(l.address!) ?? new Uint8Array(6),
        mtu: l.mtu,
        ip: v4 ? parseIPv4(v4.local) ?? 0 : 0,
        prefixLen: v4 ? v4.prefixlen : 0,
        up: (l.flags ?? []).includes('UP'),
      };
      const ll6 = linkLocalOf(l.addr_info ?? []);
      if (ll6) info.ll6 = ll6;
      const g6 = (l.addr_info ?? []).find((a) => a.family === 'inet6' && a.scope === 'global' && !a.tentative && !a.dadfailed);
      const ip6 = g6 ? ipv6Bytes(g6.local) : null;
      if (ip6) info.ip6 = ip6;
      return info;
    });
}

/**
 * The first link-local address that may be a source (RFC 4862 5.4: not while tentative, never
 * after DAD failed), as ipv6_get_lladdr picks the one for NS (IFA_F_TENTATIVE excluded).
 */
function linkLocalOf(addrs: IpAddrInfoJson[]): Uint8Array | null {
  for (const a of addrs) {
    if (a.family !== 'inet6' || a.scope !== 'link' || a.tentative || a.dadfailed) continue;
    const b = ipv6Bytes(a.local);
    if (b && isLinkLocal6(b, 0)) return b;
  }
  return null;
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

/** Every IPv6 address of this host (lo and link-local included), canonical text. */
export function readHostAddresses6(): string[] {
  return hostAddresses6Of(ipJson(['-6', 'addr', 'show']) as IpAddrJson[]);
}

/** readHostAddresses6 without blocking the event loop; errors give null. */
export function readHostAddresses6Async(done: (a: string[] | null) => void): void {
  execFile('ip', ['-j', '-6', 'addr', 'show'], { encoding: 'utf8' }, (err, out) => {
    if (err) return done(null);
    try {
      done(hostAddresses6Of(out.trim() === '' ? [] : (JSON.parse(out) as IpAddrJson[])));
    } catch {
      done(null);
    }
  });
}

export function hostAddresses6Of(links: IpAddrJson[]): string[] {
  const out: string[] = [];
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      const c = a.family === 'inet6' ? canonicalIPv6(a.local) : null;
      if (c !== null && !out.includes(c)) out.push(c);
    }
  }
  return out;
}

export interface IpRouteJson {
  dst: string;
  dev: string;
  gateway?: string;
  type?: string;
  nexthops?: { gateway?: string; dev?: string }[];
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

export function readRoutes6(): KernelRoute6[] {
  return routes6Of(ipJson(['-6', 'route', 'show', 'table', 'main']) as IpRouteJson[]);
}

/**
 * Unicast routes of `ip -j -6 route show` (pure). iproute2 prints `type` only when it is not
 * unicast (unreachable, prohibit, blackhole, local, anycast, multicast...: none is a next hop),
 * omits the prefix length of a /128, and gives a multipath route's hops in `nexthops` (the
 * first is taken). Multicast destinations (ff00::/8) are skipped; fe80::/64 is on-link.
 */
export function routes6Of(json: IpRouteJson[]): KernelRoute6[] {
  const routes: KernelRoute6[] = [];
  for (const r of json) {
    if (r.type !== undefined && r.type !== 'unicast') continue;
    let dst = '::', prefixLen = 0;
    if (r.dst !== 'default') {
      const [a, p] = r.dst.split('/');
      const b = ipv6Bytes(a!);
      if (b === null || isMulticast6(b, 0)) continue;
      dst = canonicalIPv6(a!)!;
      prefixLen = p === undefined ? 128 : Number(p);
      if (!(prefixLen >= 0 && prefixLen <= 128)) continue;
    }
    const hop = r.dev === undefined ? r.nexthops?.[0] : r;
    if (!hop?.dev) continue;
    const gateway = hop.gateway ? canonicalIPv6(hop.gateway) : null;
    routes.push({ dst, prefixLen, dev: hop.dev, gateway });
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

/** NUD states whose lladdr can be used (include/uapi/linux/neighbour.h NUD_VALID minus NOARP/PROBE). */
const USABLE_NUD = new Set(['REACHABLE', 'STALE', 'PERMANENT', 'DELAY']);

/** Known IPv6 neighbours with a link-layer address, to prime the engine's table. */
export function readNeighbours6(): { ip: string; dev: string; mac: Uint8Array }[] {
  return neighbours6Of(ipJson(['-6', 'neigh', 'show']) as IpNeighJson[]);
}

export interface IpNeighJson {
  dst: string;
  dev: string;
  lladdr?: string;
  state?: string[];
}

/** The usable entries of `ip -j -6 neigh show` (pure); ip is canonical text. */
export function neighbours6Of(json: IpNeighJson[]): { ip: string; dev: string; mac: Uint8Array }[] {
  const out: { ip: string; dev: string; mac: Uint8Array }[] = [];
  for (const n of json) {
    if (!(n.state ?? []).some((s) => USABLE_NUD.has(s))) continue;
    const ip = canonicalIPv6(n.dst);
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
