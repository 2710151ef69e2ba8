/**
 * End-to-end lab harness for tap tests: builds a topology with scripts/lab (network
 * namespaces only, unique prefix per run), starts dist/lb.js in the director namespace,
 * runs real clients, and tears everything down in t.teardown, also when a test fails.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const LAB = path.join(REPO, 'scripts/lab');
const LB = path.join(REPO, 'dist/lb.js');

export type Role = 'client' | 'router' | 'director' | 'rs1' | 'rs2' | 'switch';

export interface LabState {
  [key: string]: string;
}

/** The two calls of a tap test object that labReady uses. */
export interface LabGate {
  plan(n: number, comment?: string): void;
  fail(message: string): void;
}

/**
 * Whether this file's lab tests can run here; call it at the top of a lab test file.
 * Not root: the whole file is skipped with the reason (tap prints `# SKIP ... need root`), so
 * `npm test` as an ordinary user runs the unit tests and says plainly what it left out.
 * Root but dist/lb.js missing: the file fails, because that is a broken build, not a missing
 * privilege.
 */
export function labReady(t: LabGate, what = 'lab tests'): boolean {
  if (process.getuid?.() !== 0) {
    t.plan(0, `${what} need root (network namespaces); run the suite as root to include them`);
    return false;
  }
  if (!existsSync(LB)) {
    t.fail('dist/lb.js is missing: run the build first (npm run build)');
    return false;
  }
  return true;
}

/** `lb --socket SOCKET ARGS...` (ipvsadm, sysctl, reload) against a running balancer; its output and status. */
export function lbCli(socket: string, args: string[]): Promise<{ stdout: string; stderr: string; status: number }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [LB, '--socket', socket, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ stdout, stderr, status: code ?? -1 }));
  });
}

export class Lab {
  readonly state: LabState;
  readonly prefix: string;
  private lbProc: ChildProcess | null = null;
  lbLog = '';

  private constructor(state: LabState) {
    this.state = state;
    this.prefix = state.LAB_PREFIX!;
  }

  /**
   * Build a lab. `offloads: 'default'` leaves every veth at the kernel's defaults (TX
   * checksum offload, TSO/GSO on), as labs are usually built; the default here is the
   * tuned lab with offloads off (scripts/lab-lib.sh lab_offloads_off).
   */
  static async up(topo: 'onearm' | 'twoarm' | 'flat', extra: string[] = [], opts: { offloads?: 'default' | 'off' } = {}): Promise<Lab> {
    const prefix = `tt${randomBytes(2).toString('hex')}`;
    const { stdout } = await run(LAB, ['up', topo, ...extra], {
      env: { ...process.env, LAB_PREFIX: prefix, LAB_OFFLOADS: opts.offloads ?? 'off' },
      maxBuffer: 1 << 22,
    });
    const m = /LAB_STATE=(\S+)/.exec(stdout);
    if (!m) throw new Error(`lab up printed no state file:\n${stdout}`);
    const state: LabState = {};
    for (const line of readFileSync(m[1]!, 'utf8').split('\n')) {
      const kv = /^(LAB_\w+)="(.*)"$/.exec(line);
      if (kv) state[kv[1]!] = kv[2]!;
    }
    return new Lab(state);
  }

  ns(role: Role): string {
    const key = { client: 'CLIENT', router: 'ROUTER', director: 'DIRECTOR', rs1: 'RS1', rs2: 'RS2', switch: 'SWITCH' }[role];
    const ns = this.state[`LAB_NS_${key}`];
    if (!ns) throw new Error(`no namespace for role ${role}`);
    return ns;
  }

  /** Run a command in a role's namespace; resolves with stdout (rejects on failure). */
  async exec(role: Role, cmd: string[], timeoutMs = 30_000): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', this.ns(role), ...cmd], { timeout: timeoutMs, maxBuffer: 1 << 26, encoding: 'buffer' });
    return stdout.toString('latin1');
  }

  async execBuffer(role: Role, cmd: string[], timeoutMs = 60_000): Promise<Buffer> {
    const { stdout } = await run('ip', ['netns', 'exec', this.ns(role), ...cmd], { timeout: timeoutMs, maxBuffer: 1 << 26, encoding: 'buffer' });
    return stdout;
  }

  /** Start the balancer in the director namespace; resolves once it says it is running. */
  /** The control socket of this lab's balancer (a file: unique per run, /run is shared by namespaces). */
  get socket(): string {
    return `/tmp/tslb-${this.prefix}.sock`;
  }

  /**
   * `opts.defaultSocket`: no --socket, so the balancer takes its namespace's default
   * (/run/tslb.NS.sock, src/cli/netns.ts); talk to it with ipvsadmIn.
   */
  async startLb(args: string[], opts: { defaultSocket?: boolean } = {}): Promise<void> {
    const withSocket = args.includes('--socket') || opts.defaultSocket ? args : [...args, '--socket', this.socket];
    const p = spawn('ip', ['netns', 'exec', this.ns('director'), process.execPath, LB, ...withSocket], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.lbProc = p;
    p.stdout!.on('data', (d: Buffer) => (this.lbLog += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (this.lbLog += d.toString()));
    const deadline = Date.now() + 15_000;
    while (!this.lbLog.includes('running;')) {
      if (p.exitCode !== null) throw new Error(`lb exited with ${p.exitCode}:\n${this.lbLog}`);
      if (Date.now() > deadline) throw new Error(`lb did not start:\n${this.lbLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stop the balancer (SIGINT) and return its exit code. */
  async stopLb(): Promise<number | null> {
    const p = this.lbProc;
    if (!p || p.exitCode !== null) return p?.exitCode ?? null;
    const done = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill('SIGINT');
    const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
    const code = await done;
    clearTimeout(timer);
    return code;
  }

  /** `lb ipvsadm ARGS` against this lab's balancer: stdout, stderr and exit status. */
  ipvsadm(args: string[], stdin = ''): Promise<{ stdout: string; stderr: string; status: number }> {
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [LB, '--socket', this.socket, 'ipvsadm', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (code) => resolve({ stdout, stderr, status: code ?? -1 }));
      p.stdin!.end(stdin);
    });
  }

  /** `lb ipvsadm ARGS` run inside a role's namespace with no --socket: the namespace's default socket. */
  ipvsadmIn(role: Role, args: string[]): Promise<{ stdout: string; stderr: string; status: number }> {
    return new Promise((resolve) => {
      const p = spawn('ip', ['netns', 'exec', this.ns(role), process.execPath, LB, 'ipvsadm', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (code) => resolve({ stdout, stderr, status: code ?? -1 }));
    });
  }

  /** Wait (bounded) until the balancer's log matches `re`; true if it did. */
  async logMatches(re: RegExp, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (re.test(this.lbLog)) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return re.test(this.lbLog);
  }

  async curl(url: string, extra: string[] = []): Promise<string> {
    return this.exec('client', ['curl', '-s', '--max-time', '5', ...extra, url]);
  }

  async down(): Promise<void> {
    await this.stopLb().catch(() => undefined);
    await run(LAB, ['down', this.prefix]).catch(() => undefined);
  }

  namespacesLeft(): string[] {
    const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    return out.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${this.prefix}-`));
  }
}
