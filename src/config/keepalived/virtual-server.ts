/**
 * `virtual_server <IP> [<PORT>] | fwmark <N> | group <NAME> { ... }` and
 * `virtual_server_group <NAME> { ... }` (check_parser.c `init_check_keywords`,
 * check_data.c `alloc_vs`, `alloc_ssvr`, `alloc_vsg_entry`). The draft keeps
 * only what was written; resolve.ts applies keepalived's defaults.
 */
import type { SourceLocation } from '../errors.js';
import type { Diagnostics } from './diagnostics.js';
import type { ConfigNode } from './parser.js';
import { IPVS_WEIGHT_LIMIT, parseForwarding, parseRealServer, type RealServerDraft } from './real-server.js';
import {
  LVS_SCHEDULERS, type Forwarding, type LvsScheduler, type ServiceFlags,
  type VirtualServer, type VirtualServerGroup, type VirtualServerGroupEntry,
} from './schema.js';
import {
  fail, forbidBlock, parseIp, parseUnsigned, readIp, readOptionalBool, readOptionalPort, readScript, readTimer,
  readUnsigned, requireArg, requireBlock, warnExtraArgs, type AddressFamily,
} from './values.js';
import { formatGroups6, groupsOf, parseIPv6 } from '../../packet/addr6.js';

const UINT_MAX = 4294967295;
const MICROSECOND = 0.000001;
/** LVS_MAX_TIMEOUT (31 days) and IPVS_SVC_PERSISTENT_TIMEOUT (6 min). */
const LVS_MAX_TIMEOUT = 86400 * 31;
export const IPVS_SVC_PERSISTENT_TIMEOUT = 360;

/** A virtual server while its block is read: what has defaults later may still be unset. */
export interface VirtualServerDraft extends Omit<VirtualServer, 'name' | 'scheduler' | 'forwarding' | 'persistenceTimeout' | 'sorryServer' | 'realServers'> {
  scheduler?: LvsScheduler;
  forwarding?: Forwarding;
  persistenceTimeout?: number;
  sorryServer?: { address: string; family: AddressFamily; port: number; inhibit: boolean; forwarding?: Forwarding; source: SourceLocation };
  realServers: RealServerDraft[];
}

/** Parses the header and block; defaults are those of `alloc_vs`. */
export function parseVirtualServer(node: ConfigNode, diag: Diagnostics): VirtualServerDraft {
  const first = requireArg(node, 0, "an IP address, 'fwmark <N>' or 'group <NAME>'");
  const base = {
    source: node, flags: emptyFlags(), quorum: 1, hysteresis: 0, alpha: false, omega: false, inhibitOnFailure: false,
    delayLoop: 60, connectTimeout: 5, weight: 1, haSuspend: false, realServers: [] as RealServerDraft[],
  };
  let vs: VirtualServerDraft;
  if (first === 'fwmark') {
    vs = { ...base, kind: 'fwmark', fwmark: readUnsigned(node, 1, 0, UINT_MAX, 'a firewall mark') };
  } else if (first === 'group') {
    vs = { ...base, kind: 'group', group: requireArg(node, 1, 'a virtual_server_group name') };
  } else {
    const ip = readIp(node, 0, "an IP address, 'fwmark <N>' or 'group <NAME>'");
    vs = { ...base, kind: 'address', address: ip.address, family: ip.family, port: readOptionalPort(node, 1) };
  }
  warnExtraArgs(node, 2, diag);
  for (const n of requireBlock(node)) {
    if (n.keyword === 'real_server') {
      vs.realServers.push(parseRealServer(n, diag));
      continue;
    }
    forbidBlock(n);
    if (!virtualServerKeyword(vs, n, diag)) {
      diag.warn(n, n.keyword, 'unknown keyword in virtual_server block - ignored');
      continue;
    }
    const maxArgs = n.keyword === 'lb_kind' || n.keyword === 'lvs_method' || n.keyword === 'sorry_server_lvs_method'
      ? Infinity : n.keyword === 'sorry_server' ? 2 : n.keyword.startsWith('quorum_') ? 3 : 1;
    warnExtraArgs(n, maxArgs, diag);
  }
  return vs;
}

