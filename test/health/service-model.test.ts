import t from 'tap';
import { ServiceHealthModel } from '../../src/health/service-model.js';
import type { CheckerStep } from '../../src/health/checker-state.js';
import type {
  HealthAction,
  HealthRealServerSpec,
  HealthServiceSpec,
  TcpCheckerSpec,
} from '../../src/health/types.js';

function tcpChecker(over: Partial<TcpCheckerSpec> = {}): TcpCheckerSpec {
  return {
    type: 'TCP',
    target: { host: '127.0.0.1', port: 1 },
    connectTimeoutMs: 1000,
    retry: 1,
    delayLoopMs: 1000,
    delayBeforeRetryMs: 1000,
    warmupMs: 0,
    alpha: false,
    ...over,
  };
}

function rs(key: string, weight: number, over: Partial<HealthRealServerSpec> = {}): HealthRealServerSpec {
  const [address, port] = key.split(':');
  return {
    key,
    address: address as string,
    port: Number(port),
    weight,
    inhibitOnFailure: false,
    checkers: [tcpChecker()],
    ...over,
  };
}

function svc(realServers: HealthRealServerSpec[], over: Partial<HealthServiceSpec> = {}): HealthServiceSpec {
  return { key: 'TCP 10.0.0.127:80', quorum: 1, hysteresis: 0, realServers, ...over };
}

/** A checker verdict as stepChecker would produce it after the first run. */
function verdict(report: 'up' | 'down', wasUp: boolean, firstRun = false): CheckerStep {
  return {
    state: { isUp: report === 'up', hasRun: true, retryIt: 0 },
    nextDelayMs: 1000,
    report,
    wasUp,
    firstRun,
  };
}

/** Actions without the log lines, in a compact comparable form. */
function ops(actions: HealthAction[]): string[] {
  return actions.flatMap((a) => {
    switch (a.kind) {
      case 'add-dest':
        return [`add ${a.dest.rsKey} w${a.weight}`];
      case 'edit-dest':
        return [`edit ${a.dest.rsKey} w${a.weight}`];
      case 'del-dest':
        return [`del ${a.dest.rsKey}`];
      case 'notify':
        return [`notify ${a.event.kind}${a.event.rsKey ? ' ' + a.event.rsKey : ''} ${a.script}`];
      case 'log':
        return [];
    }
  });
}

const NU = 'nu.sh';
const ND = 'nd.sh';

t.test('inhibit_on_failure: down = edit weight 0, up = edit back to the configured weight', async (t) => {
  const m = new ServiceHealthModel(
    svc([
      rs('10.0.0.1:80', 5, { inhibitOnFailure: true, notifyUp: NU, notifyDown: ND }),
      rs('10.0.0.2:80', 3),
    ]),
  );
  // init_service_rs adds every server before its first check; quorum 1 gained (sum 8).
  t.same(ops(m.init()), ['add 10.0.0.1:80 w5', 'add 10.0.0.2:80 w3']);
  t.equal(m.quorumUp, true);
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('down', true), false)), [
    'edit 10.0.0.1:80 w0',
    `notify rs-down 10.0.0.1:80 ${ND}`,
  ]);
  t.equal(m.servers.get('10.0.0.1:80')?.set, true, 'stays in the table, quiesced');
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('up', false), false)), [
    'edit 10.0.0.1:80 w5',
    `notify rs-up 10.0.0.1:80 ${NU}`,
  ]);
});

t.test('without inhibit: down = delete, up = add', async (t) => {
  const m = new ServiceHealthModel(svc([rs('10.0.0.1:80', 2), rs('10.0.0.2:80', 3)]));
  m.init();
  t.same(ops(m.onCheckerStep('10.0.0.2:80', verdict('down', true), false)), ['del 10.0.0.2:80']);
  t.equal(m.servers.get('10.0.0.2:80')?.set, false);
  t.same(ops(m.onCheckerStep('10.0.0.2:80', verdict('up', false), false)), ['add 10.0.0.2:80 w3']);
});

