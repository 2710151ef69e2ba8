/**
 * Persistence end to end (issue 3, docs/ipvs-behaviour.md §3 and §2.5): with --persist, a client
 * sticks to one server across many new connections even under rr, and moves only once
 * its template has expired.
 *
 * When does the template expire? Its timer restarts with every new connection made
 * through it (ip_vs_sched_persist -> conn_put). When it fires while connections it
 * controls still exist, ip_vs_conn_expire postpones it by 60 s. A curl connection ends
 * in FIN_WAIT/TIME_WAIT (120 s), which would hold the template for about two minutes.
 * So the expiry part closes each connection with an RST (SO_LINGER 0): the entry goes
 * to CLOSE, which lives 10 s; with --persist 15 the entry is gone before the template
 * timer fires, and the template dies exactly `persist` seconds after the last new
 * connection. The TIME_WAIT case is checked too, only as far as "still held after the
 * timeout" (the full 60 s steps are covered with an injected clock in
 * test/engine/persistence-expiry.test.ts).
 */
import t from 'tap';
import { Lab, labReady } from '../helpers/lab.js';
import { addClientAddresses, schedTraces, sleep, whoAnswers, socketArgs } from '../helpers/lab-sched.js';

/** GET / over a fresh TCP connection, print the body, then close with an RST. */
const RST_CLIENT = `
const net = require('net');
const [host] = process.argv.slice(1);
const s = net.connect({ host, port: 80 });
let buf = '';
s.setTimeout(5000, () => { console.error('timeout'); process.exit(3); });
s.on('connect', () => s.write('GET / HTTP/1.1\\r\\nHost: lab\\r\\n\\r\\n'));
s.on('data', (d) => {
  buf += d.toString('latin1');
  const end = buf.indexOf('\\r\\n\\r\\n');
  const len = /content-length: *(\\d+)/i.exec(buf);
  if (end < 0 || !len || buf.length < end + 4 + Number(len[1])) return;
  process.stdout.write(buf.slice(end + 4));
  s.resetAndDestroy();
});
s.on('close', () => process.exit(0));
s.on('error', (e) => { console.error(e.message); process.exit(2); });
`;

if (labReady(t)) {
  t.setTimeout(170_000);
  const lab = await Lab.up('onearm');
  t.teardown(() => lab.down());
  const vip = lab.state.LAB_VIP!;
  const args = (persist: number | null) => [
    ...socketArgs(lab), '--vip', vip, '--port', '80', '--iface', 'eth0', '--sched', 'rr', '--trace-sched',
    ...(persist === null ? [] : ['--persist', String(persist)]), '--rs', '10.0.0.185:80', '--rs', '10.0.0.86:80',
  ];
  const rstGet = async (): Promise<string> => (await lab.exec('client', [process.execPath, '-e', RST_CLIENT, vip], 10_000)).trim();

  await t.test('without persistence rr alternates (control case)', async (t) => {
    await lab.startLb(args(null));
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await rstGet());
    t.same(seen, ['rs2', 'rs1', 'rs2', 'rs1']);
    t.equal(await lab.stopLb(), 0);
    lab.lbLog = '';
  });

  await t.test('--persist 15: sticky across connections, moves 15 s after the last one', async (t) => {
    await lab.startLb(args(15));
    t.teardown(() => lab.stopLb());
    const seen: string[] = [];
    // Nine connections two seconds apart: 16 s in all, longer than the timeout, so
    // stickiness needs every new connection to restart the template timer.
    for (let i = 0; i < 9; i++) {
      if (i) await sleep(2000);
      seen.push(await rstGet());
    }
    await sleep(10_000); // a gap shorter than the timeout
    seen.push(await rstGet());
    t.same(seen, Array(10).fill('rs2'), 'every connection on the first rr pick (the list head, rs2)');
    // Last connection at T: its CLOSE entry dies at T+10, the template at T+15.
    await sleep(19_000);
    t.equal(await rstGet(), 'rs1', 'after the timeout the client is scheduled afresh: rr moves on to rs1');
    const traces = schedTraces(lab.lbLog);
    t.equal(traces.length, 2, 'the scheduler ran twice: first connection and after the template expired');
    t.same(traces.map((x) => x.dest), ['10.0.0.86:80', '10.0.0.185:80']);
    t.equal(await lab.stopLb(), 0);
    lab.lbLog = '';
  });

  await t.test('--persist 3 with curl: TIME_WAIT connections hold the template past the timeout', async (t) => {
    await lab.startLb(args(3));
    t.teardown(() => lab.stopLb());
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) seen.push(await whoAnswers(lab, `http://${vip}/`));
    t.same(seen, Array(10).fill('rs2'), 'ten curls, one server');
    // 3 s timeout + margin: the template timer has fired, but the connections it controls
    // (FIN_WAIT/TIME_WAIT, 120 s) postpone it by 60 s (ip_vs_conn_expire).
    await sleep(7000);
    t.equal(await whoAnswers(lab, `http://${vip}/`), 'rs2', 'still on rs2 after the -p timeout');
    t.equal(schedTraces(lab.lbLog).length, 1, 'scheduled only once');
    t.equal(await lab.stopLb(), 0);
    lab.lbLog = '';
  });

  await t.test('--persist-mask 255.255.255.0: a whole client /24 shares one template', async (t) => {
    await addClientAddresses(lab, ['198.51.100.20', '198.51.100.30', '198.51.100.40']);
    await lab.startLb([...args(60), '--persist-mask', '255.255.255.0']);
    t.teardown(() => lab.stopLb());
    const seen: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const c of ['198.51.100.10', '198.51.100.20', '198.51.100.30', '198.51.100.40']) {
        seen.push(await whoAnswers(lab, `http://${vip}/`, ['--interface', c]));
      }
    }
    t.same(seen, Array(12).fill('rs2'), 'four clients, three rounds, one server');
    t.equal(schedTraces(lab.lbLog).length, 1, 'one scheduling decision for the /24 (template key = client & mask)');
    t.equal(await lab.stopLb(), 0);
    lab.lbLog = '';
  });
}
