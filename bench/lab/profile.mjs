#!/usr/bin/env node
// Profile the engine under the lab benchmark's load (issue 6 item 3). Started by
// scripts/profile (as root, after the build):
//
//   node bench/lab/profile.mjs [--tool flame|doctor] [--mode nat|dr] [--seconds 8]
//        [--dest bench/results/tmp/profile]
//
// Builds the onearm lab, runs dist/lb.js in the director under `clinic <tool>`
// (NO_INSIGHT=1 and --open=false: clinic does nothing headless otherwise), drives it
// with the UDP flood then wrk keep-alive and new-connection load, stops it with SIGINT
// to its process group (as Ctrl-C would), waits for clinic to write its report, and
// prints the report's path. Tears the lab down on exit.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LabRun, REPO } from './lab-env.mjs';
import { parseArgs } from './frames.mjs';
import { http, udpFlood } from './workloads.mjs';
import { lbArgv, prepareLab, processTarget } from './targets.mjs';

const a = parseArgs(process.argv.slice(2));
const tool = a.tool ?? 'flame';
const mode = a.mode ?? 'nat';
const seconds = Number(a.seconds ?? 8);
const dest = path.resolve(a.dest ?? path.join(REPO, 'bench/results/tmp/profile'));
const log = (s) => process.stderr.write(`profile: ${s}\n`);
const clinic = path.join(REPO, 'node_modules/.bin/clinic');

function newestReport(since) {
  if (!existsSync(dest)) return null;
  const found = readdirSync(dest)
    .filter((f) => f.endsWith('.html'))
    .map((f) => path.join(dest, f))
    .filter((f) => statSync(f).mtimeMs >= since)
    .sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs);
  return found[0] ?? null;
}

/**
 * Where the sampled time went, from clinic flame's samples (stacks root first): idle in
 * epoll, per-packet work (stacks through Runtime.onFrame) split by the leaf frame, and
 * everything else (start-up, timers, control plane).
 */
export function summariseFlame(samplesFile) {
  const samples = JSON.parse(readFileSync(samplesFile, 'utf8'));
  const c = { total: samples.length, idle: 0, perPacket: 0, transmit: 0, engine: 0, glue: 0, capture: 0, other: 0 };
  const leaves = new Map();
  for (const st of samples) {
    const leaf = st.length ? st[st.length - 1].name : '(empty)';
    if (/^(epoll_pwait|epoll_wait|__poll)/.test(leaf)) {
      c.idle++;
      continue;
    }
    if (!st.some((f) => f.name.includes('dist/io/runtime.js') && f.name.startsWith('onFrame'))) {
      c.other++;
      continue;
    }
    c.perPacket++;
    leaves.set(leaf, (leaves.get(leaf) ?? 0) + 1);
    if (/^__send|^sendto|^__libc_send/.test(leaf)) c.transmit++;
    else if (/dist\/(engine|table|sched|packet)\//.test(leaf)) c.engine++;
    else if (/dist\/io\//.test(leaf)) c.glue++;
    else c.capture++;
  }
  const pct = (n, d) => Math.round((1000 * n) / (d || 1)) / 10;
  return {
    samples: c.total,
    idlePct: pct(c.idle, c.total),
    otherPct: pct(c.other, c.total),
    perPacketPct: pct(c.perPacket, c.total),
    ofPerPacket: {
      transmitSyscallPct: pct(c.transmit, c.perPacket),
      engineLogicPct: pct(c.engine, c.perPacket),
      runtimeGluePct: pct(c.glue, c.perPacket),
      captureCallbackPct: pct(c.capture, c.perPacket),
    },
    topPerPacketLeaves: [...leaves].sort((x, y) => y[1] - x[1]).slice(0, 12).map(([n, k]) => `${pct(k, c.perPacket)}% ${n}`),
  };
}

async function main() {
  if (tool !== 'flame' && tool !== 'doctor') throw new Error('--tool flame|doctor');
  if (!existsSync(clinic)) throw new Error('clinic is not installed (npm ci installs the devDependencies)');
  const t0 = Date.now();
  let lab = null;
  const onSignal = async () => {
    if (lab) await LabRun.down(lab.prefix);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const target = processTarget(`engine-${mode} under clinic ${tool}`, 'profile', lbArgv(mode), 'running;', {
    mode,
    wrap: [clinic, tool, '--open=false', '--dest', dest, '--'],
    env: { NO_INSIGHT: '1' },
  });
  const out = {};
  try {
    lab = await LabRun.up(['--rs-gw', 'director', '--dr-rs', 'ok']);
    log(`lab ${lab.prefix} up; starting dist/lb.js --mode ${mode} under clinic ${tool}`);
    await prepareLab(lab);
    await target.start(lab);
    const s = lab.s;
    out.udp = await udpFlood(lab, target, { seconds, dsts: [s.LAB_VIP] });
    log(`udp flood: ${out.udp.pps} pps forwarded, loss ${out.udp.lossPct} %`);
    out.keepAlive = await http(lab, target, { url: `http://${s.LAB_VIP}/`, seconds, conns: 16, close: false });
    log(`wrk keep-alive: ${out.keepAlive.rps} req/s`);
    out.close = await http(lab, target, { url: `http://${s.LAB_VIP}/`, seconds: Math.max(2, Math.round(seconds / 2)), conns: 16, close: true });
    log(`wrk new connection per request: ${out.close.rps} req/s`);
    log('stopping the balancer; clinic is writing its report (this takes a while)');
    await target.stop(lab);
  } finally {
    if (lab) await LabRun.down(lab.prefix);
  }
  const clinicOut = target.log ?? '';
  const report = newestReport(t0);
  process.stdout.write(clinicOut.split('\n').filter((l) => /Generated|html/i.test(l)).join('\n') + '\n');
  if (!report) {
    process.stderr.write(`profile: no HTML report found in ${dest}; clinic said:\n${clinicOut}\n`);
    process.exit(1);
  }
  process.stdout.write(`load: udp ${out.udp?.pps} pps, keep-alive ${out.keepAlive?.rps} req/s, close ${out.close?.rps} req/s\n`);
  process.stdout.write(`report: ${report}\n`);
  const samples = path.join(report.replace(/\.html$/, ''), `${path.basename(report, '.html')}-samples`);
  if (tool === 'flame' && existsSync(samples)) {
    const sum = { load: out, flame: summariseFlame(samples) };
    writeFileSync(report.replace(/\.html$/, '.summary.json'), JSON.stringify(sum, null, 2) + '\n');
    process.stdout.write(`${JSON.stringify(sum.flame, null, 2)}\nsummary: ${report.replace(/\.html$/, '.summary.json')}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`profile: ${err.stack ?? err}\n`);
    process.exit(1);
  });
}
