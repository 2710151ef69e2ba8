/**
 * A bounded SYN flood for the lab tests (issue 15): trafgen (netsniff-ng) in the router's
 * namespace sends 40-byte TCP SYNs from random spoofed sources in 100.0.0.0/8 (random port,
 * sequence and IP ID, checksums filled by trafgen) to VIP:port on the director's MAC, as
 * fast as it can, bounded by a packet count and a time limit. Nothing outside the lab's
 * namespaces is touched (--no-sock-mem, -Q: no socket-buffer or IRQ changes).
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function trafgenAvailable(): boolean {
  return existsSync('/usr/sbin/trafgen') || existsSync('/usr/bin/trafgen');
}

const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;
const macBytes = (m: string) => m.split(':').map((x) => hex(parseInt(x, 16)));
const ipBytes = (a: string) => a.split('.').map((x) => String(Number(x)));

/** trafgen's description of the SYN (Ethernet 14 + IPv4 20 + TCP 20). */
export function synFloodConfig(srcMac: string, dstMac: string, vip: string, port: number): string {
  return `{
  ${macBytes(dstMac).join(', ')},
  ${macBytes(srcMac).join(', ')},
  0x08, 0x00,
  0x45, 0x00, 0x00, 0x28, drnd(2), 0x40, 0x00, 0x40, 0x06, csumip(14, 33),
  100, drnd(3),
  ${ipBytes(vip).join(', ')},
  drnd(2), ${hex(port >> 8)}, ${hex(port & 255)}, drnd(4), 0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0x72, 0x10, csumtcp(14, 34), 0x00, 0x00
}
`;
}

export interface FloodResult {
  sent: number;
  seconds: number;
  pps: number;
}

/** Flood from `ns` out of `iface` for at most `seconds` and `maxCount` packets. */
export async function synFlood(ns: string, iface: string, cfg: string, seconds: number, maxCount: number): Promise<FloodResult> {
  const file = path.join(tmpdir(), `tslb-synflood-${process.pid}-${Date.now()}.trafgen`);
  writeFileSync(file, cfg);
  const start = performance.now();
  try {
    const r = await run('ip', ['netns', 'exec', ns, 'timeout', '-s', 'INT', String(seconds), 'trafgen', '-o', iface, '-i', file,
      '-P', '1', '--no-sock-mem', '-Q', '-n', String(maxCount)], { timeout: (seconds + 10) * 1000 }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
    const elapsed = (performance.now() - start) / 1000;
    const text = `${r.stdout}${r.stderr}`;
    const m = /(\d+) packets outgoing/.exec(text);
    if (!m) throw new Error(`trafgen printed no count:\n${text}`);
    const sent = Number(m[1]);
    return { sent, seconds: elapsed, pps: sent / elapsed };
  } finally {
    rmSync(file, { force: true });
  }
}

export interface WrkResult {
  requests: number;
  seconds: number;
  errors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
  /** Requests answered with 2xx (timeouts not counted as served) over those attempted. */
  served: number;
  share: number;
}

/** Parse wrk's summary. */
export function parseWrk(out: string): WrkResult {
  const m = /(\d+) requests in ([\d.]+)(m?s)/.exec(out);
  if (!m) throw new Error(`no wrk summary:\n${out}`);
  const requests = Number(m[1]);
  const seconds = Number(m[2]) * (m[3] === 'ms' ? 0.001 : 1);
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = se
    ? { connect: Number(se[1]), read: Number(se[2]), write: Number(se[3]), timeout: Number(se[4]) }
    : { connect: 0, read: 0, write: 0, timeout: 0 };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const served = Math.max(0, requests - non2xx - errors.timeout);
  const attempted = requests + errors.connect + errors.read + errors.write;
  return { requests, seconds, errors, non2xx, served, share: attempted === 0 ? 0 : served / attempted };
}

/** Parse Prometheus text into name{labels} -> value. */
export function parseMetrics(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

/** The non-zero tslb_drops_total counters as {reason: n}. */
export function dropsByReason(m: Map<string, number>): Record<string, number> {
  const o: Record<string, number> = {};
  for (const [k, v] of m) {
    const r = /^tslb_drops_total\{reason="(\w+)"\}$/.exec(k);
    if (r && v !== 0) o[r[1]!] = v;
  }
  return o;
}
