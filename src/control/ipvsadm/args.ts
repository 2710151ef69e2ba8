/**
 * argv -> Command, exactly as ipvsadm 1.31 (popt build) decides it:
 * parse_options + process_options in ipvsadm.c. The order of the checks is
 * the order of the original, because it decides which message wins:
 *   1. the first option must be a command (else "Try `ipvsadm -h' ...", 255);
 *   2. the other options in argv order (value errors: fail(), status 2; a
 *      second command: "invalid option `-X'", 2; popt errors: "<word>: <why>", 255);
 *   3. --set's three values, left-over words, -b flags;
 *   4. the command/option matrix; 5. per-command rules (-p/-o/-r port, tunnels, list conflicts).
 */
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3 } from '../../sched/types.js';
import type { Protocol } from '../snapshot-types.js';
import { atoi, fwmarkValue, parseNetmask, parseServiceAddress, stringToNumber, type HostLookup } from './arg-values.js';
import type { Command, ParseResult } from './command.js';
import { newDraft, toCommand, type Draft } from './draft.js';
import { fail, Stop } from './fail.js';
import { checkCommandOptions, duplicateOptionMessage, type CommandName, type OptionName } from './matrix.js';
import { IPVSADM_OPTIONS, type OptionTag } from './options-table.js';
import { PoptContext } from './popt.js';
import { checkCommandRules, parseMcastGroup, parseSchedFlags } from './option-checks.js';
import { EMPTY_SERVICES, type ServicesDb } from './services-file.js';
import { tryHelpLine, usageText, VERSION_LINE } from './usage.js';

export interface ParseEnv {
  /** argv[0], used in the tryhelp and usage texts. Default "ipvsadm". */
  readonly program?: string;
  /** /etc/services for port names. Default: no names. */
  readonly services?: ServicesDb;
  /** Host name -> IPv4 text (gethostbyname). Default: no names. */
  readonly lookupHost?: HostLookup;
}

/** MAX_TIMEOUT: 31 days. */
export const MAX_TIMEOUT = 86400 * 31;
/** IPVS_SVC_PERSISTENT_TIMEOUT (libipvs.h): a bare -p. */
export const DEFAULT_PERSISTENT_TIMEOUT = 360;
const INT_MAX = 2147483647;

const COMMAND_TAGS: Partial<Record<OptionTag, CommandName | 'help' | 'version'>> = {
  'add-service': 'add-service', 'edit-service': 'edit-service', 'delete-service': 'delete-service',
  clear: 'flush', list: 'list', zero: 'zero', 'add-server': 'add-server', 'edit-server': 'edit-server',
  'delete-server': 'delete-server', set: 'set', restore: 'restore', save: 'save',
  'start-daemon': 'start-daemon', 'stop-daemon': 'stop-daemon', help: 'help', version: 'version',
};

const PROTOCOL_OF: Partial<Record<OptionTag, Protocol>> = { 'tcp-service': 'TCP', 'udp-service': 'UDP', 'sctp-service': 'SCTP' };

/** Parse one ipvsadm invocation; `args` excludes argv[0]. An empty argv lists everything. */
export function parseIpvsadmArgs(args: readonly string[], env: ParseEnv = {}): ParseResult {
  const program = env.program ?? 'ipvsadm';
  try {
    return { ok: true, command: parseOrThrow(args, program, env.services ?? EMPTY_SERVICES, env.lookupHost ?? (() => undefined)) };
  } catch (e) {
    if (e instanceof Stop) return { ok: false, error: e.error };
    throw e;
  }
}

