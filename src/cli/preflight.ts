/**
 * The start-up checks, run before anything is started (no capture opened, no nft table,
 * no health check, no socket): privileges, the tools and libraries the balancer needs,
 * --config / --rules (config-check.ts), the interfaces, the VIP, the control socket.
 * Everything the host is asked goes through Probes, so a unit test can run the checks
 * with a fake host and see that a failure leaves nothing behind. A failure is one
 * PreflightError: one line that names the thing and the fix (lb.ts prints it, exits 1).
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { isAlive } from '../control/server.js';
import { formatIPv4 } from '../packet/addr.js';
import { deviceFor, readInterfaces, readNeighbours, readNeighbours6, readRoutes, readRoutes6, sysctl, type IfaceInfo, type KernelRoute, type KernelRoute6 } from '../io/sysinfo.js';
import { checkFiles, errorsOf, formatDiagnostic, type FilesCheck } from './config-check.js';
import { HaError, haSettings } from '../ha/ha-settings.js';
import type { LbOptions } from './options.js';

export class PreflightError extends Error {}

/** What the checks ask the host (fakes in tests). */
export interface Probes {
  /** Effective uid, and the effective capability set (CapEff of /proc/self/status), null when unknown. */
  privileges(): { uid: number; capEff: bigint | null };
  /** An executable of that name on PATH (as execFile looks it up)? */
  hasCommand(cmd: string): boolean;
  /** null when the libpcap binding (cap) loads; else why not. */
  libpcapError(): string | null;
  readInterfaces(): IfaceInfo[];
  readRoutes(): KernelRoute[];
  /** IPv6 routes and neighbours; absent in fakes that model an IPv4-only host. */
  readRoutes6?(): KernelRoute6[];
  readNeighbours6?(): { ip: string; dev: string; mac: Uint8Array }[];
  deviceFor(addr: string): string | null;
  readNeighbours(): { ip: number; dev: string; mac: Uint8Array }[];
  sysctl(name: string): string | null;
  /** Does a balancer answer on this control socket? */
  socketInUse(path: string): Promise<boolean>;
  /** null when a socket can be created at path; else why not. */
  socketPathError(path: string): string | null;
}

export const CAP_NET_ADMIN = 12;
export const CAP_NET_RAW = 13;

function hasCap(capEff: bigint, bit: number): boolean {
  return ((capEff >> BigInt(bit)) & 1n) === 1n;
}

/** The host as it is. */
export const realProbes: Probes = {
  privileges() {
    let capEff: bigint | null = null;
    try {
      const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
      if (m) capEff = BigInt(`0x${m[1]}`);
    } catch {
      /* no /proc */
    }
    return { uid: process.getuid?.() ?? 0, capEff };
  },
  hasCommand(cmd) {
    // PATH only, as execFile finds them (sudo's secure_path has /usr/sbin, where nft and ip live).
    for (const d of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
      try {
        accessSync(join(d, cmd), constants.X_OK);
        return true;
      } catch {
        /* next */
      }
    }
    return false;
  },
  libpcapError() {
    try {
      createRequire(import.meta.url)('cap');
      return null;
    } catch (err) {
      return ((err as Error).message.split('\n')[0] ?? '').trim();
    }
  },
  readInterfaces,
  readRoutes,
  readRoutes6,
  deviceFor,
  readNeighbours,
  readNeighbours6,
  sysctl,
  socketInUse(path) {
    return existsSync(path) ? isAlive(path) : Promise.resolve(false);
  },
  socketPathError(path) {
    const dir = dirname(path);
    try {
      if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
      accessSync(dir, constants.W_OK);
      return null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === 'ENOENT' ? `${dir} does not exist` : code === 'EACCES' ? `${dir} is not writable` : `${dir}: ${code ?? (err as Error).message}`;
    }
  },
};

/** Both packet I/O backends need libpcap: `cap` links it, the ring backend compiles its BPF filters with it. */
export function needsLibpcap(_o: LbOptions): boolean {
  return true;
}

/** What the checks found, for the start that follows. */
export interface Checked {
  /** Every interface of the host, and the ones the balancer will use. */
  all: IfaceInfo[];
  ifaces: IfaceInfo[];
  routes: KernelRoute[];
  routes6: KernelRoute6[];
  files: FilesCheck;
}

/** Interfaces the balancer captures on: --iface, else those that reach the VIP and servers, else every one up with an address. */
export function chooseInterfaces(o: LbOptions, all: IfaceInfo[], deviceOf: (addr: string) => string | null): IfaceInfo[] {
  let names = o.ifaces;
  if (names.length === 0 && o.vip === null) {
    // Rules come from --rules/--config: every interface that is up and has an address.
    names = all.filter((i) => i.up && i.ip !== 0).map((i) => i.name);
    if (names.length === 0) throw new PreflightError('no interface with an IPv4 address is up: bring one up, or give --iface IF');
  } else if (names.length === 0) {
    const targets = [o.vip, ...o.rs.map((r) => r.addr)].filter((a): a is number => a !== null);
    names = [...new Set(targets.map((a) => deviceOf(formatIPv4(a))).filter((d): d is string => d !== null && d !== 'lo'))];
    if (names.length === 0) {
      throw new PreflightError(`no interface reaches the VIP ${formatIPv4(o.vip!)} (no route to it but through lo): give --iface IF, or add a route`);
    }
  }
  return names.map((n) => {
    if (n === 'lo') throw new PreflightError("interface 'lo' is the loopback: give --iface for the interface that reaches the VIP and the real servers");
    const i = all.find((x) => x.name === n);
    if (!i) throw new PreflightError(`interface '${n}' does not exist here (have: ${all.map((x) => x.name).join(', ') || 'none'}): give another --iface`);
    if (!i.up) throw new PreflightError(`interface '${n}' is down: ip link set ${n} up`);
    return i;
  });
}

