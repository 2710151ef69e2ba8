/**
 * Harness for the ECMP lab tests (test/lab/ecmp-*.test.ts): scripts/ecmp-lab builds a router
 * running BIRD 2, a client, three lb --bgp directors and three DR real servers; this drives
 * the directors (SIGKILL, SIGINT, start, link cut), reads the router's route for the VIP, each
 * balancer's connection table and metrics, and runs scripts/ecmp-client.mjs in the client.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import path from 'node:path';
import { REPO } from './lab.js';

const run = promisify(execFile);
const ECMP_LAB = path.join(REPO, 'scripts/ecmp-lab');
const CLIENT = path.join(REPO, 'scripts/ecmp-client.mjs');
const LB = path.join(REPO, 'dist/lb.js');

export type Dir = 'd1' | 'd2' | 'd3';
export const DIRS: readonly Dir[] = ['d1', 'd2', 'd3'];
export type EcmpRole = Dir | 'router' | 'switch' | 'client' | 'rs1' | 'rs2' | 'rs3';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One entry of `ipvsadm -L -n -c`: client port -> real server. */
export interface ConnEntry {
  state: string;
  cport: number;
  server: string;
}

export interface HoldResult {
  lport: number;
  servers: string[];
  answered: number;
  error: string | null;
}

export class EcmpLab {
  state: Record<string, string>;
  readonly prefix: string;
  private readonly stateFile: string;

  private constructor(stateFile: string) {
    this.stateFile = stateFile;
    this.state = EcmpLab.load(stateFile);
    this.prefix = this.state.LAB_PREFIX!;
  }

