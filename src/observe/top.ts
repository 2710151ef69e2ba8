/**
 * `lb top`: a live terminal view of a running balancer through its control socket, refreshed
 * like `watch -n 2 ipvsadm -L -n --rate` (the rates come from the balancer's 2-second estimator,
 * ip_vs_est.c), with the VRRP and sync state underneath.
 *
 *   lb [--socket PATH] top [--interval SECONDS] [--once] [--stats]
 */
import { request } from '../control/server.js';

export interface TopOptions {
  intervalMs: number;
  once: boolean;
  /** Show `--stats` totals instead of `--rate`. */
  stats: boolean;
}

export function parseTopArgs(args: string[]): TopOptions {
  const o: TopOptions = { intervalMs: 2000, once: false, stats: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--once' || a === '-1') o.once = true;
    else if (a === '--stats') o.stats = true;
    else if (a === '--interval' || a === '-n') {
      const v = Number(args[++i]);
      if (!Number.isFinite(v) || v < 0.2 || v > 3600) throw new Error(`invalid value for ${a}: '${args[i] ?? ''}' (expected seconds, 0.2..3600)`);
      o.intervalMs = Math.round(v * 1000);
    } else {
      throw new Error(`unknown option '${a}' for top (use --interval S, --once, --stats)`);
    }
  }
  return o;
}

/** One screen: header, the ipvsadm listing, the HA lines. */
export async function topScreen(socket: string, o: TopOptions, now = new Date()): Promise<string> {
  const list = await request(socket, { argv: ['-L', '-n', o.stats ? '--stats' : '--rate'] });
  const ha = await request(socket, { ha: true });
  const head = `tslb top - ${now.toISOString().replace('T', ' ').slice(0, 19)}  (every ${o.intervalMs / 1000}s, rates from the 2 s estimator; q or Ctrl-C to quit)`;
  return [head, '', list.stdout + list.stderr, ha.stdout].join('\n');
}

export async function runTop(socket: string, args: string[]): Promise<number> {
  let o: TopOptions;
  try {
    o = parseTopArgs(args);
  } catch (err) {
    process.stderr.write(`lb: ${(err as Error).message}\n`);
    return 2;
  }
  const tty = process.stdout.isTTY === true && !o.once;
  for (;;) {
    let screen: string;
    try {
      screen = await topScreen(socket, o);
    } catch (err) {
      process.stderr.write(`lb: ${(err as Error).message}\n`);
      return 1;
    }
    process.stdout.write(tty ? `\x1b[H\x1b[2J${screen}` : `${screen}\n`);
    if (o.once) return 0;
    const quit = await waitOrQuit(o.intervalMs, tty);
    if (quit) return 0;
  }
}

/** Sleep; in a terminal, 'q' quits early. */
function waitOrQuit(ms: number, tty: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    let done = false;
    const finish = (q: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (tty && stdin.isTTY) {
        stdin.off('data', onKey);
        stdin.setRawMode(false);
        stdin.pause();
      }
      resolve(q);
    };
    const onKey = (d: Buffer): void => {
      if (d[0] === 0x71 || d[0] === 0x03) finish(true); // q or Ctrl-C in raw mode
    };
    const timer = setTimeout(() => finish(false), ms);
    if (tty && stdin.isTTY) {
      stdin.setRawMode(true);
      stdin.resume();
      stdin.on('data', onKey);
    }
  });
}
