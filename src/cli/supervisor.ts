/**
 * `lb --workers N`: cap and raw-socket only work on a process's main thread
 * (packet-io-notes 9), so more cores mean more processes. The supervisor starts N
 * copies of itself as `--worker k/N`; their capture filters split the flows
 * disjointly (io/bpf.ts shardClauses), they share nothing on the packet path.
 * Worker 0 answers ARP and owns the control socket path; worker k listens on PATH.k.
 * Signals are forwarded; the supervisor exits when all workers have.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export function supervise(argv: string[], n: number, socket: string, log: (s: string) => void): void {
  const script = process.argv[1]!;
  const base = stripWorkers(argv);
  const children: ChildProcess[] = [];
  let alive = n;
  let status = 0;
  for (let k = 0; k < n; k++) {
    const args = [...base, '--worker', `${k}/${n}`, '--socket', k === 0 ? socket : `${socket}.${k}`];
    const c = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const tag = (d: Buffer) => d.toString().split('\n').filter(Boolean).map((l) => `[worker ${k}] ${l}`).join('\n');
    c.stdout!.on('data', (d: Buffer) => log(tag(d)));
    c.stderr!.on('data', (d: Buffer) => process.stderr.write(`${tag(d)}\n`));
    c.on('exit', (code) => {
      if (code) status = code;
      if (--alive === 0) process.exit(status);
    });
    children.push(c);
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1'] as const) {
    process.on(sig, () => children.forEach((c) => c.exitCode === null && c.kill(sig)));
  }
}

/** argv without --workers N and --socket P (the supervisor sets them per worker). */
function stripWorkers(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--workers' || a === '--socket') i++;
    else if (a.startsWith('--workers=') || a.startsWith('--socket=')) continue;
    else out.push(a);
  }
  return out;
}
