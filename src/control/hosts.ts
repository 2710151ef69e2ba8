/**
 * /etc/hosts, for ipvsadm's name forms without -n (gethostbyaddr / gethostbyname
 * through the files database). No DNS: the lab and most directors have none.
 */
import { readFileSync } from 'node:fs';

export interface HostsDb {
  byAddr: Map<string, string>;
  byName: Map<string, string>;
}

export function parseHosts(text: string): HostsDb {
  const byAddr = new Map<string, string>();
  const byName = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const [addr, ...names] = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (!addr || names.length === 0 || !/^\d+\.\d+\.\d+\.\d+$/.test(addr)) continue;
    if (!byAddr.has(addr)) byAddr.set(addr, names[0]!);
    for (const n of names) if (!byName.has(n)) byName.set(n, addr);
  }
  return { byAddr, byName };
}

export function readHosts(path = '/etc/hosts'): HostsDb {
  try {
    return parseHosts(readFileSync(path, 'utf8'));
  } catch {
    return { byAddr: new Map(), byName: new Map() };
  }
}
