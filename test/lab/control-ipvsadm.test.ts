/**
 * Seed 000's workflow on the one-arm lab: a balancer started with no service, driven
 * only by `lb ipvsadm` commands (the same words as on an LVS director), the listing
 * compared with ipvsadm's documented format; then --save-on-exit and a restart with
 * --rules of the saved file keep the rules (seed 003's pain).
 */
import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lab, labReady, REPO } from '../helpers/lab.js';

/** C printf for %[-][width](s|d|u). */
function cprintf(fmt: string, ...args: (string | number)[]): string {
  let k = 0;
  return fmt.replace(/%(-?)(\d*)(?:ll)?([sdu])/g, (_m, minus: string, width: string) => {
    const s = String(args[k++]);
    const w = width === '' ? 0 : Number(width);
    return minus === '-' ? s.padEnd(w) : s.padStart(w);
  });
}
const TITLES = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
const destLine = (a: string, w: number, act: number, inact: number) => cprintf('  -> %-28s %-7s %-6d %-10u %-10u\n', a, 'Masq', w, act, inact);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (labReady(t)) {
  t.setTimeout(240_000);
  const lab = await Lab.up('onearm');
  const work = mkdtempSync(path.join(tmpdir(), 'tslb-ctl-'));
  t.teardown(async () => {
    await lab.down();
    rmSync(work, { recursive: true, force: true });
  });
  const vip = lab.state.LAB_VIP!;
  const saved = path.join(work, 'rules.saved');
  const ipvsadm = async (...args: string[]) => {
    const out = await lab.ipvsadm(args);
    if (out.status !== 0) throw new Error(`lb ipvsadm ${args.join(' ')}: status ${out.status}: ${out.stderr}`);
    return out.stdout;
  };
  /** Polls -L -n until it equals `want` (connection states settle after the client's FIN). */
  const listingBecomes = async (want: string, ms = 5000) => {
    const end = Date.now() + ms;
    let got = '';
    while (Date.now() < end) {
      got = await ipvsadm('-L', '-n');
      if (got === want) break;
      await sleep(200);
    }
    return got;
  };

  await t.test('a balancer started with no --vip, --rules or --config (empty, as IPVS starts)', async (t) => {
    lab.lbLog = '';
    let plainStart = true;
    try {
      await lab.startLb(['--save-on-exit', saved]);
    } catch (err) {
      plainStart = false;
      t.fail(`lb refuses to start with no service (ipvsadm workflow): ${(err as Error).message.split('\n').slice(0, 2).join(' / ')}`);
    }
    if (!plainStart) {
      // Fall back to an empty keepalived.conf so the rest of the workflow is still tested.
      lab.lbLog = '';
      await lab.startLb(['--config', path.join(REPO, 'fixtures/keepalived/lab/empty.conf'), '--save-on-exit', saved]);
    }
    t.equal(await ipvsadm('-L', '-n'), TITLES, 'empty listing: only the titles');
    t.equal(await ipvsadm('-S', '-n'), '', 'nothing to save');
  });

  await t.test('seed 000 commands: -A -t VIP:80 -s rr, then -a ... -m twice; curl alternates', async (t) => {
    await ipvsadm('-A', '-t', `${vip}:80`, '-s', 'rr');
    await ipvsadm('-a', '-t', `${vip}:80`, '-r', '10.0.0.185:80', '-m');
    await ipvsadm('-a', '-t', `${vip}:80`, '-r', '10.0.0.86:80', '-m');
    t.equal(await ipvsadm('-L', '-n'), TITLES + `TCP  ${vip}:80 rr\n` + destLine('10.0.0.86:80', 1, 0, 0) + destLine('10.0.0.185:80', 1, 0, 0), '-w defaults to 1');
    const answers: string[] = [];
    for (let i = 0; i < 10; i++) answers.push((await lab.curl(`http://${vip}/`)).trim());
    // The kernel walks servers in reverse add order (docs/ipvs-behaviour.md §9): .86 (rs2, added last) first.
    t.same(answers, Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'rs2' : 'rs1')));
    // Every curl has closed its connection: all of them inactive (FIN_WAIT/TIME_WAIT), 5 each.
    const want = TITLES + `TCP  ${vip}:80 rr\n` + destLine('10.0.0.86:80', 1, 0, 5) + destLine('10.0.0.185:80', 1, 0, 5);
    t.equal(await listingBecomes(want), want, '-L -n shows the connection counts');
    const stats = await ipvsadm('-L', '-n', '--stats');
    const conns = (addr: string) => Number(new RegExp(`^  -> ${addr.replace(/\./g, '\\.')}:80 +(\\d+) `, 'm').exec(stats)?.[1]);
    t.equal(conns('10.0.0.86'), 5, '--stats Conns per server');
    t.equal(conns('10.0.0.185'), 5);
    t.match(stats, new RegExp(`^TCP  ${vip.replace(/\./g, '\\.')}:80 +10 `, 'm'), 'service Conns 10');
    // -L -n -c: the closed connections, client 198.51.100.10, through the VIP.
    const rows = (await ipvsadm('-L', '-n', '-c')).split('\n').filter((l) => l.startsWith('TCP'));
    t.equal(rows.length, 10);
    const odd = rows.filter((r) => !/^TCP \d\d:\d\d  (TIME_WAIT|FIN_WAIT|CLOSE_WAIT|LAST_ACK|CLOSE) +198\.51\.100\.10:\d+ +10\.0\.0\.127:80 +10\.0\.0\.(86|185):80$/.test(r));
    t.same(odd, [], 'every row: closed state, client, VIP, a real server');
  });

  await t.test('errors through the socket: ipvsadm wording and a non-zero exit', async (t) => {
    const dup = await lab.ipvsadm(['-a', '-t', `${vip}:80`, '-r', '10.0.0.185:80', '-m']);
    t.equal(dup.stderr, 'Destination already exists\n');
    t.not(dup.status, 0);
    const nosvc = await lab.ipvsadm(['-a', '-t', `${vip}:81`, '-r', '10.0.0.185:80', '-m']);
    t.equal(nosvc.stderr, 'Service not defined\n');
    t.not(nosvc.status, 0);
  });

  await t.test('--save-on-exit writes -S -n; a restart with --rules of it keeps the rules and traffic', async (t) => {
    await ipvsadm('-e', '-t', `${vip}:80`, '-r', '10.0.0.185:80', '-m', '-w', '2');
    t.equal(await lab.stopLb(), 0, 'clean exit');
    t.equal(
      readFileSync(saved, 'utf8'),
      `-A -t ${vip}:80 -s rr\n-a -t ${vip}:80 -r 10.0.0.86:80 -m -w 1\n-a -t ${vip}:80 -r 10.0.0.185:80 -m -w 2\n`,
      'ipvsadm -S -n text, sorted, current weights',
    );
    t.same(readdirSync(work), ['rules.saved'], 'no temp file left');

    lab.lbLog = '';
    await lab.startLb(['--rules', saved, '--save-on-exit', saved]);
    t.equal(await ipvsadm('-L', '-n'), TITLES + `TCP  ${vip}:80 rr\n` + destLine('10.0.0.86:80', 1, 0, 0) + destLine('10.0.0.185:80', 2, 0, 0), 'same rules after the restart');
    const answers = new Set<string>();
    for (let i = 0; i < 6; i++) answers.add((await lab.curl(`http://${vip}/`)).trim());
    t.same([...answers].sort(), ['rs1', 'rs2'], 'traffic works and reaches both servers');
    t.equal(await lab.stopLb(), 0);
    t.equal(readFileSync(saved, 'utf8'), `-A -t ${vip}:80 -s rr\n-a -t ${vip}:80 -r 10.0.0.86:80 -m -w 1\n-a -t ${vip}:80 -r 10.0.0.185:80 -m -w 2\n`, 'saved again, unchanged');
  });

  await t.test('--rules with an empty file refuses to start and names the file', async (t) => {
    const empty = path.join(work, 'empty.rules');
    (await import('node:fs')).writeFileSync(empty, '');
    lab.lbLog = '';
    await t.rejects(lab.startLb(['--rules', empty]), new RegExp(empty.replace(/[.]/g, '\\.')));
  });

  await t.test('teardown leaves nothing', async (t) => {
    await lab.down();
    t.same(lab.namespacesLeft(), []);
  });
}
