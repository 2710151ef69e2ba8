/**
 * A tiny /etc/services reader: what ipvsadm gets from getservbyname() and
 * getservbyport() (service_to_port / port_to_service in ipvsadm.c).
 *
 * Format (services(5)): `official-name port/protocol [aliases ...]`, `#` starts
 * a comment. Like glibc's files backend, lookups return the first matching line.
 */
import { readFileSync } from 'node:fs';

export type ServiceProtocol = 'tcp' | 'udp' | 'sctp';

export interface ServicesDb {
  /** getservbyname(name, proto): matches the official name or an alias. */
  portByName(name: string, proto: ServiceProtocol): number | undefined;
  /** getservbyport(port, proto): the official name. */
  nameByPort(port: number, proto: ServiceProtocol): string | undefined;
}

interface ServiceEntry {
  readonly names: readonly string[];
  readonly port: number;
  readonly proto: string;
}

const PORT_PROTO = /^(\d{1,5})\/(\S+)$/;

/** Parse the text of a services file; malformed lines are skipped, as glibc does. */
export function parseServices(text: string): ServicesDb {
  const entries: ServiceEntry[] = [];
  for (const rawLine of text.split('\n')) {
    const hash = rawLine.indexOf('#');
    const line = hash >= 0 ? rawLine.slice(0, hash) : rawLine;
    const fields = line.split(/[ \t\r\f\v]+/).filter((f) => f !== '');
    const [name, portProto, ...aliases] = fields;
    if (name === undefined || portProto === undefined) continue;
    const m = PORT_PROTO.exec(portProto);
    if (m === null) continue;
    const port = Number(m[1]);
    if (port > 65535) continue;
    entries.push({ names: [name, ...aliases], port, proto: m[2] ?? '' });
  }
  return {
    portByName(name, proto) {
      return entries.find((e) => e.proto === proto && e.names.includes(name))?.port;
    },
    nameByPort(port, proto) {
      return entries.find((e) => e.proto === proto && e.port === port)?.names[0];
    },
  };
}

/** A database that knows no names (numbers everywhere). */
export const EMPTY_SERVICES: ServicesDb = parseServices('');

/** Read a services file; a missing or unreadable file gives the empty database. */
export function loadServicesSync(path = '/etc/services'): ServicesDb {
  try {
    return parseServices(readFileSync(path, 'utf8'));
  } catch {
    return EMPTY_SERVICES;
  }
}
