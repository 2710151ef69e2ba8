/**
 * IPv6 through the balancer (issue 16) in a dual-stack one-arm lab (scripts/lab up onearm
 * --ipv6): the balancer starts with its IPv4 service, the IPv6 one is added with
 * `lb ipvsadm` as a user of ipvsadm would (-A -t [VIP]:80, -a -r [RIP]:80 -m | -g), and a
 * real client (curl -6) goes through NAT (the servers' gateway is the VIP, seed 000's
 * pattern: they find its MAC by Neighbour Solicitation, which the balancer answers) and
 * through DR (the VIP on the servers' lo). Default offloads (partial checksums, TCPv6
 * super-frames) and the tuned lab (offloads off) both carry alternating requests and a
 * download byte-identical; the listing is ipvsadm's.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { Lab, labReady } from '../helpers/lab.js';
import { labBytes } from '../helpers/lab-bytes.js';
import { cprintf } from '../helpers/ipvsadm-model.js';

const MB20 = 20 * 1024 * 1024;
const VIP6 = '2001:db8:10::127';
const RS1 = '2001:db8:10::185';
const RS2 = '2001:db8:10::86';

interface Case {
  name: string;
  labArgs: string[];
  mode: 'nat' | 'dr';
  offloads: 'default' | 'off';
}

const cases: Case[] = [
  { name: 'NAT, default offloads', labArgs: ['--rs-gw', 'vip'], mode: 'nat', offloads: 'default' },
  { name: 'DR, default offloads', labArgs: ['--rs-gw', 'router', '--dr-rs', 'ok'], mode: 'dr', offloads: 'default' },
  { name: 'NAT, offloads off', labArgs: ['--rs-gw', 'vip'], mode: 'nat', offloads: 'off' },
];

if (labReady(t)) {
  t.setTimeout(300_000);
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const lab = await Lab.up('onearm', [...c.labArgs, '--ipv6'], { offloads: c.offloads });
      t.teardown(() => lab.down());
      t.equal(lab.state.LAB_VIP6, VIP6);
      await lab.startLb([...(lab.state.LAB_LB_ARGS ?? '').split(' ').filter(Boolean).map((a) => (a === 'nat' ? c.mode : a))]);
      const m = c.mode === 'nat' ? '-m' : '-g';
      for (const args of [['-A', '-t', `[${VIP6}]:80`, '-s', 'rr'], ['-a', '-t', `[${VIP6}]:80`, '-r', `[${RS1}]:80`, m], ['-a', '-t', `[${VIP6}]:80`, '-r', `[${RS2}]:80`, m]]) {
        const r = await lab.ipvsadm(args);
        t.equal(r.status, 0, `ipvsadm ${args.join(' ')} ${r.stderr}`);
      }
      // rr from the head of the kernel's list: rs2 (added last) first.
      const answers: string[] = [];
      for (let i = 0; i < 6; i++) answers.push((await lab.curl(`http://[${VIP6}]/`, ['-6'])).trim());
      t.same(answers, ['rs2', 'rs1', 'rs2', 'rs1', 'rs2', 'rs1'], 'curl -6 alternates between the servers');
      const v4 = (await lab.curl(`http://${lab.state.LAB_VIP}/`)).trim();
      t.ok(v4 === 'rs1' || v4 === 'rs2', 'the IPv4 service beside it still answers');

      const body = await lab.execBuffer('client', ['curl', '-s', '-6', '--max-time', '60', `http://[${VIP6}]/bytes?n=${MB20}&seed=v6`], 90_000);
      t.equal(body.length, MB20, '20 MB download complete');
      t.equal(createHash('sha256').update(body).digest('hex'), createHash('sha256').update(labBytes(MB20, 'v6')).digest('hex'), 'byte-identical');

      const list = await lab.ipvsadm(['-L', '-n', '-t', `[${VIP6}]:80`]);
      const fwd = c.mode === 'nat' ? 'Masq' : 'Route';
      // print_service_entry and the dest rows (ipvsadm.c), dests by address (::86 < ::185);
      // every connection above has ended or is in TIME_WAIT/FIN_WAIT: none active.
      t.match(list.stdout, new RegExp([
        'Prot LocalAddress:Port Scheduler Flags',
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
        `${cprintf('%-4s %s', 'TCP', `[${VIP6}]:80`)} rr`.replace(/[[\]]/g, '\\$&'),
        `${cprintf('  -> %-28s %-7s %-6d', `[${RS2}]:80`, fwd, 1).replace(/[[\]]/g, '\\$&')} 0 +\\d+ *`,
        `${cprintf('  -> %-28s %-7s %-6d', `[${RS1}]:80`, fwd, 1).replace(/[[\]]/g, '\\$&')} 0 +\\d+ *`,
      ].join('\n')));
      const conns = await lab.ipvsadm(['-L', '-n', '-c']);
      t.match(conns.stdout, new RegExp(`TCP \\d\\d:\\d\\d  \\S+ +\\[2001:db8:51::10\\]:\\d+ \\[${VIP6.replace(/:/g, ':')}\\]:80 \\[${RS2}\\]:80`), '-c lists IPv6 entries');
      const out = await lab.stopLb();
      t.equal(out, 0, 'clean exit');
      t.notMatch(lab.lbLog, /nd_invalid/, 'no malformed ND seen');
    });
  }
}
