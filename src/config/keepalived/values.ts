/**
 * Typed argument readers for keyword handlers. Each throws a ConfigError
 * naming the statement's file, line and keyword and what was expected.
 *
 * Number formats follow lib/parser.c: `read_unsigned` takes plain decimal
 * digits; `read_timer` takes seconds with up to 6 decimals (microsecond
 * resolution); `check_true_false` takes on/off/true/false/yes/no.
 */
import { isIP } from 'node:net';
import { canonicalIPv6 } from '../../packet/addr6.js';
import { ConfigError } from '../errors.js';
import type { Diagnostics } from './diagnostics.js';
import type { ConfigNode } from './parser.js';

/** Throws a ConfigError at `node` with "expected ..." text. */
export function fail(node: ConfigNode, expected: string): never {
  throw new ConfigError(node.file, node.line, node.keyword, expected);
}

/** The argument at `index` (0 = first after the keyword), or a ConfigError "expected <what>". */
export function requireArg(node: ConfigNode, index: number, what: string): string {
  const value = node.args[index];
  if (value === undefined) fail(node, `expected ${what}`);
  return value;
}

/** Warns when more than `max` arguments were given (keepalived silently ignores them). */
export function warnExtraArgs(node: ConfigNode, max: number, diag: Diagnostics): void {
  if (node.args.length > max) {
    diag.warn(node, node.keyword, `extra arguments ignored: '${node.args.slice(max).join(' ')}' (keepalived reads one keyword per line)`);
  }
}

/** Parses a decimal unsigned integer in [min, max]. */
export function parseUnsigned(node: ConfigNode, text: string, min: number, max: number, what = 'an integer'): number {
  if (!/^\d+$/.test(text)) fail(node, `expected ${what} in [${min}, ${max}], got '${text}'`);
  const value = Number(text);
  if (value < min || value > max) fail(node, `expected ${what} in [${min}, ${max}], got '${text}'`);
  return value;
}

export function readUnsigned(node: ConfigNode, index: number, min: number, max: number, what = 'an integer'): number {
  return parseUnsigned(node, requireArg(node, index, `${what} in [${min}, ${max}]`), min, max, what);
}

/** Seconds, possibly fractional (microsecond resolution), in [minSeconds, maxSeconds]. */
export function readTimer(node: ConfigNode, index: number, minSeconds = 0, maxSeconds = 4294967295): number {
  const what = `a time in seconds (e.g. 3 or 2.5) >= ${minSeconds}`;
  const text = requireArg(node, index, what);
  const m = /^(\d+)(?:\.(\d{1,6})\d*)?$/.exec(text);
  if (!m) fail(node, `expected ${what}, got '${text}'`);
  const micro = Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0') || '0');
  const seconds = micro / 1_000_000;
  if (seconds < minSeconds || seconds > maxSeconds) fail(node, `expected ${what}, got '${text}'`);
  return seconds;
}

const TRUE_WORDS = new Set(['on', 'true', 'yes']);
const FALSE_WORDS = new Set(['off', 'false', 'no']);

/** An optional <BOOL>: absent means true (keepalived's flag keywords). */
export function readOptionalBool(node: ConfigNode, index: number): boolean {
  const text = node.args[index];
  if (text === undefined) return true;
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  return fail(node, `expected on|off|true|false|yes|no, got '${text}'`);
}

export type AddressFamily = 'inet' | 'inet6';

/** An IPv4 or IPv6 literal (no host names: keepalived uses AI_NUMERICHOST). */
export function readIp(node: ConfigNode, index: number, what = 'an IP address'): { address: string; family: AddressFamily } {
  const text = requireArg(node, index, what);
  return parseIp(node, text, what);
}

/**
 * IPv6 text comes back in inet_ntop's canonical form (keepalived keeps a sockaddr and
 * prints it with inet_ntop), so "2001:DB8::0001" and "2001:db8::1" are one server.
 */
export function parseIp(node: ConfigNode, text: string, what = 'an IP address'): { address: string; family: AddressFamily } {
  const kind = isIP(text);
  if (kind === 0) fail(node, `expected ${what}, got '${text}'`);
  if (kind === 4) return { address: text, family: 'inet' };
  const canonical = canonicalIPv6(text);
  if (canonical === null) fail(node, `expected ${what}, got '${text}'`);
  return { address: canonical, family: 'inet6' };
}

/** An optional port argument; 0 or absent means "no port" (keepalived treats "0" as unset). */
export function readOptionalPort(node: ConfigNode, index: number): number {
  const text = node.args[index];
  if (text === undefined) return 0;
  return parseUnsigned(node, text, 0, 65535, 'a port');
}

/** Fails unless the statement opened a block; returns its children. */
export function requireBlock(node: ConfigNode): ConfigNode[] {
  if (!node.children) fail(node, "expected '{' to open the block");
  return node.children;
}

/** Fails when a keyword that takes no block was followed by one. */
export function forbidBlock(node: ConfigNode): void {
  if (node.children) fail(node, "expected no '{ ... }' block after this keyword");
}

/** A script keyword: `<command> [user [group]]` (notify_up, quorum_up, notify_master, ...). */
export interface NotifyScript {
  readonly command: string;
  readonly user?: string;
  readonly group?: string;
}

export function readScript(node: ConfigNode): NotifyScript {
  const command = requireArg(node, 0, 'a script path (quote it when it has arguments)');
  const user = node.args[1];
  const group = node.args[2];
  return { command, ...(user !== undefined ? { user } : {}), ...(group !== undefined ? { group } : {}) };
}
