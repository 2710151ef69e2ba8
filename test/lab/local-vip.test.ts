/**
 * The VIP as an address of the director, as kernel IPVS wants it (on eth0, or on lo):
 * the balancer takes only its service's frames (TCP VIP:80 and the NAT replies); ARP, ping
 * and other ports of that address stay with the director's kernel. NAT and DR: 20 curls
 * alternate; a TCP connection to a port that is not a service reaches the director's own
 * listener; ping to the VIP is answered by the kernel; no nft table is left after exit.
 */
import t from 'tap';
import { Lab, labReady } from '../helpers/lab.js';

interface Case {
  name: string;
  dev: 'eth0' | 'lo';
  mode: 'nat' | 'dr';
}
const cases: Case[] = [
  { name: 'NAT, VIP on eth0', dev: 'eth0', mode: 'nat' },
  { name: 'NAT, VIP on lo', dev: 'lo', mode: 'nat' },
  { name: 'DR, VIP on eth0', dev: 'eth0', mode: 'dr' },
  { name: 'DR, VIP on lo', dev: 'lo', mode: 'dr' },
];

if (labReady(t)) {
  t.setTimeout(400_000);
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const lab = await Lab.up('onearm', c.mode === 'dr' ? ['--rs-gw', 'router', '--dr-rs', 'ok'] : [], { offloads: 'default' });
      t.teardown(() => lab.down());
      const vip = lab.state.LAB_VIP!;
      await lab.exec('director', ['ip', 'addr', 'add', `${vip}/${c.dev === 'lo' ? 32 : 24}`, 'dev', c.dev]);
      // The director's own service on a port that is not balanced (ssh-like).
      const listener = lab.exec('director', ['timeout', '60', 'socat', 'TCP-LISTEN:2222,reuseaddr,fork', 'SYSTEM:echo director-own'], 70_000).catch(() => '');
      await lab.startLb(['--vip', vip, '--port', '80', '--rs', '10.0.0.185:80', '--rs', '10.0.0.86:80', '--sched', 'rr', '--mode', c.mode, '--iface', 'eth0']);
      t.match(lab.lbLog, new RegExp(`VIP ${vip.replace(/\./g, '\\.')}: a local address \\(on ${c.dev}\\): the kernel keeps its ARP, ping and other ports; the balancer takes TCP 80`), 'the summary says the VIP is local');

      const answers: string[] = [];
      for (let i = 0; i < 20; i++) answers.push((await lab.curl(`http://${vip}/`)).trim());
      t.same(answers, Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'rs2' : 'rs1')), '20 curls alternate (rr)');

      const own = await lab.exec('client', ['socat', '-T', '3', '-', `TCP:${vip}:2222`]);
      t.equal(own.trim(), 'director-own', 'a non-service port of the VIP reaches the director itself');

      const ping = await lab.exec('client', ['ping', '-c', '2', '-W', '2', vip]);
      t.match(ping, /2 received/, 'ping to the VIP is answered');
      t.equal(await lab.stopLb(), 0, 'clean exit');
      t.match(lab.lbLog, /ARP replies/, 'exit report printed');
      t.match(lab.lbLog, /frames: \d+ received, \d+ sent, 0 ARP replies, 0 ICMP errors/, 'the balancer answered no ARP and no ping itself');
      const tables = await lab.exec('director', ['nft', 'list', 'tables']);
      t.notMatch(tables, /tslb_/, 'no nft table left');
      void listener;
    });
  }
}
