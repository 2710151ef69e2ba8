/**
 * Reads back what the VM wrote to its result serial port (the "@@" records of
 * src/compare/vm-script.ts) into one SideResult per scenario.
 */
import { parsePcap } from '../io/pcap-file.js';
import type { ConnRecord, FrameFields, Listing, RewriteSample, SideResult } from './result.js';
import { pickFromListing } from './result.js';
import { frameFields } from './rewrite.js';

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
  let conn: { rec: ConnRecord; lines: string[] } | null = null;
  let pcap: { label: string; side: string; b64: string[] } | null = null;
  const pcaps = new Map<string, Map<string, Buffer>>();

  const flushConn = (): void => {
    if (!conn || !cur) return;
    const pick = pickFromListing(conn.lines.join('\n'), conn.rec.proto, conn.rec.client, conn.rec.vip);
    conn.rec.dest = pick.dest;
    conn.rec.state = pick.state;
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
    if (tag !== '@@C') flushConn();
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
        };
        break;
      }
      case '@@C':
        conn?.lines.push(raw.slice(4));
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
