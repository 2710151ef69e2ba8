/**
 * Extra lab tools for the scheduler end-to-end tests (test/lab/sched-*.test.ts):
 * background processes inside a role's namespace, a third real server on a second
 * address of an existing server namespace, extra client addresses, and the
 * --trace-sched lines of the balancer's log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO, type Lab, type Role } from './lab.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `cond` every 50 ms until it holds; throws `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A process started in a lab namespace that keeps running; stop() kills exactly it. */
export interface Background {
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Start argv in the role's namespace (`ip netns exec` execs argv, so the pid is argv's). */
export function spawnIn(lab: Lab, role: Role, argv: string[]): Background {
  const proc = spawn('ip', ['netns', 'exec', lab.ns(role), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const done = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const hard = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(hard);
  };
  return { proc, output: () => out, stop };
}

/**
 * A third real server: `addr` added to the role's eth0 and a lab-server named `name`
 * answering HTTP on addr:port (a port the role's own server, bound to 0.0.0.0, does
 * not use: Linux refuses a specific bind next to a wildcard listener on the same port).
 */
export async function startExtraServer(lab: Lab, role: Role, addr: string, port: number, name: string): Promise<Background> {
  await lab.exec(role, ['ip', 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
  const server = spawnIn(lab, role, [
    process.execPath, path.join(REPO, 'scripts/lab-server.mjs'), '--name', name, '--http', String(port), '--udp', '', '--bind', addr,
  ]);
  await waitFor(() => server.output().includes(`${name} ready`) || server.proc.exitCode !== null, 10_000, `${name} to listen`);
  if (server.proc.exitCode !== null) throw new Error(`${name} exited:\n${server.output()}`);
  return server;
}

/** Give the client more addresses on its /24 (the router reaches them with ARP on its eth1). */
export async function addClientAddresses(lab: Lab, addrs: string[]): Promise<void> {
  for (const a of addrs) await lab.exec('client', ['ip', 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
}

/** One --trace-sched record: `sched NAME CADDR:CPORT -> RADDR:RPORT | inputs…`. */
export interface SchedTraceLine {
  sched: string;
  client: string;
  cport: number;
  /** "ADDR:PORT", or "none". */
  dest: string;
  /** The scheduler's explanation, including its indented continuation lines. */
  inputs: string;
}

export function schedTraces(log: string): SchedTraceLine[] {
  const out: SchedTraceLine[] = [];
  const lines = log.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^sched (\S+) (\d+\.\d+\.\d+\.\d+):(\d+) -> (\S+) \| (.*)$/.exec(lines[i]!);
    if (!m) continue;
    let inputs = m[5]!;
    while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1]!)) inputs += `\n${lines[++i]}`;
    out.push({ sched: m[1]!, client: m[2]!, cport: Number(m[3]), dest: m[4]!, inputs });
  }
  return out;
}

/** One HTTP GET from the client (a new TCP connection each time); the server's name. */
export async function whoAnswers(lab: Lab, url: string, extra: string[] = []): Promise<string> {
  return (await lab.curl(url, extra)).trim();
}

/** A control socket of this lab run only, so concurrent runs never share /run/tslb.sock. */
export function socketArgs(lab: Lab): string[] {
  return ['--socket', `/tmp/tslb-${lab.prefix}.sock`];
}
