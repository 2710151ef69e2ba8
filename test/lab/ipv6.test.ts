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
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lab, labReady, REPO } from '../helpers/lab.js';
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
      if (c.mode === 'nat' && c.offloads === 'default') {
        // A narrower link to the client: the router sends Packet Too Big to the VIP about our
        // replies; translated to the server (ip_vs_in_icmp_v6), it learns the path MTU.
        await lab.exec('router', ['ip', 'link', 'set', 'eth1', 'mtu', '1400']);
        const again = await lab.execBuffer('client', ['curl', '-s', '-6', '--max-time', '30', `http://[${VIP6}]/bytes?n=${MB20}&seed=ptb`], 60_000);
        t.equal(createHash('sha256').update(again).digest('hex'), createHash('sha256').update(labBytes(MB20, 'ptb')).digest('hex'), 'byte-identical through the 1400-byte link');
        const learnt = (await lab.exec('rs1', ['ip', '-6', 'route', 'get', '2001:db8:51::10'])) + (await lab.exec('rs2', ['ip', '-6', 'route', 'get', '2001:db8:51::10']));
        t.match(learnt, /mtu 1400/, 'a server learnt the path MTU from the translated Packet Too Big');
      }
      const out = await lab.stopLb();
      t.equal(out, 0, 'clean exit');
      t.notMatch(lab.lbLog, /nd_invalid/, 'no malformed ND seen');
    });
  }

  await t.test('full-NAT over IPv6: the servers see the local address and answer it through the balancer', async (t) => {
    const lab = await Lab.up('onearm', ['--rs-gw', 'router', '--ipv6'], { offloads: 'default' });
    t.teardown(() => lab.down());
    const local = '2001:db8:10::200';
    await lab.startLb([...(lab.state.LAB_LB_ARGS ?? '').split(' ').filter(Boolean), '--fnat-addr', local]);
    for (const args of [['-A', '-t', `[${VIP6}]:80`, '-s', 'rr'], ['-a', '-t', `[${VIP6}]:80`, '-r', `[${RS1}]:80`, '--fnat'], ['-a', '-t', `[${VIP6}]:80`, '-r', `[${RS2}]:80`, '--fnat']]) {
      t.equal((await lab.ipvsadm(args)).status, 0, `ipvsadm ${args.join(' ')}`);
    }
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push((await lab.curl(`http://[${VIP6}]/`, ['-6'])).trim());
    t.same(answers, ['rs2', 'rs1', 'rs2', 'rs1']);
    t.match(await lab.curl(`http://[${VIP6}]/`, ['-6', '-i']), new RegExp(`X-Peer: ${local.replace(/:/g, ':')}:\\d+`), 'the server saw the local address');
    const body = await lab.execBuffer('client', ['curl', '-s', '-6', '--max-time', '60', `http://[${VIP6}]/bytes?n=${MB20}&seed=fn`], 90_000);
    t.equal(createHash('sha256').update(body).digest('hex'), createHash('sha256').update(labBytes(MB20, 'fn')).digest('hex'), '20 MB byte-identical');
    t.equal(await lab.stopLb(), 0);
  });

  await t.test('ip6ip6 tunnel: the server (VIP on lo, decapsulating) answers the client directly', async (t) => {
    const lab = await Lab.up('onearm', ['--rs-gw', 'router', '--dr-rs', 'ok', '--ipv6'], { offloads: 'default' });
    const decap = spawn('ip', ['netns', 'exec', lab.ns('rs1'), 'python3', path.join(REPO, 'scripts/ipip-decap.py'), 'eth0', 'dtun0'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let decapLog = '';
    decap.stdout!.on('data', (d: Buffer) => (decapLog += d.toString()));
    decap.stderr!.on('data', (d: Buffer) => (decapLog += d.toString()));
    t.teardown(async () => {
      try {
        process.kill(-decap.pid!, 'SIGTERM');
      } catch {
        // gone
      }
      await lab.down();
    });
    const until = Date.now() + 10_000;
    while (!decapLog.includes('ipip-decap:') && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    t.match(decapLog, /ipip-decap: eth0 -> dtun0/);
    await lab.startLb([...(lab.state.LAB_LB_ARGS ?? '').split(' ').filter(Boolean).map((a) => (a === 'nat' ? 'dr' : a))]);
    for (const args of [['-A', '-t', `[${VIP6}]:80`, '-s', 'rr'], ['-a', '-t', `[${VIP6}]:80`, '-r', `[${RS1}]:80`, '-i']]) {
      t.equal((await lab.ipvsadm(args)).status, 0, `ipvsadm ${args.join(' ')}`);
    }
    for (let i = 0; i < 3; i++) t.equal((await lab.curl(`http://[${VIP6}]/`, ['-6'])).trim(), 'rs1');
    t.match(await lab.curl(`http://[${VIP6}]/`, ['-6', '-i']), /X-Peer: 2001:db8:51::10:\d+/, 'the server sees the client address');
    // An upload with TSO on: TCPv6 super-frames cut into the tunnel here.
    const file = path.join(tmpdir(), `tslb-${lab.prefix}-up6.bin`);
    writeFileSync(file, labBytes(2_000_000, 'up6'));
    t.teardown(() => rmSync(file, { force: true }));
    const sum = await lab.exec('client', ['curl', '-s', '-6', '--max-time', '30', '--data-binary', `@${file}`, `http://[${VIP6}]/upload`], 60_000);
    t.equal(sum.trim(), `${createHash('sha256').update(labBytes(2_000_000, 'up6')).digest('hex')} 2000000`, '2 MB upload intact');
    t.match((await lab.ipvsadm(['-L', '-n'])).stdout, new RegExp(`-> \\[${RS1}\\]:80 +Tunnel +1 `));
    t.equal(await lab.stopLb(), 0);
    t.match(lab.lbLog, /\d+ ip6ip6 packets to tunnel servers/);
    const seg = /(\d+) segmented for tunnel servers/.exec(lab.lbLog);
    t.ok(seg && Number(seg[1]) > 0, `super-frames segmented (${seg?.[0]})`);
  });
}
