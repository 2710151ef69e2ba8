/**
 * The bare command (issue 12 items 6 and 7) on the one-arm lab: `lb --vip VIP` alone, as
 * users are told to run it, starts a balancer that owns the VIP with no service (as a
 * fresh IPVS), says how to add services, and listens on its namespace's default control
 * socket; `lb ipvsadm` run in that namespace without --socket finds it, adds the service
 * and the servers, and curl goes through. In another namespace `lb ipvsadm` looks for
 * that namespace's own socket, not the director's.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { Lab, labReady } from '../helpers/lab.js';

if (labReady(t)) {
  t.setTimeout(180_000);
  const lab = await Lab.up('onearm');
  t.teardown(() => lab.down());
  const vip = lab.state.LAB_VIP!;
  const director = lab.ns('director');
  const socket = `/run/tslb.${director}.sock`;
  const ipvsadm = async (...args: string[]) => {
    const out = await lab.ipvsadmIn('director', args);
    if (out.status !== 0) throw new Error(`lb ipvsadm ${args.join(' ')}: status ${out.status}: ${out.stderr}`);
    return out.stdout;
  };

  await t.test('lb --vip VIP alone starts, owns the VIP, prints how to add services', async (t) => {
    await lab.startLb(['--vip', vip], { defaultSocket: true });
    t.match(lab.lbLog, new RegExp(`control socket ${socket.replace(/[.]/g, '\\.')} `), "the director namespace's own socket");
    t.ok(existsSync(socket), `${socket} exists`);
    t.match(lab.lbLog, new RegExp(`VIP ${vip.replace(/[.]/g, '\\.')}: not a local address: ARP answered on \\S+, gratuitous ARP sent`), 'the VIP is owned');
    t.match(lab.lbLog, /no services yet/);
    t.match(lab.lbLog, new RegExp(`ipvsadm -A -t ${vip.replace(/[.]/g, '\\.')}:80 -s rr`), 'the -A hint');
    t.match(lab.lbLog, new RegExp(`ipvsadm -a -t ${vip.replace(/[.]/g, '\\.')}:80 -r REAL_SERVER:80 -m`), 'the -a hint');
    t.notMatch(lab.lbLog, /--socket/, 'the hint needs no --socket: it is the default');
    t.equal(await ipvsadm('-S', '-n'), '', 'no service yet');
  });

  await t.test('lb ipvsadm in the namespace, no --socket: -A, -a -m twice, curl through the VIP', async (t) => {
    await ipvsadm('-A', '-t', `${vip}:80`, '-s', 'rr');
    await ipvsadm('-a', '-t', `${vip}:80`, '-r', '10.0.0.185:80', '-m');
    await ipvsadm('-a', '-t', `${vip}:80`, '-r', '10.0.0.86:80', '-m');
    t.match(await ipvsadm('-L', '-n'), new RegExp(`TCP  ${vip.replace(/[.]/g, '\\.')}:80 rr\\n  -> 10\\.0\\.0\\.86:80 +Masq`));
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push((await lab.curl(`http://${vip}/`)).trim());
    t.same(answers, ['rs2', 'rs1', 'rs2', 'rs1'], 'rr through the VIP, reverse add order as the kernel');
  });

  await t.test("another namespace's lb ipvsadm looks for its own socket", async (t) => {
    const other = await lab.ipvsadmIn('client', ['-L', '-n']);
    t.equal(other.status, 1);
    t.equal(other.stderr, `lb: no balancer is listening on /run/tslb.${lab.ns('client')}.sock (is lb running? --socket PATH)\n`);
  });

  await t.test('stop: the socket is removed', async (t) => {
    t.equal(await lab.stopLb(), 0);
    t.notOk(existsSync(socket));
  });
}
