/**
 * The virtual addresses one `virtual_server_group` entry stands for, as keepalived adds
 * them (ipvswrapper.c ipvs_group_range_cmd): one IPVS service per address, from the
 * start, stepping only the last IPv4 octet or the last IPv6 16-bit group, until that
 * part equals the end's.
 *
 * keepalived's walk has edges this refuses instead of following:
 *   - IPv4: it compares the whole address with the end but steps only the last octet
 *     (wrapping within it), so an end that differs above the last octet (10.0.0.250-
 *     10.0.1.5, or a prefix shorter than /24) is never reached;
 *   - IPv6: it compares only the last group, so an end whose last group is below the
 *     start's (ae00::5-ae00:1::2) wraps through ffff.
 * An IPv6 end that differs above the last group is walked as keepalived walks it: only
 * the last group moves (2001:db8::/64 gives the 65536 addresses 2001:db8::0 to ::ffff).
 */
import { ConfigError } from '../errors.js';
import { formatGroups6, groupsOf, parseIPv6 } from '../../packet/addr6.js';
import type { VirtualServerGroupEntry } from './schema.js';

const fail = (e: VirtualServerGroupEntry, detail: string): never => {
  throw new ConfigError(e.source.file, e.source.line, 'virtual_server_group', detail);
};

/** The entry's addresses in keepalived's order (canonical text), or a ConfigError at the entry. */
export function expandGroupEntry(e: VirtualServerGroupEntry): string[] {
  if (e.kind !== 'address' || e.address === undefined) return [];
  const label = `${e.address}${e.prefixLength !== undefined ? `/${e.prefixLength}` : ''}${e.addressEnd !== undefined ? ` to ${e.addressEnd}` : ''}`;
  if (e.family === 'inet6') {
    const start = groupsOf(parseIPv6(e.address) ?? fail(e, `expected an IPv6 address, got '${e.address}'`));
    if (e.addressEnd === undefined) return [formatGroups6(start)];
    const end = groupsOf(parseIPv6(e.addressEnd) ?? fail(e, `expected an IPv6 range end, got '${e.addressEnd}'`));
    if (end[7]! < start[7]!) fail(e, `range ${label}: keepalived steps only the last group, and ${end[7]!.toString(16)} is below ${start[7]!.toString(16)}`);
    const out: string[] = [];
    for (let g = start[7]!; g <= end[7]!; g++) {
      start[7] = g;
      out.push(formatGroups6(start));
    }
    return out;
  }
  const octets = e.address.split('.').map(Number);
  if (e.addressEnd === undefined) return [e.address];
  const last = e.addressEnd.split('.').map(Number);
  if (octets.slice(0, 3).join('.') !== last.slice(0, 3).join('.') || last[3]! < octets[3]!) {
    fail(e, `range ${label}: keepalived steps only the last octet, so the end must differ from the start in that octet only`);
  }
  const out: string[] = [];
  for (let v = octets[3]!; v <= last[3]!; v++) out.push(`${octets[0]}.${octets[1]}.${octets[2]}.${v}`);
  return out;
}
