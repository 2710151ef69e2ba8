#!/usr/bin/env node
/**
 * Entry point: `lb [options]` runs the balancer; `lb ipvsadm ARGS` and `lb reload`
 * talk to a running one over its control socket.
 * Bad values exit 2 naming the value; start-up failures exit 1 with the reason.
 */
import { readFileSync } from 'node:fs';
import { parseOptions, UsageError, USAGE } from './cli/options.js';
import { finalReport, startBalancer, StartError, RuleError } from './cli/run.js';
import { ConfigError } from './config/errors.js';
import { request } from './control/server.js';
import { supervise } from './cli/supervisor.js';
import { runTop } from './observe/top.js';

const DEFAULT_SOCKET = '/run/tslb.sock';

/** `lb [--socket PATH] ipvsadm ARGS...` and `lb [--socket PATH] reload`. */
async function client(argv: string[]): Promise<number | null> {
  let socket = process.env.TSLB_SOCKET ?? DEFAULT_SOCKET;
  let i = 0;
  if (argv[0] === '--socket' && argv[1]) {
    socket = argv[1];
    i = 2;
  }
  const sub = argv[i];
  if (sub === 'top') return runTop(socket, argv.slice(i + 1));
  if (sub !== 'ipvsadm' && sub !== 'reload') return null;
  const args = argv.slice(i + 1);
  const wantsStdin = sub === 'ipvsadm' && args.some((a) => a === '-R' || a === '--restore');
  const stdin = wantsStdin ? readFileSync(0, 'utf8') : '';
  try {
    const out = await request(socket, sub === 'reload' ? { reload: true } : { argv: args, stdin });
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    return out.status;
  } catch (err) {
    process.stderr.write(`lb: ${(err as Error).message}\n`);
    return 1;
  }
}

async function main(argv: string[]): Promise<void> {
  const status = await client(argv);
  if (status !== null) process.exit(status);
  let opts;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`lb: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const log = (s: string) => process.stdout.write(`${s}\n`);
  if (opts.workers > 1 && opts.worker === null) {
    supervise(argv, opts.workers, opts.socket, log);
    return;
  }
  let lb;
  try {
    lb = await startBalancer(opts, log);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`lb: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof StartError || err instanceof RuleError) {
      process.stderr.write(`lb: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const { runtime, plane, stop } = lb;
  const shutdown = (sig: string) => {
    log(`${sig}: stopping`);
    stop();
    log(finalReport(runtime.engine));
    process.exit(0);
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => {
    const out = plane.reload();
    log(`SIGHUP: ${(out.stdout + out.stderr).trim()}`);
  });
  process.on('SIGUSR1', () => log(finalReport(runtime.engine)));
  process.on('uncaughtException', (err) => {
    stop();
    process.stderr.write(`lb: fatal: ${err.stack ?? err}\n`);
    process.exit(1);
  });
  log('running; SIGINT or SIGTERM to stop, SIGHUP to reload, SIGUSR1 for counters');
}

void main(process.argv.slice(2));
