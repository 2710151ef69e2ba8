/**
 * Labs built the usual way: every veth at its default offloads (TX checksum offload,
 * TSO/GSO on), so the balancer receives partial checksums and 64 KB super-frames. On the
 * ring backend (the default) NAT one-arm, NAT two-arm and DR carry 20 alternating curls,
 * a 50 MB download and a 50 MB upload byte-identical, UDP, and the first connection to a
 * freshly started balancer completes without a SYN retransmit (1 s). On --io pcap the
 * checksum cases pass too (partial checksums detected and completed).
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lab, labReady } from '../helpers/lab.js';
import { aesStream, labBytes } from '../helpers/lab-bytes.js';

const MB50 = 50 * 1024 * 1024;

interface Case {
  name: string;
  topo: 'onearm' | 'twoarm';
  labArgs: string[];
  lbArgs: string[];
  io: 'ring' | 'pcap';
  bulk: boolean;
  /** First answers in kernel list order (rs2 added last, so first). */
  expect: [string, string];
}

const RS = ['--rs', '10.0.0.185:80', '--rs', '10.0.0.86:80'];
const cases: Case[] = [
  { name: 'NAT one-arm, ring', topo: 'onearm', labArgs: [], lbArgs: [...RS, '--mode', 'nat', '--udp-port', '9000'], io: 'ring', bulk: true, expect: ['rs2', 'rs1'] },
  { name: 'DR one-arm, ring', topo: 'onearm', labArgs: ['--rs-gw', 'router', '--dr-rs', 'ok'], lbArgs: [...RS, '--mode', 'dr'], io: 'ring', bulk: true, expect: ['rs2', 'rs1'] },
  { name: 'NAT two-arm, ring', topo: 'twoarm', labArgs: [], lbArgs: [], io: 'ring', bulk: true, expect: ['rs2', 'rs1'] },
  { name: 'NAT one-arm, pcap', topo: 'onearm', labArgs: [], lbArgs: [...RS, '--mode', 'nat'], io: 'pcap', bulk: false, expect: ['rs2', 'rs1'] },
  { name: 'DR one-arm, pcap', topo: 'onearm', labArgs: ['--rs-gw', 'router', '--dr-rs', 'ok'], lbArgs: [...RS, '--mode', 'dr'], io: 'pcap', bulk: false, expect: ['rs2', 'rs1'] },
];

async function lbArgsFor(lab: Lab, c: Case): Promise<string[]> {
  if (c.lbArgs.length > 0) return ['--vip', lab.state.LAB_VIP!, '--port', '80', '--sched', 'rr', '--iface', 'eth0', ...c.lbArgs, '--io', c.io];
  // The lab prints the balancer arguments for its topology (two interfaces for two-arm).
  const args = (lab.state.LAB_LB_ARGS ?? '').split(' ').filter(Boolean);
  if (args.length === 0) throw new Error('the lab state has no LAB_LB_ARGS');
  return [...args, '--io', c.io];
}

if (labReady(t)) {
  t.setTimeout(600_000);
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const lab = await Lab.up(c.topo, c.labArgs, { offloads: 'default' });
      t.teardown(() => lab.down());
      const vip = lab.state.LAB_VIP!;
      const offl = await lab.exec('client', ['ethtool', '-k', 'eth0']);
      t.match(offl, /tx-checksumming: on/, 'the client veth keeps TX checksum offload');
      t.match(offl, /tcp-segmentation-offload: on/, 'and TSO');
      await lab.startLb(await lbArgsFor(lab, c));
      t.match(lab.lbLog, new RegExp(`io: ${c.io} `), `the ${c.io} backend is used`);

      // First connection right after start-up: no 1 s wait for a SYN retransmit while the
      // director resolves the server's MAC (the frame waits for the ARP reply instead).
      const first = await lab.exec('client', ['curl', '-s', '--max-time', '5', '-o', '/dev/null', '-w', '%{time_connect} %{http_code}', `http://${vip}/`]);
      const [tc, code] = first.trim().split(' ');
      t.equal(code, '200');
      t.ok(Number(tc) < 0.9, `first connection established in ${tc} s`);

      const answers: string[] = [];
      for (let i = 0; i < 20; i++) answers.push((await lab.curl(`http://${vip}/`)).trim());
      // After the first curl above, the next pick is the other server.
      const [a, b] = c.expect;
      t.same(answers, Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? b : a)), '20 curls alternate (rr)');

      if (c.bulk) {
        const body = await lab.execBuffer('client', ['curl', '-s', '--max-time', '60', `http://${vip}/bytes?n=${MB50}&seed=dl`], 90_000);
        t.equal(body.length, MB50, '50 MB download complete');
        t.equal(createHash('sha256').update(body).digest('hex'), createHash('sha256').update(labBytes(MB50, 'dl')).digest('hex'), 'byte-identical');
        body.fill(0);
        const file = path.join(tmpdir(), `tslb-${lab.prefix}-upload.bin`);
        const upload = aesStream(MB50, Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'));
        writeFileSync(file, upload);
        t.teardown(() => rmSync(file, { force: true }));
        const up = await lab.exec('client', ['curl', '-s', '--max-time', '60', '-H', 'Expect:', '--data-binary', `@${file}`, `http://${vip}/upload`], 90_000);
        const want = createHash('sha256').update(upload).digest('hex');
        t.match(up, new RegExp(`${want} ${MB50}`), '50 MB upload arrived byte-identical');
      }

      if (c.lbArgs.includes('--udp-port')) {
        const out = await lab.exec('client', ['bash', '-c', `echo -n ping | socat -t 2 - UDP:${vip}:9000`]);
        t.match(out, /^rs[12]:ping$/, 'UDP through the VIP');
      }

      t.equal(await lab.stopLb(), 0, 'clean exit');
      const report = lab.lbLog;
      const m = /offloads: (\d+) partial checksums \((\d+) completed here\), (\d+) GSO frames \((\d+) dropped/.exec(report);
      t.ok(m, 'the exit report counts offloads');
      if (m) {
        t.ok(Number(m[1]) > 0, `${m[1]} frames arrived with partial checksums`);
        if (c.io === 'pcap') t.equal(m[2], m[1], 'pcap: each was completed by the engine');
        else t.equal(m[2], '0', 'ring: none needed completing (the kernel does it)');
        if (c.bulk) t.ok(Number(m[3]) > 0, `${m[3]} GSO super-frames passed whole`);
        t.equal(m[4], '0', 'no super-frame dropped');
      }
    });
  }
}
