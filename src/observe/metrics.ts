/**
 * Optional Prometheus endpoint (text exposition format 0.0.4): `--metrics [ADDR:]PORT`, off by
 * default, bound to 127.0.0.1 unless an address is given. GET /metrics only; read-only.
 *
 * Counters are the ones `ipvsadm -L -n --stats` shows (ip_vs_stats: conns, in/out packets and
 * bytes, per service and per real server), the gauges `ipvsadm -L -n` shows (ActiveConn,
 * InActConn, persistent templates, weight), the engine's drop counters by reason, VRRP state
 * and counters per instance, and the sync daemon's counters. Rendering is pure (renderMetrics).
 */
import http from 'node:http';
import type { Engine } from '../dataplane/engine.js';
import { DROP_REASONS } from '../dataplane/verdict.js';
import { DEST_F_AVAILABLE } from '../sched/types.js';
import { formatIPv4 } from '../lvs/addr.js';
import { destName, serviceName } from '../lvs/names.js';
import type { VrrpRunner } from '../ha/vrrp-runner.js';
import type { SyncStats } from '../ha/sync-runner.js';

export interface MetricsSource {
  engine: Engine;
  vrrp?: (Pick<VrrpRunner, 'status'> & Partial<Pick<VrrpRunner, 'rx'>>) | null;
  sync?: SyncStats | null;
}

const VRRP_STATES = ['INIT', 'BACKUP', 'MASTER', 'FAULT'] as const;

/** Label value escaping of the text format: backslash, double quote and newline. */
function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

class Writer {
  readonly lines: string[] = [];
  private declared = new Set<string>();
  metric(name: string, type: 'counter' | 'gauge', help: string, labels: Record<string, string>, value: number): void {
    if (!this.declared.has(name)) {
      this.declared.add(name);
      this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    }
    const l = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`).join(',');
    this.lines.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 0}`);
  }
}

