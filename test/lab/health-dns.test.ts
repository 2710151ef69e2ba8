/**
 * DNS_CHECK as in seed 001 (issue 5), on the flat lab: DR, UDP 53 of the VIP to the
 * dnsmasq in rs1 and rs2, configured by fixtures/keepalived/lab/flat-dns.conf (delay_loop 1,
 * DNS_CHECK type A example.lab, connect_timeout 1, retry 1, delay_before_retry 1,
 * inhibit_on_failure). keepalived semantics (check_dns.c, docs/ipvs-behaviour.md §6.5): the second consecutive
 * failed query takes the checker down, inhibit_on_failure turns the removal into weight 0,
 * and the first answered query brings the server back with its weight.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Lab, labReady, REPO } from '../helpers/lab.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CONF = path.join(REPO, 'fixtures/keepalived/lab/flat-dns.conf');

if (labReady(t)) {
  t.setTimeout(120_000);
  const lab = await Lab.up('flat', ['--dr-rs', 'ok', '--dns']);
  let restartedPid: number | null = null;
  t.teardown(async () => {
    if (restartedPid !== null) {
      try {
        process.kill(restartedPid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await lab.down();
  });
  const vip = lab.state.LAB_VIP!;
  const rs1 = lab.state.LAB_RS1_IP!, rs2 = lab.state.LAB_RS2_IP!;
  const esc = (s: string) => s.replace(/\./g, '\\.');
  const weightOf = async (addr: string): Promise<number | null> => {
    const out = (await lab.ipvsadm(['-L', '-n'])).stdout;
    const m = new RegExp(`^  -> ${esc(addr)}:53 +Route +(\\d+) `, 'm').exec(out);
    return m ? Number(m[1]) : null;
  };
  /** Poll rs's weight until it equals `want` or `limitMs` passes; returns the last weight and when. */
  const waitWeight = async (addr: string, want: number, since: number, limitMs: number) => {
    let w: number | null = null;
    while (Date.now() < since + limitMs) {
      w = await weightOf(addr);
      if (w === want) break;
      await sleep(100);
    }
    return { weight: w, afterMs: Date.now() - since };
  };
  /** One UDP query through the VIP; '' when unanswered (dig exits 9 on timeout). */
  const dig = async (): Promise<string> => {
    try {
      return (await lab.exec('client', ['dig', '+short', '+time=2', '+tries=1', `@${vip}`, 'example.lab'], 10_000)).trim();
    } catch {
      return '';
    }
  };
  const digs = async (n: number): Promise<string[]> => {
    const got: string[] = [];
    for (let i = 0; i < n; i++) got.push(await dig());
    return got;
  };
  const alternating = (got: string[]) => got.every((a, i) => i === 0 || a !== got[i - 1]);

  await lab.startLb(['--config', CONF, '--iface', 'eth0']);

  await t.test('both servers checked up, both answer alternately (rr)', async (t) => {
    t.equal(vip, '192.168.0.141', 'seed 001 addressing');
    t.same([rs1, rs2], ['192.168.0.142', '192.168.0.143'], 'the fixture names these real servers');
    await sleep(2500); // warmup (<= delay_loop) plus a first round of checks
    t.equal(await weightOf(rs1), 1);
    t.equal(await weightOf(rs2), 1);
    const got = await digs(6);
    t.same([...new Set(got)].sort(), [rs1, rs2].sort(), `both servers answer: ${got.join(' ')}`);
    t.ok(alternating(got), 'answers alternate');
  });

  await t.test('dnsmasq in rs1 killed: weight 0 within 3 s, digs all go to rs2', async (t) => {
    const pid = Number(lab.state.LAB_RS1_DNS_PID);
    t.ok(pid > 1, `dnsmasq pid ${pid}`);
    t.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'dnsmasq', 'the state file names the dnsmasq process');
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    const r = await waitWeight(rs1, 0, t0, 3000);
    t.equal(r.weight, 0, `rs1 at weight 0 after ${r.afterMs} ms (inhibit_on_failure keeps it listed)`);
    t.equal(await weightOf(rs2), 1, 'rs2 untouched');
    const got = await digs(6);
    t.same(got, Array(6).fill(rs2), 'every new query answered by rs2');
  });

  await t.test('dnsmasq in rs1 restarted: weight 1 again, back in rotation', async (t) => {
    // The command of scripts/lab-lib.sh lab_start_dns (rs1 has the VIP on lo: listen on both).
    const log = openSync(lab.state.LAB_RS1_DNS_LOG ?? '/dev/null', 'a');
    const p = spawn('ip', ['netns', 'exec', lab.ns('rs1'), 'dnsmasq', '--no-daemon', '--conf-file=/dev/null', '--no-resolv', '--no-hosts',
      '--user=root', '--group=root', '--pid-file=', '--port', '53', `--listen-address=${rs1},${vip}`, '--bind-interfaces',
      `--address=/example.lab/${rs1}`, `--txt-record=who.example.lab,${lab.state.LAB_RS1_NAME ?? 'rs1'}`,
      '--log-queries', '--log-facility=-'], { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    restartedPid = p.pid ?? null;
    p.unref();
    const t1 = Date.now();
    const r = await waitWeight(rs1, 1, t1, 6000);
    t.equal(r.weight, 1, `rs1 at weight 1 again after ${r.afterMs} ms`);
    t.equal(p.exitCode, null, 'the restarted dnsmasq runs');
    const got = await digs(6);
    t.same([...new Set(got)].sort(), [rs1, rs2].sort(), `both servers answer again: ${got.join(' ')}`);
    t.ok(alternating(got), 'answers alternate');
  });

  await t.test('teardown leaves nothing', async (t) => {
    t.equal(await lab.stopLb(), 0);
    t.notMatch(lab.lbLog, /doctor:/);
    if (restartedPid !== null) {
      try {
        process.kill(restartedPid, 'SIGTERM');
      } catch {
        // already gone
      }
      restartedPid = null;
    }
    await lab.down();
    t.same(lab.namespacesLeft(), []);
  });
}
