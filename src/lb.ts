#!/usr/bin/env node
/**
 * Entry point: `lb [options]` runs the balancer; `lb ipvsadm ARGS` and `lb reload`
 * talk to a running one over its control socket; `lb --config FILE -t` checks a
 * configuration; `lb --version`.
 * Bad arguments exit 2 naming the value; start-up failures exit 1 with one line that
 * names the thing and the fix. The packet path (and its native addons) is loaded only
 * once the start-up checks have passed, so a missing libpcap is a checked failure too.
 */
import { readFileSync } from 'node:fs';
import { parseOptions, UsageError, USAGE, type LbOptions } from './cli/options.js';
import { request } from './control/server.js';
import { parseIpvsadmArgs } from './control/ipvsadm/args.js';
import { supervise } from './cli/supervisor.js';
import { clientSocketPath, defaultSocketPath } from './cli/netns.js';
import { versionLine } from './cli/version.js';
import { runConfigTest } from './cli/config-check.js';
import { preflight, PreflightError, realProbes } from './cli/preflight.js';
import { runTop } from './observe/top.js';

/** `lb [--socket PATH] ipvsadm ARGS...`, `lb [--socket PATH] reload`, `lb sysctl ...`, `lb top`. */
async function client(argv: string[]): Promise<number | null> {
  let socket = process.env.TSLB_SOCKET ?? null;
  let i = 0;
  if (argv[0] === '--socket' && argv[1]) {
    socket = argv[1];
    i = 2;
  }
  const sub = argv[i];
  if (sub !== 'ipvsadm' && sub !== 'reload' && sub !== 'top' && sub !== 'sysctl') return null;
  socket ??= clientSocketPath();
  if (sub === 'top') return runTop(socket, argv.slice(i + 1));
  const args = argv.slice(i + 1);
  if (sub === 'ipvsadm') {
    // -h and -v are ipvsadm's own texts: no balancer needed.
    const parsed = parseIpvsadmArgs(args);
    if (parsed.ok && (parsed.command.cmd === 'help' || parsed.command.cmd === 'version')) {
      process.stdout.write(parsed.command.stdout);
      return 0;
    }
  }
  const wantsStdin = sub === 'ipvsadm' && args.some((a) => a === '-R' || a === '--restore');
  const stdin = wantsStdin ? readFileSync(0, 'utf8') : '';
  try {
    const out = await request(socket, sub === 'reload' ? { reload: true } : sub === 'sysctl' ? { sysctl: args } : { argv: args, stdin });
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    return out.status;
  } catch (err) {
    process.stderr.write(`lb: ${(err as Error).message}\n`);
    return 1;
  }
}

function fail(message: string, status: number): never {
  process.stderr.write(`lb: ${message}\n`);
  process.exit(status);
}

async function main(argv: string[]): Promise<void> {
  const status = await client(argv);
  if (status !== null) process.exit(status);
  let opts: LbOptions;
  try {
    opts = parseOptions(argv, { socket: defaultSocketPath() });
  } catch (err) {
    if (err instanceof UsageError) fail(err.message, 2);
    throw err;
  }
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (opts.version) {
    process.stdout.write(`${versionLine()}\n`);
    return;
  }
  if (opts.configTest) {
    process.exit(runConfigTest(opts, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }));
  }
  const log = (s: string) => process.stdout.write(`${s}\n`);
  if (opts.workers > 1 && opts.worker === null) {
    // The checks once, here, rather than the same failure from every worker.
    try {
      await preflight(opts, realProbes);
    } catch (err) {
      if (err instanceof PreflightError) fail(err.message, 1);
      throw err;
    }
    supervise(argv, opts.workers, opts.socket, log);
    return;
  }
  const { finalReport, startBalancer, StartError } = await import('./cli/run.js');
  let lb;
  try {
    lb = await startBalancer(opts, log);
  } catch (err) {
    if (err instanceof StartError) fail(err.message, 1);
    throw err;
  }
  const { runtime, plane, stop } = lb;
  const shutdown = (sig: string) => {
    log(`${sig}: stopping`);
    const report = finalReport(runtime.engine, runtime.ports); // before the ports close
    stop();
    log(report);
    process.exit(0);
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => {
    const out = plane.reload();
    log(`SIGHUP: ${(out.stdout + out.stderr).trim()}`);
  });
  process.on('SIGUSR1', () => log(finalReport(runtime.engine, runtime.ports)));
  process.on('uncaughtException', (err) => {
    stop();
    process.stderr.write(`lb: fatal: ${err.stack ?? err}\n`);
    process.exit(1);
  });
  log('running; SIGINT or SIGTERM to stop, SIGHUP to reload, SIGUSR1 for counters');
}

void main(process.argv.slice(2));