export function renderMetrics(src: MetricsSource): string {
  const w = new Writer();
  const e = src.engine;
  for (const s of e.services) {
    const service = serviceName(s.proto, s.addr, s.port);
    const sl = { service };
    w.metric('tslb_service_connections_total', 'counter', 'Connections scheduled by the virtual service (ipvsadm --stats Conns).', sl, s.stats.conns);
    w.metric('tslb_service_packets_total', 'counter', 'Packets of the virtual service (ipvsadm --stats InPkts/OutPkts).', { ...sl, direction: 'in' }, s.stats.inPkts);
    w.metric('tslb_service_packets_total', 'counter', '', { ...sl, direction: 'out' }, s.stats.outPkts);
    w.metric('tslb_service_bytes_total', 'counter', 'Bytes of the virtual service (ipvsadm --stats InBytes/OutBytes).', { ...sl, direction: 'in' }, s.stats.inBytes);
    w.metric('tslb_service_bytes_total', 'counter', '', { ...sl, direction: 'out' }, s.stats.outBytes);
  }
  for (const s of e.services) {
    const service = serviceName(s.proto, s.addr, s.port);
    for (const d of s.dests) {
      const l = { service, server: destName(d.addr, d.port) };
      w.metric('tslb_real_server_connections_total', 'counter', 'Connections scheduled to the real server.', l, d.stats.conns);
      w.metric('tslb_real_server_packets_total', 'counter', 'Packets to (in) and from (out) the real server.', { ...l, direction: 'in' }, d.stats.inPkts);
      w.metric('tslb_real_server_packets_total', 'counter', '', { ...l, direction: 'out' }, d.stats.outPkts);
      w.metric('tslb_real_server_bytes_total', 'counter', 'Bytes to (in) and from (out) the real server.', { ...l, direction: 'in' }, d.stats.inBytes);
      w.metric('tslb_real_server_bytes_total', 'counter', '', { ...l, direction: 'out' }, d.stats.outBytes);
      w.metric('tslb_real_server_active_connections', 'gauge', 'ActiveConn as ipvsadm -L shows it.', l, d.activeConns);
      w.metric('tslb_real_server_inactive_connections', 'gauge', 'InActConn as ipvsadm -L shows it.', l, d.inactConns);
      w.metric('tslb_real_server_persistent_connections', 'gauge', 'Persistence templates bound to the real server.', l, d.persistConns);
      w.metric('tslb_real_server_weight', 'gauge', 'Current weight (0 = quiesced, e.g. by a failed health check with inhibit_on_failure).', l, d.weight);
      w.metric('tslb_real_server_up', 'gauge', '1 when the real server is in the service and has a weight above 0 (health state).', l, d.flags & DEST_F_AVAILABLE && d.weight > 0 ? 1 : 0);
    }
  }
  for (const v of e.vipList()) w.metric('tslb_vip_active', 'gauge', '1 when this director balances and answers ARP for the VIP (VRRP master or no VRRP).', { vip: formatIPv4(v.addr) }, v.active ? 1 : 0);
  w.metric('tslb_connections', 'gauge', 'Entries in the connection table (connections and templates).', {}, e.table.count);
  w.metric('tslb_connection_table_capacity', 'gauge', 'Capacity of the connection table (--max-conns).', {}, e.table.capacity);
  const lv = e.guard.levels;
  w.metric('tslb_defense_mode', 'gauge', 'Defence strategy mode as its IPVS sysctl (0 off, 1 auto, 2 auto and active, 3 always).', { strategy: 'drop_entry' }, lv.dropEntryMode);
  w.metric('tslb_defense_mode', 'gauge', '', { strategy: 'drop_packet' }, lv.dropPacketMode);
  w.metric('tslb_defense_mode', 'gauge', '', { strategy: 'secure_tcp' }, lv.secureTcpMode);
  w.metric('tslb_defense_drop_rate', 'gauge', 'drop_packet: one new connection in this many is dropped (0 = none).', {}, lv.dropRate);
  w.metric('tslb_defense_entries_dropped_total', 'counter', 'Entries freed by drop_entry (ip_vs_random_dropentry).', {}, e.guard.dropEntry.dropped);
  w.metric('tslb_sloppy_connections_total', 'counter', 'Connections created by sloppy TCP from a segment without SYN (a flow another director had).', {}, e.counters.sloppyConns);
  w.metric('tslb_frames_total', 'counter', 'Frames received and sent by the engine.', { direction: 'rx' }, e.counters.rxFrames);
  w.metric('tslb_frames_total', 'counter', '', { direction: 'tx' }, e.counters.txFrames);
  DROP_REASONS.forEach((r, i) => w.metric('tslb_drops_total', 'counter', 'Frames dropped by the engine, by reason.', { reason: r }, e.counters.drops[i]!));
  for (const i of src.vrrp?.status() ?? []) {
    const l = { instance: i.name, vrid: String(i.vrid) };
    for (const st of VRRP_STATES) w.metric('tslb_vrrp_state', 'gauge', 'VRRP instance state (1 for the current one).', { ...l, state: st }, i.state === st ? 1 : 0);
    w.metric('tslb_vrrp_priority', 'gauge', 'Configured VRRP priority.', l, i.priority);
    w.metric('tslb_vrrp_adverts_sent_total', 'counter', 'VRRP adverts sent.', l, i.stats.advertsSent);
    w.metric('tslb_vrrp_adverts_received_total', 'counter', 'VRRP adverts accepted.', l, i.stats.advertsReceived);
    for (const [reason, n] of Object.entries(i.stats.rejected)) w.metric('tslb_vrrp_adverts_rejected_total', 'counter', 'VRRP adverts refused by the checks, by reason.', { ...l, reason }, n ?? 0);
    w.metric('tslb_vrrp_transitions_total', 'counter', 'State changes, by new state.', { ...l, to: 'MASTER' }, i.stats.becameMaster);
    w.metric('tslb_vrrp_transitions_total', 'counter', '', { ...l, to: 'BACKUP' }, i.stats.becameBackup);
    w.metric('tslb_vrrp_transitions_total', 'counter', '', { ...l, to: 'FAULT' }, i.stats.becameFault);
    w.metric('tslb_vrrp_gratuitous_arps_total', 'counter', 'Gratuitous ARPs sent.', l, i.stats.garpsSent);
    w.metric('tslb_vrrp_unsolicited_nas_total', 'counter', 'Unsolicited Neighbour Advertisements sent (IPv6 instances).', l, i.stats.nasSent);
  }
  const rx = src.vrrp?.rx;
  if (rx) {
    for (const o of ['notRunning', 'malformed', 'otherVrid', 'rejected', 'accepted'] as const) {
      w.metric('tslb_vrrp_frames_total', 'counter', 'VRRP frames received, by outcome.', { outcome: o.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) }, rx[o]);
    }
  }
  const sy = src.sync;
  if (sy) {
    for (const r of ['master', 'backup', 'active'] as const) w.metric('tslb_sync_role', 'gauge', 'Connection sync daemon role (1 for the current one).', { role: r }, sy.role === r ? 1 : 0);
    w.metric('tslb_sync_datagrams_total', 'counter', 'Sync datagrams by outcome.', { outcome: 'sent' }, sy.datagramsSent);
    w.metric('tslb_sync_datagrams_total', 'counter', '', { outcome: 'send_error' }, sy.sendErrors);
    w.metric('tslb_sync_datagrams_total', 'counter', '', { outcome: 'dropped' }, sy.datagramsDropped);
    w.metric('tslb_sync_datagrams_total', 'counter', '', { outcome: 'received' }, sy.datagramsReceived);
    w.metric('tslb_sync_datagrams_total', 'counter', '', { outcome: 'malformed' }, sy.malformed);
    w.metric('tslb_sync_datagrams_total', 'counter', '', { outcome: 'ignored' }, sy.ignored);
    w.metric('tslb_sync_datagrams_total', 'counter', '', { outcome: 'not_backup' }, sy.notBackup);
    w.metric('tslb_sync_datagrams_total', 'counter', '', { outcome: 'foreign' }, sy.foreign);
    w.metric('tslb_sync_datagrams_total', 'counter', '', { outcome: 'rate_limited' }, sy.rateLimited);
    w.metric('tslb_sync_datagrams_total', 'counter', '', { outcome: 'applied' }, sy.datagramsApplied);
    w.metric('tslb_sync_connections_total', 'counter', 'Synced connection entries applied or skipped on a backup.', { outcome: 'applied' }, sy.connsApplied);
    w.metric('tslb_sync_connections_total', 'counter', '', { outcome: 'skipped' }, sy.connsSkipped);
  }
  // A HELP line with empty text is not allowed; drop those (the first declaration carries it).
  return w.lines.filter((l) => !l.endsWith('# HELP')).join('\n') + '\n';
}

/** `--metrics [ADDR:]PORT` -> host and port (default host 127.0.0.1). Throws on bad input. */
export function parseMetricsAddress(v: string): { host: string; port: number } {
  const m = /^(?:([0-9.]+):)?(\d+)$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`invalid value for --metrics: '${v}' (expected [ADDR:]PORT)`);
  const host = m[1] ?? '127.0.0.1';
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.split('.').some((x) => Number(x) > 255)) throw new Error(`invalid value for --metrics: '${v}' (bad address)`);
  return { host, port };
}

export class MetricsServer {
  private constructor(private readonly server: http.Server, readonly address: string) {}

  static listen(host: string, port: number, render: () => string): Promise<MetricsServer> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      } else if (path === '/metrics') {
        const body = render();
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('try /metrics\n');
      }
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.unref();
        resolve(new MetricsServer(server, `${host}:${port}`));
      });
    });
  }

  close(): void {
    this.server.close();
  }
}
