/**
 * DR (ipvsadm -g) end to end in the seed 000 topology with the real servers set up as
 * the seeds do (VIP/32 on lo, arp_ignore=1, arp_announce=2, default route via the
 * router): rr alternates, the servers see the client's own address, and the
 * director's --pcap-dir capture holds only the client's half of each connection.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lab, labReady } from '../helpers/lab.js';
import { readPcap } from '../../src/io/pcap-file.js';

if (labReady(t)) {
  t.setTimeout(180_000);
  const lab = await Lab.up('onearm', ['--rs-gw', 'router', '--dr-rs', 'ok']);
  const pcapDir = path.join(tmpdir(), `tslb-${lab.prefix}-pcap`);
  t.teardown(async () => {
    await lab.down();
    rmSync(pcapDir, { recursive: true, force: true });
  });
  const vip = lab.state.LAB_VIP!;
  await lab.startLb(['--vip', vip, '--port', '80', '--rs', '10.0.0.185:80', '--rs', '10.0.0.86:80', '--sched', 'rr', '--mode', 'dr', '--iface', 'eth0', '--pcap-dir', pcapDir]);

  await t.test('20 curls through the VIP alternate between the real servers (rr, DR)', async (t) => {
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) answers.push((await lab.curl(`http://${vip}/`)).trim());
    // Kernel list order: rs2 (added last) first.
    t.same(answers, Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'rs2' : 'rs1')));
  });

  await t.test('the real server sees the client address (DR rewrites no address)', async (t) => {
    const head = await lab.curl(`http://${vip}/`, ['-i']);
    t.match(head, /X-Peer: 198\.51\.100\.10:\d+/);
  });

  await t.test('the director saw only client->VIP frames; it sent them to the servers MACs unchanged in address', async (t) => {
    t.equal(await lab.stopLb(), 0, 'clean exit');
    const tcpOf = (f: Buffer) => (f.readUInt16BE(12) === 0x0800 && f[23] === 6 ? f : null);
    const ins = readPcap(path.join(pcapDir, 'eth0.in.pcap')).map((r) => tcpOf(r.frame)).filter((f): f is Buffer => f !== null);
    const outs = readPcap(path.join(pcapDir, 'eth0.out.pcap')).map((r) => tcpOf(r.frame)).filter((f): f is Buffer => f !== null);
    t.ok(ins.length >= 21 * 5, `captured ${ins.length} TCP frames received`);
    const ip = (f: Buffer, o: number) => `${f[o]}.${f[o + 1]}.${f[o + 2]}.${f[o + 3]}`;
    const replies = ins.filter((f) => f.readUInt16BE(34) === 80);
    t.same(replies.map((f) => `${ip(f, 26)}:80 > ${ip(f, 30)}`), [], 'no reply from a real server passed the director');
    t.same([...new Set(ins.map((f) => `${ip(f, 26)} > ${ip(f, 30)}:${f.readUInt16BE(36)}`))], [`198.51.100.10 > ${vip}:80`]);
    t.equal(outs.length, ins.length, 'every client frame forwarded once');
    t.same([...new Set(outs.map((f) => ip(f, 30)))], [vip], 'destination stays the VIP');
    t.same([...new Set(outs.map((f) => f.subarray(0, 6).toString('hex')))].sort(), ['02000a000056', '02000a0000b9'], 'to the servers MACs');
    // tcpdump reads the files as written.
    const dump = execFileSync('tcpdump', ['-nn', '-r', path.join(pcapDir, 'eth0.pcap'), 'tcp'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    t.match(dump, new RegExp(`198\\.51\\.100\\.10\\.\\d+ > ${vip.replace(/\./g, '\\.')}\\.80: Flags \\[S\\]`));
    t.notMatch(dump, /\.80 > 198\.51\.100\.10/, 'tcpdump shows no reply either');
  });

  await t.test('input-only table: entries end in FIN_WAIT, no OutPkts, and the doctor stayed quiet', async (t) => {
    t.match(lab.lbLog, /connections in table: \d+ \(FIN_WAIT \d+\)/);
    t.match(lab.lbLog, /-> 10\.0\.0\.86:80 conns 11 active 0 inactive 11 in \d+ out 0/);
    t.match(lab.lbLog, /-> 10\.0\.0\.185:80 conns 10 active 0 inactive 10 in \d+ out 0/);
    t.notMatch(lab.lbLog, /doctor:/, 'no warning for a healthy DR set-up');
  });
}
