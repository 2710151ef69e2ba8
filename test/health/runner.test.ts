import t from 'tap';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../src/health/clock.js';
import { execNotify } from '../../src/health/notify.js';
import { HealthRunner } from '../../src/health/runner.js';
import type {
  CheckerSpec,
  DestRef,
  HealthActions,
  HealthRealServerSpec,
  HealthServiceSpec,
  NotifyEvent,
  ProbeResult,
} from '../../src/health/types.js';

function tcp(port: number, over: Partial<CheckerSpec> = {}): CheckerSpec {
  return {
    type: 'TCP',
    target: { host: '127.0.0.1', port },
    connectTimeoutMs: 1000,
    retry: 1,
    delayLoopMs: 1000,
    delayBeforeRetryMs: 500,
    warmupMs: 0,
    alpha: false,
    ...over,
  } as CheckerSpec;
}

function server(key: string, weight: number, checkers: CheckerSpec[], over: Partial<HealthRealServerSpec> = {}): HealthRealServerSpec {
  const [address, port] = key.split(':');
  return { key, address: address as string, port: Number(port), weight, inhibitOnFailure: false, checkers, ...over };
}

function service(realServers: HealthRealServerSpec[], over: Partial<HealthServiceSpec> = {}): HealthServiceSpec {
  return { key: 'TCP 10.0.0.127:80', quorum: 1, hysteresis: 0, realServers, ...over };
}

/** Records table operations and notifies, stamped with the given clock. */
class Recorder implements HealthActions {
  readonly ops: string[] = [];
  readonly logs: string[] = [];
  constructor(private readonly now: () => number) {}
  addDest(d: DestRef, w: number): void {
    this.ops.push(`${this.now()} add ${d.rsKey} w${w}`);
  }
  editDest(d: DestRef, w: number): void {
    this.ops.push(`${this.now()} edit ${d.rsKey} w${w}`);
  }
  delDest(d: DestRef): void {
    this.ops.push(`${this.now()} del ${d.rsKey}`);
  }
  runNotify(script: string, e: NotifyEvent): void {
    this.ops.push(`${this.now()} notify ${e.kind} ${script}`);
  }
  log(msg: string): void {
    this.logs.push(msg);
  }
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Move time forward by `ms`, stopping at every timer so that the (instant) fake probes complete
 * at the time they started before the clock moves on.
 */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  await flush();
  for (;;) {
    const next = clock.nextDue();
    if (next === undefined || next > end) break;
    clock.advance(next - clock.now());
    await flush();
  }
  clock.advance(end - clock.now());
  await flush();
}

t.test('retry timeline with an injected clock (delay_loop 1000, retry 1, delay_before_retry 500)', async (t) => {
  const clock = new ManualClock();
  const probes: number[] = [];
  // The server is down during [2500, 5000).
  const healthy = (now: number): boolean => now < 2500 || now >= 5000;
  const rec = new Recorder(() => clock.now());
  const runner = new HealthRunner(
    [service([server('10.0.0.1:80', 3, [tcp(80)], { inhibitOnFailure: true, notifyDown: 'down.sh', notifyUp: 'up.sh' })])],
    rec,
    {
      clock,
      random: () => 0,
      probe: async () => {
        probes.push(clock.now());
        return { ok: healthy(clock.now()), detail: 'fake' };
      },
    },
  );
  runner.start();
  await advance(clock, 6000);
  runner.stop();
  // Worked out by hand: regular checks every 1000; the failure at 3000 is retried 500 later,
  // the second failure (3500) takes it down; while down the loop is 1000 again (4500 fails,
  // 5500 succeeds).
  t.same(probes, [0, 1000, 2000, 3000, 3500, 4500, 5500]);
  t.same(rec.ops, [
    '0 add 10.0.0.1:80 w3',
    '3500 edit 10.0.0.1:80 w0',
    '3500 notify rs-down down.sh',
    '5500 edit 10.0.0.1:80 w3',
    '5500 notify rs-up up.sh',
  ]);
});

