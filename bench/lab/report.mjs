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
    wrk,
    commit: `${git}${dirty ? ' + uncommitted src changes' : ''}`,
    loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

const r2 = (a, b) => (a === null || b === null || a === undefined || b === undefined || !b ? null : Math.round((a / b) * 100) / 100);

/** Ratios of the same metric between two targets, measured in the same run. */
export function ratios(t) {
  const pairs = [
    ['engine-nat / kernel-nat', 'engine-nat', 'kernel-nat'],
    ['engine-nat / bare-nat', 'engine-nat', 'bare-nat'],
    ['engine-dr / bare-dr', 'engine-dr', 'bare-dr'],
    ['engine-nat-w2 / engine-nat', 'engine-nat-w2', 'engine-nat'],
    ['kernel-nat / direct', 'kernel-nat', 'direct'],
    ['bare-nat / kernel-nat', 'bare-nat', 'kernel-nat'],
  ];
  const out = {};
  for (const [label, a, b] of pairs) {
    const A = t[a], B = t[b];
    if (!A || !B) continue;
    out[label] = {
      udpPps: r2(A.udp?.pps, B.udp?.pps),
      httpKeepAliveRps: r2(A.keepAlive?.rps, B.keepAlive?.rps),
      httpCloseRps: r2(A.close?.rps, B.close?.rps),
      bulkMbit: r2(A.bulk?.mbitPerS, B.bulk?.mbitPerS),
      // Packets per CPU-second of the forwarding process (A/B: 1 = as cheap as B).
      udpCapacity: r2(nsPer(B.udp), nsPer(A.udp)),
    };
  }
  return out;
}

const nsPer = (u) => (u && u.lbUserNsPer != null && u.lbSysNsPer != null ? u.lbUserNsPer + u.lbSysNsPer : null);
const f = (x, d = 0) => (x === null || x === undefined ? '-' : typeof x === 'number' ? x.toFixed(d) : String(x));

/** Packets per second one core could forward at this CPU cost per packet. */
const capacity = (u) => (nsPer(u) ? Math.round(1e6 / nsPer(u)) : null);
const usPer = (w) => (w && w.lbUserNsPer !== null && w.lbUserNsPer !== undefined ? (w.lbUserNsPer + w.lbSysNsPer) / 1000 : null);
const spread = (w) => (w && w.spreadPct !== null && w.spreadPct !== undefined ? `±${w.spreadPct}` : '');

