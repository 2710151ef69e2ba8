/**
 * The connection sync daemon (ip_vs_sync.c sync_thread_master / sync_thread_backup) over a UDP
 * socket: IPVS sync message v1 (src/sync/message.ts), by default multicast to 224.0.0.81:8848
 * with TTL 1 out of the VRRP interface, or unicast to a peer (clouds without multicast).
 *
 * Role follows VRRP as keepalived's lvs_sync_daemon does: master -> engine.hooks.sync (and
 * hooks.sync6 for the IPv6 table) feed the batcher and datagrams go out; backup -> received
 * datagrams are applied with Engine.syncConn (IPv6 entries with installSynced6).
 * With N active directors (--bgp, docs/scale-out.md) there is no VRRP to follow: role 'active'
 * does both at once, as the kernel runs a master and a backup sync thread side by side
 * (ipvsadm --start-daemon master and backup with the same syncid): each director sends the
 * connections whose packets it forwards, and applies what the others send. No echo: only the
 * packet path feeds the batcher, never an applied update; our own datagrams are dropped.
 *
 * Bounds: the batcher holds at most (32 + 1) datagrams of maxlen bytes; sending is limited to
 * maxDatagramsPerSec (excess dropped and counted: the backup catches up at the next sync of each
 * connection, every 50 packets); a backup applies at most maxDatagramsPerSec too. A lost or
 * malformed datagram changes nothing (applySyncDatagram checks the whole datagram first).
 */
import dgram from 'node:dgram';
import type { Engine } from '../dataplane/engine.js';
import type { RoutingTable } from '../dataplane/routing.js';
import { formatIPv4 } from '../packet/addr.js';
import { destName } from '../lvs/names.js';
import { IP_VS_SYNC_GROUP, IP_VS_SYNC_PORT } from '../sync/constants.js';
import { SyncSource, applySyncToEngine } from './sync-codec.js';
import { primeSyncedClients, warmNeighbour } from './synced-clients.js';
import type { HaClock } from './vrrp-runner.js';

export interface SyncOptions {
  syncid: number;
  /** Multicast group (host-order unsigned); ignored with `peer`. */
  group?: number;
  port?: number;
  ttl?: number;
  /** Unicast peer address instead of multicast. */
  peer?: number | null;
  /** Our address on the sync interface: multicast egress interface and membership. */
  localIp: number;
  maxlen?: number;
  maxDatagramsPerSec?: number;
}

/** master/backup follow VRRP; active = both, for N active directors. */
export type SyncRole = 'master' | 'backup' | 'active';

export interface SyncStats {
  role: SyncRole | 'none';
  datagramsSent: number;
  sendErrors: number;
  /** Datagrams dropped by the rate limit (master) or the batcher queue bound. */
  datagramsDropped: number;
  datagramsReceived: number;
  connsApplied: number;
  /** Entries skipped (bad state, no such service/server here). */
  connsSkipped: number;
  /** Received datagrams, each counted under exactly one of the next six. */
  malformed: number;
  /** Another syncid. */
  ignored: number;
  /** Received while master (a master ignores the others, as sync_thread_master). */
  notBackup: number;
  /** From our own address, or (unicast) not from the configured peer. */
  foreign: number;
  /** Over the receive rate limit (maxDatagramsPerSec). */
  rateLimited: number;
  /** Decoded and checked; their entries were applied or skipped. */
  datagramsApplied: number;
  /** Synced client next hops set on takeover. */
  clientsPrimed: number;
  /** IPv6 entries due for sync that the wire cannot carry (full-NAT, IPv4 tunnel server): not sent. */
  notSent6: number;
}

const TICK_MS = 100;

export class SyncRunner {
  readonly stats: SyncStats = {
    role: 'none', datagramsSent: 0, sendErrors: 0, datagramsDropped: 0, datagramsReceived: 0, connsApplied: 0, connsSkipped: 0,
    malformed: 0, ignored: 0, notBackup: 0, foreign: 0, rateLimited: 0, datagramsApplied: 0, clientsPrimed: 0, notSent6: 0,
  };
  private readonly engine: Engine;
  private readonly routing: RoutingTable;
  private readonly opts: Required<Omit<SyncOptions, 'peer'>> & { peer: number | null };
  private readonly clock: HaClock;
  private readonly log: (s: string) => void;
  private source: SyncSource | null = null;
  private sock: dgram.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private tokens: number;
  private lastRefill = 0;
  private rxBudget: number;
  private primeUntil = 0;

  constructor(engine: Engine, routing: RoutingTable, opts: SyncOptions, clock: HaClock, log: (s: string) => void) {
    this.engine = engine;
    this.routing = routing;
    this.opts = {
      syncid: opts.syncid, group: opts.group ?? IP_VS_SYNC_GROUP, port: opts.port ?? IP_VS_SYNC_PORT, ttl: opts.ttl ?? 1,
      peer: opts.peer ?? null, localIp: opts.localIp, maxlen: opts.maxlen ?? 1472, maxDatagramsPerSec: opts.maxDatagramsPerSec ?? 2000,
    };
    this.clock = clock;
    this.log = log;
    this.tokens = this.rxBudget = this.opts.maxDatagramsPerSec;
  }

