import t from 'tap';
import { initialCheckerState, stepChecker, type CheckerState } from '../../src/health/checker-state.js';

// Sequences worked out by hand from check_tcp.c tcp_epilog (see the rules in checker-state.ts):
// delay_loop 1000 ms, delay_before_retry 200 ms.
const LOOP = 1000;
const RETRY_DELAY = 200;

function run(retry: number, alpha: boolean, results: boolean[]): Array<[string | null, number, boolean]> {
  let s: CheckerState = initialCheckerState(retry, alpha);
  return results.map((ok) => {
    const step = stepChecker(s, ok, { retry, delayLoopMs: LOOP, delayBeforeRetryMs: RETRY_DELAY });
    s = step.state;
    return [step.report, step.nextDelayMs, s.isUp];
  });
}

t.test('initial state: retry_it starts at retry, alpha starts down', async (t) => {
  t.same(initialCheckerState(1, false), { isUp: true, hasRun: false, retryIt: 1 });
  t.same(initialCheckerState(3, true), { isUp: false, hasRun: false, retryIt: 3 });
});

t.test('first run: a single failure marks the checker down (retry 1)', async (t) => {
  t.same(run(1, false, [false]), [['down', LOOP, false]]);
});

t.test('first run success reports up once (no state change), later successes report nothing', async (t) => {
  t.same(run(1, false, [true, true]), [
    ['up', LOOP, true],
    [null, LOOP, true],
  ]);
});

t.test('retry 1 = two consecutive failures once up; down checker keeps delay_loop', async (t) => {
  t.same(run(1, false, [true, false, false, false, true]), [
    ['up', LOOP, true], // first run
    [null, RETRY_DELAY, true], // retry_it 0 -> 1, re-check after delay_before_retry
    ['down', LOOP, false], // retry_it 1 >= 1 -> DOWN
    [null, LOOP, false], // already down: nothing, delay_loop
    ['up', LOOP, true], // any success: UP
  ]);
});

t.test('a success between failures resets retry_it', async (t) => {
  t.same(run(1, false, [true, false, true, false, false]), [
    ['up', LOOP, true],
    [null, RETRY_DELAY, true],
    [null, LOOP, true], // success while up: retry_it = 0, no report
    [null, RETRY_DELAY, true], // counts from zero again
    ['down', LOOP, false],
  ]);
});

t.test('retry 0 (MISC_CHECK default): one failure takes an up checker down', async (t) => {
  t.same(run(0, false, [true, false, true]), [
    ['up', LOOP, true],
    ['down', LOOP, false],
    ['up', LOOP, true],
  ]);
});

t.test('retry 3 (DNS_CHECK default): four consecutive failures', async (t) => {
  t.same(run(3, false, [true, false, false, false, false]), [
    ['up', LOOP, true],
    [null, RETRY_DELAY, true],
    [null, RETRY_DELAY, true],
    [null, RETRY_DELAY, true],
    ['down', LOOP, false],
  ]);
});

t.test('alpha: starts down, first failure still reported (for notify), success brings it up', async (t) => {
  let s = initialCheckerState(2, true);
  const timing = { retry: 2, delayLoopMs: LOOP, delayBeforeRetryMs: RETRY_DELAY };
  const a = stepChecker(s, false, timing);
  t.equal(a.report, 'down');
  t.equal(a.wasUp, false);
  t.equal(a.firstRun, true);
  s = a.state;
  const b = stepChecker(s, true, timing);
  t.equal(b.report, 'up');
  t.equal(b.wasUp, false);
  t.equal(b.firstRun, false);
  t.equal(b.state.isUp, true);
});

t.test('timing defaults per checker type (docs/ipvs-behaviour.md §6.4)', async (t) => {
  const { resolveCheckerTiming } = await import('../../src/health/defaults.js');
  t.same(resolveCheckerTiming('TCP', {}), { retry: 1, delayLoopMs: 60000, delayBeforeRetryMs: 1000, warmupMs: 60000, connectTimeoutMs: 5000 });
  t.same(resolveCheckerTiming('HTTP', { delayLoopMs: 6000 }), { retry: 1, delayLoopMs: 6000, delayBeforeRetryMs: 3000, warmupMs: 6000, connectTimeoutMs: 5000 });
  t.same(resolveCheckerTiming('DNS', { delayLoopMs: 6000 }), { retry: 3, delayLoopMs: 6000, delayBeforeRetryMs: 6000, warmupMs: 6000, connectTimeoutMs: 5000 });
  t.equal(resolveCheckerTiming('MISC', {}).retry, 0);
  t.equal(resolveCheckerTiming('TCP', { retry: 2, delayBeforeRetryMs: 2000 }).delayBeforeRetryMs, 2000);
});