function emptyFlags(): ServiceFlags {
  return { ops: false, hashed: false, flag1: false, flag2: false, flag3: false, shPort: false, shFallback: false, mhPort: false, mhFallback: false, sloppyTcp: false };
}

function virtualServerKeyword(vs: VirtualServerDraft, n: ConfigNode, diag: Diagnostics): boolean {
  switch (n.keyword) {
    case 'ip_family': {
      const f = requireArg(n, 0, 'inet or inet6');
      if (f !== 'inet' && f !== 'inet6') fail(n, `expected inet or inet6, got '${f}'`);
      if (vs.family !== undefined && vs.family !== f) fail(n, `expected the family of the virtual server address (${vs.family}), got '${f}'`);
      vs.family = f;
      break;
    }
    case 'retry': vs.retry = readUnsigned(n, 0, 1, UINT_MAX, 'a retry count'); break;
    case 'delay_before_retry': vs.delayBeforeRetry = readTimer(n, 0); break;
    case 'warmup': vs.warmup = readTimer(n, 0); break;
    case 'connect_timeout': vs.connectTimeout = readTimer(n, 0, MICROSECOND); break;
    case 'delay_loop': vs.delayLoop = readTimer(n, 0, MICROSECOND); break;
    // keepalived's vs_inhibit_handler ignores any argument; a <BOOL> is read here so "no" is not taken as yes.
    case 'inhibit_on_failure': vs.inhibitOnFailure = readOptionalBool(n, 0); break;
    case 'lb_algo': case 'lvs_sched': {
      const s = requireArg(n, 0, `a scheduler (${LVS_SCHEDULERS.join('|')})`);
      if (!(LVS_SCHEDULERS as readonly string[]).includes(s)) fail(n, `expected a scheduler (${LVS_SCHEDULERS.join('|')}), got '${s}'`);
      vs.scheduler = s as LvsScheduler;
      break;
    }
    case 'hashed': vs.flags.hashed = true; break;
    case 'ops': vs.flags.ops = true; break;
    // tslb: per-service net.ipv4.vs.sloppy_tcp (keepalived has no such keyword; docs/scale-out.md).
    case 'sloppy_tcp': vs.flags.sloppyTcp = readOptionalBool(n, 0); break;
    case 'flag-1': vs.flags.flag1 = true; break;
    case 'flag-2': vs.flags.flag2 = true; break;
    case 'flag-3': vs.flags.flag3 = true; break;
    case 'sh-port': case 'sh-fallback': case 'mh-port': case 'mh-fallback': {
      // check_parser.c lbflags_handler: only honoured when the scheduler set so far matches.
      const sched = n.keyword.slice(0, 2);
      if (vs.scheduler !== sched) {
        diag.warn(n, n.keyword, `only applies to the ${sched} scheduler (set lvs_sched ${sched} before it) - ignored`);
        break;
      }
      const key = ({ 'sh-port': 'shPort', 'sh-fallback': 'shFallback', 'mh-port': 'mhPort', 'mh-fallback': 'mhFallback' } as const)[n.keyword];
      vs.flags[key] = true;
      break;
    }
    case 'lb_kind': case 'lvs_method': vs.forwarding = parseForwarding(n); break;
    case 'persistence_engine': vs.persistenceEngine = requireArg(n, 0, 'a persistence engine name'); break;
    case 'persistence_timeout':
      vs.persistenceTimeout = n.args.length === 0 ? IPVS_SVC_PERSISTENT_TIMEOUT : readUnsigned(n, 0, 1, LVS_MAX_TIMEOUT, 'a timeout in seconds');
      break;
    case 'persistence_granularity': readGranularity(vs, n); break;
    case 'protocol': {
      const p = requireArg(n, 0, 'a protocol TCP|UDP|SCTP').toUpperCase();
      if (p !== 'TCP' && p !== 'UDP' && p !== 'SCTP') fail(n, `expected a protocol TCP|UDP|SCTP, got '${n.args[0]}'`);
      vs.protocol = p;
      break;
    }
    case 'ha_suspend': vs.haSuspend = true; break;
    case 'smtp_alert': vs.smtpAlert = readOptionalBool(n, 0); break;
    case 'virtualhost': vs.virtualhost = requireArg(n, 0, 'a virtual host name'); break;
    case 'snmp_name': break;
    case 'alpha': vs.alpha = true; break;
    case 'omega': vs.omega = true; break;
    case 'quorum_up': vs.quorumUp = readScript(n); break;
    case 'quorum_down': vs.quorumDown = readScript(n); break;
    case 'quorum': vs.quorum = readUnsigned(n, 0, 1, UINT_MAX, 'a quorum weight'); break;
    case 'hysteresis': vs.hysteresis = readUnsigned(n, 0, 0, UINT_MAX, 'a hysteresis weight'); break;
    case 'weight': vs.weight = readUnsigned(n, 0, 1, IPVS_WEIGHT_LIMIT, 'a weight'); break;
    case 'sorry_server': {
      const ip = readIp(n, 0, 'a sorry server IP address');
      vs.sorryServer = { address: ip.address, family: ip.family, port: readOptionalPort(n, 1), inhibit: false, source: n };
      if (vs.forwarding) vs.sorryServer.forwarding = vs.forwarding;
      break;
    }
    case 'sorry_server_inhibit':
      if (vs.sorryServer) vs.sorryServer.inhibit = true;
      else diag.warn(n, n.keyword, 'used before or without sorry_server - ignored');
      break;
    case 'sorry_server_lvs_method':
      if (vs.sorryServer) vs.sorryServer.forwarding = parseForwarding(n);
      else diag.warn(n, n.keyword, 'used before or without sorry_server - ignored');
      break;
    default: return false;
  }
  return true;
}

