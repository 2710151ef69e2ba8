/**
 * Harness for the HA lab tests (test/lab/ha-*.test.ts): scripts/ha-lab builds two director
 * namespaces, two NAT real servers and a client on one segment; this starts dist/lb.js with a
 * keepalived.conf per director, kills it, cuts links, scrapes the metrics endpoint, and tears
 * everything down.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labReady, type LabGate } from '../helpers/lab.js';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const HA_LAB = path.join(REPO, 'scripts/ha-lab');
const LB = path.join(REPO, 'dist/lb.js');

export type HaRole = 'client' | 'dir1' | 'dir2' | 'rs1' | 'rs2' | 'switch';
export type Director = 'dir1' | 'dir2';
export const METRICS_PORT = 9100;

/** labReady (test/helpers/lab.ts) for the HA lab: skip when not root, fail when not built. */
export function haLabReady(t: LabGate): boolean {
  return labReady(t, 'HA lab tests');
}

export interface LbProcess {
  proc: ChildProcess;
  log: string;
  /** VRRP transitions as the balancer logged them, stamped (performance.now()) when the line arrived. */
  transitions: { to: string; at: number }[];
}

/** The runner's log line for a transition: `vrrp: VI_1 (vrid 51, priority 100): BACKUP -> MASTER`. */
const TRANSITION_LINE = /^vrrp: \S+ \(vrid \d+, priority \d+\): [A-Z]+ -> ([A-Z]+)$/gm;

export class HaLab {
  readonly state: Record<string, string>;
  readonly prefix: string;
  readonly lbs = new Map<Director, LbProcess>();

  private constructor(state: Record<string, string>) {
    this.state = state;
    this.prefix = state.LAB_PREFIX!;
  }

  static async up(extra: string[] = []): Promise<HaLab> {
    const prefix = `th${randomBytes(2).toString('hex')}`;
    const { stdout } = await run(HA_LAB, ['up', ...extra], { env: { ...process.env, LAB_PREFIX: prefix }, maxBuffer: 1 << 22 });
    const m = /LAB_STATE=(\S+)/.exec(stdout);
    if (!m) throw new Error(`ha-lab up printed no state file:\n${stdout}`);
    const state: Record<string, string> = {};
    for (const line of readFileSync(m[1]!, 'utf8').split('\n')) {
      const kv = /^(LAB_\w+)="(.*)"$/.exec(line);
      if (kv) state[kv[1]!] = kv[2]!;
    }
    return new HaLab(state);
  }

  ns(role: HaRole): string {
    return this.state[`LAB_NS_${role.toUpperCase()}`]!;
  }

