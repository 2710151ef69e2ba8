/**
 * `lb --workers N`: cap and raw-socket only work on a process's main thread
 * (docs/packet-io.md pitfall 9), so more cores mean more processes. The supervisor starts N
 * copies of itself as `--worker k/N`; their capture filters split the flows
 * disjointly (io/bpf.ts shardClauses), they share nothing on the packet path.
 * Worker 0 answers ARP and owns the control socket path; worker k listens on PATH.k.
 * On the ring backend the split is a PACKET_FANOUT program instead (io/ring/fanout-bpf.ts).
 * Signals are forwarded; the supervisor exits when all workers have.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export function supervise(argv: string[], n: number, socket: string, log: (s: string) => void): void {
  const script = process.argv[1]!;
  const base = stripWorkers(argv);
  const children: ChildProcess[] = [];
  let alive = n;
  let status = 0;
  // Ring backend: the workers' sockets join one PACKET_FANOUT group per interface, and the
  // group's program returns a member index, which is the order of joining
  // (fanout_add appends): so worker k starts only once worker k-1 is running.
  const pcapOnly = base.some((a, i) => (a === '--io' && base[i + 1] === 'pcap') || a === '--io=pcap');
  const group = (process.pid << 4) & 0xfff0;
  const start = (k: number): void => {
    const args = [...base, '--worker', `${k}/${n}`, '--socket', k === 0 ? socket : `${socket}.${k}`];
    if (!pcapOnly) args.push('--fanout-group', String(group));
    const c = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let next = k + 1 < n;
    const tag = (d: Buffer) => d.toString().split('\n').filter(Boolean).map((l) => `[worker ${k}] ${l}`).join('\n');
    c.stdout!.on('data', (d: Buffer) => {
      log(tag(d));
      if (next && d.toString().includes('running;')) {
        next = false;
        start(k + 1);
      }
    });
    c.stderr!.on('data', (d: Buffer) => process.stderr.write(`${tag(d)}\n`));
    c.on('exit', (code) => {
      if (code) status = code;
      if (next) {
        // It died before it ran: the others are not started.
        next = false;
        alive -= n - k - 1;
      }
      if (--alive === 0) process.exit(status);
    });
    children.push(c);
  };
  start(0);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1'] as const) {
    process.on(sig, () => children.forEach((c) => c.exitCode === null && c.kill(sig)));
  }
}

/** argv without --workers N and --socket P (the supervisor sets them per worker). */
function stripWorkers(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--workers' || a === '--socket' || a === '--fanout-group') i++;
    else if (a.startsWith('--workers=') || a.startsWith('--socket=') || a.startsWith('--fanout-group=')) continue;
    else out.push(a);
  }
  return out;
}
