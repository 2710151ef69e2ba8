/**
 * Reads back what the VM wrote to its result serial port (the "@@" records of
 * src/compare/vm-script.ts) into one SideResult per scenario.
 */
import { parsePcap } from '../io/pcap-file.js';
import { formatGroups6 } from '../packet/addr6.js';
import type { ConnLine, ConnRecord, FrameFields, Listing, RewriteSample, SideResult } from './result.js';
import { pickFromListing } from './result.js';
import { frameFields } from './rewrite.js';
import { endpointText } from './scenario.js';

/**
 * One address of a /proc/net/ip_vs_conn row in ipvsadm's text: IPv4 as "%08X" of the
 * host-order address, IPv6 as "%pI6" (eight groups of four lower-case hex digits joined
 * by colons, nothing compressed, no brackets), which print_conn reads back with
 * inet_pton and prints with inet_ntop. Null when it is neither.
 */
export function procAddr(text: string): string | null {
  if (/^[0-9A-Fa-f]{8}$/.test(text)) {
    const n = parseInt(text, 16);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  if (/^[0-9a-f]{4}(:[0-9a-f]{4}){7}$/.test(text)) return formatGroups6(text.split(':').map((g) => parseInt(g, 16)));
  return null;
}

/**
 * A row of /proc/net/ip_vs_conn (ip_vs_conn_seq_show, net/netfilter/ipvs/ip_vs_conn.c):
 *   "%-3s %08X %04X %08X %04X %s %04X %-11s %7u%s\n"   (AF_INET)
 *   "%-3s %pI6 %04X %pI6 %04X %s %04X %-11s %7u%s\n"   (AF_INET6)
 * proto, client, client port, virtual, virtual port, destination ("%pI6" when the
 * destination's family is IPv6, else "%08X"), its port, state, seconds left, then
 * " PENAME PEDATA" for a persistence engine. Returned as ipvsadm -L -n -c would show it
 * (addresses as inet_ntop text, "[v6]:port", expiry in seconds); null for the header
 * line and anything that is not a row.
 */
export function parseProcConnLine(line: string): (ConnLine & { pe: string }) | null {
  const f = line.trim().split(/\s+/);
  if (f.length < 9 || !/^\d+$/.test(f[8]!)) return null;
  const [proto, ca, cp, va, vp, da, dp, state, expires] = f as [string, string, string, string, string, string, string, string, string];
  const c = procAddr(ca), v = procAddr(va), d = procAddr(da);
  if (c === null || v === null || d === null || ![cp, vp, dp].every((p) => /^[0-9A-F]{4}$/.test(p))) return null;
  return {
    proto, expire: expires, state,
    client: endpointText(c, parseInt(cp, 16)), vip: endpointText(v, parseInt(vp, 16)), dest: endpointText(d, parseInt(dp, 16)),
    pe: f.slice(9).join(' '),
  };
}

export interface KernelRun {
  version: string;
  results: Map<string, SideResult>;
  /** Lines that were not records (kernel noise, shell errors), for the report's appendix. */
  stray: string[];
}

const LISTING_KINDS = ['list', 'stats', 'conns', 'save'] as const;
type ListingKind = (typeof LISTING_KINDS)[number];

export function parseKernelLog(text: string): KernelRun {
  const run: KernelRun = { version: '', results: new Map(), stray: [] };
  let cur: SideResult | null = null;
  let listing: { l: Listing; kind: ListingKind } | null = null;
  let conn: { rec: ConnRecord; lines: string[]; proc: string[] } | null = null;
  let pcap: { label: string; side: string; b64: string[] } | null = null;
  const pcaps = new Map<string, Map<string, Buffer>>();

  const flushConn = (): void => {
    if (!conn || !cur) return;
    const { rec } = conn;
    const pick = pickFromListing(conn.lines.join('\n'), rec.proto, rec.client, rec.vip);
    // The kernel's own row when the VM sent it (@@P), else what ipvsadm -c printed of it;
    // the two disagreeing would be an ipvsadm (print_conn) matter, noted with the stray lines.
    const row = conn.proc.map(parseProcConnLine).find((r) => r !== null && r.proto === rec.proto && r.client === rec.client && r.vip === rec.vip);
    if (row && (row.dest !== pick.dest || row.state !== pick.state)) {
      run.stray.push(`${cur.scenario} ${rec.id}: /proc/net/ip_vs_conn has ${row.dest} ${row.state}, ipvsadm -L -n -c ${pick.dest ?? '(none)'} ${pick.state ?? ''}`);
    }
    rec.dest = row ? row.dest : pick.dest;
    rec.state = row ? row.state : pick.state;
    cur.conns.push(conn.rec);
    conn = null;
  };
  const finishScenario = (): void => {
    flushConn();
    if (cur) for (const [label, sides] of pcaps) cur.rewrites.push(...kernelRewrites(label, sides));
    pcaps.clear();
    cur = null;
    listing = null;
  };

  for (const raw of text.replace(/\r/g, '').split('\n')) {
    if (pcap) {
      if (raw === '@@ENDPCAP') {
        const bySide = pcaps.get(pcap.label) ?? new Map<string, Buffer>();
        bySide.set(pcap.side, Buffer.from(pcap.b64.join(''), 'base64'));
        pcaps.set(pcap.label, bySide);
        pcap = null;
      } else {
        pcap.b64.push(raw.trim());
      }
      continue;
    }
    if (!raw.startsWith('@@')) {
      if (listing) listing.l[listing.kind] += `${raw}\n`;
      else if (raw.trim() !== '') run.stray.push(raw);
      continue;
    }
    const [tag, ...rest] = raw.split(' ');
    if (tag !== '@@C' && tag !== '@@P') flushConn();
    if (tag !== '@@LIST') listing = null;
    switch (tag) {
      case '@@VM': {
        const m = /kernel=(\S+) ipvsadm=(\S+)/.exec(raw);
        if (m) run.version = `Linux ${m[1]}, ${m[2]!.replace(/_/g, ' ')}`;
        break;
      }
      case '@@SCENARIO':
        finishScenario();
        cur = { side: 'kernel', scenario: rest[0]!, version: run.version, commands: [], conns: [], listings: [], rewrites: [] };
        run.results.set(cur.scenario, cur);
        break;
      case '@@END':
        finishScenario();
        break;
      case '@@CMD':
        cur?.commands.push({ step: Number(rest[0]), status: Number(rest[1]), line: rest.slice(2).join(' '), stderr: '' });
        break;
      case '@@ERR': {
        const c = cur?.commands.at(-1);
        if (c) c.stderr += `${raw.slice(6)}\n`;
        break;
      }
      case '@@CONN': {
        const [step, id, kind, proto, client, vip] = rest;
        conn = {
          rec: { step: Number(step), id: id!, kind: kind as ConnRecord['kind'], proto: proto as 'TCP' | 'UDP', client: client!, vip: vip!, dest: null, state: null },
          lines: [],
          proc: [],
        };
        break;
      }
      case '@@C':
        conn?.lines.push(raw.slice(4));
        break;
      case '@@P':
        conn?.proc.push(raw.slice(4));
        break;
      case '@@LIST': {
        const [label, kind] = rest as [string, ListingKind];
        let l = cur?.listings.find((x) => x.label === label);
        if (!l && cur) {
          l = { label, list: '', stats: '', conns: '', save: '' };
          cur.listings.push(l);
        }
        if (l && LISTING_KINDS.includes(kind)) listing = { l, kind };
        break;
      }
      case '@@PCAP':
        pcap = { label: rest[0]!, side: rest[1]!, b64: [] };
        break;
      default:
        break; // @@ENDLIST and future records
    }
  }
  finishScenario();
  return run;
}

const isSyn = (f: FrameFields): boolean => f['tcp.flags'] === 'S';
const isSynAck = (f: FrameFields): boolean => f['tcp.flags'] === 'SA';

/**
 * The first SYN seen on the client side and on the LAN side is one packet before and
 * after the director; so is the first SYN-ACK on the LAN side and on the client side,
 * when its source on the LAN is a real server's own address (NAT). Under DR the
 * server answers from the VIP and the director only routes it: no IPVS rewrite.
 */
export function kernelRewrites(label: string, sides: Map<string, Buffer>): RewriteSample[] {
  const frames = (side: string): FrameFields[] => {
    const b = sides.get(side);
    if (!b || b.length < 24) return [];
    return parsePcap(b, `${label}-${side}`).map((r) => frameFields(r.frame)).filter((f): f is FrameFields => f !== null);
  };
  const cli = frames('cli');
  const lan = frames('lan');
  const out: RewriteSample[] = [];
  const synIn = cli.find(isSyn);
  const synOut = lan.find(isSyn);
  if (synIn && synOut) out.push({ label, direction: 'client-to-server', before: synIn, after: synOut });
  const replyIn = lan.find(isSynAck);
  const replyOut = cli.find(isSynAck);
  if (replyIn && replyOut && synIn && replyIn['ip.src'] !== synIn['ip.dst']) {
    out.push({ label, direction: 'server-to-client', before: replyIn, after: replyOut });
  }
  return out;
}