/** check_parser.c pgr_handler: IPv4 netmask, or IPv6 prefix length; enables persistence. */
function readGranularity(vs: VirtualServerDraft, n: ConfigNode): void {
  const text = requireArg(n, 0, 'a netmask (IPv4) or prefix length (IPv6)');
  const family = vs.family ?? (text.includes('.') ? 'inet' : 'inet6');
  if (family === 'inet6') parseUnsigned(n, text, 1, 128, 'an IPv6 prefix length');
  else if (parseIp(n, text, 'an IPv4 netmask').family !== 'inet') fail(n, `expected an IPv4 netmask, got '${text}'`);
  vs.family ??= family;
  vs.persistenceGranularity = text;
  vs.persistenceTimeout ??= IPVS_SVC_PERSISTENT_TIMEOUT;
}

/** `virtual_server_group NAME { <IP>[-<END>|/<LEN>] [<PORT>] | fwmark <N> [inet|inet6] ... }`. */
export function parseVirtualServerGroup(node: ConfigNode, diag: Diagnostics): VirtualServerGroup | undefined {
  const name = requireArg(node, 0, 'a group name');
  warnExtraArgs(node, 1, diag);
  const entries: VirtualServerGroupEntry[] = [];
  for (const n of requireBlock(node)) {
    forbidBlock(n);
    entries.push(parseGroupEntry(n));
  }
  if (entries.length === 0) {
    diag.warn(node, 'virtual_server_group', `group ${name} has no entries - removing (as keepalived)`);
    return undefined;
  }
  return { name, entries, source: node };
}

