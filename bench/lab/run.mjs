#!/usr/bin/env node
// The lab benchmark (issue 6 item 2, issue 11): one onearm lab per offload setting
// (LAB_OFFLOADS=default, then off), every target measured in the same run with the same
// workloads, the ratios and the issue 11 targets printed next to the figures, results
// saved as bench/results/lab-<date>.{json,md}. Started by scripts/bench-lab (as root,
// after the build); tears the lab down on exit, also on failure or Ctrl-C.
//
//   node bench/lab/run.mjs [--seconds 2] [--conns 16] [--bulk-bytes 100000000] [--rounds 2]
//        [--offloads default,off] [--sender trafgen|ring|cap] [--flood-from router|client]
//        [--rtt-rate 100] [--rtt-count 200]
//        [--only direct,engine-nat-ring,...] [--no-experiments] [--out bench/results] [--no-save]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LabRun, REPO, machineCpu, machineLoad, sleep } from './lab-env.mjs';
import { parseArgs } from './frames.mjs';
import { bulk, defaultSender, http, udpFlood, udpRtt } from './workloads.mjs';
import { ioExperiments, mainTargets, prepareLab } from './targets.mjs';
import { checks, machine, ratios, save, tables } from './report.mjs';

const a = parseArgs(process.argv.slice(2), ['no-experiments', 'no-save']);
const cfg = {
  seconds: Number(a.seconds ?? 2),
  conns: Number(a.conns ?? 16),
  bulkBytes: Number(a['bulk-bytes'] ?? 100_000_000),
  udpPayload: 64,
  udpFrameBytes: 14 + 20 + 8 + 64,
  udpPorts: 64,
  rounds: Number(a.rounds ?? 2),
  offloads: String(a.offloads ?? 'default,off').split(','),
  sender: a.sender ?? defaultSender(),
  floodFrom: a['flood-from'] ?? 'router',
  rttRate: Number(a['rtt-rate'] ?? 100),
  rttCount: Number(a['rtt-count'] ?? 200),
};
for (const o of cfg.offloads) if (o !== 'default' && o !== 'off') throw new Error(`--offloads: default and/or off, not ${o}`);
if (!['trafgen', 'ring', 'cap'].includes(cfg.sender)) throw new Error(`--sender: trafgen, ring or cap, not ${cfg.sender}`);
const only = a.only ? new Set(String(a.only).split(',')) : null;
const outDir = path.resolve(a.out ?? path.join(REPO, 'bench/results'));
const log = (s) => process.stderr.write(`bench-lab: ${s}\n`);

async function idleLoad(ms) {
  const m0 = machineCpu();
  await sleep(ms);
  return Math.round(machineLoad(m0, machineCpu(), (readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm) ?? [1]).length).busyCores * 100) / 100;
}

