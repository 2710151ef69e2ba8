import t from 'tap';
import {
  nextTcpState, DIR_INPUT, DIR_OUTPUT, DIR_INPUT_ONLY, S_NONE, S_SYN_RECV, S_ESTABLISHED, S_FIN_WAIT,
  S_TIME_WAIT, S_CLOSE_WAIT, S_CLOSE, STATE_NAMES, STATE_ACTIVE, DEFAULT_TIMEOUTS_S,
} from '../../src/table/tcp-state.js';
import { SYN, ACK, FIN, RST } from '../../src/packet/tcp.js';

function run(steps: [number, number][]): string[] {
  let s = S_NONE;
  return steps.map(([dir, flags]) => STATE_NAMES[(s = nextTcpState(dir, s, flags))]!);
}

// Expected traces are the ones docs/ipvs-behaviour.md §2.3 lists ("Typical traces").
t.test('NAT: handshake, server closes first', async (t) => {
  t.same(run([[DIR_INPUT, SYN], [DIR_OUTPUT, SYN | ACK], [DIR_INPUT, ACK], [DIR_OUTPUT, FIN | ACK], [DIR_INPUT, FIN | ACK]]),
    ['SYN_RECV', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'TIME_WAIT']);
});

t.test('NAT: client closes first', async (t) => {
  t.same(run([[DIR_INPUT, SYN], [DIR_OUTPUT, SYN | ACK], [DIR_INPUT, ACK], [DIR_INPUT, FIN | ACK], [DIR_OUTPUT, FIN | ACK]]),
    ['SYN_RECV', 'SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'TIME_WAIT']);
});

t.test('DR (input only): entries end in FIN_WAIT', async (t) => {
  t.same(run([[DIR_INPUT_ONLY, SYN], [DIR_INPUT_ONLY, ACK], [DIR_INPUT_ONLY, FIN | ACK], [DIR_INPUT_ONLY, ACK]]),
    ['SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'FIN_WAIT']);
});

t.test('event priority rst > syn > fin > ack, no flags -> CLOSE', async (t) => {
  t.equal(nextTcpState(DIR_INPUT, S_ESTABLISHED, RST | SYN), S_CLOSE);
  t.equal(nextTcpState(DIR_INPUT, S_ESTABLISHED, SYN | FIN), S_ESTABLISHED);
  t.equal(nextTcpState(DIR_INPUT, S_ESTABLISHED, FIN | ACK), S_CLOSE_WAIT);
  t.equal(nextTcpState(DIR_INPUT, S_ESTABLISHED, 0), S_CLOSE);
  t.equal(nextTcpState(DIR_INPUT, S_NONE, ACK), S_ESTABLISHED, 'mainline: ack in NONE -> ES');
  t.equal(nextTcpState(DIR_INPUT, S_TIME_WAIT, SYN), S_SYN_RECV);
  t.equal(nextTcpState(DIR_OUTPUT, S_FIN_WAIT, RST), S_CLOSE);
});

t.test('activity and default timeouts as in tcp_state_active_table / tcp_timeouts', async (t) => {
  const active = STATE_NAMES.filter((_, i) => STATE_ACTIVE[i]);
  t.same(active, ['ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'SYNACK']);
  t.same(DEFAULT_TIMEOUTS_S.slice(0, 11), [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120]);
  t.equal(DEFAULT_TIMEOUTS_S[11], 300, 'UDP');
  t.equal(STATE_NAMES[S_SYN_RECV], 'SYN_RECV');
});
