/** Seed 003 topology (public and private segments, two interfaces), NAT with wlc and rr. */
import t from 'tap';
import { Lab, labReady } from '../helpers/lab.js';

if (labReady(t)) {
  t.setTimeout(180_000);
  const lab = await Lab.up('twoarm');
  t.teardown(() => lab.down());
  const vip = lab.state.LAB_VIP!;
  // No --iface: the interfaces come from the director's routing table (eth0 to the VIP's
  // clients, eth1 to the real servers).
  await lab.startLb(['--vip', vip, '--port', '80', '--rs', '192.168.33.111:80', '--rs', '192.168.33.112:80', '--sched', 'rr', '--udp-port', '9000']);

  await t.test('the balancer picked both interfaces from the routing table', async (t) => {
    t.match(lab.lbLog, /capture eth0/);
    t.match(lab.lbLog, /capture eth1/);
    t.match(lab.lbLog, /VIP 192\.168\.2\.200: not a local address: ARP answered on eth0,/);
  });

  await t.test('20 curls alternate between Web1 and Web2 through two arms', async (t) => {
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) answers.push((await lab.curl(`http://${vip}/`)).trim());
    t.same(answers, Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'rs2' : 'rs1')));
  });

  await t.test('the real server sees the client address (NAT keeps it)', async (t) => {
    const headers = await lab.curl(`http://${vip}/`, ['-D', '-', '-o', '/dev/null']);
    t.match(headers, /x-peer: 192\.168\.2\.10/i);
  });

  await t.test('UDP echo', async (t) => {
    const out = await lab.exec('client', ['bash', '-c', `echo -n hello | socat -t 2 - UDP:${vip}:9000`]);
    t.match(out, /^rs[12]:hello$/);
  });
}
