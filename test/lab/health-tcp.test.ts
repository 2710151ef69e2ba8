/**
 * TCP_CHECK on the one-arm lab (fixtures/keepalived/lab/onearm-tcp.conf: delay_loop 1,
 * connect_timeout 1, retry 1, no inhibit_on_failure). The real server's process is
 * stopped: keepalived deletes the dest (ipvs_cmd DEL_DEST, docs/ipvs-behaviour.md §6.5), so it disappears from
 * the listing and gets no new connections within 3 s; started again, the first successful
 * connect re-adds it (ADD_DEST) with its weight.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lab, labReady, REPO } from '../helpers/lab.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CONF = path.join(REPO, 'fixtures/keepalived/lab/onearm-tcp.conf');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

if (labReady(t)) {
  t.setTimeout(240_000);
  const lab = await Lab.up('onearm');
  let restartedPid = 0;
  t.teardown(async () => {
    if (restartedPid && alive(restartedPid)) process.kill(restartedPid, 'SIGTERM');
    await lab.down();
  });
  const vip = lab.state.LAB_VIP!;
  const listing = async () => (await lab.ipvsadm(['-L', '-n'])).stdout;
  const curl = async () => {
    try {
      return (await lab.curl(`http://${vip}/`, ['--max-time', '3'])).trim() || 'FAIL';
    } catch {
      return 'FAIL';
    }
  };

  await lab.startLb(['--config', CONF]);
  await sleep(2500);

  await t.test('both servers up', async (t) => {
    const l = await listing();
    t.match(l, /^ {2}-> 10\.0\.0\.86:80 +Masq +1 /m);
    t.match(l, /^ {2}-> 10\.0\.0\.185:80 +Masq +1 /m);
  });

  await t.test('rs1 process stopped: deleted from the table, no new connections within 3 s', async (t) => {
    const pid = Number(lab.state.LAB_RS1_PID);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    t.ok(cmdline.some((a) => a.endsWith('lab-server.mjs')) && cmdline.includes('rs1'), 'the lab started this rs1 server');
    const t0 = Date.now();
    process.kill(pid, 'SIGTERM');
    const samples: Array<{ start: number; answer: string }> = [];
    while (Date.now() < t0 + 5000) samples.push({ start: Date.now(), answer: await curl() });
    t.notOk(alive(pid), 'the server process is gone');
    const late = samples.filter((s) => s.start >= t0 + 3000);
    t.ok(late.length >= 5, `${late.length} requests 3 s or more after the stop`);
    t.same([...new Set(late.map((s) => s.answer))], ['rs2'], 'all served by rs2, none failed');
    const l = await listing();
    t.notMatch(l, /10\.0\.0\.185/, 'without inhibit_on_failure the dest is deleted');
    t.match(l, /^ {2}-> 10\.0\.0\.86:80 +Masq +1 /m);
  });

  await t.test('rs1 started again: re-added with weight 1, back in rotation', async (t) => {
    const ready = path.join(tmpdir(), `tslb-${lab.prefix}-rs1.ready`);
    rmSync(ready, { force: true });
    // The same command line scripts/lab uses (lab_start_server).
    // detached: its own session, like `setsid` in scripts/lab.
    const p = spawn('ip', ['netns', 'exec', lab.ns('rs1'), process.execPath, path.join(REPO, 'scripts/lab-server.mjs'),
      '--name', 'rs1', '--http', '80,8000', '--udp', '9000', '--ready-file', ready], { stdio: 'ignore', detached: true });
    p.unref();
    restartedPid = p.pid ?? 0;
    const until = Date.now() + 10_000;
    while (!existsSync(ready) && Date.now() < until) await sleep(100);
    t.ok(existsSync(ready), 'rs1 listening again');
    const t1 = Date.now();
    let l = '';
    while (Date.now() < t1 + 5000 && !/10\.0\.0\.185:80 +Masq +1 /.test((l = await listing()))) await sleep(100);
    t.match(l, /^ {2}-> 10\.0\.0\.185:80 +Masq +1 /m, 're-added with its weight');
    t.ok(Date.now() - t1 <= 3500, `re-added ${Date.now() - t1} ms after the server came back`);
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await curl());
    t.same([...new Set(answers)].sort(), ['rs1', 'rs2']);
    rmSync(ready, { force: true });
  });

  await t.test('teardown leaves nothing', async (t) => {
    t.equal(await lab.stopLb(), 0);
    await lab.down();
    t.same(lab.namespacesLeft(), []);
  });
}