  async exec(role: HaRole, cmd: string[], timeoutMs = 30_000): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', this.ns(role), ...cmd], { timeout: timeoutMs, maxBuffer: 1 << 26, encoding: 'buffer' });
    return stdout.toString('latin1');
  }

  /** keepalived.conf of seed 001's shape (state BACKUP on both, nopreempt), NAT to the two servers. */
  writeConfig(dir: Director, priority: number, sync: boolean): string {
    const s = this.state;
    const file = path.join(s.LAB_LOG_DIR!, `keepalived.${dir}.${priority}.${sync ? 'sync' : 'nosync'}.conf`);
    writeFileSync(file, [
      'global_defs {', `  router_id LVS_${dir.toUpperCase()}`, ...(sync ? ['  lvs_sync_daemon eth0 VI_1'] : []), '}',
      'vrrp_instance VI_1 {', '  state BACKUP', '  interface eth0', '  virtual_router_id 51', `  priority ${priority}`, '  advert_int 1', '  nopreempt',
      '  virtual_ipaddress {', `    ${s.LAB_VIP}/24 dev eth0`, '  }', '}',
      `virtual_server ${s.LAB_VIP} 80 {`, '  delay_loop 5', '  lb_algo rr', `  lb_kind ${s.LAB_MODE === 'dr' ? 'DR' : 'NAT'}`, '  protocol TCP',
      `  real_server ${s.LAB_RS1_IP} 80 {`, '    weight 1', '  }', `  real_server ${s.LAB_RS2_IP} 80 {`, '    weight 1', '  }', '}', '',
    ].join('\n'));
    return file;
  }

  socket(dir: Director): string {
    return `/tmp/tslb-${this.prefix}-${dir}.sock`;
  }

  async startLb(dir: Director, priority: number, sync: boolean): Promise<LbProcess> {
    const conf = this.writeConfig(dir, priority, sync);
    const p = spawn('ip', ['netns', 'exec', this.ns(dir), process.execPath, LB, '--config', conf, '--iface', 'eth0', '--socket', this.socket(dir), '--metrics', String(METRICS_PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lb: LbProcess = { proc: p, log: '', transitions: [] };
    this.lbs.set(dir, lb);
    let partial = '';
    p.stdout!.on('data', (d: Buffer) => {
      const at = performance.now();
      const text = d.toString();
      lb.log += text;
      // Only whole lines: a chunk may end in the middle of one.
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const m of lines.join('\n').matchAll(TRANSITION_LINE)) lb.transitions.push({ to: m[1]!, at });
    });
    p.stderr!.on('data', (d: Buffer) => (lb.log += d.toString()));
    const deadline = Date.now() + 15_000;
    while (!lb.log.includes('running;')) {
      if (p.exitCode !== null) throw new Error(`lb in ${dir} exited with ${p.exitCode}:\n${lb.log}`);
      if (Date.now() > deadline) throw new Error(`lb in ${dir} did not start:\n${lb.log}`);
      await sleep(50);
    }
    return lb;
  }

  /** Signal a director's balancer and wait for it to exit. */
  async stopLb(dir: Director, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    const lb = this.lbs.get(dir);
    if (!lb || lb.proc.exitCode !== null || lb.proc.signalCode !== null) return lb?.proc.exitCode ?? null;
    const done = new Promise<number | null>((r) => lb.proc.once('exit', (code) => r(code)));
    lb.proc.kill(signal);
    const timer = setTimeout(() => lb.proc.kill('SIGKILL'), 5000);
    const code = await done;
    clearTimeout(timer);
    return code;
  }

  /** `node dist/lb.js --socket <dir's socket> ARGS` (ipvsadm, top) from the test's namespace. */
  async cli(dir: Director, args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [LB, '--socket', this.socket(dir), ...args], { timeout: 10_000 });
    return stdout;
  }

  /** Take a director off the segment (its switch port down) or put it back. */
  async link(dir: Director, up: boolean): Promise<void> {
    await run('ip', ['-n', this.ns('switch'), 'link', 'set', `p-${dir}`, up ? 'up' : 'down']);
  }

  async metricsText(dir: Director): Promise<string> {
    return this.exec(dir, ['curl', '-s', '--max-time', '2', `http://127.0.0.1:${METRICS_PORT}/metrics`], 5000);
  }

  async metrics(dir: Director): Promise<Map<string, number>> {
    return parseMetrics(await this.metricsText(dir));
  }

  async vrrpState(dir: Director): Promise<string> {
    try {
      const m = /^tslb_vrrp_state\{[^}]*state="([A-Z]+)"\} 1$/m.exec(await this.metricsText(dir));
      return m ? m[1]! : '?';
    } catch {
      return '?';
    }
  }

  /**
   * Wait until the director's balancer logs a transition to `state` (or is in it already); returns
   * the ms from this call to the moment the log line arrived, or -1 on timeout. Reading the
   * balancer's own log instead of polling its metrics keeps the measurement free of the
   * `ip netns exec curl` round trips, which take hundreds of ms on a loaded 2-core box.
   */
  async waitState(dir: Director, state: string, timeoutMs: number): Promise<number> {
    const t0 = performance.now();
    const lb = this.lbs.get(dir);
    if (!lb) return -1;
    const seen = lb.transitions.length;
    if (lb.transitions[seen - 1]?.to === state) return 0;
    while (performance.now() - t0 < timeoutMs) {
      const hit = lb.transitions.slice(seen).find((x) => x.to === state);
      if (hit) return Math.max(0, hit.at - t0);
      if (lb.proc.exitCode !== null || lb.proc.signalCode !== null) return -1;
      await sleep(10);
    }
    return -1;
  }

  async down(): Promise<void> {
    for (const dir of this.lbs.keys()) await this.stopLb(dir).catch(() => undefined);
    await run(HA_LAB, ['down', this.prefix]).catch(() => undefined);
  }

  async namespacesLeft(): Promise<string[]> {
    const { stdout } = await run('ip', ['netns', 'list']);
    return stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${this.prefix}-`));
  }
}

export function parseMetrics(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
