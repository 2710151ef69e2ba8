#!/usr/bin/env node
/**
 * Entry point: `lb [options]` runs the balancer; sub-commands talk to a running one.
 * Bad values exit 2 naming the value; start-up failures exit 1 with the reason.
 */
import { parseOptions, UsageError, USAGE } from './cli/options.js';
import { finalReport, startBalancer, StartError, RuleError } from './cli/run.js';

function main(argv: string[]): void {
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
  let lb;
  try {
    lb = startBalancer(opts, log);
  } catch (err) {
    if (err instanceof StartError || err instanceof RuleError) {
      process.stderr.write(`lb: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const { runtime, stop } = lb;
  const shutdown = (sig: string) => {
    log(`${sig}: stopping`);
    stop();
    log(finalReport(runtime.engine));
    process.exit(0);
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGUSR1', () => log(finalReport(runtime.engine)));
  process.on('uncaughtException', (err) => {
    stop();
    process.stderr.write(`lb: fatal: ${err.stack ?? err}\n`);
    process.exit(1);
  });
  log('running; SIGINT or SIGTERM to stop, SIGUSR1 for counters');
}

main(process.argv.slice(2));
