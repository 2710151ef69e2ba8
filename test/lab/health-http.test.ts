/**
 * HTTP_GET health checks on the one-arm lab (fixtures/keepalived/lab/onearm-http.conf:
 * delay_loop 1, connect_timeout 1, retry 1, delay_before_retry 1, inhibit_on_failure).
 * keepalived semantics (docs/ipvs-behaviour.md §6.5): the second consecutive failure takes the checker down,
 * inhibit_on_failure turns the removal into weight 0, established connections go on
 * (§2.7), and the first success brings the server back with its weight.
 * Issue 5: a dead server gets no new connections within 3 s.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Lab, labReady, REPO } from '../helpers/lab.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CONF = path.join(REPO, 'fixtures/keepalived/lab/onearm-http.conf');

interface Sample {
  start: number;
  answer: string;
}

/** Sequential curls through the VIP until `stop()` is true; failures recorded as 'FAIL'. */
async function trafficLoop(lab: Lab, vip: string, stop: () => boolean): Promise<Sample[]> {
  const out: Sample[] = [];
  while (!stop()) {
    const start = Date.now();
    let answer: string;
    try {
      answer = (await lab.curl(`http://${vip}/`, ['--max-time', '3'])).trim() || 'FAIL';
    } catch {
      answer = 'FAIL';
    }
    out.push({ start, answer });
  }
  return out;
}

/** A slow download (limit-rate) through the VIP: which server, HTTP status, bytes received. */
async function slowDownload(lab: Lab, vip: string, bytes: number): Promise<{ server: string; status: string; size: number }> {
  const out = await lab.exec('client', [
    'curl', '-s', '--max-time', '30', '--limit-rate', '100k', '-D', '-', '-o', '/dev/null', '-w', 'RESULT %{http_code} %{size_download}\n', `http://${vip}/bytes?n=${bytes}`,
  ], 40_000);
  const server = /x-served-by:\s*(\S+)/i.exec(out)?.[1] ?? '?';
  const m = /RESULT (\d+) (\d+)/.exec(out);
  return { server, status: m?.[1] ?? '?', size: Number(m?.[2] ?? -1) };
}

