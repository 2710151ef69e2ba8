/**
 * Tunnel mode (--mode tun, ipvsadm -i) end to end in the seed 000 one-arm lab at the kernel's
 * default veth offloads: this host's kernel has no ipip module, so rs1 decapsulates with
 * scripts/ipip-decap.py (IPIP from its eth0 into a TUN device: a stand-in for tunl0; the real
 * tunl0 is test/lab/tunnel-vm.test.ts, in the VM). What this checks is the director's side on
 * real sockets: the encapsulation is accepted by a kernel stack (its TCP verifies the inner
 * checksums, so partial ones must have been completed), replies bypass the director, path MTU
 * discovery learns the tunnel's 1480 bytes from our frag-needed, and TSO super-frames are
 * segmented in software.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Lab, labReady, REPO } from '../helpers/lab.js';

if (labReady(t)) {
  t.setTimeout(180_000);
  const lab = await Lab.up('onearm', ['--rs-gw', 'router', '--dr-rs', 'ok'], { offloads: 'default' });
  const helpers: ChildProcess[] = [];
  t.teardown(async () => {
    for (const p of helpers) {
      if (p.exitCode === null && p.pid !== undefined) {
        try {
          process.kill(-p.pid, 'SIGTERM');
        } catch {
          // gone
        }
      }
    }
    await lab.down();
  });
  const inRs1 = (cmd: string[]): ChildProcess => {
    const p = spawn('ip', ['netns', 'exec', lab.ns('rs1'), ...cmd], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    helpers.push(p);
    return p;
  };
  const decap = inRs1(['python3', path.join(REPO, 'scripts/ipip-decap.py'), 'eth0', 'dtun0']);
  let decapLog = '';
  decap.stdout!.on('data', (d: Buffer) => (decapLog += d.toString()));
  decap.stderr!.on('data', (d: Buffer) => (decapLog += d.toString()));
  inRs1(['socat', 'TCP-LISTEN:81,fork,reuseaddr', 'SYSTEM:wc -c']);
  const end = Date.now() + 10_000;
  while (!decapLog.includes('ipip-decap:') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  const vip = lab.state['LAB_VIP']!;
  await lab.startLb(['--vip', vip, '--port', '80', '--port', '81', '--rs', '10.0.0.185', '--mode', 'tun', '--iface', 'eth0']);
  const upload = (bytes: number): Promise<string> =>
    lab.exec('client', ['sh', '-c', `head -c ${bytes} /dev/urandom | socat -t 10 -T 10 - TCP:${vip}:81`], 60_000).then((s) => s.trim(), () => '');

  await t.test('HTTP through the VIP, answered by the tunnel server, which sees the client address', async (t) => {
    t.match(decapLog, /ipip-decap: eth0 -> dtun0/, decapLog);
    for (let i = 0; i < 3; i++) t.equal((await lab.curl(`http://${vip}/`)).trim(), 'rs1');
    t.match(await lab.curl(`http://${vip}/`, ['-i']), /X-Peer: 198\.51\.100\.10:\d+/);
  });

  await t.test('a 2 MB upload with TSO on: super-frames segmented here, frag-needed teaches the client MTU 1480', async (t) => {
    t.equal(await upload(2_000_000), '2000000');
    t.match(await lab.exec('client', ['ip', 'route', 'get', vip]), /mtu 1480/);
  });

  await t.test('the same with TSO off on the client', async (t) => {
    await lab.exec('client', ['ethtool', '-K', 'eth0', 'tso', 'off', 'gso', 'off']);
    t.equal(await upload(500_000), '500000');
  });

  await t.test('listing: Tunnel, OutPkts 0; final report: IPIP, segmentation, completed checksums, no tunnel_gso', async (t) => {
    t.match((await lab.ipvsadm(['-L', '-n'])).stdout, /-> 10\.0\.0\.185:80 +Tunnel +1 /);
    t.match((await lab.ipvsadm(['-L', '-n', '--stats'])).stdout, /-> 10\.0\.0\.185:81 +2 +\d+ +0 +\d+ +0\n/);
    t.equal(await lab.stopLb(), 0);
    t.match(lab.lbLog, /\d+ IPIP packets to tunnel servers/);
    const seg = /(\d+) segmented for tunnel servers/.exec(lab.lbLog);
    t.ok(seg && Number(seg[1]) > 0, `super-frames segmented (${seg?.[0]})`);
    const partial = /\((\d+) completed here\)/.exec(lab.lbLog);
    t.ok(partial && Number(partial[1]) > 0, `partial checksums completed (${partial?.[0]})`);
    t.notMatch(lab.lbLog, /tunnel_gso=/);
    t.match(lab.lbLog, /drops: .*oversize=\d+/, 'the segments above 1480 bytes before the client learnt the MTU');
  });
}
