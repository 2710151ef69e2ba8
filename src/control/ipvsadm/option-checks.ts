/**
 * The checks of parse_options/process_options that come after the option
 * loop: -b flags, multicast groups, and the per-command rules that follow
 * generic_opt_check (-p/-o rules of docs/ipvs-behaviour.md §3, -r port forcing, tunnels, list conflicts).
 */
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3 } from '../../sched/types.js';
import type { Draft } from './draft.js';
import { fail } from './fail.js';
import { inetPton4, inetPton6 } from './inet.js';
import { checkTunnelOptions, type CommandName, type OptionName } from './matrix.js';
import { ZERO_PORT_NON_PERSISTENT } from './strerror.js';

/** --mcast-group: an IPv6 (has ':') or IPv4 multicast address. */
export function parseMcastGroup(a: string): string {
  if (a.includes(':')) {
    const w = inetPton6(a);
    if (w === undefined || (w[0] as number) >>> 8 !== 0xff) fail(`invalid IPv6 mcast-group \`${a}'`);
    return a;
  }
  const v4 = inetPton4(a);
  if (v4 === undefined || v4 >>> 28 !== 0xe) fail(`invalid IPv4 mcast-group \`${a}'`);
  return a;
}

/** parse_sched_flags' names: the bit and the scheduler a name requires (null: any). */
const SCHED_FLAGS: ReadonlyMap<string, readonly [number, string | null]> = new Map([
  ['flag-1', [SVC_F_SCHED1, null]], ['flag-2', [SVC_F_SCHED2, null]], ['flag-3', [SVC_F_SCHED3, null]],
  ['sh-fallback', [SVC_F_SCHED1, 'sh']], ['sh-port', [SVC_F_SCHED2, 'sh']],
  ['mh-fallback', [SVC_F_SCHED1, 'mh']], ['mh-port', [SVC_F_SCHED2, 'mh']],
]);

/** parse_sched_flags: comma list; sh-* need sh, mh-* need mh (default scheduler wlc). */
export function parseSchedFlags(scheduler: string, arg: string): number {
  const sched = scheduler === '' ? 'wlc' : scheduler;
  const words = arg.split(',').filter((w) => w !== '');
  // ipvsadm dereferences a NULL token here (",," crashes it); we refuse the empty flag instead.
  if (words.length === 0) fail("invalid scheduler flag `'");
  let flags = 0;
  for (const w of words) {
    // A Map, not an object literal: "constructor" or "__proto__" are not flags either.
    const entry = SCHED_FLAGS.get(w);
    if (entry === undefined) fail(`invalid scheduler flag \`${w}'`);
    flags |= entry[0];
    if (entry[1] !== null && entry[1] !== sched) fail(`incompatible scheduler flag \`${w}'`);
  }
  return flags;
}

/** process_options after generic_opt_check. */
export function checkCommandRules(d: Draft, cmd: CommandName): void {
  if (cmd === 'add-service' || cmd === 'edit-service') {
    if (d.fwmark === 0 && d.port === 0 && (d.flags & SVC_F_PERSISTENT) === 0) fail(ZERO_PORT_NON_PERSISTENT);
    if ((d.flags & SVC_F_ONEPACKET) !== 0 && d.fwmark === 0 && d.proto !== 'UDP') {
      fail('One-Packet Scheduling is only for UDP virtual services');
    }
    if (d.scheduler === '') d.scheduler = 'wlc';
  }
  if (cmd === 'start-daemon' && d.daemon.mcastIfn === '') d.daemon.mcastIfn = 'eth0';
  if (cmd === 'add-server' || cmd === 'edit-server') {
    const fwd = d.dest.fwd;
    // DR and TUN cannot change the port: it is forced to the service port.
    if (d.fwmark === 0 && (fwd === 'Tunnel' || fwd === 'Route')) d.dest.port = d.port;
    if (d.dest.af !== d.af && fwd !== 'Tunnel') fail('Different address family is allowed only for tunneling servers');
    const tunnelOptions: OptionName[] = ['tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];
    if (tunnelOptions.some((o) => d.given.has(o)) && fwd !== 'Tunnel') fail('Tunnel options conflict with forward method');
    const problem = checkTunnelOptions(d.dest.tunType, d.given);
    if (problem !== null) fail(problem);
  }
  if (cmd === 'list') {
    const g = (o: OptionName): boolean => d.given.has(o);
    const plainOnly = g('connection') || g('timeout') || g('daemon');
    if ((plainOnly && (g('stats') || g('rate') || g('thresholds'))) || ((g('timeout') || g('daemon')) && g('persistent-conn'))) {
      fail('options conflicts in the list command');
    }
  }
}