t.test('warmup spreads the first probes; concurrency limit; one probe in flight per checker', async (t) => {
  const clock = new ManualClock();
  const randoms = [0, 0.5, 0.25, 0.75, 0.1];
  const pending: Array<{ port: number; resolve: (r: ProbeResult) => void }> = [];
  const starts: Array<[number, number]> = [];
  const inFlightPerChecker = new Map<number, number>();
  let maxSeen = 0;
  let overlap = false;
  const servers = [1, 2, 3, 4, 5].map((i) => server(`10.0.0.${i}:80`, 1, [tcp(i, { warmupMs: 1000 })]));
  const rec = new Recorder(() => clock.now());
  const runner = new HealthRunner([service(servers)], rec, {
    clock,
    maxConcurrent: 2,
    random: () => randoms.shift() ?? 0,
    probe: (c) => {
      const port = c.type === 'MISC' ? 0 : c.target.port;
      starts.push([clock.now(), port]);
      const n = (inFlightPerChecker.get(port) ?? 0) + 1;
      if (n > 1) overlap = true;
      inFlightPerChecker.set(port, n);
      return new Promise((resolve) =>
        pending.push({
          port,
          resolve: (r) => {
            inFlightPerChecker.set(port, (inFlightPerChecker.get(port) ?? 1) - 1);
            resolve(r);
          },
        }),
      );
    },
  });
  runner.start();
  await advance(clock, 1000);
  maxSeen = Math.max(maxSeen, runner.inFlight);
  // Warmups 0, 500, 250, 750, 100 ms; only two may run, the rest wait.
  t.same(starts, [
    [0, 1],
    [100, 5],
  ]);
  // Finish probe of checker 1: the oldest waiting one (3, due at 250) starts.
  pending.shift()?.resolve({ ok: true, detail: '' });
  await flush();
  t.same(starts.at(-1), [1000, 3]);
  // Let everything complete repeatedly for a while; never more than 2 at once, never overlap.
  for (let i = 0; i < 40; i++) {
    maxSeen = Math.max(maxSeen, runner.inFlight);
    pending.shift()?.resolve({ ok: true, detail: '' });
    await flush();
    await advance(clock, 100);
  }
  runner.stop();
  t.equal(maxSeen, 2);
  t.equal(overlap, false);
  t.ok(starts.length > 10);
});

t.test('misc_dynamic weights through the runner (hand-worked offsets)', async (t) => {
  const clock = new ManualClock();
  const exits = [7, 0, 1, 7];
  const misc: CheckerSpec = {
    type: 'MISC',
    path: 'check.sh',
    timeoutMs: 1000,
    dynamic: true,
    retry: 0,
    delayLoopMs: 1000,
    delayBeforeRetryMs: 1000,
    warmupMs: 0,
    alpha: false,
  };
  const rec = new Recorder(() => clock.now());
  const runner = new HealthRunner([service([server('10.0.0.1:80', 3, [misc])])], rec, {
    clock,
    random: () => 0,
    probe: async () => {
      const code = exits.shift() ?? 0;
      return { ok: code === 0 || code >= 2, exitCode: code, detail: `exit ${code}` };
    },
  });
  runner.start();
  await advance(clock, 3500);
  runner.stop();
  // exit 7 -> weight 7-2 = 5; exit 0 -> back to 3; exit 1 (retry 0) -> down, deleted;
  // exit 7 -> weight 5 stored first, then the server is added with it.
  t.same(rec.ops, ['0 add 10.0.0.1:80 w3', '0 edit 10.0.0.1:80 w5', '1000 edit 10.0.0.1:80 w3', '2000 del 10.0.0.1:80', '3000 add 10.0.0.1:80 w5']);
});

function listenOn(srv: net.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve((srv.address() as AddressInfo).port));
  });
}

async function waitFor(cond: () => boolean, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

t.test('real TCP: a dead server is reported down within 3 s; notify scripts run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tslb-health-'));
  const events = join(dir, 'events');
  const listener = net.createServer((s) => s.destroy());
  const port = await listenOn(listener);
  const times: { down?: number; up?: number } = {};
  const actions: HealthActions = {
    addDest: () => {},
    editDest: (_d, w) => {
      if (w === 0) times.down = Date.now();
      else times.up = Date.now();
    },
    delDest: () => {},
    runNotify: (script, e) => void execNotify(script, e),
    log: () => {},
  };
  const append = (word: string): string => `/bin/sh -c "echo ${word} \\$TSLB_EVENT >> ${events}"`;
  const runner = new HealthRunner(
    [
      service([
        server('127.0.0.1:' + port, 1, [tcp(port, { delayLoopMs: 1000, connectTimeoutMs: 1000, retry: 1, delayBeforeRetryMs: 1000 })], {
          inhibitOnFailure: true,
          notifyDown: append('down'),
          notifyUp: append('up'),
        }),
      ]),
    ],
    actions,
    { random: () => 0 },
  );
  t.teardown(() => runner.stop());
  runner.start();
  // Let the first (successful) probe happen.
  await new Promise((r) => setTimeout(r, 300));
  t.equal(runner.status()[0]?.servers[0]?.alive, true);
  await new Promise<void>((r) => listener.close(() => r()));
  const closedAt = Date.now();
  t.ok(await waitFor(() => times.down !== undefined, 5000), 'reported down');
  const took = (times.down ?? Infinity) - closedAt;
  t.ok(took < 3000, `down after ${took} ms (< 3000)`);
  t.ok(await waitFor(() => existsSync(events) && readFileSync(events, 'utf8').includes('down'), 3000));
  t.equal(readFileSync(events, 'utf8'), 'down rs-down\n');
  // Bring it back on the same port: notify_up runs.
  const again = net.createServer((s) => s.destroy());
  await listenOn(again, port);
  t.teardown(() => new Promise<void>((r) => again.close(() => r())));
  t.ok(await waitFor(() => times.up !== undefined, 3000), 'reported up again');
  t.ok(await waitFor(() => readFileSync(events, 'utf8').includes('up'), 3000));
  t.equal(readFileSync(events, 'utf8'), 'down rs-down\nup rs-up\n');
});
