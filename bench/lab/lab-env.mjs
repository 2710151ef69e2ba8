// The lab benchmark's access to the namespace lab and to the kernel's counters:
// scripts/lab up/down, commands inside a role's namespace, /proc CPU accounting of
// processes and of the machine, interface and nft counters. Plain Node ESM.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LAB = path.join(REPO, 'scripts/lab');

/** Run argv; resolves {stdout, stderr, code} (never rejects on a non-zero exit). */
export function run(argv, { timeoutMs = 60_000, env, input } = {}) {
  return new Promise((resolve) => {
    const p = execFile(argv[0], argv.slice(1), { timeout: timeoutMs, maxBuffer: 1 << 26, env: env ?? process.env }, (err, stdout, stderr) => {
      resolve({ stdout: String(stdout), stderr: String(stderr), code: err ? (typeof err.code === 'number' ? err.code : -1) : 0 });
    });
    if (input !== undefined) p.stdin.end(input);
  });
}

/** Like run() but rejects with the command's stderr when it fails. */
export async function must(argv, opts) {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

export class LabRun {
  constructor(state) {
    this.s = state;
    this.prefix = state.LAB_PREFIX;
  }

  /**
   * scripts/lab up onearm EXTRA...; the prefix is ours (tb + 4 hex) so the run is easy
   * to spot, or BENCH_LAB_PREFIX (set by scripts/bench-lab and scripts/profile, whose
   * EXIT trap tears that prefix down even if this process is killed). `env` adds to the
   * lab's environment (LAB_OFFLOADS=default keeps the veths' offloads as the kernel makes them).
   */
  static async up(extra, env = {}) {
    const prefix = process.env.BENCH_LAB_PREFIX || `tb${randomBytes(2).toString('hex')}`;
    const r = await run([LAB, 'up', 'onearm', ...extra], { env: { ...process.env, ...env, LAB_PREFIX: prefix }, timeoutMs: 120_000 });
    const m = /LAB_STATE=(\S+)/.exec(r.stdout);
    if (r.code !== 0 || !m) {
      await run([LAB, 'down', prefix]);
      throw new Error(`scripts/lab up failed:\n${r.stdout}${r.stderr}`);
    }
    const state = {};
    for (const line of readFileSync(m[1], 'utf8').split('\n')) {
      const kv = /^(LAB_\w+)="(.*)"$/.exec(line);
      if (kv) state[kv[1]] = kv[2];
    }
    return new LabRun(state);
  }

  static down(prefix) {
    return run([LAB, 'down', prefix], { timeoutMs: 60_000 });
  }

  ns(role) {
    const key = { client: 'CLIENT', router: 'ROUTER', director: 'DIRECTOR', rs1: 'RS1', rs2: 'RS2', switch: 'SWITCH' }[role];
    return this.s[`LAB_NS_${key}`];
  }

  exec(role, argv, opts) {
    return run(['ip', 'netns', 'exec', this.ns(role), ...argv], opts);
  }

  must(role, argv, opts) {
    return must(['ip', 'netns', 'exec', this.ns(role), ...argv], opts);
  }

  /** A long-running process in a namespace (ip netns exec execs, so pid is the program's). */
  spawn(role, argv, opts = {}) {
    return spawn('ip', ['netns', 'exec', this.ns(role), ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  }

  /** rx/tx packet counters of an interface in a role's namespace. */
  async ifStats(role, ifname = 'eth0') {
    const j = JSON.parse(await this.must(role, ['ip', '-s', '-j', 'link', 'show', 'dev', ifname]));
    const s = j[0].stats64;
    return { rx: s.rx.packets, tx: s.tx.packets, rxDropped: s.rx.dropped, txDropped: s.tx.dropped };
  }
}

/** Collects a child's stdout+stderr; `lines` resolves when `pred(text)` holds. */
export function watchOutput(child) {
  const w = { text: '' };
  const on = (d) => (w.text += d.toString());
  child.stdout?.on('data', on);
  child.stderr?.on('data', on);
  w.waitFor = async (pred, timeoutMs, what) => {
    const deadline = Date.now() + timeoutMs;
    while (!pred(w.text)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}):\n${w.text}`);
      if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms:\n${w.text}`);
      await sleep(50);
    }
  };
  return w;
}

/** SIGINT (to its process group when `group`), then SIGKILL after `graceMs`; resolves with the exit code. */
export function stopChild(child, graceMs = 8000, group = false) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const kill = (sig) => {
      try {
        if (group) process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    kill('SIGINT');
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const TICK = 100; // USER_HZ: /proc times are in 1/100 s on Linux

/**
 * Time on CPU of all of a process's threads, in seconds, from the scheduler's own
 * accounting (/proc/PID/task/TID/schedstat, first field, ns). Exact, where user and sys
 * in /proc/PID/stat are tick samples: a process that wakes up briefly in step with timer
 * ticks (light load paced by timers) is charged whole ticks it did not use.
 */
function runTime(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* thread gone */
    }
  }
  return ns / 1e9;
}

/** CPU seconds (user, sys: ticks; run: exact) of a process and its main thread's context switches. */
export function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const num = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { user: Number(f[11]) / TICK, sys: Number(f[12]) / TICK, run: runTime(pid), vcs: num('voluntary_ctxt_switches'), ivcs: num('nonvoluntary_ctxt_switches') };
  } catch {
    return null;
  }
}

/** Children pids of a process (for `lb --workers N`: the workers). */
export function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Sum of procStat over pids. */
export function procStats(pids) {
  const out = { user: 0, sys: 0, run: 0, vcs: 0, ivcs: 0 };
  for (const p of pids) {
    const s = procStat(p);
    if (!s) continue;
    out.user += s.user;
    out.sys += s.sys;
    out.run += s.run;
    out.vcs += s.vcs;
    out.ivcs += s.ivcs;
  }
  return out;
}

export function diffStats(a, b) {
  return { user: b.user - a.user, sys: b.sys - a.sys, run: b.run - a.run, vcs: b.vcs - a.vcs, ivcs: b.ivcs - a.ivcs };
}

/** Whole-machine CPU jiffies from /proc/stat. */
export function machineCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { busy: user + nice + system + irq + softirq + steal, softirq, idle: idle + iowait, total: f.slice(0, 8).reduce((x, y) => x + y, 0) };
}

/** Busy share of the machine (0..cores) and softirq share between two machineCpu() samples. */
export function machineLoad(a, b, cores) {
  const total = b.total - a.total || 1;
  return { busyCores: ((b.busy - a.busy) / total) * cores, softirqCores: ((b.softirq - a.softirq) / total) * cores };
}