function readHost<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const msg = ((err as Error).message ?? String(err)).split('\n')[0];
    throw new PreflightError(`cannot read ${what}: ${msg}: check that iproute2 is installed and recent (ip -j)`);
  }
}

/** The first error of the files, and how to see them all. */
function filesError(o: LbOptions, c: FilesCheck): PreflightError | null {
  const errors = errorsOf(c);
  if (errors.length === 0) return null;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more: lb ${o.config ? `--config ${o.config}` : ''}${o.config && o.rulesFile ? ' ' : ''}${o.rulesFile ? `--rules ${o.rulesFile}` : ''} --config-test lists them all)` : '';
  return new PreflightError(`${formatDiagnostic(errors[0]!)}${more}`);
}

/**
 * Every start-up check, in order; throws the first failure. Reads the host only through
 * `probes` and the --config / --rules files; starts nothing.
 */
export async function preflight(o: LbOptions, probes: Probes): Promise<Checked> {
  // 1. Privileges: raw frames need CAP_NET_RAW, the nft host guard CAP_NET_ADMIN.
  const { uid, capEff } = probes.privileges();
  const need = [CAP_NET_RAW, ...(o.hostGuard ? [CAP_NET_ADMIN] : [])];
  const names: Record<number, string> = { [CAP_NET_RAW]: 'CAP_NET_RAW', [CAP_NET_ADMIN]: 'CAP_NET_ADMIN' };
  const missing = capEff === null ? (uid === 0 ? [] : need) : need.filter((b) => !hasCap(capEff, b));
  if (missing.length > 0) {
    if (uid !== 0) throw new PreflightError(`must run as root (or with ${missing.map((b) => names[b]).join(' and ')}) to capture and send frames: run it with sudo`);
    throw new PreflightError(`running as root but without ${missing.map((b) => names[b]).join(' and ')} (a restricted container?): grant ${missing.map((b) => names[b]).join(' and ')}`);
  }
  // 2. Tools and libraries.
  if (!probes.hasCommand('ip')) throw new PreflightError("the 'ip' command is not on PATH (it reads interfaces and routes): install iproute2 (apt-get install iproute2), or add /usr/sbin to PATH");
  if (o.hostGuard && !probes.hasCommand('nft')) {
    throw new PreflightError("the 'nft' command is not on PATH (the host guard keeps the kernel off the VIP traffic): install nftables (apt-get install nftables) or add /usr/sbin to PATH, or run with --no-host-guard");
  }
  if (needsLibpcap(o)) {
    const why = probes.libpcapError();
    if (why !== null) {
      const fix = /libpcap/.test(why) ? 'install libpcap (apt-get install libpcap0.8)' : "install the node modules (npm ci), with libpcap-dev present to build 'cap'";
      throw new PreflightError(`libpcap cannot be loaded (${why}): ${fix}`);
    }
  }
  // 3. --config and --rules: every file and line, as lb --config-test reports them.
  const files = checkFiles(o);
  const bad = filesError(o, files);
  if (bad) throw bad;
  // 4. The interfaces: they exist, are up, reach the VIP; VRRP and sync name some of them.
  const all = readHost('the interfaces (ip -j addr show)', () => probes.readInterfaces());
  const ifaces = chooseInterfaces(o, all, (a) => probes.deviceFor(a));
  if (files.plan && (o.worker === null || o.worker.k === 0)) {
    const index = new Map(ifaces.map((i, n) => [i.name, n]));
    try {
      haSettings(files.plan, { ...o, nActive: o.bgp !== null }, (n) => index.get(n), (i) => ifaces[i]!.ip, (i) => ifaces[i]!.ll6);
    } catch (err) {
      if (err instanceof HaError) throw new PreflightError(err.message);
      throw err;
    }
  }
  // 5. A VIP may be an address of this host, as IPVS wants it: the balancer then takes only
  // its services' frames. Without the host guard the kernel would answer those too (RST).
  if (o.vip !== null && !o.hostGuard && all.some((i) => i.ip === o.vip)) {
    throw new PreflightError(
      `the VIP ${formatIPv4(o.vip)} is an address of this host and --no-host-guard is given: the kernel would reset the service's connections. ` +
      'Drop --no-host-guard (the guard drops only the service ports of a local VIP), or remove the address',
    );
  }
  // 6. The control socket: free, and creatable.
  if (o.socket) {
    if (await probes.socketInUse(o.socket)) {
      throw new PreflightError(`control socket ${o.socket} is in use by another balancer: stop that one (lb ipvsadm and lb reload talk to it), or give --socket PATH`);
    }
    const why = probes.socketPathError(o.socket);
    if (why !== null) throw new PreflightError(`cannot create the control socket ${o.socket} (${why}): give --socket PATH`);
  }
  const routes = readHost('the routes (ip -j route show)', () => probes.readRoutes());
  const routes6 = probes.readRoutes6 ? readHost('the IPv6 routes (ip -j -6 route show)', () => probes.readRoutes6!()) : [];
  return { all, ifaces, routes, routes6, files };
}
