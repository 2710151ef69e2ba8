/**
 * Checker blocks inside `real_server { ... }`: TCP_CHECK, HTTP_GET, SSL_GET,
 * DNS_CHECK, MISC_CHECK (check_tcp.c, check_http.c, check_dns.c,
 * check_misc.c; generic keywords from check_api.c
 * `install_checker_common_keywords`). Parsing yields a draft holding only
 * what was written; `finishChecker` applies the inheritance of
 * `validate_check_config` once the real server and virtual server are known.
 */
import type { SourceLocation } from '../errors.js';
import type { Diagnostics } from './diagnostics.js';
import type { ConfigNode } from './parser.js';
import { DNS_TYPES, type Checker, type CheckerType, type DnsType, type HttpUrl, type StatusCodeRange } from './schema.js';
import {
  fail, forbidBlock, parseUnsigned, readIp, readOptionalBool, readTimer, readUnsigned,
  requireArg, requireBlock, warnExtraArgs,
} from './values.js';

const UINT_MAX = 4294967295;
const MICROSECOND = 0.000001;

export const SUPPORTED_CHECKERS: readonly string[] = ['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'DNS_CHECK', 'MISC_CHECK'];
/** Checkers keepalived knows but this project does not run. */
export const UNSUPPORTED_CHECKERS: readonly string[] = ['SMTP_CHECK', 'UDP_CHECK', 'PING_CHECK', 'FILE_CHECK', 'BFD_CHECK'];

interface UrlDraft {
  path?: string;
  digest?: string;
  statusCodes: StatusCodeRange[];
  virtualhost?: string;
  regex?: string;
  regexNoMatch: boolean;
  source: SourceLocation;
}

export interface CheckerDraft {
  readonly type: CheckerType;
  readonly source: SourceLocation;
  retry?: number;
  delayBeforeRetry?: number;
  warmup?: number;
  delayLoop?: number;
  alpha?: boolean;
  logAllFailures: boolean;
  conn?: {
    connectIp?: string;
    connectPort?: number;
    bindTo?: string;
    bindPort?: number;
    bindIf?: string;
    fwmark?: number;
    connectTimeout?: number;
  };
  http?: {
    urls: UrlDraft[];
    httpProtocol: '1.0' | '1.0C' | '1.1';
    virtualhost?: string;
    fastRecovery: boolean;
    enableSni: boolean;
    sniName?: string;
  };
  dns?: { queryType: DnsType; name: string };
  misc?: { path?: string; timeout?: number; dynamic: boolean; user?: string; group?: string };
}

/** Parses a checker block; returns undefined when keepalived would drop the checker. */
export function parseChecker(node: ConfigNode, diag: Diagnostics): CheckerDraft | undefined {
  const type = node.keyword as CheckerType;
  const draft: CheckerDraft = { type, source: node, logAllFailures: false };
  if (type !== 'MISC_CHECK') draft.conn = {};
  if (type === 'HTTP_GET' || type === 'SSL_GET') {
    draft.http = { urls: [], httpProtocol: '1.0', fastRecovery: false, enableSni: false };
  }
  if (type === 'DNS_CHECK') draft.dns = { queryType: 'SOA', name: '' };
  if (type === 'MISC_CHECK') draft.misc = { dynamic: false };
  warnExtraArgs(node, 0, diag);
  for (const child of requireBlock(node)) {
    if (child.keyword !== 'url') forbidBlock(child);
    if (!(commonKeyword(draft, child, diag) || specificKeyword(draft, child, diag))) {
      diag.warn(child, child.keyword, `unknown keyword in ${type} block - ignored`);
    }
  }
  if (draft.http && draft.http.urls.length === 0) {
    diag.warn(node, type, 'checker has no url with a path - ignoring the checker (as keepalived)');
    return undefined;
  }
  if (draft.misc && draft.misc.path === undefined) {
    diag.warn(node, type, 'no misc_path given - ignoring the checker (as keepalived)');
    return undefined;
  }
  return draft;
}

function commonKeyword(d: CheckerDraft, n: ConfigNode, diag: Diagnostics): boolean {
  const conn = d.conn;
  switch (n.keyword) {
    case 'retry': d.retry = readUnsigned(n, 0, 0, UINT_MAX, 'a retry count'); break;
    case 'delay_before_retry': d.delayBeforeRetry = readTimer(n, 0); break;
    case 'warmup': d.warmup = readTimer(n, 0); break;
    case 'delay_loop': d.delayLoop = readTimer(n, 0, MICROSECOND); break;
    case 'alpha': d.alpha = readOptionalBool(n, 0); break;
    case 'log_all_failures': d.logAllFailures = readOptionalBool(n, 0); break;
    default:
      if (!conn) return false;
      switch (n.keyword) {
        case 'connect_ip': conn.connectIp = readIp(n, 0).address; break;
        case 'connect_port': conn.connectPort = readUnsigned(n, 0, 1, 65535, 'a port'); break;
        case 'bindto': conn.bindTo = readIp(n, 0).address; break;
        case 'bind_port': conn.bindPort = readUnsigned(n, 0, 1, 65535, 'a port'); break;
        case 'bind_if': conn.bindIf = requireArg(n, 0, 'an interface name'); break;
        case 'connect_timeout': conn.connectTimeout = readTimer(n, 0, MICROSECOND); break;
        case 'fwmark': conn.fwmark = readUnsigned(n, 0, 0, UINT_MAX, 'a firewall mark'); break;
        default: return false;
      }
  }
  warnExtraArgs(n, 1, diag);
  return true;
}

function specificKeyword(d: CheckerDraft, n: ConfigNode, diag: Diagnostics): boolean {
  if (d.http) return httpKeyword(d, d.http, n, diag);
  if (d.dns) {
    if (n.keyword === 'type') {
      const t = requireArg(n, 0, `a DNS type (${DNS_TYPES.join('|')})`).toUpperCase();
      if (!(DNS_TYPES as readonly string[]).includes(t)) fail(n, `expected a DNS type (${DNS_TYPES.join('|')}), got '${n.args[0]}'`);
      d.dns.queryType = t as DnsType;
    } else if (n.keyword === 'name') {
      const name = requireArg(n, 0, 'a DNS name');
      // check_dns.c dns_name_handler: no empty label ("a..b", ".a").
      if ((name.startsWith('.') && name !== '.') || name.includes('..')) fail(n, `expected a DNS name without empty labels, got '${name}'`);
      d.dns.name = name;
    } else return false;
    warnExtraArgs(n, 1, diag);
    return true;
  }
  if (d.misc) {
    switch (n.keyword) {
      case 'misc_path': d.misc.path = requireArg(n, 0, 'a script path'); warnExtraArgs(n, 1, diag); break;
      case 'misc_timeout': d.misc.timeout = readUnsigned(n, 0, 0, Math.floor(UINT_MAX / 1_000_000), 'a timeout in seconds'); break;
      case 'misc_dynamic': d.misc.dynamic = true; break;
      case 'user': {
        d.misc.user = requireArg(n, 0, 'a user name [and group]');
        if (n.args[1] !== undefined) d.misc.group = n.args[1];
        warnExtraArgs(n, 2, diag);
        break;
      }
      default: return false;
    }
    return true;
  }
  return false;
}

type HttpDraft = NonNullable<CheckerDraft['http']>;

function httpKeyword(d: CheckerDraft, h: HttpDraft, n: ConfigNode, diag: Diagnostics): boolean {
  switch (n.keyword) {
    case 'nb_get_retry':
      diag.warn(n, n.keyword, "nb_get_retry is deprecated - please use 'retry'");
      d.retry = readUnsigned(n, 0, 0, UINT_MAX, 'a retry count');
      break;
    case 'virtualhost': h.virtualhost = requireArg(n, 0, 'a virtual host name'); break;
    case 'http_protocol': {
      const v = requireArg(n, 0, 'an HTTP protocol version (1.0|1.0C|1.1)');
      if (v === '1.0' || v === '1.1') h.httpProtocol = v;
      else if (v === '1.0C' || v === '1.0c') h.httpProtocol = '1.0C';
      else fail(n, `expected an HTTP protocol version (1.0|1.0C|1.1), got '${v}'`);
      break;
    }
    case 'enable_sni': h.enableSni = readOptionalBool(n, 0); break;
    case 'sni_name':
      if (n.args[0] !== undefined) h.sniName = n.args[0];
      h.enableSni = true;
      break;
    case 'fast_recovery': h.fastRecovery = readOptionalBool(n, 0); break;
    case 'tls_compliant': readOptionalBool(n, 0); break;
    case 'url': {
      const url = parseUrl(n, diag);
      if (url) h.urls.push(url);
      return true;
    }
    default: return false;
  }
  warnExtraArgs(n, 1, diag);
  return true;
}

const DIGEST_RE = /^[0-9a-fA-F]{32}$/;

function parseUrl(node: ConfigNode, diag: Diagnostics): UrlDraft | undefined {
  const url: UrlDraft = { statusCodes: [], regexNoMatch: false, source: node };
  for (const n of requireBlock(node)) {
    forbidBlock(n);
    switch (n.keyword) {
      case 'path': url.path = requireArg(n, 0, 'a URL path'); warnExtraArgs(n, 1, diag); break;
      case 'digest': {
        const digest = requireArg(n, 0, 'an MD5 digest of 32 hex digits');
        if (!DIGEST_RE.test(digest)) fail(n, `expected an MD5 digest of 32 hex digits, got '${digest}'`);
        if (url.digest !== undefined) diag.warn(n, n.keyword, `digest '${digest}' is a duplicate - ignored`);
        else url.digest = digest.toLowerCase();
        break;
      }
      case 'status_code':
        requireArg(n, 0, 'a status code N or range N-M (100-599)');
        for (const arg of n.args) url.statusCodes.push(parseStatusRange(n, arg));
        break;
      case 'virtualhost': url.virtualhost = requireArg(n, 0, 'a virtual host name'); break;
      case 'regex': url.regex = requireArg(n, 0, 'a regular expression'); break;
      case 'regex_no_match': url.regexNoMatch = true; break;
      case 'regex_options': case 'regex_min_offset': case 'regex_max_offset': case 'regex_stack': case 'tls_compliant':
        break;
      default:
        diag.warn(n, n.keyword, 'unknown keyword in url block - ignored');
    }
  }
  if (url.path === undefined) {
    diag.warn(node, 'url', 'url has no path - ignoring it (as keepalived)');
    return undefined;
  }
  // check_http.c url_check: no status_code means 200-299.
  if (url.statusCodes.length === 0) url.statusCodes.push([200, 299]);
  return url;
}

function parseStatusRange(n: ConfigNode, arg: string): StatusCodeRange {
  const what = 'a status code N or range N-M within 100-599';
  const m = /^(\d+)(?:-(\d+))?$/.exec(arg);
  if (!m) fail(n, `expected ${what}, got '${arg}'`);
  const min = parseUnsigned(n, m[1]!, 100, 599, 'a status code');
  const max = m[2] === undefined ? min : parseUnsigned(n, m[2], 100, 599, 'a status code');
  if (min > max) fail(n, `expected ${what} with N <= M, got '${arg}'`);
  return [min, max];
}

/** The values a checker inherits (already resolved on the real server). */
export interface CheckerInheritance {
  readonly rsAddress: string;
  readonly rsConnectPort: number;
  readonly rsRetry?: number;
  readonly rsDelayBeforeRetry?: number;
  readonly rsWarmup?: number;
  readonly rsDelayLoop: number;
  readonly rsConnectTimeout: number;
  readonly rsAlpha: boolean;
  readonly rsVirtualhost?: string;
  readonly vsVirtualhost?: string;
  readonly vsDelayLoop: number;
}

/** Per-type defaults of check_api.c `queue_checker` and the type handlers. */
function defaultRetry(type: CheckerType): number {
  return type === 'DNS_CHECK' ? 3 : type === 'MISC_CHECK' ? 0 : 1;
}

/** Paraphrase of the checker loop at the end of `validate_check_config`. */
export function finishChecker(d: CheckerDraft, inh: CheckerInheritance): Checker {
  const delayLoop = d.delayLoop ?? inh.rsDelayLoop;
  const defaultDbr = d.type === 'HTTP_GET' || d.type === 'SSL_GET' ? 3 : d.type === 'DNS_CHECK' ? delayLoop : 1;
  const common = {
    source: d.source,
    retry: d.retry ?? inh.rsRetry ?? defaultRetry(d.type),
    delayBeforeRetry: d.delayBeforeRetry ?? inh.rsDelayBeforeRetry ?? defaultDbr,
    warmup: d.warmup ?? inh.rsWarmup ?? delayLoop,
    delayLoop,
    alpha: d.alpha ?? inh.rsAlpha,
    logAllFailures: d.logAllFailures,
  };
  if (d.misc) {
    const misc = { ...common, type: 'MISC_CHECK' as const, path: d.misc.path ?? '', timeout: d.misc.timeout ?? inh.vsDelayLoop, dynamic: d.misc.dynamic };
    return { ...misc, ...(d.misc.user !== undefined ? { user: d.misc.user } : {}), ...(d.misc.group !== undefined ? { group: d.misc.group } : {}) };
  }
  const c = d.conn ?? {};
  const conn = {
    connectIp: c.connectIp ?? inh.rsAddress,
    connectPort: c.connectPort ?? inh.rsConnectPort,
    connectTimeout: c.connectTimeout ?? inh.rsConnectTimeout,
    ...(c.bindTo !== undefined ? { bindTo: c.bindTo } : {}),
    ...(c.bindPort !== undefined ? { bindPort: c.bindPort } : {}),
    ...(c.bindIf !== undefined ? { bindIf: c.bindIf } : {}),
    ...(c.fwmark !== undefined ? { fwmark: c.fwmark } : {}),
  };
  if (d.http) {
    const h = d.http;
    // check_http.c http_request_thread: url -> checker -> rs -> vs virtualhost.
    const inheritedHost = h.virtualhost ?? inh.rsVirtualhost ?? inh.vsVirtualhost;
    const urls: HttpUrl[] = h.urls.map((u) => {
      const host = u.virtualhost ?? inheritedHost;
      return {
        path: u.path ?? '/', statusCodes: u.statusCodes, regexNoMatch: u.regexNoMatch, source: u.source,
        ...(u.digest !== undefined ? { digest: u.digest } : {}),
        ...(host !== undefined ? { virtualhost: host } : {}),
        ...(u.regex !== undefined ? { regex: u.regex } : {}),
      };
    });
    return {
      ...common, ...conn, type: d.type as 'HTTP_GET' | 'SSL_GET', urls, httpProtocol: h.httpProtocol,
      fastRecovery: h.fastRecovery, enableSni: h.enableSni,
      ...(h.virtualhost !== undefined ? { virtualhost: h.virtualhost } : {}),
      ...(h.sniName !== undefined ? { sniName: h.sniName } : {}),
    };
  }
  if (d.dns) return { ...common, ...conn, type: 'DNS_CHECK', queryType: d.dns.queryType, name: d.dns.name };
  return { ...common, ...conn, type: 'TCP_CHECK' };
}