t.test('first-run single failure removes a server added at start-up; notify_down runs', async (t) => {
  const m = new ServiceHealthModel(svc([rs('10.0.0.1:80', 1, { notifyDown: ND }), rs('10.0.0.2:80', 1)]));
  m.init();
  // stepChecker on a first failure: report down, wasUp true, firstRun true
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('down', true, true), false)), [
    'del 10.0.0.1:80',
    `notify rs-down 10.0.0.1:80 ${ND}`,
  ]);
});

t.test('a server is alive iff all of its checkers are up', async (t) => {
  const two = rs('10.0.0.1:80', 4, { checkers: [tcpChecker(), tcpChecker()] });
  const m = new ServiceHealthModel(svc([two, rs('10.0.0.2:80', 1)]));
  m.init();
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('down', true), false)), ['del 10.0.0.1:80'], 'first failing checker');
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('down', true), false)), [], 'second failing checker: already down');
  t.equal(m.servers.get('10.0.0.1:80')?.failedCheckers, 2);
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('up', false), false)), [], 'one checker still failing');
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('up', false), false)), ['add 10.0.0.1:80 w4'], 'last one recovers');
});

t.test('alpha: not added until the first success; inhibited alpha goes in with weight 0', async (t) => {
  const alpha = [tcpChecker({ alpha: true })];
  const m = new ServiceHealthModel(
    svc([
      rs('10.0.0.1:80', 2, { checkers: alpha, notifyDown: ND }),
      rs('10.0.0.2:80', 7, { checkers: alpha, inhibitOnFailure: true }),
    ]),
  );
  t.same(ops(m.init()), ['add 10.0.0.2:80 w0']);
  t.equal(m.quorumUp, false, 'sum 0 < quorum 1');
  // First run failure in alpha mode does not change the checker but runs notify_down.
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('down', false, true), true)), [`notify rs-down 10.0.0.1:80 ${ND}`]);
  // First success: server added; quorum gained (no quorum_up script configured).
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('up', false), true)), ['add 10.0.0.1:80 w2']);
  t.equal(m.quorumUp, true);
  t.same(ops(m.onCheckerStep('10.0.0.2:80', verdict('up', false, true), true)), ['edit 10.0.0.2:80 w7']);
});

t.test('quorum with hysteresis: gain at >= q+h, loss at < q-h', async (t) => {
  // quorum 5, hysteresis 1, three servers of weight 2 -> up when sum >= 6, down when sum < 4.
  const m = new ServiceHealthModel(
    svc([rs('10.0.0.1:80', 2), rs('10.0.0.2:80', 2), rs('10.0.0.3:80', 2)], {
      quorum: 5,
      hysteresis: 1,
      quorumUp: 'qu.sh',
      quorumDown: 'qd.sh',
    }),
  );
  t.same(ops(m.init()), ['add 10.0.0.1:80 w2', 'add 10.0.0.2:80 w2', 'add 10.0.0.3:80 w2', 'notify quorum-up qu.sh']);
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('down', true), false)), ['del 10.0.0.1:80'], 'sum 4 is not < 4');
  t.equal(m.quorumUp, true);
  t.same(ops(m.onCheckerStep('10.0.0.2:80', verdict('down', true), false)), ['del 10.0.0.2:80', 'notify quorum-down qd.sh'], 'sum 2 < 4');
  t.same(ops(m.onCheckerStep('10.0.0.2:80', verdict('up', false), false)), ['add 10.0.0.2:80 w2'], 'sum 4 < 6: still down');
  t.equal(m.quorumUp, false);
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('up', false), false)), ['add 10.0.0.1:80 w2', 'notify quorum-up qu.sh'], 'sum 6');
});

t.test('quorum is capped at the total weight and hysteresis kept below it', async (t) => {
  const m = new ServiceHealthModel(svc([rs('10.0.0.1:80', 1), rs('10.0.0.2:80', 2)], { quorum: 10, hysteresis: 7 }));
  t.same(m.quorum, { quorum: 3, hysteresis: 2 });
});

