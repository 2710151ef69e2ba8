// scripts/soak: see the header there. Builds the one-arm lab (scripts/lab up onearm, its own
// prefix), runs dist/lb.js in the director with a keepalived.conf (HTTP service with
// HTTP_GET /health checks and inhibit_on_failure, a UDP echo service), bench/soak/load.mjs
// in the client, and on a schedule: rs2 fails its health check for 10 s (a flap: weight 0,
// then back), and the configuration is reloaded (SIGHUP and `lb reload` in turn, rs1's
// weight toggled 1 <-> 2 so each reload changes something). Samples every --interval s.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  if (args.includes('--') && i > args.indexOf('--')) return dflt;
  if (i < 0) return dflt;
  const v = args[i + 1];
  if (v === undefined || (typeof dflt === 'number' && !/^\d+(\.\d+)?$/.test(v))) {
    console.error(`soak: invalid value for --${name}: '${v ?? ''}'`);
    process.exit(2);
  }
  return typeof dflt === 'number' ? Number(v) : v;
};
// Everything after `--` goes to lb as it is (e.g. `-- --drop-entry 1 --secure-tcp 1`).
const dd = args.indexOf('--');
const lbExtra = dd >= 0 ? args.slice(dd + 1) : [];
const own = dd >= 0 ? args.slice(0, dd) : args;
for (const a of own) if (a.startsWith('--') && !['--minutes', '--interval', '--flap-every', '--reload-every', '--out'].includes(a)) { console.error(`soak: unknown option ${a}`); process.exit(2); }
const MINUTES = opt('minutes', 10), INTERVAL = opt('interval', 10), FLAP_EVERY = opt('flap-every', 45), RELOAD_EVERY = opt('reload-every', 60);
const OUT = opt('out', '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const prefix = `sk${(process.pid & 0xffff).toString(16).padStart(4, '0')}`;
const work = mkdtempSync(path.join(tmpdir(), `tslb-soak-${prefix}-`));
const sock = path.join(work, 'lb.sock');
const lines = [];
const say = (s) => { console.log(s); lines.push(s); };

let lb = null, load = null, torn = false;
function teardown() {
  if (torn) return;
  torn = true;
  for (const p of [load, lb]) if (p && p.exitCode === null) { try { p.kill('SIGINT'); } catch { /* gone */ } }
  try { execFileSync(path.join(REPO, 'scripts/lab'), ['down', prefix], { stdio: 'ignore' }); } catch { /* already down */ }
  rmSync(work, { recursive: true, force: true });
}
process.on('SIGINT', () => { teardown(); process.exit(130); });
process.on('SIGTERM', () => { teardown(); process.exit(143); });

function conf(rs1Weight) {
  const rs = (ip, w) => `    real_server ${ip} 80 {
        weight ${w}
        inhibit_on_failure
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
`;
  return `! scripts/soak: NAT HTTP with health checks, UDP echo
virtual_server 10.0.0.127 80 {
    delay_loop 1
    lb_algo wlc
    lb_kind NAT
    protocol TCP
${rs('10.0.0.185', rs1Weight)}${rs('10.0.0.86', 1)}}
virtual_server 10.0.0.127 9000 {
    lb_algo rr
    lb_kind NAT
    protocol UDP
    real_server 10.0.0.185 9000 {
        weight 1
    }
    real_server 10.0.0.86 9000 {
        weight 1
    }
}
`;
}

const ns = (role) => `${prefix}-${role}`;
const inNs = (role, cmd, timeout = 10_000) => execFileSync('ip', ['netns', 'exec', ns(role), ...cmd], { encoding: 'utf8', timeout });
const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const metric = (text, name) => Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

try {
  execFileSync(path.join(REPO, 'scripts/lab'), ['up', 'onearm'], { env: { ...process.env, LAB_PREFIX: prefix }, stdio: ['ignore', 'ignore', 'inherit'] });
  const cfgFile = path.join(work, 'keepalived.conf');
  let rs1Weight = 1;
  writeFileSync(cfgFile, conf(rs1Weight));
  const lbArgs = ['--config', cfgFile, '--iface', 'eth0', '--socket', sock, '--metrics', '127.0.0.1:9100', ...lbExtra];
  const cmd = `scripts/soak --minutes ${MINUTES} --interval ${INTERVAL} --flap-every ${FLAP_EVERY} --reload-every ${RELOAD_EVERY}${lbExtra.length ? ` -- ${lbExtra.join(' ')}` : ''}`;
  say(`# ${cmd}`);
  say(`# ${new Date().toISOString()}, ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim()}, node ${process.version}, lb ${lbArgs.join(' ').replaceAll(work, '$WORK')}`);
  let lbLog = '';
  lb = spawn('ip', ['netns', 'exec', ns('dir'), process.execPath, path.join(REPO, 'dist/lb.js'), ...lbArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  lb.stdout.on('data', (d) => (lbLog += d));
  lb.stderr.on('data', (d) => (lbLog += d));
  const t0 = Date.now();
  while (!lbLog.includes('running;')) {
    if (lb.exitCode !== null || Date.now() - t0 > 15_000) throw new Error(`lb did not start:\n${lbLog}`);
    await sleep(50);
  }
  await sleep(3000); // health checks up
  let last = null;
  load = spawn('ip', ['netns', 'exec', ns('cli'), process.execPath, path.join(REPO, 'bench/soak/load.mjs'), '--vip', '10.0.0.127', '--seconds', String(MINUTES * 60), '--interval', String(INTERVAL)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  load.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try { last = JSON.parse(l); } catch { /* not ours */ }
    }
  });
  const loadDone = new Promise((r) => load.on('exit', r));
  const start = Date.now();
  let nextFlap = FLAP_EVERY * 1000, nextReload = RELOAD_EVERY * 1000, nextSample = 0;
  let flaps = 0, reloads = 0, reloadFailures = 0, flapEnd = -1;
  const samples = [];
  say('   t(s)  rss(MB)  table  new ok/fail  long ok/fail  udp ok/lost  events');
  let events = [];
  while (load.exitCode === null) {
    const el = Date.now() - start;
    if (lb.exitCode !== null) { events.push(`lb EXITED ${lb.exitCode}`); break; }
    if (el >= nextFlap) {
      inNs('rs2', ['curl', '-s', '-X', 'POST', 'http://127.0.0.1/admin/health?ok=0']);
      flaps++;
      flapEnd = el + 10_000;
      nextFlap += FLAP_EVERY * 1000;
      events.push('rs2 health down');
    }
    if (flapEnd >= 0 && el >= flapEnd) {
      inNs('rs2', ['curl', '-s', '-X', 'POST', 'http://127.0.0.1/admin/health?ok=1']);
      flapEnd = -1;
      events.push('rs2 health up');
    }
    if (el >= nextReload) {
      rs1Weight = rs1Weight === 1 ? 2 : 1;
      writeFileSync(cfgFile, conf(rs1Weight));
      if (reloads % 2 === 0) {
        lb.kill('SIGHUP');
        events.push(`SIGHUP (rs1 weight ${rs1Weight})`);
      } else {
        try {
          execFileSync(process.execPath, [path.join(REPO, 'dist/lb.js'), '--socket', sock, 'reload'], { encoding: 'utf8', timeout: 10_000 });
          events.push(`lb reload (rs1 weight ${rs1Weight})`);
        } catch (e) { reloadFailures++; events.push(`lb reload FAILED ${e.message.split('\n')[0]}`); }
      }
      reloads++;
      nextReload += RELOAD_EVERY * 1000;
    }
    if (el >= nextSample) {
      let table = NaN;
      try { table = metric(inNs('dir', ['curl', '-s', '--max-time', '3', 'http://127.0.0.1:9100/metrics']), 'tslb_connections'); } catch { /* counted as NaN */ }
      const rss = rssKb(lb.pid) / 1024;
      const l = last ?? { newOk: 0, newFail: 0, longOk: 0, longFail: 0, udpOk: 0, udpLost: 0 };
      samples.push({ t: Math.round(el / 1000), rss, table });
      say(`${String(Math.round(el / 1000)).padStart(7)}  ${rss.toFixed(1).padStart(7)}  ${String(table).padStart(5)}  ${`${l.newOk}/${l.newFail}`.padStart(11)}  ${`${l.longOk}/${l.longFail}`.padStart(12)}  ${`${l.udpOk}/${l.udpLost}`.padStart(11)}  ${events.join('; ')}`);
      events = [];
      nextSample += INTERVAL * 1000;
    }
    await sleep(200);
  }
  await loadDone;
  const crashed = lb.exitCode !== null;
  const f = last ?? {};
  const rssV = samples.map((s) => s.rss).filter((x) => !Number.isNaN(x));
  const tab = samples.map((s) => s.table).filter((x) => !Number.isNaN(x));
  // RSS drift: the last third's mean against the second third's (start-up and JIT warm-up excluded).
  const third = Math.floor(rssV.length / 3);
  const mean = (a) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  const mid = mean(rssV.slice(third, 2 * third)), end = mean(rssV.slice(2 * third));
  say('');
  say(`duration ${MINUTES} min; flaps ${flaps} (rs2 /health failing 10 s each), reloads ${reloads} (${reloadFailures} failed)`);
  say(`crashes: ${crashed ? `lb exited with ${lb.exitCode}` : 0}`);
  say(`requests: new connections ${f.newOk} ok / ${f.newFail} failed; long-flow downloads ${f.longOk} ok / ${f.longFail} failed; UDP ${f.udpOk} answered / ${f.udpLost} lost`);
  if (f.failures?.length) say(`failures: ${JSON.stringify(f.failures)}`);
  say(`RSS MB: min ${Math.min(...rssV).toFixed(1)}, max ${Math.max(...rssV).toFixed(1)}, second-third mean ${mid.toFixed(1)}, last-third mean ${end.toFixed(1)} (drift ${(end - mid).toFixed(1)} MB)`);
  say(`table entries: min ${Math.min(...tab)}, max ${Math.max(...tab)}, last ${tab[tab.length - 1]}`);
  lb.kill('SIGINT');
  const code = await new Promise((r) => (lb.exitCode !== null ? r(lb.exitCode) : lb.on('exit', r)));
  say(`lb exit status at the end: ${code}`);
  if (OUT) writeFileSync(OUT, `${lines.join('\n')}\n`);
  teardown();
  process.exit(crashed || reloadFailures ? 1 : 0);
} catch (e) {
  console.error(`soak: ${e.message}`);
  teardown();
  process.exit(1);
}
