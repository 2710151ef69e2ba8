/**
 * How ipvsadm writes an address and port (addrport_to_anyname, ipvsadm.c):
 * with -n "A.B.C.D:port" / "[v6]:port"; without, the reverse-DNS host name
 * (gethostbyaddr, or the number) and the /etc/services name of the port for the
 * protocol (getservbyport, or the number). The result lives in a 60-byte
 * buffer, so it is cut at 59 characters.
 */
import type { Protocol } from '../snapshot-types.js';
import { familyOf, inetAton, inetPton4, inetPton6, ntop4, ntop6 } from './inet.js';
import { EMPTY_SERVICES, type ServicesDb } from './services-file.js';

export interface NameEnv {
  /** /etc/services; default: no names. */
  readonly services?: ServicesDb;
  /** gethostbyaddr: canonical address text -> host name; default: no names. */
  readonly hostByAddr?: (addr: string) => string | undefined;
}

/** inet_ntop of an address given as text (so "10.0.0.010"-like inputs print canonically). */
export function canonicalAddress(addr: string): string {
  if (familyOf(addr) === 'inet6') {
    const w = inetPton6(addr);
    return w === undefined ? addr : ntop6(w);
  }
  const v = inetPton4(addr) ?? inetAton(addr);
  return v === undefined ? addr : ntop4(v);
}

/** port_to_anyname: the service's official name for TCP/UDP/SCTP, else the number. */
export function portToAnyname(port: number, proto: Protocol | 'IP', services: ServicesDb): string {
  if (proto === 'IP') return String(port);
  return services.nameByPort(port, proto.toLowerCase() as 'tcp' | 'udp' | 'sctp') ?? String(port);
}

export function addrportToAnyname(addr: string, port: number, proto: Protocol | 'IP', numeric: boolean, env: NameEnv): string {
  const v6 = familyOf(addr) === 'inet6';
  const text = canonicalAddress(addr);
  const host = numeric ? text : (env.hostByAddr?.(text) ?? text);
  const portText = numeric ? String(port) : portToAnyname(port, proto, env.services ?? EMPTY_SERVICES);
  const out = v6 ? `[${host}]:${portText}` : `${host}:${portText}`;
  return out.slice(0, 59);
}