function parseOrThrow(args: readonly string[], program: string, services: ServicesDb, lookup: HostLookup): Command {
  const d = newDraft();
  if (args.length === 0) return toCommand(d, 'list');
  const ctx = new PoptContext(args, IPVSADM_OPTIONS, program);
  const tryHelp = (): never => {
    throw new Stop({ message: '', stderr: tryHelpLine(program), status: 255, exits: true });
  };

  const first = ctx.nextOption();
  if (first.kind !== 'option') return tryHelp();
  const cmd = COMMAND_TAGS[first.tag];
  if (cmd === undefined) return tryHelp();
  if (cmd === 'help') return { cmd: 'help', stdout: usageText(program), given: [] };
  if (cmd === 'version') return { cmd: 'version', stdout: VERSION_LINE, given: [] };
  if (cmd === 'start-daemon' || cmd === 'stop-daemon') {
    if (first.arg === 'master' || first.arg === 'backup') d.daemon.state = first.arg;
    else fail(cmd === 'start-daemon' ? 'illegal start-daemon parameter specified' : 'illegal start_daemon specified');
  }

  for (;;) {
    const ev = ctx.nextOption();
    if (ev.kind === 'end') break;
    if (ev.kind === 'error') {
      // parse_options prints the popt error and returns -1: exit status 255.
      const stderr = `${ev.badOption}: ${ev.error}\n`;
      throw new Stop({ message: stderr.slice(0, -1), stderr, status: 255, exits: false });
    }
    applyOption(d, ev.tag, ev.arg, ev.badOption, services, lookup);
  }

  if (cmd === 'set') {
    const values = [ctx.nextArg(), ctx.nextArg(), ctx.nextArg()];
    if (values.some((v) => v === null)) fail('--set option requires 3 timeout values');
    const [tcp, tcpfin, udp] = (values as string[]).map((v) => parseTimeout(v, 0));
    d.timeouts = { tcp: tcp as number, tcpfin: tcpfin as number, udp: udp as number };
  }
  const extra = ctx.nextArg();
  if (extra !== null) fail(`unexpected argument ${extra}`);
  if (d.schedFlagsArg !== '') {
    d.flags = (d.flags & ~(SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3)) | parseSchedFlags(d.scheduler, d.schedFlagsArg);
  }

  const problem = checkCommandOptions(cmd, d.given);
  if (problem !== null) fail(problem);
  checkCommandRules(d, cmd);
  return toCommand(d, cmd);
}

/** parse_timeout: a value in [min, MAX_TIMEOUT], or a bare -p's default. */
function parseTimeout(buf: string | null, min: number): number {
  if (buf === null) return DEFAULT_PERSISTENT_TIMEOUT;
  const v = stringToNumber(buf, min, MAX_TIMEOUT);
  if (v === -1) fail(`invalid timeout value \`${buf}' specified`);
  return v;
}

function setOption(d: Draft, opt: OptionName): void {
  if (d.given.has(opt)) fail(duplicateOptionMessage(opt));
  d.given.add(opt);
}

function numberOption(d: Draft, opt: OptionName, arg: string, min: number, max: number, what: string): number {
  setOption(d, opt);
  const v = stringToNumber(arg, min, max);
  if (v === -1) fail(`illegal ${what} specified`);
  return v;
}

