// The lab benchmark's report: the machine's description, the table of every figure,
// the side-by-side ratios, and the JSON + Markdown files under bench/results/.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, run } from './lab-env.mjs';

const pkgVersion = (name) => {
  try {
    return JSON.parse(readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
};

export async function machine() {
  const cpus = os.cpus();
  const dpkg = async (p) => (await run(['dpkg-query', '-W', '-f=${Version}', p])).stdout.trim() || null;
  const wrk = (await run(['wrk', '-v'])).stdout.split('\n')[0].trim() || null;
  const git = (await run(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'])).stdout.trim();
  const dirty = (await run(['git', '-C', REPO, 'status', '--porcelain', '--', 'src'])).stdout.trim() !== '';
  const hyp = /Hypervisor vendor:\s+(.*)/.exec((await run(['lscpu'])).stdout)?.[1] ?? null;
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    hypervisor: hyp,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    os: (readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="(.*)"/m) ?? [])[1] ?? null,
    node: process.version,
    libpcap: await dpkg('libpcap0.8'),
    cap: pkgVersion('cap'),
    rawSocket: pkgVersion('raw-socket'),
    koffi: pkgVersion('koffi'),
    trafgen: await dpkg('netsniff-ng'),
    wrk,
    commit: `${git}${dirty ? ' + uncommitted src changes' : ''}`,
    loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

const r2 = (a, b) => (a === null || b === null || a === undefined || b === undefined || !b ? null : Math.round((a / b) * 100) / 100);

/** Ratios of the same metric between two targets, measured in the same run. */
export function ratios(t) {
  const pairs = [
    ['engine-nat-ring / engine-nat-pcap', 'engine-nat-ring', 'engine-nat-pcap'],
    ['engine-dr-ring / engine-dr-pcap', 'engine-dr-ring', 'engine-dr-pcap'],
    ['engine-nat-ring / bare-nat-ring', 'engine-nat-ring', 'bare-nat-ring'],
    ['engine-dr-ring / bare-dr-ring', 'engine-dr-ring', 'bare-dr-ring'],
    ['engine-nat-ring / kernel-nat', 'engine-nat-ring', 'kernel-nat'],
    ['engine-nat-pcap / kernel-nat', 'engine-nat-pcap', 'kernel-nat'],
    ['engine-nat-pcap / bare-nat-cap', 'engine-nat-pcap', 'bare-nat-cap'],
    ['bare-nat-ring / bare-nat-cap', 'bare-nat-ring', 'bare-nat-cap'],
    ['engine-nat-ring-w2 / engine-nat-ring', 'engine-nat-ring-w2', 'engine-nat-ring'],
    ['kernel-nat / direct', 'kernel-nat', 'direct'],
  ];
  const out = {};
  for (const [label, a, b] of pairs) {
    const A = t[a], B = t[b];
    if (!A || !B) continue;
    out[label] = {
      udpPps: r2(A.udp?.pps, B.udp?.pps),
      // Packets per CPU-second of the forwarding process (A/B: 1 = as cheap as B).
      udpCapacity: r2(nsPer(B.udp), nsPer(A.udp)),
      httpKeepAliveRps: r2(A.keepAlive?.rps, B.keepAlive?.rps),
      // Requests per CPU-second of the forwarding process.
      httpKeepAliveCapacity: r2(nsPer(B.keepAlive), nsPer(A.keepAlive)),
      httpCloseRps: r2(A.close?.rps, B.close?.rps),
      bulkMbit: r2(A.bulk?.mbitPerS, B.bulk?.mbitPerS),
      rttP50: r2(A.rtt?.p50us, B.rtt?.p50us),
      rttP99: r2(A.rtt?.p99us, B.rtt?.p99us),
    };
  }
  return out;
}

/**
 * Issue 11's targets for the ring backend, each as measured: value, the goal, met or not
 * (null when a figure is missing, e.g. a bulk transfer that could not complete).
 */
export function checks(t) {
  const out = [];
  const add = (what, value, goal, atLeast, note = '') => {
    const met = value === null || value === undefined ? null : atLeast ? value >= goal : value <= goal;
    out.push({ what, value, goal: `${atLeast ? '>=' : '<='} ${goal}`, met, note });
  };
  const cap = (a, b) => r2(nsPer(t[b]?.udp), nsPer(t[a]?.udp));
  add('UDP packets per CPU-second, engine-nat-ring / engine-nat-pcap', cap('engine-nat-ring', 'engine-nat-pcap'), 2, true);
  add('UDP packets per CPU-second, engine-dr-ring / engine-dr-pcap', cap('engine-dr-ring', 'engine-dr-pcap'), 2, true);
  add('UDP packets per CPU-second, engine-nat-ring / bare-nat-ring', cap('engine-nat-ring', 'bare-nat-ring'), 0.9, true);
  add('UDP packets per CPU-second, engine-dr-ring / bare-dr-ring', cap('engine-dr-ring', 'bare-dr-ring'), 0.9, true);
  add('bulk TCP Mbit/s, engine-nat-ring / kernel-nat', r2(t['engine-nat-ring']?.bulk?.mbitPerS, t['kernel-nat']?.bulk?.mbitPerS), 1.0, true);
  add('keep-alive req/s, engine-nat-ring / kernel-nat', r2(t['engine-nat-ring']?.keepAlive?.rps, t['kernel-nat']?.keepAlive?.rps), 0.9, true);
  for (const m of ['nat', 'dr']) {
    for (const p of ['p50us', 'p99us']) {
      add(`light-load UDP RTT ${p.slice(0, 3)}, engine-${m}-ring / engine-${m}-pcap`, r2(t[`engine-${m}-ring`]?.rtt?.[p], t[`engine-${m}-pcap`]?.rtt?.[p]), 1.0, false,
        `${t[`engine-${m}-ring`]?.rtt?.[p] ?? '-'} vs ${t[`engine-${m}-pcap`]?.rtt?.[p] ?? '-'} µs`);
    }
  }
  return out;
}

/** CPU per unit: the exact run time (schedstat) when measured, else the user+sys tick samples. */
const nsPer = (u) => (u && u.lbRunNsPer != null ? u.lbRunNsPer : u && u.lbUserNsPer != null && u.lbSysNsPer != null ? u.lbUserNsPer + u.lbSysNsPer : null);
const f = (x, d = 0) => (x === null || x === undefined ? '-' : typeof x === 'number' ? x.toFixed(d) : String(x));

/** Packets per second one core could forward at this CPU cost per packet. */
const capacity = (u) => (nsPer(u) ? Math.round(1e6 / nsPer(u)) : null);
const usPer = (w) => (nsPer(w) === null ? null : nsPer(w) / 1000);
const spread = (w) => (w && w.spreadPct !== null && w.spreadPct !== undefined ? `±${w.spreadPct}` : '');
const ms = (us) => (us === null || us === undefined ? null : us / 1000);

/** A bulk figure, or why there is none. */
function bulkCell(t) {
  const b = t.bulk;
  if (!b) return '-';
  if (b.ok) return `${f(b.mbitPerS)} ${spread(b)}`;
  const sd = /offloads: .*\((\d+) dropped: pcap cannot send them\)/.exec((t.processLog ?? []).join('\n'));
  const why = sd ? `${sd[1]} super-frames dropped` : t.counters?.txErrors ? `${t.counters.txErrors} TX errors: ${t.counters.lastTxError}` : `curl exit ${b.curlExit}`;
  return `n/a (${f(b.bytes)} B; ${why})`;
}

function runTables(run) {
  const lines = [];
  lines.push('UDP flood (64-byte datagrams) and the forwarding process\'s CPU per packet:');
  lines.push('');
  lines.push('| target | UDP pps (round spread %) | sent pps | loss % | sender cores | sender ns/pkt | LB cores | LB ns/pkt on CPU | of which user+sys (ticks) | kpps/core at that cost | pkts/wake-up |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, t] of Object.entries(run.targets)) {
    const u = t.udp ?? {};
    const ns = u.lbUserNsPer !== null && u.lbUserNsPer !== undefined ? `${u.lbUserNsPer}+${u.lbSysNsPer}` : '-';
    lines.push(`| ${name} | ${f(u.pps)} ${spread(u)} | ${f(u.offeredPps)} | ${f(u.lossPct, 2)} | ${f(u.senderCpuCores, 2)} | ${f(u.senderNsPer)} | ${f(u.lbCpuCores, 2)} | ${f(u.lbRunNsPer)} | ${ns} | ${f(capacity(u))} | ${f(u.perWakeup, 1)} |`);
  }
  lines.push('');
  lines.push('Light load (UDP request/response probes) and HTTP (wrk) and bulk:');
  lines.push('');
  lines.push('| target | RTT p50 ms | p99 ms | lost | LB µs/probe | keep-alive req/s | p50 ms | p99 ms | LB µs/req | close req/s | p50 ms | p99 ms | LB µs/req | errors | bulk Mbit/s |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const skipped = [];
  for (const [name, t] of Object.entries(run.targets)) {
    const k = t.keepAlive ?? {}, c = t.close ?? {}, r = t.rtt ?? {};
    if (t.skipped) {
      skipped.push(`${name}: ${t.skipped.why}`);
      lines.push(`| ${name} | n/a¹ | n/a¹ | | | n/a¹ | | | | n/a¹ | | | | | n/a¹ |`);
      continue;
    }
    lines.push(`| ${name} | ${f(ms(r.p50us), 2)} | ${f(ms(r.p99us), 2)} | ${f(r.lost)} | ${f(usPer(r), 1)} | ${k.failure ? 'failed' : f(k.rps)} ${spread(k)} | ${f(k.p50ms, 2)} | ${f(k.p99ms, 2)} | ${f(usPer(k), 1)} | ${f(c.rps)} ${spread(c)} | ${f(c.p50ms, 2)} | ${f(c.p99ms, 2)} | ` +
      `${f(usPer(c), 1)} | ${(k.errors ?? 0) + (c.errors ?? 0) + (k.non2xx ?? 0) + (c.non2xx ?? 0)} | ${bulkCell(t)} |`);
  }
  if (skipped.length) lines.push('', ...skipped.map((x) => `¹ not run: ${x}.`));
  lines.push('');
  lines.push('| ratio (same run) | UDP pps | UDP pkts per CPU-s | keep-alive req/s | keep-alive req per CPU-s | close req/s | bulk Mbit/s | RTT p50 | RTT p99 |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [label, r] of Object.entries(run.ratios)) {
    lines.push(`| ${label} | ${f(r.udpPps, 2)} | ${f(r.udpCapacity, 2)} | ${f(r.httpKeepAliveRps, 2)} | ${f(r.httpKeepAliveCapacity, 2)} | ${f(r.httpCloseRps, 2)} | ${f(r.bulkMbit, 2)} | ${f(r.rttP50, 2)} | ${f(r.rttP99, 2)} |`);
  }
  if (run.checks?.length) {
    lines.push('');
    lines.push('| issue 11 target | measured | goal | met |');
    lines.push('|---|---:|---:|---|');
    for (const c of run.checks) lines.push(`| ${c.what}${c.note ? ` (${c.note})` : ''} | ${f(c.value, 2)} | ${c.goal} | ${c.met === null ? 'n/a' : c.met ? 'yes' : 'no'} |`);
  }
  if (run.experiments && Object.keys(run.experiments).length) {
    lines.push('');
    lines.push('| I/O experiment (UDP flood) | pps | sent pps | loss % | sender cores | process cores | ns/pkt on CPU | user+sys (ticks) | kpps/core | pkts/wake-up | kernel ring drops |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const [name, e] of Object.entries(run.experiments)) {
      const u = e.udp ?? {};
      const ns = u.lbUserNsPer !== null && u.lbUserNsPer !== undefined ? `${u.lbUserNsPer}+${u.lbSysNsPer}` : '-';
      lines.push(`| ${name}: ${e.label} | ${f(u.pps)} ${spread(u)} | ${f(u.offeredPps)} | ${f(u.lossPct, 2)} | ${f(u.senderCpuCores, 2)} | ${f(u.lbCpuCores, 2)} | ${f(u.lbRunNsPer)} | ${ns} | ${f(capacity(u))} | ${f(u.perWakeup, 1)} | ${f(e.counters?.kernelDrops)} |`);
    }
  }
  return lines.join('\n');
}

const OFFLOAD_TITLE = {
  default: 'Offloads default (veths as the kernel makes them: TX checksum offload, TSO/GSO, partial checksums and super-frames reach the balancer)',
  off: 'Offloads off (the tuned lab: tx/tso/gso/gro off on every veth)',
};

export function tables(res) {
  return Object.entries(res.runs).map(([o, run]) => `## ${OFFLOAD_TITLE[o] ?? o}\n\n${runTables(run)}`).join('\n\n');
}

export function markdown(res) {
  const m = res.machine;
  return [
    `# Lab benchmark ${res.startedAt}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores${m.hypervisor ? ` (${m.hypervisor} guest)` : ''}, ${m.memGiB} GiB, ${m.os}, kernel ${m.kernel}, ` +
      `Node ${m.node}, libpcap ${m.libpcap}, cap ${m.cap}, koffi ${m.koffi}, raw-socket ${m.rawSocket}, ${m.wrk}, trafgen ${m.trafgen ?? 'not installed'}. Commit ${m.commit}. ` +
      `Load average at start ${m.loadAvgAtStart.join(' ')}.`,
    '',
    `Topology: scripts/lab onearm (client -> router -> bridge -> director / rs1 / rs2), built twice: offloads ${res.config.offloads.join(' then ')}. ` +
      `UDP: ${res.config.udpPayload}-byte datagrams (${res.config.udpFrameBytes}-byte frames) for ${res.config.seconds} s from one sender ` +
      `(${res.config.sender}, in the ${res.config.floodFrom === 'router' ? "router namespace on its LAN port (frames as the router forwards them)" : 'client namespace'}, ` +
      `${res.config.udpPorts} source ports), counted by nft in the servers. Light load: ${res.config.rttCount} UDP request/response probes at ${res.config.rttRate}/s ` +
      `from the client to the servers' echo (port 9000). HTTP: wrk 2 threads, ${res.config.conns} connections, ` +
      `${res.config.seconds} s, GET / (a few bytes). Bulk: one GET /bytes?n=${res.config.bulkBytes} (a transfer stalled below 100 kB/s for 3 s is ended: n/a).`,
    '',
    `Background load (other processes on the machine, cores busy, measured idle before and after the run): ` +
      `${f(res.noise.before, 2)} before, ${f(res.noise.after, 2)} after.`,
    '',
    tables(res),
    '',
    'Each figure is the better of the run\'s rounds (± = spread between rounds, max/min - 1, in %: the noise of this run). ' +
      '"LB ns/pkt on CPU" is the forwarding process\'s time on CPU (all threads, scheduler accounting in /proc/PID/task/*/schedstat) divided by the UDP datagrams ' +
      'that arrived (cost per packet), next to its user+system split from /proc/PID/stat (tick samples, coarser); "kpps/core" is the inverse of the first; "packets per CPU-second" in the ratios uses it too; "pkts/wake-up" is datagrams per voluntary context switch of its main ' +
      'thread (one per return to epoll with nothing left in the capture ring). "sender cores" is the UDP sender\'s CPU (its system time ' +
      'includes the bridge work and the director\'s receive path (and all of kernel-nat\'s forwarding) done in its softirq context); loss 0 with sender cores < 1 means the sender, not the forwarder, set the rate. ' +
      '"LB µs/req" is the forwarder\'s CPU per HTTP request, "LB µs/probe" per answered light-load probe (two frames through it, each usually a wake-up of its own). HTTP latencies are wrk\'s percentiles, RTT the probes\' (client-side, Node dgram). ' +
      'The issue 11 table compares figures of the same lab and run. See docs/performance-lab.md.',
    '',
  ].join('\n');
}

export function save(res, dir) {
  mkdirSync(dir, { recursive: true });
  const stamp = res.startedAt.replace(/[:.]/g, '').replace(/\d{3}Z$/, 'Z');
  const base = path.join(dir, `lab-${stamp}`);
  writeFileSync(`${base}.json`, JSON.stringify(res, null, 2) + '\n');
  writeFileSync(`${base}.md`, markdown(res));
  return base;
}