if (labReady(t)) {
  t.setTimeout(240_000);
  const lab = await Lab.up('onearm');
  t.teardown(() => lab.down());
  const vip = lab.state.LAB_VIP!;
  const weightOf = async (addr: string): Promise<number | null> => {
    const out = (await lab.ipvsadm(['-L', '-n'])).stdout;
    const m = new RegExp(`^  -> ${addr.replace(/\./g, '\\.')}:80 +Masq +(\\d+) `, 'm').exec(out);
    return m ? Number(m[1]) : null;
  };
  const setHealth = (role: 'rs1' | 'rs2', ok: 0 | 1) => lab.exec(role, ['curl', '-s', '--max-time', '3', '-X', 'POST', `http://127.0.0.1/admin/health?ok=${ok}`]);

  await lab.startLb(['--config', CONF]);

  await t.test('both servers are added at start with their weight (init_service_rs) and stay up', async (t) => {
    await sleep(2500); // warmup (<= delay_loop) plus a first round of checks
    t.equal(await weightOf('10.0.0.185'), 1);
    t.equal(await weightOf('10.0.0.86'), 1);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await lab.curl(`http://${vip}/`)).trim());
    t.same([...seen].sort(), ['rs1', 'rs2']);
  });

  await t.test('/health -> 503: weight 0 and no new connections within 3 s; established downloads finish', async (t) => {
    const N = 500_000; // ~5 s at 100 kB/s
    // Two slow downloads, one on each server (rr, nothing else going through the VIP).
    const d1 = slowDownload(lab, vip, N);
    await sleep(300);
    const d2 = slowDownload(lab, vip, N);
    await sleep(500);
    const t0 = Date.now();
    t.equal((await setHealth('rs1', 0)).trim(), 'down', 'rs1 /health now answers 503');
    let stop = false;
    const loop = trafficLoop(lab, vip, () => stop);
    await sleep(Math.max(0, t0 + 3000 - Date.now()));
    t.equal(await weightOf('10.0.0.185'), 0, '3 s after the failure: 10.0.0.185 at weight 0 (inhibit_on_failure keeps it listed)');
    t.equal(await weightOf('10.0.0.86'), 1);
    await sleep(2000);
    stop = true;
    const samples = await loop;
    const late = samples.filter((s) => s.start >= t0 + 3000);
    t.ok(late.length >= 5, `${late.length} requests started 3 s or more after the failure`);
    t.same([...new Set(late.map((s) => s.answer))], ['rs2'], 'all of them served by rs2');
    t.same(samples.filter((s) => s.answer === 'FAIL').map((s) => s.start - t0), [], 'no request failed (weight 0 is not removal)');
    const [r1, r2] = await Promise.all([d1, d2]);
    t.same([r1.server, r2.server].sort(), ['rs1', 'rs2'], 'one download on each server');
    t.same([r1, r2].map((r) => [r.status, r.size]), [['200', N], ['200', N]], 'both downloads complete, the one on the quiesced server too');
  });

  await t.test('/health -> 200 again: back in rotation with weight 1', async (t) => {
    const t1 = Date.now();
    await setHealth('rs1', 1);
    let w: number | null = 0;
    while (Date.now() < t1 + 5000 && (w = await weightOf('10.0.0.185')) !== 1) await sleep(100);
    t.equal(w, 1, 'weight 1 again');
    t.ok(Date.now() - t1 <= 3500, `restored after ${Date.now() - t1} ms (first success, delay_loop 1)`);
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push((await lab.curl(`http://${vip}/`)).trim());
    t.same([...new Set(answers)].sort(), ['rs1', 'rs2'], 'both servers answer again');
  });

  await t.test('lb reload while a server is failing keeps it out (keepalived keeps checker states, migrate_checkers)', async (t) => {
    await setHealth('rs1', 0);
    const t0 = Date.now();
    let w: number | null = 1;
    while (Date.now() < t0 + 5000 && (w = await weightOf('10.0.0.185')) !== 0) await sleep(100);
    t.equal(w, 0, 'rs1 failed: weight 0');
    // Traffic before, during and 2 s after the reload: the failing server must get none of it.
    let stop = false;
    const loop = trafficLoop(lab, vip, () => stop);
    await sleep(500);
    const reload = await new Promise<{ status: number; stdout: string }>((resolve) => {
      const p = spawn(process.execPath, [path.join(REPO, 'dist/lb.js'), '--socket', lab.socket, 'reload'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      p.on('close', (code) => resolve({ status: code ?? -1, stdout }));
    });
    t.equal(reload.status, 0);
    t.equal(reload.stdout, 'reloaded\n');
    t.equal(await weightOf('10.0.0.185'), 0, 'weight 0 after the reload (config unchanged)');
    await sleep(2000);
    stop = true;
    const samples = await loop;
    t.ok(samples.length >= 10, `${samples.length} requests around the reload`);
    t.same(samples.filter((s) => s.answer !== 'rs2').map((s) => s.answer), [], 'none went to the failing server (nor failed)');
    await setHealth('rs1', 1);
    const t1 = Date.now();
    while (Date.now() < t1 + 5000 && (w = await weightOf('10.0.0.185')) !== 1) await sleep(100);
    t.equal(w, 1, 'healthy again');
  });

  await t.test('both unhealthy: both at weight 0 (quorum lost, no sorry server: nothing else to do)', async (t) => {
    await setHealth('rs1', 0);
    await setHealth('rs2', 0);
    await sleep(3500);
    t.equal(await weightOf('10.0.0.185'), 0);
    t.equal(await weightOf('10.0.0.86'), 0);
    await setHealth('rs1', 1);
    await setHealth('rs2', 1);
    await sleep(2500);
    t.equal(await weightOf('10.0.0.185'), 1);
    t.equal(await weightOf('10.0.0.86'), 1);
  });

  await t.test('teardown leaves nothing', async (t) => {
    t.equal(await lab.stopLb(), 0);
    await lab.down();
    t.same(lab.namespacesLeft(), []);
  });
}