/** The while loop's switch in parse_options. */
function applyOption(d: Draft, tag: OptionTag, arg: string | null, badOption: string, services: ServicesDb, lookup: HostLookup): void {
  const a = arg ?? '';
  switch (tag) {
    case 'tcp-service':
    case 'udp-service':
    case 'sctp-service': {
      setOption(d, 'service-address');
      d.proto = PROTOCOL_OF[tag] as Protocol;
      const p = parseServiceAddress(a, d.proto, services, lookup);
      if (p === null) fail('illegal virtual server address[:port] specified');
      d.af = p.af;
      d.addr = p.addr;
      if (p.port !== null) d.port = p.port;
      if (p.af === 'inet6') d.netmask = 128;
      return;
    }
    case 'fwmark-service': {
      setOption(d, 'service-address');
      const mark = fwmarkValue(a);
      if (mark === null) fail(`invalid fwmark value \`${a}' specified`);
      d.af = 'inet';
      d.proto = 'TCP';
      d.fwmark = mark;
      return;
    }
    case 'scheduler':
      setOption(d, 'scheduler');
      d.scheduler = a.slice(0, 15);
      return;
    case 'persistent':
      setOption(d, 'persistent');
      d.flags |= SVC_F_PERSISTENT;
      d.timeout = parseTimeout(arg, 1);
      return;
    case 'netmask':
      setOption(d, 'netmask');
      if (d.af !== 'inet6') {
        const mask = parseNetmask(a, lookup);
        if (mask === undefined) fail('illegal virtual server persistent mask specified');
        d.netmask = mask;
      } else {
        d.netmask = atoi(a);
        if (d.netmask < 1 || d.netmask > 128) fail('illegal ipv6 netmask specified');
      }
      return;
    case 'real-server': {
      setOption(d, 'real-server');
      const p = parseServiceAddress(a, d.proto, services, lookup);
      if (p === null) fail('illegal real server address[:port] specified');
      // The port defaults to the service port known at this point of argv.
      d.dest = { ...d.dest, af: p.af, addr: p.addr, port: p.port ?? d.port };
      return;
    }
    case 'ipip':
    case 'gatewaying':
    case 'masquerading':
    case 'fnat':
      setOption(d, 'forwarding-method');
      d.dest.fwd = tag === 'ipip' ? 'Tunnel' : tag === 'gatewaying' ? 'Route' : tag === 'masquerading' ? 'Masq' : 'FNAT';
      return;
    case 'weight':
      d.dest.weight = numberOption(d, 'weight', a, 0, 65535, 'weight');
      return;
    case 'u-threshold':
      d.dest.uThreshold = numberOption(d, 'u-threshold', a, 0, INT_MAX, 'u_threshold');
      return;
    case 'l-threshold':
      d.dest.lThreshold = numberOption(d, 'l-threshold', a, 0, INT_MAX, 'l_threshold');
      return;
    case 'mcast-interface':
      setOption(d, 'mcast-interface');
      d.daemon.mcastIfn = a.slice(0, 15);
      return;
    case 'syncid':
      d.daemon.syncid = numberOption(d, 'syncid', a, 0, 255, 'syncid');
      return;
    case 'mcast-group':
      setOption(d, 'mcast-group');
      d.daemon.mcastGroup = parseMcastGroup(a);
      return;
    case 'mcast-port':
      d.daemon.mcastPort = numberOption(d, 'mcast-port', a, 1, 65535, 'mcast-port');
      return;
    case 'mcast-ttl':
      d.daemon.mcastTtl = numberOption(d, 'mcast-ttl', a, 1, 255, 'mcast-ttl');
      return;
    case 'sync-maxlen':
      d.daemon.syncMaxlen = numberOption(d, 'sync-maxlen', a, 1, 65535 - 20 - 8, 'sync-maxlen');
      return;
    case 'ipv6':
      if (d.fwmark === 0) fail('-6 used before -f\n');
      d.af = 'inet6';
      d.addr = '::';
      d.netmask = 128;
      return;
    case 'ops':
      setOption(d, 'ops');
      d.flags |= SVC_F_ONEPACKET;
      return;
    case 'pe':
      setOption(d, 'pe');
      d.pe = a.slice(0, 16);
      return;
    case 'sched-flags':
      setOption(d, 'sched-flags');
      d.schedFlagsArg = a.slice(0, 127);
      return;
    case 'tun-type':
      setOption(d, 'tun-type');
      if (a !== 'ipip' && a !== 'gue' && a !== 'gre') fail('illegal tunnel type specified');
      d.dest.tunType = a;
      return;
    case 'tun-port':
      d.dest.tunPort = numberOption(d, 'tun-port', a, 1, 65535, 'tunnel port');
      return;
    case 'tun-nocsum':
    case 'tun-csum':
    case 'tun-remcsum':
      setOption(d, tag);
      d.dest.tunFlags |= tag === 'tun-csum' ? 1 : tag === 'tun-remcsum' ? 2 : 0;
      return;
    case 'sort':
      return; // "Sort is the default, this is a no-op for compatibility"
    default: {
      const flagOption = FLAG_OPTIONS[tag];
      if (flagOption === undefined) fail(`invalid option \`${badOption}'`); // e.g. a second command
      setOption(d, flagOption);
    }
  }
}

/** Options that only set a bit in `options` (and the matching FMT_* bit). */
const FLAG_OPTIONS: Partial<Record<OptionTag, OptionName>> = {
  connection: 'connection', numeric: 'numeric', timeout: 'timeout', daemon: 'daemon', stats: 'stats',
  rate: 'rate', thresholds: 'thresholds', 'persistent-conn': 'persistent-conn', nosort: 'nosort',
  exact: 'exact', 'tun-info': 'tun-info',
};

