/**
 * The director's BIRD 2: started by the balancer with the generated bird.conf, its own control
 * socket and pid file (`bird -c FILE -s SOCK -P PID`, in the balancer's network namespace), or,
 * when one already answers on that socket (the balancer crashed and was started again), told
 * to load the new file (`birdc configure`). BIRD outlives a crash of the balancer on purpose:
 * the VIP routes do not (vip-route.ts), so the routers stop sending traffic at once, and the
 * BGP sessions stay up for the restart. A clean stop of the balancer stops BIRD too.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export type Exec = (cmd: string, args: string[], timeoutMs: number) => string;

const realExec: Exec = (cmd, args, timeoutMs) =>
  execFileSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });

export class BirdError extends Error {}

function why(err: unknown): string {
  const e = err as { stdout?: string; stderr?: string; message?: string };
  return `${e.stderr ?? ''}${e.stdout ?? ''}`.trim() || (e.message ?? String(err)).split('\n')[0]!;
}

export class Bird {
  readonly conf: string;
  readonly socket: string;
  readonly pidFile: string;
  private readonly exec: Exec;

  constructor(dir: string, exec: Exec = realExec) {
    this.conf = `${dir}/bird.conf`;
    this.socket = `${dir}/bird.ctl`;
    this.pidFile = `${dir}/bird.pid`;
    this.exec = exec;
  }

  /** `bird -p`: parse the file only. */
  check(): void {
    try {
      this.exec('bird', ['-p', '-c', this.conf], 10_000);
    } catch (err) {
      throw new BirdError(`bird rejects the generated ${this.conf}: ${why(err)}`);
    }
  }

  /** birdc on our socket; null when nothing answers there. */
  birdc(args: string[], timeoutMs = 5000): string | null {
    try {
      return this.exec('birdc', ['-s', this.socket, ...args], timeoutMs);
    } catch {
      return null;
    }
  }

  running(): boolean {
    const out = this.birdc(['show', 'status'], 3000);
    return out !== null && /Daemon is up and running/.test(out);
  }

  /** Start BIRD, or reconfigure the one on our socket. Resolves to what was done. */
  async start(): Promise<'started' | 'reconfigured'> {
    if (this.running()) {
      const out = this.birdc(['configure', `"${this.conf}"`], 10_000) ?? '';
      if (!/Reconfigured|Reconfiguration in progress|Reconfiguration confirmed/.test(out)) throw new BirdError(`birdc configure: ${out.trim() || 'no answer'}`);
      return 'reconfigured';
    }
    try {
      // BIRD forks into the background once the config is read and the socket made.
      this.exec('bird', ['-c', this.conf, '-s', this.socket, '-P', this.pidFile], 10_000);
    } catch (err) {
      throw new BirdError(`bird did not start: ${why(err)}`);
    }
    for (let i = 0; i < 50; i++) {
      if (this.running()) return 'started';
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new BirdError(`bird started but its socket ${this.socket} does not answer`);
  }

  /**
   * BIRD's pid if the process of its pid file is alive, else null. No birdc call, so the
   * balancer can ask every second without blocking its packet path.
   */
  alivePid(): number | null {
    let pid: number;
    try {
      pid = Number(readFileSync(this.pidFile, 'latin1').trim());
    } catch {
      return null;
    }
    if (!Number.isInteger(pid) || pid <= 0) return null;
    try {
      process.kill(pid, 0);
      return pid;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
    }
  }

  /** `birdc show protocols` (BGP session states), '' if BIRD does not answer. */
  protocols(): string {
    return this.birdc(['show', 'protocols'], 3000) ?? '';
  }

  /** A clean stop: BIRD closes its sessions (Cease) and exits. */
  stop(): void {
    this.birdc(['down'], 3000);
  }
}