async function measureTarget(lab, t, workloads) {
  const s = lab.s;
  const vipUrl = `http://${s.LAB_VIP}`;
  const res = { label: t.label };
  if (t.offloadBlind && lab.offloads === 'default') {
    // pcap reports no offload state: this forwarder's RFC 1624 update corrupts the partial
    // checksums of TCP and of the servers' UDP, so only the flood (full checksums) is run.
    const skip = workloads.filter((w) => w !== 'udp');
    if (skip.length) {
      res.skipped = { workloads: skip, why: 'partial checksums: a forwarder on pcap sees no offload state and the bare one does not detect them' };
      workloads = workloads.filter((w) => w === 'udp');
    }
  }
  log(`${t.name}: start`);
  await t.start(lab);
  try {
    const dsts = t.direct ? [s.LAB_RS1_IP, s.LAB_RS2_IP] : [s.LAB_VIP];
    if (workloads.includes('udp')) {
      res.udp = await udpFlood(lab, t, { seconds: cfg.seconds, dsts, sender: cfg.sender, from: cfg.floodFrom });
      log(`${t.name}: udp ${res.udp.pps} pps (sent ${res.udp.offeredPps}), loss ${res.udp.lossPct} %`);
    }
    if (workloads.includes('rtt')) {
      res.rtt = await udpRtt(lab, t, { dsts, rate: cfg.rttRate, count: cfg.rttCount });
      log(`${t.name}: rtt p50 ${res.rtt.p50us} us, p99 ${res.rtt.p99us} us, lost ${res.rtt.lost}`);
    }
    const web = t.direct ? { url: `http://${s.LAB_RS1_IP}/`, split: [s.LAB_RS1_IP, s.LAB_RS2_IP] } : { url: `${vipUrl}/` };
    if (workloads.includes('http')) {
      res.keepAlive = await http(lab, t, { ...web, seconds: cfg.seconds, conns: cfg.conns, close: false });
      log(`${t.name}: keep-alive ${res.keepAlive.rps ?? res.keepAlive.failure} req/s`);
      res.close = await http(lab, t, { ...web, seconds: cfg.seconds, conns: cfg.conns, close: true });
      log(`${t.name}: close ${res.close.rps ?? res.close.failure} req/s`);
    }
    if (workloads.includes('bulk')) {
      res.bulk = await bulk(lab, t, { url: t.direct ? `http://${s.LAB_RS1_IP}` : vipUrl, bytes: cfg.bulkBytes });
      log(`${t.name}: bulk ${res.bulk.ok ? `${res.bulk.mbitPerS} Mbit/s` : `failed (${res.bulk.bytes} of ${cfg.bulkBytes} bytes, curl exit ${res.bulk.curlExit})`}`);
    }
  } finally {
    await t.stop(lab);
  }
  if (t.log !== undefined) {
    // The forwarder's own final words: the engine's report, or the bare forwarder's counters.
    res.processLog = t.log.split('\n').filter((l) => /^(\[worker \d\] )?(frames:|drops:|offloads: \d|connections in table|service |  -> |\{)/.test(l)).slice(-24);
    const j = t.log.split('\n').find((l) => l.startsWith('{"rx"'));
    if (j) res.counters = JSON.parse(j);
    // Warnings and diagnostics only (not the counter lines, which mention "errors").
    const warn = t.log.split('\n').filter((l) => /warning|doctor|fatal|^lb: /i.test(l) && !/^\{|frames: /.test(l)).slice(0, 10);
    if (warn.length) res.warnings = warn;
  }
  if (t.sink && res.counters && res.udp) {
    // Nothing reaches the servers: the capture rate is what the sink itself counted.
    const c = res.counters;
    const secs = Math.max((c.lastMs - c.firstMs) / 1000, 1e-3);
    res.udp.received = c.rx;
    res.udp.pps = Math.round(c.rx / secs);
    res.udp.lossPct = Math.round((10000 * (res.udp.sent - c.rx)) / res.udp.sent) / 100;
    res.udp.lbUserNsPer = Math.round((res.udp.lbCpuUserS * 1e9) / c.rx);
    res.udp.lbSysNsPer = Math.round((res.udp.lbCpuSysS * 1e9) / c.rx);
    res.udp.lbRunNsPer = Math.round((res.udp.lbRunS * 1e9) / c.rx);
    res.udp.perWakeup = res.udp.lbWakeups ? Math.round((10 * c.rx) / res.udp.lbWakeups) / 10 : null;
  }
  return res;
}

const PRIMARY = { udp: 'pps', keepAlive: 'rps', close: 'rps', bulk: 'mbitPerS', rtt: 'p50us' };
/** Figures where lower is better. */
const LOWER = new Set(['p50us']);

/**
 * One result per target from its rounds: for each workload the round with the best
 * primary figure (all of that round's figures, so a row stays consistent), plus the
 * round-to-round spread of that figure (max/min - 1, in %): the run's own noise.
 */
function bestOf(results) {
  const out = { ...results[0] };
  for (const [w, key] of Object.entries(PRIMARY)) {
    const rs = results.map((r) => r[w]).filter((x) => x && x[key] !== null && x[key] !== undefined);
    if (!rs.length) continue;
    const vals = rs.map((x) => x[key]);
    const better = LOWER.has(key) ? (x, b) => x[key] < b[key] : (x, b) => x[key] > b[key];
    const best = rs.reduce((b, x) => (better(x, b) ? x : b));
    const min = Math.min(...vals);
    out[w] = { ...best, rounds: vals, spreadPct: min > 0 ? Math.round((Math.max(...vals) / min - 1) * 100) : null };
  }
  return out;
}

async function main() {
  const startedAt = new Date().toISOString();
  const m = await machine();
  log(`machine: ${m.cpuModel}, ${m.cores} cores, kernel ${m.kernel}, node ${m.node}`);
  const noise = { before: await idleLoad(2000) };
  log(`background load before: ${noise.before} cores busy`);
  let lab = null;
  let interrupted = false;
  const onSignal = async () => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: tearing down');
    if (lab) await LabRun.down(lab.prefix);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const runs = {};
  const wanted = (t) => (only ? only.has(t.name) : !t.extra);
  for (const offloads of cfg.offloads) {
    const rounds = { targets: {}, experiments: {} };
    const keep = (where, name, r) => (rounds[where][name] ??= []).push(r);
    try {
      lab = await LabRun.up(['--rs-gw', 'director', '--dr-rs', 'ok'], { LAB_OFFLOADS: offloads });
      lab.offloads = offloads;
      log(`lab ${lab.prefix} up, offloads ${offloads}`);
      await prepareLab(lab);
      // Every target, then every target again: the background load drifts, so each
      // figure is the better of two measurements taken a minute or so apart.
      for (let round = 1; round <= cfg.rounds; round++) {
        log(`offloads ${offloads}: round ${round} of ${cfg.rounds}`);
        for (const t of mainTargets()) {
          if (!wanted(t)) continue;
          keep('targets', t.name, await measureTarget(lab, t, ['udp', 'rtt', 'http', 'bulk']));
        }
        if (!a['no-experiments']) {
          for (const t of ioExperiments()) {
            if (!wanted(t)) continue;
            keep('experiments', t.name, await measureTarget(lab, t, ['udp']));
          }
        }
      }
    } finally {
      if (lab && !interrupted) {
        await LabRun.down(lab.prefix);
        log(`lab ${lab.prefix} down`);
        lab = null;
      }
    }
    const targets = Object.fromEntries(Object.entries(rounds.targets).map(([k, v]) => [k, bestOf(v)]));
    const experiments = Object.fromEntries(Object.entries(rounds.experiments).map(([k, v]) => [k, bestOf(v)]));
    runs[offloads] = { targets, experiments, ratios: ratios(targets), checks: checks(targets), rounds };
  }
  noise.after = await idleLoad(2000);
  const res = { startedAt, finishedAt: new Date().toISOString(), machine: m, config: cfg, noise, runs };
  process.stdout.write(tables(res) + '\n');
  if (!a['no-save']) {
    const base = save(res, outDir);
    process.stdout.write(`saved ${base}.json and ${base}.md\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`bench-lab: ${err.stack ?? err}\n`);
  process.exit(1);
});
