/**
 * The DR real-server check: a server without the VIP on lo never answers the clients
 * (they repeat their SYN), and a server whose ARP sysctls are left at 0 answers ARP
 * for the VIP. Both are reported by the doctor with the seeds' fix.
 */
import t from 'tap';
import { Lab, labReady } from '../helpers/lab.js';

if (labReady(t)) {
  t.setTimeout(180_000);
  // rs1: arp sysctls set but no VIP on lo; rs2: set up correctly (for now).
  const lab = await Lab.up('onearm', ['--rs-gw', 'router', '--dr-rs', 'novip,ok']);
  t.teardown(() => lab.down());
  const vip = lab.state.LAB_VIP!;
  await lab.startLb(['--vip', vip, '--port', '80', '--rs', '10.0.0.185:80', '--rs', '10.0.0.86:80', '--sched', 'rr', '--mode', 'dr', '--iface', 'eth0']);

  await t.test('a DR server without the VIP on lo: clients repeat SYNs, the doctor says so', async (t) => {
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push((await lab.exec('client', ['curl', '-s', '--max-time', '3', `http://${vip}/`]).catch(() => 'failed')).trim());
    if (!t.same(got, ['rs2', 'failed', 'rs2', 'failed'], 'rs2 answers, rs1 never does')) t.comment(lab.lbLog);
    const ok = await lab.logMatches(/doctor: DR real server 10\.0\.0\.185 \(TCP 10\.0\.0\.127:80\): \d+ clients kept repeating their SYN/, 6000);
    t.ok(ok, 'stalled-handshake warning for rs1');
    const line = lab.lbLog.split('\n').find((l) => l.includes('DR real server 10.0.0.185')) ?? '';
    t.match(line, /VIP missing on its lo/);
    t.match(line, /arp_ignore=1/);
    t.notMatch(lab.lbLog, /DR real server 10\.0\.0\.86/, 'nothing said about the healthy server');
  });

  await t.test('a DR server that answers ARP for the VIP is reported with the fix', async (t) => {
    for (const s of ['all', 'eth0']) {
      await lab.exec('rs2', ['sysctl', '-qw', `net.ipv4.conf.${s}.arp_ignore=0`, `net.ipv4.conf.${s}.arp_announce=0`]);
    }
    const ok = await lab.logMatches(/doctor: DR real server 10\.0\.0\.86 \(02:00:0a:00:00:56\) answers ARP for the VIP 10\.0\.0\.127/, 12_000);
    t.ok(ok, 'ARP warning for rs2 (found by the director\'s own who-has VIP)');
    const line = lab.lbLog.split('\n').find((l) => l.includes('answers ARP for the VIP')) ?? '';
    t.match(line, /arp_ignore=1 and net\.ipv4\.conf\.all\.arp_announce=2/);
    t.match(line, /VIP on lo as a \/32/);
  });
}