t.test('sorry server: swapped in on quorum loss, swapped out on gain', async (t) => {
  const m = new ServiceHealthModel(
    svc([rs('10.0.0.1:80', 1), rs('10.0.0.2:80', 1)], {
      quorum: 2,
      quorumUp: 'qu.sh',
      quorumDown: 'qd.sh',
      sorryServer: { key: '10.0.0.9:80', address: '10.0.0.9', port: 80, inhibit: false },
    }),
  );
  t.same(ops(m.init()), ['add 10.0.0.1:80 w1', 'add 10.0.0.2:80 w1', 'notify quorum-up qu.sh']);
  // rs1 down: sum 1 < 2 -> loss: the remaining alive server is removed, the sorry server added.
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('down', true), false)), [
    'del 10.0.0.1:80',
    'del 10.0.0.2:80',
    'add 10.0.0.9:80 w1',
    'notify quorum-down qd.sh',
  ]);
  t.equal(m.sorry?.alive, true);
  // rs1 up while the sorry server serves: the table is not touched for rs1 itself, then the
  // gain removes the sorry server and re-adds every alive server.
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('up', false), false)), [
    'del 10.0.0.9:80',
    'add 10.0.0.1:80 w1',
    'add 10.0.0.2:80 w1',
    'notify quorum-up qu.sh',
  ]);
  t.equal(m.sorry?.alive, false);
});

t.test('sorry server at start-up in alpha mode; sorry_server_inhibit keeps it at weight 0', async (t) => {
  const alpha = [tcpChecker({ alpha: true })];
  const m = new ServiceHealthModel(
    svc([rs('10.0.0.1:80', 1, { checkers: alpha })], {
      quorumDown: 'qd.sh',
      sorryServer: { key: '10.0.0.9:80', address: '10.0.0.9', port: 80, inhibit: true, weight: 4 },
    }),
  );
  // "Starting with quorum down": sorry added with its weight (4), quorum_down runs.
  t.same(ops(m.init()), ['add 10.0.0.9:80 w4', 'notify quorum-down qd.sh']);
  // Gain: inhibited sorry server goes to weight 0 instead of being deleted.
  t.same(ops(m.onCheckerStep('10.0.0.1:80', verdict('up', false), true)), ['edit 10.0.0.9:80 w0', 'add 10.0.0.1:80 w1']);
});

t.test('sorry_server_inhibit without quorum loss: added with weight 0 at start-up', async (t) => {
  const m = new ServiceHealthModel(
    svc([rs('10.0.0.1:80', 1)], { sorryServer: { key: '10.0.0.9:80', address: '10.0.0.9', port: 80, inhibit: true } }),
  );
  t.same(ops(m.init()), ['add 10.0.0.1:80 w1', 'add 10.0.0.9:80 w0']);
});

t.test('update_svr_wgt: weight edit only for a live server; quorum follows the new sum', async (t) => {
  const m = new ServiceHealthModel(svc([rs('10.0.0.1:80', 1), rs('10.0.0.2:80', 1)], { quorum: 2, quorumDown: 'qd.sh' }));
  m.init();
  t.same(ops(m.setEffectiveWeight('10.0.0.1:80', 10)), ['edit 10.0.0.1:80 w10']);
  t.same(ops(m.setEffectiveWeight('10.0.0.1:80', 10)), [], 'same weight: nothing');
  // Dynamic weight 0 on both: sum 0 -> quorum lost.
  m.setEffectiveWeight('10.0.0.2:80', 0);
  t.same(ops(m.setEffectiveWeight('10.0.0.1:80', -3)), ['edit 10.0.0.1:80 w0', 'notify quorum-down qd.sh'], 'negative clamps to 0');
  m.onCheckerStep('10.0.0.2:80', verdict('down', true), false);
  t.same(ops(m.setEffectiveWeight('10.0.0.2:80', 5)), [], 'dead server: stored for later, no edit');
  t.same(ops(m.onCheckerStep('10.0.0.2:80', verdict('up', false), false)), ['add 10.0.0.2:80 w5']);
});

t.test('shutdown removes every dest, inhibited ones too; notifiers only with omega', async (t) => {
  const spec = svc([rs('10.0.0.1:80', 1, { inhibitOnFailure: true, notifyDown: ND })], { quorumDown: 'qd.sh' });
  const a = new ServiceHealthModel(spec);
  a.init();
  t.same(ops(a.shutdown(false)), ['del 10.0.0.1:80']);
  const b = new ServiceHealthModel(spec);
  b.init();
  t.same(ops(b.shutdown(true)), ['del 10.0.0.1:80', `notify rs-down 10.0.0.1:80 ${ND}`, 'notify quorum-down qd.sh']);
});
