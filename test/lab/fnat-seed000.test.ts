/**
 * Seed 000 as it failed and as full-NAT fixes it: the real servers' default route
 * points at the VPC router (10.0.0.1), not at the director. Plain NAT then never sees
 * a reply (the client gets a SYN-ACK from the real server's address and resets it),
 * and the doctor says why, once per server. Full-NAT rewrites the client's address to
 * a director address, so the replies come back whatever the servers' routes are.
 */
import t from 'tap';
import { Lab, labReady } from '../helpers/lab.js';

if (labReady(t)) {
  t.setTimeout(180_000);
  const lab = await Lab.up('onearm', ['--rs-gw', 'router']);
  t.teardown(() => lab.down());
  const vip = lab.state.LAB_VIP!;
  const base = ['--vip', vip, '--port', '80', '--rs', '10.0.0.185:80', '--rs', '10.0.0.86:80', '--sched', 'rr', '--iface', 'eth0'];

  await t.test('plain NAT: requests fail and the doctor names each server, the cause and the fixes', async (t) => {
    await lab.startLb([...base, '--mode', 'nat']);
    // Four requests, so each server gets two: the very first reply may still reach the director while
    // the bridge floods frames to the router's MAC it has not learnt yet (seed 000's "first time works").
    for (let i = 0; i < 4; i++) {
      // --max-time 3: the client sends its SYN at 0, 1 and 3 s, at least two even on a loaded machine.
      const body = await lab.exec('client', ['curl', '-s', '--max-time', '3', `http://${vip}/`]).catch(() => 'failed');
      t.equal(body, 'failed', `request ${i + 1} gets no answer`);
    }
    for (const rs of ['10.0.0.185', '10.0.0.86']) {
      const re = new RegExp(`doctor: NAT real server ${rs.replace(/\./g, '\\.')}:80 .*not one reply came back through the director`);
      t.ok(await lab.logMatches(re, 8000), `doctor message for ${rs}`);
    }
    const msg = lab.lbLog.split('\n').find((l) => l.startsWith('doctor: NAT real server 10.0.0.185')) ?? '';
    t.match(msg, /The server is alive \(the director connects to it directly\)/);
    t.match(msg, /default route does not point at the director/);
    t.match(msg, /--mode fnat/);
    await lab.exec('client', ['curl', '-s', '--max-time', '2', `http://${vip}/`]).catch(() => '');
    await new Promise((r) => setTimeout(r, 1500));
    t.equal(lab.lbLog.split('\n').filter((l) => l.startsWith('doctor: NAT real server 10.0.0.185')).length, 1, 'said once');
    t.equal(await lab.stopLb(), 0);
    if (!t.passing()) t.comment(lab.lbLog);
  });

  await t.test('full-NAT in the same topology: every request answered, rr, server sees the local address', async (t) => {
    lab.lbLog = '';
    await lab.startLb([...base, '--mode', 'fnat', '--fnat-addr', '10.0.0.3', '--fnat-ports', '20000-20999']);
    const served: string[] = [];
    for (let i = 0; i < 10; i++) {
      const out = await lab.curl(`http://${vip}/`, ['-i']);
      const by = /X-Served-By: (\S+)/.exec(out)?.[1];
      const peer = /X-Peer: (\S+)/.exec(out)?.[1] ?? '';
      served.push(by ?? 'none');
      t.match(peer, /^10\.0\.0\.3:(2\d{4})$/, 'the server sees the full-NAT address, not the client');
    }
    t.same(served, ['rs2', 'rs1', 'rs2', 'rs1', 'rs2', 'rs1', 'rs2', 'rs1', 'rs2', 'rs1']);
    await new Promise((r) => setTimeout(r, 3500));
    t.notMatch(lab.lbLog, /doctor:/, 'no return-path warning with full-NAT');
    t.equal(await lab.stopLb(), 0);
    t.match(lab.lbLog, /-> 10\.0\.0\.185:80 conns 5 active 0 inactive 5 in \d+ out [1-9]\d*/, 'replies counted');
  });
}
