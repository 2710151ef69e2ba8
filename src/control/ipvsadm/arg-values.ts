/**
 * Value parsers of ipvsadm.c: string_to_number, parse_fwmark, atoi, and
 * parse_service (host[:port], [v6]:port, names through injected lookups).
 */
import type { Protocol } from '../snapshot-types.js';
import { inetAton, inetPton6, ntop4, ntop6, type AddressFamily } from './inet.js';
import type { ServicesDb } from './services-file.js';

/** strtol(s, &end, 10) that must consume the whole string; null if it does not or overflows. */
function strtolWhole(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(s);
  if (m === null) return null;
  const v = Number(m[1]);
  // Beyond LONG_MAX strtol reports ERANGE; every caller's range is far below that.
  return Number.isSafeInteger(v) ? v : null;
}

/** string_to_number: the value if it is a whole decimal number in [min, max], else -1. */
export function stringToNumber(s: string, min: number, max: number): number {
  const v = strtolWhole(s);
  return v !== null && v >= min && v <= max ? v : -1;
}

/** parse_fwmark's test: 1..UINT_MAX, or null. */
export function fwmarkValue(s: string): number | null {
  const v = strtolWhole(s);
  return v !== null && v > 0 && v <= 0xffffffff ? v : null;
}

/** atoi: leading blanks, a sign, digits; 0 when there are none. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m === null ? 0 : Number(m[1]);
}

/** gethostbyname() restricted to IPv4, as host_to_addr uses it. */
export type HostLookup = (name: string) => string | undefined;

export interface ParsedAddress {
  readonly af: AddressFamily;
  /** Canonical text (inet_ntop of what was parsed). */
  readonly addr: string;
  /** null when no port was given (parse_service returned SERVICE_ADDR only). */
  readonly port: number | null;
}

export function serviceProtocolName(proto: Protocol | null): 'tcp' | 'udp' | 'sctp' | null {
  return proto === null ? null : (proto.toLowerCase() as 'tcp' | 'udp' | 'sctp');
}

/** service_to_port: a port name for the protocol in effect, or -1 (no protocol yet: -1). */
export function serviceToPort(name: string, proto: Protocol | null, services: ServicesDb): number {
  const p = serviceProtocolName(proto);
  return p === null ? -1 : (services.portByName(name, p) ?? -1);
}

/** host_to_addr through the lookup, then the same IPv4 check. */
export function hostToAddr(name: string, lookup: HostLookup): number | undefined {
  const text = lookup(name);
  return text === undefined ? undefined : inetAton(text);
}

/**
 * parse_service: "host[:port]" or "[v6]:port"; null for SERVICE_NONE.
 * Quirks kept: an all-digit word is refused; an unbracketed IPv6 address has no
 * port; a bracketed text that is not IPv6 loses its port and is read as IPv4;
 * the port may be a service name of the protocol in effect at that moment.
 */
export function parseServiceAddress(
  buf: string, proto: Protocol | null, services: ServicesDb, lookup: HostLookup,
): ParsedAddress | null {
  if (/^\d*$/.test(buf)) return null;
  let host = buf;
  let portText: string | null = null;
  if (host.startsWith('[')) {
    host = host.slice(1);
    const close = host.indexOf(']');
    if (close < 0) return null;
    const after = host.slice(close + 1);
    host = host.slice(0, close);
    if (!after.startsWith(':')) return null;
    portText = after.slice(1);
  }
  let af: AddressFamily;
  let addr: string;
  const v6 = inetPton6(host);
  if (v6 !== undefined) {
    af = 'inet6';
    addr = ntop6(v6);
  } else {
    const colon = host.lastIndexOf(':');
    portText = colon >= 0 ? host.slice(colon + 1) : null;
    if (colon >= 0) host = host.slice(0, colon);
    const v4 = inetAton(host) ?? hostToAddr(host, lookup);
    if (v4 === undefined) return null;
    af = 'inet';
    addr = ntop4(v4);
  }
  if (portText === null) return { af, addr, port: null };
  let port = stringToNumber(portText, 0, 65535);
  if (port === -1) port = serviceToPort(portText, proto, services);
  if (port === -1) return null;
  return { af, addr, port };
}

/** parse_netmask for IPv4: dotted (inet_aton) or a host name; u32 or undefined. */
export function parseNetmask(buf: string, lookup: HostLookup): number | undefined {
  return inetAton(buf) ?? hostToAddr(buf, lookup);
}