  get destination(): string {
    return destName(this.opts.peer ?? this.opts.group, this.opts.port);
  }

  async start(): Promise<void> {
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    sock.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address));
    sock.on('error', (err) => this.log(`sync: socket error: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.opts.port, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    const local = formatIPv4(this.opts.localIp);
    if (this.opts.peer === null) {
      sock.setMulticastInterface(local);
      sock.setMulticastTTL(this.opts.ttl);
      sock.setMulticastLoopback(false);
      sock.addMembership(formatIPv4(this.opts.group), local);
    } else {
      sock.setTTL(Math.max(1, this.opts.ttl));
    }
    this.sock = sock;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.log(`sync: ${this.opts.peer === null ? 'multicast' : 'unicast'} ${this.destination} from ${local}, syncid ${this.opts.syncid}`);
  }

  /** keepalived ipvs_syncd_master / ipvs_syncd_backup; 'active' runs both. */
  setRole(role: SyncRole): void {
    if (role === this.stats.role) return;
    if (this.sends) this.stopMaster();
    const takeover = role === 'master';
    this.stats.role = role;
    if (this.sends) {
      this.source = new SyncSource(this.engine, { syncid: this.opts.syncid, maxlen: this.opts.maxlen });
      const src = this.source;
      this.engine.hooks.sync = (e) => src.onEntry(e, this.clock.now());
      this.engine.hooks.sync6 = (e) => src.onEntry6(e, this.clock.now());
    }
    if (takeover) {
      // Takeover: synced NAT connections get their client next hop now, and for 10 s as ARP resolves.
      // (Active directors need none: a flow that arrives here brings its client's MAC with it.)
      this.primeUntil = this.clock.now() + 10_000;
      this.prime();
    }
    this.log(`sync: role ${role}`);
  }

  /** Whether this director sends (master, active). */
  private get sends(): boolean {
    return this.stats.role === 'master' || this.stats.role === 'active';
  }

  stop(): void {
    if (this.sends) this.stopMaster();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sock?.close();
    this.sock = null;
  }

  private stopMaster(): void {
    this.engine.hooks.sync = null;
    this.engine.hooks.sync6 = null;
    if (this.source) this.takeNotSent6(this.source);
    if (this.source) for (const dg of this.source.flushAll()) this.send(dg);
    this.source = null;
  }

  private tick(): void {
    const now = this.clock.now();
    const refill = ((now - this.lastRefill) / 1000) * this.opts.maxDatagramsPerSec;
    this.lastRefill = now;
    this.tokens = Math.min(this.opts.maxDatagramsPerSec, this.tokens + refill);
    this.rxBudget = Math.min(this.opts.maxDatagramsPerSec, this.rxBudget + refill);
    if (this.source) {
      for (const dg of this.source.take(now)) this.send(dg);
      this.stats.datagramsDropped = this.stats.datagramsDropped + this.source.batcher.droppedBuffers;
      this.source.batcher.droppedBuffers = 0;
      this.takeNotSent6(this.source);
    }
    if (this.stats.role === 'master' && now < this.primeUntil) this.prime();
  }

  private takeNotSent6(src: SyncSource): void {
    const n = src.notSent6;
    this.stats.notSent6 += n.fullnat + n.otherFamilyServer;
    n.fullnat = n.otherFamilyServer = 0;
  }

  private prime(): void {
    const r = primeSyncedClients(this.engine, this.routing);
    this.stats.clientsPrimed += r.primed;
    if (r.pending === 0) this.primeUntil = 0;
  }

  private send(dg: Uint8Array): void {
    if (!this.sock) return;
    if (this.tokens < 1) {
      this.stats.datagramsDropped++;
      return;
    }
    this.tokens--;
    const dst = formatIPv4(this.opts.peer ?? this.opts.group);
    this.sock.send(dg, this.opts.port, dst, (err) => {
      if (err) this.stats.sendErrors++;
      else this.stats.datagramsSent++;
    });
  }

  /** A received datagram (the socket's 'message'); counted under one outcome, never throws. */
  onMessage(msg: Uint8Array, from: string): void {
    const st = this.stats;
    st.datagramsReceived++;
    if (st.role !== 'backup' && st.role !== 'active') { // a master ignores the others (sync_thread_master has no receiver)
      st.notBackup++;
      return;
    }
    if (from === formatIPv4(this.opts.localIp) || (this.opts.peer !== null && from !== formatIPv4(this.opts.peer))) {
      st.foreign++;
      return;
    }
    if (this.rxBudget < 1) {
      st.rateLimited++;
      return;
    }
    this.rxBudget--;
    const r = applySyncToEngine(this.engine, msg, this.opts.syncid, this.clock.now(), (c) => warmNeighbour(this.engine, this.routing, c.caddr));
    if (r.status === 'malformed') st.malformed++;
    else if (r.status === 'ignored') st.ignored++;
    else st.datagramsApplied++;
    this.stats.connsApplied += r.applied - r.unbound;
    this.stats.connsSkipped += r.skipped.length + r.unbound;
  }
}
