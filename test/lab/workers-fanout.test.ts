/**
 * --workers 2 on the ring backend: both workers' sockets join one PACKET_FANOUT group whose
 * classic-BPF program splits connections by client port (io/ring/fanout-bpf.ts) instead of
 * two full capture filters. At default offloads, through NAT: every request is answered,
 * both workers carry connections, and no worker sees a reply it has no connection for
 * (a connection's both directions meet in one worker).
 */
import t from 'tap';
import { Lab, labReady } from '../helpers/lab.js';

if (labReady(t)) {
  t.setTimeout(180_000);
  const lab = await Lab.up('onearm', [], { offloads: 'default' });
  t.teardown(() => lab.down());
  const vip = lab.state.LAB_VIP!;
  await lab.startLb(['--vip', vip, '--port', '80', '--rs', '10.0.0.185:80', '--rs', '10.0.0.86:80', '--sched', 'rr', '--iface', 'eth0', '--workers', '2']);
  t.ok(await lab.logMatches(/\[worker 1\] running;/, 10_000), 'worker 1 started after worker 0');
  t.match(lab.lbLog, /\[worker 0\] worker 0\/2: PACKET_FANOUT group \d+ splits the flows/);
  t.match(lab.lbLog, /\[worker 1\] worker 1\/2: PACKET_FANOUT group \d+ splits the flows/);

  await t.test('40 connections from as many client ports are all answered', async (t) => {
    let ok = 0;
    for (let i = 0; i < 40; i++) if (/^rs[12]$/.test((await lab.curl(`http://${vip}/`)).trim())) ok++;
    t.equal(ok, 40);
  });

  await t.test('a 20 MB download through one worker', async (t) => {
    const body = await lab.execBuffer('client', ['curl', '-s', '--max-time', '30', `http://${vip}/bytes?n=${20 << 20}`], 60_000);
    t.equal(body.length, 20 << 20);
  });

  await t.test('both workers carried connections; none saw a frame of another worker\'s connection', async (t) => {
    t.equal(await lab.stopLb(), 0, 'clean exit');
    const conns = [0, 1].map((k) => Number(new RegExp(`\\[worker ${k}\\] service TCP [\\d.]+:80: (\\d+) conns`).exec(lab.lbLog)?.[1] ?? -1));
    t.equal(conns[0]! + conns[1]!, 41, `41 connections in all (${conns.join(' + ')})`);
    t.ok(conns[0]! > 0 && conns[1]! > 0, 'each worker has some');
    for (const k of [0, 1]) {
      const drops = new RegExp(`\\[worker ${k}\\] drops: (.*)`).exec(lab.lbLog)?.[1] ?? '';
      t.notMatch(drops, /tcp_no_conn|not_ours/, `worker ${k}: ${drops}`);
    }
  });
}
