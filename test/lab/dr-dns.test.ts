/**
 * Seed 001: one segment, DR, DNS on UDP and TCP 53 of the same VIP to two dnsmasq
 * servers configured as the post does (VIP/32 on lo, arp_ignore=1, arp_announce=2),
 * `dig` as the client. Each server answers example.lab with its own address and
 * TXT who.example.lab with its name, so the answers show the rr alternation.
 */
import t from 'tap';
import { Lab, labReady } from '../helpers/lab.js';

if (labReady(t)) {
  t.setTimeout(180_000);
  // 'flat': one segment, client included (seed 001's network).
  const lab = await Lab.up('flat', ['--dr-rs', 'ok', '--dns']);
  t.teardown(() => lab.down());
  const vip = lab.state.LAB_VIP!;
  const rs1 = lab.state.LAB_RS1_IP!, rs2 = lab.state.LAB_RS2_IP!;
  await lab.startLb(['--vip', vip, '--port', '53', '--udp-port', '53', '--rs', `${rs1}:53`, '--rs', `${rs2}:53`, '--sched', 'rr', '--mode', 'dr', '--iface', 'eth0']);
  const dig = (args: string[]) => lab.exec('client', ['dig', '+short', '+time=2', '+tries=1', `@${vip}`, ...args], 10_000).then((s) => s.trim());

  await t.test('dig over UDP: answered, alternating servers', async (t) => {
    t.equal(vip, '192.168.0.141', 'seed 001 addressing');
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push(await dig(['example.lab']));
    t.same(got, [rs2, rs1, rs2, rs1, rs2, rs1]);
  });

  await t.test('dig over TCP: answered, alternating servers', async (t) => {
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push(await dig(['+tcp', 'TXT', 'who.example.lab']));
    t.same(got, ['"rs2"', '"rs1"', '"rs2"', '"rs1"', '"rs2"', '"rs1"']);
  });

  await t.test('counters: UDP entries are InActConn, nothing came back through the director', async (t) => {
    t.equal(await lab.stopLb(), 0);
    t.match(lab.lbLog, new RegExp(`service UDP ${vip.replace(/\./g, '\\.')}:53: 6 conns, 6 in, 0 out`));
    t.match(lab.lbLog, new RegExp(`service TCP ${vip.replace(/\./g, '\\.')}:53: 6 conns, \\d+ in, 0 out`));
    t.match(lab.lbLog, new RegExp(`-> ${rs1.replace(/\./g, '\\.')}:53 conns 3 active 0 inactive 3 in 3 out 0`), 'UDP: one datagram per query, InActConn');
    t.notMatch(lab.lbLog, /doctor:/);
  });
}
