/**
 * One service mixing forwarding methods, as ipvsadm allows per real server (-m and -g):
 * rs1 by NAT (its default route is the director), rs2 by DR (VIP on lo, default route
 * the router). Both answer, rr alternates, only the NAT server's replies pass the director.
 */
import t from 'tap';
import { Lab, labReady } from '../helpers/lab.js';

if (labReady(t)) {
  t.setTimeout(180_000);
  const lab = await Lab.up('onearm', ['--rs-gw', 'director,router', '--dr-rs', 'none,ok']);
  t.teardown(() => lab.down());
  const vip = lab.state.LAB_VIP!;
  await lab.startLb(['--vip', vip, '--port', '80', '--rs', '10.0.0.185:80/nat', '--rs', '10.0.0.86:80/dr', '--sched', 'rr', '--iface', 'eth0']);

  await t.test('both servers answer through the VIP, alternating; both see the client address', async (t) => {
    const served: string[] = [];
    for (let i = 0; i < 10; i++) {
      const out = await lab.curl(`http://${vip}/`, ['-i']);
      served.push(/X-Served-By: (\S+)/.exec(out)?.[1] ?? 'none');
      t.match(out, /X-Peer: 198\.51\.100\.10:\d+/);
    }
    t.same(served, ['rs2', 'rs1', 'rs2', 'rs1', 'rs2', 'rs1', 'rs2', 'rs1', 'rs2', 'rs1']);
  });

  await t.test('the listing shows Masq and Route; replies counted only for the NAT server', async (t) => {
    t.match(lab.lbLog, /-> 10\.0\.0\.185:80 Masq weight 1/);
    t.match(lab.lbLog, /-> 10\.0\.0\.86:80 Route weight 1/);
    t.equal(await lab.stopLb(), 0);
    t.match(lab.lbLog, /-> 10\.0\.0\.185:80 conns 5 active 0 inactive 5 in \d+ out [1-9]\d*/);
    t.match(lab.lbLog, /-> 10\.0\.0\.86:80 conns 5 active 0 inactive 5 in \d+ out 0/);
    t.notMatch(lab.lbLog, /doctor:/);
  });
}