function parseGroupEntry(n: ConfigNode): VirtualServerGroupEntry {
  if (n.keyword === 'fwmark') {
    const fwmark = readUnsigned(n, 0, 0, UINT_MAX, 'a firewall mark');
    const fam = n.args[1];
    if (fam !== undefined && fam !== 'inet' && fam !== 'inet6') fail(n, `expected inet or inet6 after the mark, got '${fam}'`);
    return { kind: 'fwmark', fwmark, source: n, ...(fam !== undefined ? { family: fam } : {}) };
  }
  // The entry keyword is the address itself; args[0] the optional port.
  const port = n.args[0] === undefined ? 0 : parseUnsigned(n, n.args[0], 0, 65535, 'a port');
  const text = n.keyword;
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const ip = parseIp(n, text.slice(0, slash), 'an IP address or range');
    const len = parseUnsigned(n, text.slice(slash + 1), 1, ip.family === 'inet' ? 32 : 128, 'a prefix length');
    const end = ip.family === 'inet' ? ipv4PrefixEnd(n, ip.address, len) : ipv6PrefixEnd(n, ip.address, len);
    return { kind: 'address', address: ip.address, family: ip.family, prefixLength: len, port, source: n, addressEnd: end };
  }
  const dash = text.indexOf('-');
  if (dash < 0) {
    const ip = parseIp(n, text, 'an IP address or range');
    return { kind: 'address', address: ip.address, family: ip.family, port, source: n };
  }
  const ip = parseIp(n, text.slice(0, dash), 'an IP address or range');
  const endText = text.slice(dash + 1);
  let end: string;
  if (ip.family === 'inet6' && endText.includes(':')) {
    // check_data.c alloc_vsg_entry: a whole end address, at or after the start group by group.
    const e = parseIp(n, endText, 'a range end address');
    if (e.family !== 'inet6') fail(n, `expected a range end of the same address family, got '${text}'`);
    const sg = groups6(ip.address), eg = groups6(e.address);
    const k = sg.findIndex((g, i) => g !== eg[i]);
    if (k >= 0 && eg[k]! < sg[k]!) fail(n, `expected a range end not below the start, got '${text}'`);
    end = formatGroups6(eg);
  } else if (ip.family === 'inet6') {
    // utils.c inet_stor: for IPv6 the end is the last 16-bit group, in hex (ae00::2-9, ae00::2-1f).
    if (!/^[0-9a-fA-F]{1,4}$/.test(endText)) fail(n, `expected a range end in hex (the last group, at most ffff), got '${text}'`);
    const g = groups6(ip.address);
    const last = parseInt(endText, 16);
    if (g[7]! >= last) fail(n, `expected a range end greater than the start, got '${text}'`);
    g[7] = last;
    end = formatGroups6(g);
  } else if (!endText.includes('.')) {
    const last = parseUnsigned(n, endText, 0, 255, 'a range end');
    const octets = ip.address.split('.');
    if (Number(octets[3]) >= last) fail(n, `expected a range end greater than the start, got '${text}'`);
    end = [...octets.slice(0, 3), String(last)].join('.');
  } else {
    end = parseIp(n, endText, 'a range end address').address;
  }
  return { kind: 'address', address: ip.address, family: ip.family, addressEnd: end, port, source: n };
}

/** The eight groups of an IPv6 literal that parseIp accepted. */
function groups6(address: string): number[] {
  return groupsOf(parseIPv6(address) ?? new Int32Array(4));
}

/**
 * check_data.c alloc_vsg_entry for ADDR/LEN: no host bits may be set; the end has them
 * all set (keepalived's walk later steps only the last group, see group-range.ts).
 */
function ipv6PrefixEnd(n: ConfigNode, address: string, len: number): string {
  const g = groups6(address);
  const end = g.map((v, i) => {
    const bits = Math.max(0, Math.min(16, len - 16 * i)); // prefix bits in group i
    const host = bits === 16 ? 0 : 0xffff >>> bits;
    if ((v & host) !== 0) fail(n, `expected no host bits set after /${len}, got '${address}/${len}'`);
    return v | host;
  });
  return formatGroups6(end);
}

function ipv4PrefixEnd(n: ConfigNode, address: string, len: number): string {
  const value = address.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const hostBits = 2 ** (32 - len);
  if (value % hostBits !== 0) fail(n, `expected no host bits set after /${len}, got '${address}/${len}'`);
  const end = value + hostBits - 1;
  return [24, 16, 8, 0].map((s) => String(Math.floor(end / 2 ** s) % 256)).join('.');
}
