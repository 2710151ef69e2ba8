/**
 * `real_server <IP> [<PORT>] { ... }` (check_parser.c real server keywords,
 * check_data.c `alloc_rs`) and the shared `lvs_method` argument parser
 * (check_parser.c `svr_forwarding_handler`). The draft keeps only what was
 * written; resolve.ts applies the virtual server defaults.
 */
import type { SourceLocation } from '../errors.js';
import { parseChecker, SUPPORTED_CHECKERS, UNSUPPORTED_CHECKERS, type CheckerDraft } from './checkers.js';
import type { Diagnostics } from './diagnostics.js';
import type { ConfigNode } from './parser.js';
import type { Forwarding, TunnelChecksum, TunnelType } from './schema.js';
import {
  fail, forbidBlock, parseUnsigned, readIp, readOptionalBool, readOptionalPort, readScript, readTimer,
  readUnsigned, requireArg, requireBlock, warnExtraArgs, type AddressFamily, type NotifyScript,
} from './values.js';

const UINT_MAX = 4294967295;
/** IPVS_WEIGHT_MAX (INT32_MAX), keepalived's IPVS_WEIGHT_LIMIT. */
export const IPVS_WEIGHT_LIMIT = 2147483647;
const MICROSECOND = 0.000001;

/** Parses `NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]` from args[0..]. */
export function parseForwarding(node: ConfigNode): Forwarding {
  const method = requireArg(node, 0, 'a forwarding method NAT|DR|TUN');
  if (method === 'NAT' || method === 'DR') {
    if (node.args.length > 1) fail(node, `expected no option after ${method}, got '${node.args.slice(1).join(' ')}'`);
    return { method };
  }
  if (method !== 'TUN') fail(node, `expected a forwarding method NAT|DR|TUN, got '${method}'`);
  let type: TunnelType = 'ipip';
  let port = 0;
  let checksum: TunnelChecksum = 'nocsum';
  for (let i = 1; i < node.args.length; i++) {
    const opt = node.args[i]!;
    if (opt === 'type') {
      const t = requireArg(node, ++i, 'a tunnel type ipip|gue|gre');
      if (t !== 'ipip' && t !== 'gue' && t !== 'gre') fail(node, `expected a tunnel type ipip|gue|gre, got '${t}'`);
      type = t;
    } else if (opt === 'port') {
      port = parseUnsigned(node, requireArg(node, ++i, 'a gue tunnel port'), 1, 65535, 'a port');
    } else if (opt === 'nocsum' || opt === 'csum' || opt === 'remcsum') {
      checksum = opt;
    } else {
      fail(node, `expected a tunnel option (type, port, nocsum, csum, remcsum), got '${opt}'`);
    }
  }
  if ((type === 'gue') !== (port !== 0)) fail(node, 'expected a port with (and only with) type gue');
  if (type === 'ipip' && checksum !== 'nocsum') fail(node, 'expected no checksum option for ipip tunnels');
  if (type === 'gre' && checksum === 'remcsum') fail(node, 'expected nocsum or csum for gre tunnels');
  return { method, tunnel: type === 'gue' ? { type, port, checksum } : { type, checksum } };
}

export interface RealServerDraft {
  readonly address: string;
  readonly family: AddressFamily;
  readonly configuredPort: number;
  readonly source: SourceLocation;
  weight?: number;
  forwarding?: Forwarding;
  uThreshold?: number;
  lThreshold?: number;
  inhibitOnFailure?: boolean;
  notifyUp?: NotifyScript;
  notifyDown?: NotifyScript;
  alpha?: boolean;
  retry?: number;
  delayBeforeRetry?: number;
  warmup?: number;
  connectTimeout?: number;
  delayLoop?: number;
  virtualhost?: string;
  smtpAlert?: boolean;
  checkers: CheckerDraft[];
}

export function parseRealServer(node: ConfigNode, diag: Diagnostics): RealServerDraft {
  const { address, family } = readIp(node, 0, 'a real server IP address');
  const rs: RealServerDraft = { address, family, configuredPort: readOptionalPort(node, 1), source: node, checkers: [] };
  warnExtraArgs(node, 2, diag);
  for (const n of requireBlock(node)) {
    if (SUPPORTED_CHECKERS.includes(n.keyword)) {
      const checker = parseChecker(n, diag);
      if (checker) rs.checkers.push(checker);
      continue;
    }
    if (UNSUPPORTED_CHECKERS.includes(n.keyword)) {
      diag.warn(n, n.keyword, 'this checker type is not supported - ignored');
      continue;
    }
    forbidBlock(n);
    if (!realServerKeyword(rs, n)) {
      diag.warn(n, n.keyword, 'unknown keyword in real_server block - ignored');
      continue;
    }
    const maxArgs = n.keyword === 'lvs_method' ? Infinity : n.keyword.startsWith('notify_') ? 3 : 1;
    warnExtraArgs(n, maxArgs, diag);
  }
  return rs;
}

function realServerKeyword(rs: RealServerDraft, n: ConfigNode): boolean {
  switch (n.keyword) {
    case 'weight': rs.weight = readUnsigned(n, 0, 0, IPVS_WEIGHT_LIMIT, 'a weight'); break;
    case 'lvs_method': rs.forwarding = parseForwarding(n); break;
    case 'uthreshold': rs.uThreshold = readUnsigned(n, 0, 0, UINT_MAX, 'a connection threshold'); break;
    case 'lthreshold': rs.lThreshold = readUnsigned(n, 0, 0, UINT_MAX, 'a connection threshold'); break;
    case 'inhibit_on_failure': rs.inhibitOnFailure = readOptionalBool(n, 0); break;
    case 'notify_up': rs.notifyUp = readScript(n); break;
    case 'notify_down': rs.notifyDown = readScript(n); break;
    case 'alpha': rs.alpha = readOptionalBool(n, 0); break;
    case 'retry': rs.retry = readUnsigned(n, 0, 1, UINT_MAX, 'a retry count'); break;
    case 'delay_before_retry': rs.delayBeforeRetry = readTimer(n, 0); break;
    case 'warmup': rs.warmup = readTimer(n, 0); break;
    case 'connect_timeout': rs.connectTimeout = readTimer(n, 0, MICROSECOND); break;
    case 'delay_loop': rs.delayLoop = readTimer(n, 0, MICROSECOND); break;
    case 'smtp_alert': rs.smtpAlert = readOptionalBool(n, 0); break;
    case 'virtualhost': rs.virtualhost = requireArg(n, 0, 'a virtual host name'); break;
    case 'snmp_name': break;
    default: return false;
  }
  return true;
}
