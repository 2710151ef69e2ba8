/**
 * The `--bgp*` command-line options (docs/scale-out.md): N active directors, each announcing
 * its VIPs as /32 routes to its routers through a BIRD 2 it configures itself. Parsed here so
 * src/cli/options.ts only delegates; errors go through the caller's `bad` (a UsageError there).
 */
import { parseIPv4 } from '../packet/addr.js';

export interface BgpPeer {
  addr: number;
  as: number;
}

export interface BgpOptions {
  /** The routers (BGP neighbours), in the order given. */
  peers: BgpPeer[];
  /** Local AS; every peer without its own @AS gets `peerAs`. */
  localAs: number;
  peerAs: number;
  /** BGP router id; null = the address of the interface that reaches the first peer. */
  routerId: number | null;
  /** Where bird.conf, the control socket, pid and log file go; null = beside --socket. */
  dir: string | null;
  /** BGP hold time (s); keepalives every third of it. */
  holdS: number;
  /** BFD transmit/receive interval (ms), 0 = no BFD; detection after `bfdMultiplier` intervals. */
  bfdMs: number;
  bfdMultiplier: number;
  /** Kernel routing table for the VIP routes (no rule points at it: only BIRD reads it). */
  table: number;
  /** The TUN device that carries them (its lifetime is the balancer's). */
  ifname: string;
}

/** The --bgp flags that take a value (the others: --bgp). */
export const BGP_VALUE_FLAGS: ReadonlySet<string> = new Set([
  '--bgp-peer', '--bgp-as', '--bgp-peer-as', '--bgp-router-id', '--bgp-dir', '--bgp-hold', '--bgp-bfd', '--bgp-bfd-multiplier', '--bgp-table', '--bgp-ifname',
]);

export const BGP_USAGE = `N active directors behind ECMP (BIRD 2 announces the VIPs; see docs/scale-out.md):
  --bgp                   announce each VIP as a /32 by BGP while this director can serve it (the engine
                          runs and every service of the VIP has a real server up); withdrawn on stop, on
                          a crash (the kernel removes the route with the process) and without quorum
  --bgp-peer ADDR[@AS]    a router to peer with (repeatable; implies --bgp)
  --bgp-as N              local AS (default 65010)      --bgp-peer-as N   peers' AS (default 65000)
  --bgp-router-id ADDR    default: the address of the interface that reaches the first peer
  --bgp-hold S            BGP hold time, 3..65535 s (default 3; keepalive S/3)
  --bgp-bfd MS|off        BFD interval (default 100 ms, x3 = 300 ms to notice a dead link)
  --bgp-bfd-multiplier N  BFD detect multiplier (default 3)
  --bgp-dir DIR           bird.conf, bird.ctl, bird.pid, bird.log (default: --socket's path + .bgp)
  --bgp-table N           kernel table of the VIP routes (default 200)
  --bgp-ifname NAME       the TUN device that holds them (default tslbvip0)`;

export function defaultBgpOptions(): BgpOptions {
  return {
    peers: [], localAs: 65010, peerAs: 65000, routerId: null, dir: null, holdS: 3, bfdMs: 100, bfdMultiplier: 3,
    table: 200, ifname: 'tslbvip0',
  };
}

function int(name: string, v: string, lo: number, hi: number, bad: (m: string) => never): number {
  if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) bad(`invalid value for ${name}: '${v}' (expected an integer ${lo}..${hi})`);
  return Number(v);
}

const AS_MAX = 4294967295;

/** Apply one --bgp* flag (value '' for --bgp) to the options so far. */
export function bgpOption(cur: BgpOptions | null, name: string, v: string, bad: (m: string) => never): BgpOptions {
  const o = cur ?? defaultBgpOptions();
  switch (name) {
    case '--bgp': break;
    case '--bgp-peer': {
      const m = /^([0-9.]+)(?:@(\d+))?$/.exec(v);
      const a = m ? parseIPv4(m[1]!) : null;
      if (!m || a === null) bad(`invalid value for --bgp-peer: '${v}' (expected ADDR or ADDR@AS)`);
      const as = m[2] === undefined ? 0 : int('--bgp-peer AS', m[2], 1, AS_MAX, bad);
      if (o.peers.some((p) => p.addr === a)) bad(`--bgp-peer ${v}: given twice`);
      o.peers.push({ addr: a, as });
      break;
    }
    case '--bgp-as': o.localAs = int(name, v, 1, AS_MAX, bad); break;
    case '--bgp-peer-as': o.peerAs = int(name, v, 1, AS_MAX, bad); break;
    case '--bgp-router-id': {
      const a = parseIPv4(v);
      if (a === null) bad(`invalid value for --bgp-router-id: '${v}' (expected a dotted IPv4 address)`);
      o.routerId = a;
      break;
    }
    case '--bgp-dir': o.dir = v; break;
    case '--bgp-hold': o.holdS = int(name, v, 3, 65535, bad); break;
    case '--bgp-bfd': o.bfdMs = v === 'off' ? 0 : int(name, v, 10, 10000, bad); break;
    case '--bgp-bfd-multiplier': o.bfdMultiplier = int(name, v, 1, 255, bad); break;
    case '--bgp-table': o.table = int(name, v, 1, 0xfffffffe, bad); if (o.table === 253 || o.table === 254 || o.table === 255) bad(`--bgp-table ${v}: that is the kernel's default, main or local table`); break;
    case '--bgp-ifname':
      if (!/^[A-Za-z0-9_.-]{1,15}$/.test(v)) bad(`invalid value for --bgp-ifname: '${v}' (1-15 characters [A-Za-z0-9_.-])`);
      o.ifname = v;
      break;
    default: bad(`unknown option '${name}'`);
  }
  return o;
}

/** The peer's AS (its own @AS or --bgp-peer-as). */
export function peerAs(o: BgpOptions, p: BgpPeer): number {
  return p.as !== 0 ? p.as : o.peerAs;
}