export function tables(res) {
  const lines = [];
  lines.push('UDP flood (64-byte datagrams) and the forwarding process\'s CPU per packet:');
  lines.push('');
  lines.push('| target | UDP pps (round spread %) | loss % | sender cores | LB cores | LB ns/pkt user+sys | kpps/core at that cost | pkts/wake-up |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, t] of Object.entries(res.targets)) {
    const u = t.udp ?? {};
    const ns = u.lbUserNsPer !== null && u.lbUserNsPer !== undefined ? `${u.lbUserNsPer}+${u.lbSysNsPer}` : '-';
    lines.push(`| ${name} | ${f(u.pps)} ${spread(u)} | ${f(u.lossPct, 2)} | ${f(u.senderCpuCores, 2)} | ${f(u.lbCpuCores, 2)} | ${ns} | ${f(capacity(u))} | ${f(u.perWakeup, 1)} |`);
  }
  lines.push('');
  lines.push('HTTP (wrk) and bulk:');
  lines.push('');
  lines.push('| target | keep-alive req/s | p50 ms | p99 ms | LB µs/req | close req/s | p50 ms | p99 ms | LB µs/req | errors | bulk Mbit/s |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, t] of Object.entries(res.targets)) {
    const k = t.keepAlive ?? {}, c = t.close ?? {}, b = t.bulk ?? {};
    lines.push(`| ${name} | ${f(k.rps)} ${spread(k)} | ${f(k.p50ms, 2)} | ${f(k.p99ms, 2)} | ${f(usPer(k), 1)} | ${f(c.rps)} ${spread(c)} | ${f(c.p50ms, 2)} | ${f(c.p99ms, 2)} | ` +
      `${f(usPer(c), 1)} | ${(k.errors ?? 0) + (c.errors ?? 0) + (k.non2xx ?? 0) + (c.non2xx ?? 0)} | ${f(b.mbitPerS)} ${spread(b)} |`);
  }
  lines.push('');
  lines.push('| ratio (same run) | UDP pps | UDP capacity per core (1/CPU per pkt) | keep-alive req/s | close req/s | bulk Mbit/s |');
  lines.push('|---|---:|---:|---:|---:|---:|');
  for (const [label, r] of Object.entries(res.ratios)) {
    lines.push(`| ${label} | ${f(r.udpPps, 2)} | ${f(r.udpCapacity, 2)} | ${f(r.httpKeepAliveRps, 2)} | ${f(r.httpCloseRps, 2)} | ${f(r.bulkMbit, 2)} |`);
  }
  if (res.experiments && Object.keys(res.experiments).length) {
    lines.push('');
    lines.push('| I/O experiment (UDP flood) | pps | loss % | sender cores | process cores | ns/pkt user+sys | kpps/core | pkts/wake-up |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const [name, e] of Object.entries(res.experiments)) {
      const u = e.udp ?? {};
      const ns = u.lbUserNsPer !== null && u.lbUserNsPer !== undefined ? `${u.lbUserNsPer}+${u.lbSysNsPer}` : '-';
      lines.push(`| ${name}: ${e.label} | ${f(u.pps)} ${spread(u)} | ${f(u.lossPct, 2)} | ${f(u.senderCpuCores, 2)} | ${f(u.lbCpuCores, 2)} | ${ns} | ${f(capacity(u))} | ${f(u.perWakeup, 1)} |`);
    }
  }
  return lines.join('\n');
}

export function markdown(res) {
  const m = res.machine;
  return [
    `# Lab benchmark ${res.startedAt}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores${m.hypervisor ? ` (${m.hypervisor} guest)` : ''}, ${m.memGiB} GiB, ${m.os}, kernel ${m.kernel}, ` +
      `Node ${m.node}, libpcap ${m.libpcap}, cap ${m.cap}, raw-socket ${m.rawSocket}, ${m.wrk}. Commit ${m.commit}. ` +
      `Load average at start ${m.loadAvgAtStart.join(' ')}.`,
    '',
    `Topology: scripts/lab onearm (client -> router -> bridge -> director / rs1 / rs2, veths with offloads off). ` +
      `UDP: ${res.config.udpPayload}-byte datagrams (${res.config.udpFrameBytes}-byte frames) for ${res.config.seconds} s from one sender ` +
      `(cap.send loop, ${res.config.udpPorts} source ports), counted by nft in the servers. HTTP: wrk 2 threads, ${res.config.conns} connections, ` +
      `${res.config.seconds} s, GET / (a few bytes). Bulk: one GET /bytes?n=${res.config.bulkBytes}.`,
    '',
    `Background load (other processes on the machine, cores busy, measured idle before and after the run): ` +
      `${f(res.noise.before, 2)} before, ${f(res.noise.after, 2)} after.`,
    '',
    tables(res),
    '',
    'Each figure is the better of the run\'s rounds (± = spread between rounds, max/min - 1, in %: the noise of this run). ' +
      '"LB ns/pkt" is the forwarding process\'s user+system CPU time divided by the UDP datagrams that arrived (cost per packet, ' +
      'independent of the offered rate), "kpps/core" its inverse; "pkts/wake-up" is datagrams per voluntary context switch of its main ' +
      'thread (one per return to epoll with nothing left in the capture ring). "sender cores" is the UDP sender\'s CPU (its system time ' +
      'includes the router and bridge work done in its context); loss 0 with sender cores < 1 means the sender, not the forwarder, set the rate. ' +
      '"LB µs/req" is the forwarder\'s CPU per HTTP request. Latencies are wrk\'s percentiles. See docs/performance-lab.md.',
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