  private static load(file: string): Record<string, string> {
    const state: Record<string, string> = {};
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const kv = /^(LAB_\w+)="(.*)"$/.exec(line);
      if (kv) state[kv[1]!] = kv[2]!;
    }
    return state;
  }

  /** scripts/ecmp-lab up: everything built, the three directors running, 3 next hops. */
  static async up(args: string[] = []): Promise<EcmpLab> {
    const prefix = `te${randomBytes(2).toString('hex')}`;
    const { stdout } = await run(ECMP_LAB, ['up', ...args], { env: { ...process.env, LAB_PREFIX: prefix }, maxBuffer: 1 << 22, timeout: 90_000 });
    const m = /LAB_STATE=(\S+)/.exec(stdout);
    if (!m) throw new Error(`ecmp-lab up printed no state file:\n${stdout}`);
    return new EcmpLab(m[1]!);
  }

  get vip(): string {
    return this.state.LAB_VIP!;
  }

  ip(dir: Dir): string {
    return this.state[`LAB_${dir.toUpperCase()}_IP`]!;
  }

  ns(role: EcmpRole): string {
    return this.state[`LAB_NS_${role.toUpperCase()}`]!;
  }

  async exec(role: EcmpRole, cmd: string[], timeoutMs = 30_000): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', this.ns(role), ...cmd], { timeout: timeoutMs, maxBuffer: 1 << 26 });
    return stdout;
  }

  /** The router's next hops for the VIP /32 (sorted), [] without a route. */
  async nextHops(): Promise<string[]> {
    const { stdout } = await run('ip', ['-n', this.ns('router'), 'route', 'show', `${this.vip}/32`]);
    return [...stdout.matchAll(/via (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!).sort();
  }

  async routeText(): Promise<string> {
    return (await run('ip', ['-n', this.ns('router'), 'route', 'show', `${this.vip}/32`])).stdout;
  }

  /** Poll every 10 ms until `pred(next hops)`; the ms waited, or -1 after timeoutMs. */
  async waitHops(pred: (hops: string[]) => boolean, timeoutMs: number, t0 = performance.now()): Promise<number> {
    while (performance.now() - t0 < timeoutMs) {
      if (pred(await this.nextHops())) return performance.now() - t0;
      await sleep(10);
    }
    return -1;
  }

  pid(dir: Dir): number {
    this.state = EcmpLab.load(this.stateFile);
    return Number(this.state[`LAB_${dir.toUpperCase()}_PID`]);
  }

  /** scripts/ecmp-lab dir PREFIX dN start|stop|cut|uncut (kill: see kill()). */
  async dir(dir: Dir, what: 'start' | 'stop' | 'cut' | 'uncut'): Promise<void> {
    await run(ECMP_LAB, ['dir', this.prefix, dir, what], { timeout: 60_000 });
    if (what === 'start') this.state = EcmpLab.load(this.stateFile);
  }

  /** Signal the director's balancer now (SIGKILL: its BIRD stays); returns when it is gone. */
  async kill(dir: Dir, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const pid = this.pid(dir);
    process.kill(pid, signal);
    while (existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSafe(`/proc/${pid}/status`))) await sleep(5);
  }

  async lb(dir: Dir, args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [LB, '--socket', this.state[`LAB_${dir.toUpperCase()}_SOCK`]!, ...args], { timeout: 10_000 });
    return stdout;
  }

  /** The director's connection table for the VIP (ipvsadm -L -n -c). */
  async conns(dir: Dir): Promise<ConnEntry[]> {
    const out = await this.lb(dir, ['ipvsadm', '-L', '-n', '-c']);
    const re = /^TCP\s+\S+\s+(\S+)\s+[\d.]+:(\d+)\s+[\d.]+:\d+\s+([\d.]+):\d+$/gm;
    return [...out.matchAll(re)].map((m) => ({ state: m[1]!, cport: Number(m[2]), server: m[3]! }));
  }

  async metrics(dir: Dir): Promise<Map<string, number>> {
    const text = await this.exec(dir, ['curl', '-s', '--max-time', '2', `http://127.0.0.1:${this.state.LAB_METRICS_PORT}/metrics`], 5000);
    const m = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const i = line.lastIndexOf(' ');
      m.set(line.slice(0, i), Number(line.slice(i + 1)));
    }
    return m;
  }

  /** Connections the director scheduled for the VIP service (its own counter). */
  async connections(dir: Dir): Promise<number> {
    return (await this.metrics(dir)).get(`tslb_service_connections_total{service="TCP ${this.vip}:80"}`) ?? 0;
  }

  /** `count` short connections from the client, one GET each: [{lport, server} | {error}]. */
  async spread(count: number): Promise<{ lport?: number; server?: string; error?: string }[]> {
    const out = await this.exec('client', [process.execPath, CLIENT, 'spread', '--vip', this.vip, '--count', String(count), '--parallel', '8'], 120_000);
    return out.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { lport?: number; server?: string; error?: string });
  }

  /**
   * `count` long-lived connections (GET every 200 ms each). Resolves once all are open with
   * their source ports and a finish() that ends them and resolves with the per-connection results.
   */
  async hold(count: number, maxS: number, timeoutMs = 15_000): Promise<{ ports: number[]; finish: () => Promise<HoldResult[]> }> {
    const tag = randomBytes(3).toString('hex');
    const ready = path.join(this.state.LAB_LOG_DIR!, `hold.${tag}.ready`);
    const stop = path.join(this.state.LAB_LOG_DIR!, `hold.${tag}.stop`);
    const p = spawn('ip', ['netns', 'exec', this.ns('client'), process.execPath, CLIENT, 'hold', '--vip', this.vip, '--count', String(count),
      '--duration', String(maxS), '--timeout', String(timeoutMs), '--ready-file', ready, '--stop-file', stop], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    const deadline = performance.now() + 30_000;
    while (!existsSync(ready) || readFileSafe(ready) === '') {
      if (p.exitCode !== null) throw new Error(`ecmp-client hold exited ${p.exitCode}: ${err}`);
      if (performance.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`ecmp-client hold: connections not open after 30 s: ${err}`);
      }
      await sleep(50);
    }
    const ports = readFileSafe(ready).trim().split('\n').map(Number);
    return {
      ports,
      finish: async () => {
        writeFileSync(stop, '');
        const code = await exited;
        if (code !== 0) throw new Error(`ecmp-client hold exited ${code}: ${err}`);
        return (JSON.parse(out) as { results: HoldResult[] }).results;
      },
    };
  }

  async down(): Promise<void> {
    await run(ECMP_LAB, ['down', this.prefix], { timeout: 60_000 }).catch(() => undefined);
  }

  async namespacesLeft(): Promise<string[]> {
    const { stdout } = await run('ip', ['netns', 'list']);
    return stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${this.prefix}-`));
  }
}

function readFileSafe(f: string): string {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}

/** Which director holds each client port as ESTABLISHED (ports seen by none are absent). */
export async function owners(lab: EcmpLab, dirs: readonly Dir[] = DIRS): Promise<Map<number, { dir: Dir; server: string }[]>> {
  const m = new Map<number, { dir: Dir; server: string }[]>();
  for (const d of dirs) {
    for (const e of await lab.conns(d)) {
      if (e.state !== 'ESTABLISHED') continue;
      const list = m.get(e.cport) ?? [];
      list.push({ dir: d, server: e.server });
      m.set(e.cport, list);
    }
  }
  return m;
}
