/**
 * The defence flags (docs/reliability.md), named after the IPVS sysctls they mirror
 * (net.ipv4.vs.drop_entry, drop_packet, secure_tcp, amemthresh, am_droprate) plus the
 * caps beyond IPVS. Parsed here so src/cli/options.ts only delegates; errors go through the
 * caller's `bad`.
 */
import type { Guard } from './guard.js';

export interface DefenseOptions {
  dropEntry: number;
  dropPacket: number;
  secureTcp: number;
  /** Free table entries below which the automatic modes act (null = min(1024, capacity / 8)). */
  amemthresh: number | null;
  amDroprate: number;
  /** secure_tcp's SYN_RECV/SYNACK timeout in seconds, 0 = the normal ones. */
  secureSynRecvS: number;
  svcConnRate: number;
  clientConnRate: number;
  clientPrefixLen: number;
}

export const DEFENSE_DEFAULTS: Readonly<DefenseOptions> = {
  dropEntry: 0, dropPacket: 0, secureTcp: 0, amemthresh: null, amDroprate: 10, secureSynRecvS: 10,
  svcConnRate: 0, clientConnRate: 0, clientPrefixLen: 24,
};

export const DEFENSE_VALUE_FLAGS: ReadonlySet<string> = new Set([
  '--drop-entry', '--drop-packet', '--secure-tcp', '--amemthresh', '--am-droprate', '--secure-syn-recv-timeout',
  '--svc-conn-rate', '--client-conn-rate', '--client-prefix-len',
]);

export const DEFENSE_USAGE = `Defences under load (docs/reliability.md; modes as the IPVS sysctls: 0 off, 1 automatic,
2 automatic and active, 3 always; "short of room" = fewer than --amemthresh free table entries):
  --drop-entry 0..3       net.ipv4.vs.drop_entry: drop SYN_RECV (and idle few-packet) entries at random
  --drop-packet 0..3      net.ipv4.vs.drop_packet: drop one new connection in rate (amemthresh / (amemthresh - free))
  --secure-tcp 0..3       net.ipv4.vs.secure_tcp: the kernel's secure TCP state table, and short handshakes
  --amemthresh N          free entries below which modes 1/2 act (default min(1024, --max-conns / 8))
  --am-droprate N         drop rate of --drop-packet 3 (default 10)
  --secure-syn-recv-timeout S   SYN_RECV/SYNACK timeout while secure_tcp acts (default 10; 0 = normal 60 s)
  --svc-conn-rate N       at most N new connections a second per service (default 0 = no cap)
  --client-conn-rate N    at most N new connections a second per client prefix (default 0 = no cap)
  --client-prefix-len L   that prefix's length, 0..32 (default 24)`;

function intIn(name: string, v: string, lo: number, hi: number, bad: (m: string) => never): number {
  if (!/^\d+$/.test(v)) bad(`invalid value for ${name}: '${v}' (expected an integer ${lo}..${hi})`);
  const n = Number(v);
  if (n < lo || n > hi) bad(`invalid value for ${name}: '${v}' (expected ${lo}..${hi})`);
  return n;
}

/** Apply one flag of DEFENSE_VALUE_FLAGS to `o` (a copy of DEFENSE_DEFAULTS to begin with). */
export function defenseOption(o: DefenseOptions, name: string, v: string, bad: (m: string) => never): void {
  switch (name) {
    case '--drop-entry': o.dropEntry = intIn(name, v, 0, 3, bad); break;
    case '--drop-packet': o.dropPacket = intIn(name, v, 0, 3, bad); break;
    case '--secure-tcp': o.secureTcp = intIn(name, v, 0, 3, bad); break;
    case '--amemthresh': o.amemthresh = intIn(name, v, 0, 1 << 24, bad); break;
    case '--am-droprate': o.amDroprate = intIn(name, v, 1, 1 << 24, bad); break;
    case '--secure-syn-recv-timeout': o.secureSynRecvS = intIn(name, v, 0, 3600, bad); break;
    case '--svc-conn-rate': o.svcConnRate = intIn(name, v, 0, 1 << 30, bad); break;
    case '--client-conn-rate': o.clientConnRate = intIn(name, v, 0, 1 << 30, bad); break;
    case '--client-prefix-len': o.clientPrefixLen = intIn(name, v, 0, 32, bad); break;
    default: bad(`unknown option '${name}'`);
  }
}

/** Put the settings into an engine's guard (start-up). */
export function applyDefense(g: Guard, o: DefenseOptions, capacity: number): void {
  const l = g.levels;
  l.dropEntryMode = o.dropEntry;
  l.dropPacketMode = o.dropPacket;
  l.secureTcpMode = o.secureTcp;
  l.amemthresh = o.amemthresh ?? Math.min(1024, Math.max(1, Math.floor(capacity / 8)));
  l.amDroprate = o.amDroprate;
  g.secureSynRecvMs = o.secureSynRecvS * 1000;
  g.flood.serviceRate = o.svcConnRate;
  g.flood.prefixRate = o.clientConnRate;
  g.flood.setPrefixLength(o.clientPrefixLen);
  g.apply();
}

/** The settings as the sysctl names, for the start-up summary and `lb top`. */
export function describeDefense(g: Guard): string {
  const l = g.levels;
  return `drop_entry=${l.dropEntryMode} drop_packet=${l.dropPacketMode} secure_tcp=${l.secureTcpMode} amemthresh=${l.amemthresh} am_droprate=${l.amDroprate}` +
    (g.flood.serviceRate ? ` svc_conn_rate=${g.flood.serviceRate}` : '') +
    (g.flood.prefixRate ? ` client_conn_rate=${g.flood.prefixRate} per /${g.flood.prefixLen}` : '');
}
