/**
 * Seed 000 topology (one subnet, real servers' gateway = the VIP), NAT through dist/lb.js:
 * rr alternation, a 10 MB download byte-identical, UDP, what the client sees on the wire,
 * and clean shutdown (no nft table, no namespaces left).
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { Lab, labReady } from '../helpers/lab.js';

if (labReady(t)) {
  t.setTimeout(240_000);
  const lab = await Lab.up('onearm');
  t.teardown(() => lab.down());
  const vip = lab.state.LAB_VIP!;
  await lab.startLb(['--vip', vip, '--port', '80', '--rs', '10.0.0.185:80', '--rs', '10.0.0.86:80', '--sched', 'rr', '--iface', 'eth0', '--udp-port', '9000']);

  await t.test('20 curls through the VIP alternate between the real servers (rr)', async (t) => {
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) answers.push((await lab.curl(`http://${vip}/`)).trim());
    // Kernel order is the reverse of the add order: rs2 (10.0.0.86, added last) first.
    t.same(answers, Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'rs2' : 'rs1')));
  });

  await t.test('a 10 MB download through NAT arrives byte-identical', async (t) => {
    const n = 10 * 1024 * 1024;
    const body = await lab.execBuffer('client', ['curl', '-s', '--max-time', '60', `http://${vip}/bytes?n=${n}`]);
    t.equal(body.length, n);
    // The server computes the same deterministic stream and reports its sha256 in a header;
    // ask a real server directly (from the director) for the reference digest.
    const ref = await lab.exec('director', ['curl', '-s', '-D', '-', '-o', '/dev/null', `http://10.0.0.185/bytes?n=${n}`]);
    const m = /x-content-sha256:\s*([0-9a-f]{64})/i.exec(ref);
    t.ok(m, 'reference digest header');
    t.equal(createHash('sha256').update(body).digest('hex'), m?.[1]);
  });

  await t.test('UDP request/response through the VIP', async (t) => {
    const out = await lab.exec('client', ['bash', '-c', `echo -n ping | socat -t 2 - UDP:${vip}:9000`]);
    t.match(out, /^rs[12]:ping$/);
  });

  await t.test('the client only ever sees VIP:80 as the server address', async (t) => {
    const cap = lab.exec('client', ['timeout', '6', 'tcpdump', '-nn', '-l', '-i', 'eth0', '-c', '40', 'tcp'], 10_000).catch((e: { stdout?: Buffer }) => e.stdout?.toString() ?? '');
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 4; i++) await lab.curl(`http://${vip}/`);
    const lines = (await cap).split('\n').filter((l) => l.includes(' > '));
    t.ok(lines.length >= 10, `captured ${lines.length} packets`);
    const bad = lines.filter((l) => !new RegExp(`(198\\.51\\.100\\.10\\.\\d+ > ${vip.replace(/\./g, '\\.')}\\.80|${vip.replace(/\./g, '\\.')}\\.80 > 198\\.51\\.100\\.10\\.\\d+)`).test(l));
    t.same(bad, [], 'no real-server address visible to the client');
  });

  await t.test('stopping the engine removes its rules; lab down removes the namespaces', async (t) => {
    const before = await lab.exec('director', ['nft', 'list', 'tables']);
    t.match(before, /table netdev tslb_\d+/, 'host guard installed while running');
    t.equal(await lab.stopLb(), 0, 'clean exit on SIGINT');
    t.equal((await lab.exec('director', ['nft', 'list', 'tables'])).trim(), '', 'no nft table left');
    t.match(lab.lbLog, /drops: /, 'final report printed');
    await lab.down();
    t.same(lab.namespacesLeft(), []);
  });
}
