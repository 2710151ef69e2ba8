// The lab benchmark's workloads, each bounded in time and count: a UDP flood counted
// at the receivers, wrk with keep-alive and with a new connection per request, and
// one bulk HTTP download. Each returns its figures plus the CPU the forwarding
// process(es) spent during it (`target.pids()`), read from /proc.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO, diffStats, machineCpu, machineLoad, procStats, sleep } from './lab-env.mjs';
import { floodFrames, ipToU32, parseMac, trafgenConfig } from './frames.mjs';

const CORES = Number(readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? 1);
export const UDP_PORT = 9100;
/** The lab servers' UDP echo (scripts/lab-server.mjs --udp 9000): the latency probes' port. */
export const ECHO_PORT = 9000;
const CAP_SENDER = path.join(REPO, 'bench/lab/udp-send.mjs');
const RING_SENDER = path.join(REPO, 'bench/lab/ring-send.mjs');
const RTT = path.join(REPO, 'bench/lab/udp-rtt.mjs');
const WRK_SPLIT = path.join(REPO, 'bench/lab/wrk-split.lua');

/** Packets counted by the sinks' nft rules (udp dport 9100 counter drop) in both servers. */
async function sinkCount(lab) {
  let n = 0;
  for (const rs of ['rs1', 'rs2']) {
    const out = await lab.must(rs, ['nft', '-j', 'list', 'table', 'netdev', 'tslb_bench_sink']);
    for (const item of JSON.parse(out).nftables) {
      for (const e of item.rule?.expr ?? []) if (e.counter) n += e.counter.packets;
    }
  }
  return n;
}

/** rx packets of the servers' eth0, read from /proc/<server pid>/net/dev (no process spawned). */
function serverRx(lab) {
  let n = 0;
  for (const pid of lab.serverPids) {
    const line = readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').find((l) => l.trim().startsWith('eth0:'));
    n += Number(line.split(':')[1].trim().split(/\s+/)[1]);
  }
  return n;
}

/** Samples of the forwarder's CPU and the machine's, around `fn`. */
async function measured(target, fn) {
  const pids = target.pids();
  const p0 = procStats(pids), m0 = machineCpu(), t0 = Date.now();
  const out = await fn();
  const p1 = procStats(pids), m1 = machineCpu(), t1 = Date.now();
  const cpu = pids.length ? diffStats(p0, p1) : null;
  return { out, cpu, wallS: (t1 - t0) / 1000, machine: machineLoad(m0, m1, CORES) };
}

function cpuFields(cpu, units, wallS) {
  if (!cpu) return { lbCpuCores: null, lbUserNsPer: null, lbSysNsPer: null, lbRunNsPer: null, lbWakeups: null, perWakeup: null };
  return {
    lbCpuUserS: round(cpu.user, 2),
    lbCpuSysS: round(cpu.sys, 2),
    lbRunS: round(cpu.run, 3),
    // Exact time on CPU per unit (schedstat); user/sys per unit are tick samples.
    lbRunNsPer: units ? Math.round((cpu.run * 1e9) / units) : null,
    lbCpuCores: round(cpu.run / wallS, 2),
    lbUserNsPer: units ? Math.round((cpu.user * 1e9) / units) : null,
    lbSysNsPer: units ? Math.round((cpu.sys * 1e9) / units) : null,
    lbWakeups: cpu.vcs,
    lbPreemptions: cpu.ivcs,
    perWakeup: cpu.vcs ? round(units / cpu.vcs, 1) : null,
  };
}

export const round = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

/** Which sender floods: trafgen (netsniff-ng) when installed, else the project's ring sender. */
export function defaultSender() {
  return existsSync('/usr/sbin/trafgen') || existsSync('/usr/bin/trafgen') ? 'trafgen' : 'ring';
}

/** The next-hop MAC of a flood destination as seen from the router's LAN port. */
function lanMac(s, ip) {
  if (ip === s.LAB_VIP) return s.LAB_DIR_MAC;
  if (ip === s.LAB_RS1_IP) return s.LAB_RS1_MAC;
  if (ip === s.LAB_RS2_IP) return s.LAB_RS2_MAC;
  throw new Error(`no LAN MAC for ${ip}`);
}

/**
 * The flood's sender process: where it runs (`from`: 'router' = the router namespace's LAN
 * port, frames exactly as the router would forward them, client source address, next-hop
 * MACs; 'client' = the client namespace, through the router), and which program:
 * 'trafgen' (netsniff-ng's, TX_RING, one core, pinned by itself), 'ring' (ring-send.mjs:
 * RingPort sendmmsg batches) or 'cap' (udp-send.mjs: one pcap_sendpacket per frame).
 * Every sender sends the same frames (frames.mjs floodFrames). Returns argv, role, and a
 * parser of its output into {sent, seconds, cpuUserS, cpuSysS}.
 */
function floodSender(lab, { sender, from, seconds, dsts, maxCount, tag }) {
  const s = lab.s;
  const role = from === 'client' ? 'client' : 'router';
  const srcMac = from === 'client' ? s.LAB_CLIENT_MAC : s.LAB_ROUTER_MAC;
  const dstMacs = from === 'client' ? [s.LAB_ROUTER_PUB_MAC] : dsts.map((ip) => lanMac(s, ip));
  if (sender === 'trafgen') {
    const frames = floodFrames({ srcMac: parseMac(srcMac), dstMacs: dstMacs.map(parseMac), srcIp: ipToU32(s.LAB_CLIENT_IP), dsts: dsts.map(ipToU32), dport: UDP_PORT });
    const cfg = path.join(tmpdir(), `tslb-bench-${lab.prefix}-${tag}.trafgen`);
    writeFileSync(cfg, trafgenConfig(frames));
    // --no-sock-mem and -Q: trafgen would otherwise raise the machine's socket buffer
    // defaults and move the NIC's IRQ affinity; it must change nothing outside its process.
    const argv = ['/usr/bin/time', '-f', 'TIME %U %S', 'timeout', '-s', 'INT', String(seconds),
      'trafgen', '-o', 'eth0', '-i', cfg, '-P', '1', '--no-sock-mem', '-Q', '-n', String(maxCount)];
    const parse = (text) => {
      rmSync(cfg, { force: true });
      const sent = /(\d+) packets outgoing/.exec(text);
      const secs = /(\d+) sec, (\d+) usec on CPU/.exec(text);
      const time = /TIME ([\d.]+) ([\d.]+)/.exec(text);
      if (!sent || !time) return null;
      return { sent: Number(sent[1]), seconds: secs ? Number(secs[1]) + Number(secs[2]) / 1e6 : seconds, cpuUserS: Number(time[1]), cpuSysS: Number(time[2]), errors: 0 };
    };
    return { role, argv, parse };
  }
  const script = sender === 'cap' ? CAP_SENDER : RING_SENDER;
  const argv = [process.execPath, script, '--iface', 'eth0', '--src-mac', srcMac, '--dst-mac', dstMacs.join(','), '--src-ip', s.LAB_CLIENT_IP,
    '--dst', dsts.join(','), '--dport', String(UDP_PORT), '--seconds', String(seconds), '--count', String(maxCount)];
  const parse = (text) => {
    const line = text.split('\n').find((l) => l.startsWith('{'));
    return line ? JSON.parse(line) : null;
  };
  return { role, argv, parse };
}

let floodSeq = 0;

/**
 * UDP flood: the sender (floodSender) sends 64-byte datagrams to `dsts` for `seconds`; the
 * servers count what arrives. The forwarding rate is what arrived over the time from the
 * first send to the last arrival (the capture ring drains after the sender stops, so
 * dividing by the send time alone would overstate it).
 */
export async function udpFlood(lab, target, { seconds, dsts, maxCount = 3_000_000, sender = defaultSender(), from = 'router' }) {
  const before = await sinkCount(lab);
  const snd = floodSender(lab, { sender, from, seconds, dsts, maxCount, tag: `${process.pid}-${floodSeq++}` });
  const m = await measured(target, async () => {
    const child = lab.spawn(snd.role, snd.argv);
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    const startMs = Date.now();
    await new Promise((r) => child.once('exit', r));
    // Drain: wait until the servers' rx counter stops moving for 500 ms (at most 15 s).
    let last = serverRx(lab), lastChange = Date.now();
    while (Date.now() - lastChange < 500 && Date.now() - startMs < (seconds + 15) * 1000) {
      await sleep(100);
      const now = serverRx(lab);
      if (now !== last) {
        last = now;
        lastChange = Date.now();
      }
    }
    const res = snd.parse(text);
    if (!res) throw new Error(`udp sender (${sender}) failed:\n${text}`);
    return { sender: res, startMs, lastArrivalMs: lastChange };
  });
  const received = (await sinkCount(lab)) - before;
  const { sender: out, startMs, lastArrivalMs } = m.out;
  const windowS = Math.max(out.seconds, (lastArrivalMs - startMs) / 1000 - 0.05);
  return {
    sender, from,
    sent: out.sent,
    offeredPps: Math.round(out.sent / out.seconds),
    received,
    pps: Math.round(received / windowS),
    lossPct: round((100 * (out.sent - received)) / out.sent, 2),
    drainS: round(windowS - out.seconds, 2),
    senderCpuCores: round((out.cpuUserS + out.cpuSysS) / out.seconds, 2),
    // The sender's CPU per frame sent: with veth, everything the kernel does for the frame
    // before a forwarding process picks it up (and all of kernel-nat's work) runs there.
    senderNsPer: out.sent ? Math.round(((out.cpuUserS + out.cpuSysS) * 1e9) / out.sent) : null,
    ...cpuFields(m.cpu, received, m.wallS),
    machineBusyCores: round(m.machine.busyCores, 2),
    softirqCores: round(m.machine.softirqCores, 2),
  };
}

/**
 * Light-load latency: `count` UDP request/response probes at `rate` per second from the
 * client to `dsts` (the lab servers' echo port), timed in the client (udp-rtt.mjs).
 */
export async function udpRtt(lab, target, { dsts, rate = 100, count = 200 }) {
  const m = await measured(target, async () => {
    const r = await lab.exec('client', [process.execPath, RTT, '--dst', dsts.join(','), '--port', String(ECHO_PORT),
      '--rate', String(rate), '--count', String(count), '--timeout-ms', '500'], { timeoutMs: (count / rate + 20) * 1000 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`udp-rtt failed (${r.code}):\n${r.stdout}${r.stderr}`);
    return JSON.parse(line);
  });
  const o = m.out;
  return {
    rate, sent: o.sent, received: o.received, lost: o.lost + o.late,
    p50us: o.p50us, p90us: o.p90us, p99us: o.p99us, maxUs: o.maxUs, minUs: o.minUs,
    ...cpuFields(m.cpu, o.received, m.wallS),
    machineBusyCores: round(m.machine.busyCores, 2),
  };
}

const UNIT = { us: 1e-3, ms: 1, s: 1000 };

function parseWrk(text) {
  const num = (re) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
    return m ? Number(m[1]) * UNIT[m[2]] : null;
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const time = /TIME ([\d.]+) ([\d.]+)/.exec(text);
  return {
    requests: num(/(\d+) requests in/),
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: pct(50), p75: pct(75), p90: pct(90), p99: pct(99),
    errors: sock ? sock.slice(1).reduce((s, x) => s + Number(x), 0) : 0,
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) ?? 0,
    clientCpuS: time ? Number(time[1]) + Number(time[2]) : null,
  };
}

/**
 * wrk, 2 threads, `conns` connections, for `seconds`, against `url`; with `split`
 * (the direct case) thread k connects to split[k] instead (wrk-split.lua), so both
 * servers are loaded by the same wrk process as the VIP is in the other cases.
 * close=true sends `Connection: close`: a new TCP connection per request.
 */
export async function http(lab, target, { url, split = null, seconds, conns, close }) {
  const m = await measured(target, async () => {
    const argv = ['/usr/bin/time', '-f', 'TIME %U %S', 'wrk', '-t2', `-c${conns}`, `-d${seconds}s`, '--latency', '--timeout', '2s',
      ...(close ? ['-H', 'Connection: close'] : []), ...(split ? ['-s', WRK_SPLIT] : []), url];
    const env = split ? { ...process.env, WRK_ADDRS: split.join(',') } : undefined;
    const r = await lab.exec('client', argv, { timeoutMs: (seconds + 20) * 1000, env });
    const w = parseWrk(r.stdout + r.stderr);
    // No figures (e.g. no connection ever completed): recorded, not fatal.
    if (w.rps === null) w.failure = `wrk exit ${r.code}: ${(r.stdout + r.stderr).trim().split('\n').slice(-3).join(' / ') || 'no output'}`;
    return w;
  });
  const w = m.out;
  if (w.failure) return { rps: null, failure: w.failure, errors: null };
  return {
    rps: Math.round(w.rps),
    requests: w.requests,
    p50ms: w.p50, p75ms: w.p75, p90ms: w.p90, p99ms: w.p99,
    errors: w.errors,
    non2xx: w.non2xx,
    clientCpuCores: round((w.clientCpuS ?? 0) / seconds, 2),
    ...cpuFields(m.cpu, w.requests, m.wallS),
    machineBusyCores: round(m.machine.busyCores, 2),
  };
}

/**
 * One bulk download (GET /bytes?n=N from the lab server). Throughput is measured from
 * the first byte to the last: the server generates the whole body before sending.
 */
export async function bulk(lab, target, { url, bytes }) {
  const m = await measured(target, () => lab.exec('client', ['curl', '-s', '-o', '/dev/null', '--max-time', '60',
    // A stalled transfer (super-frames dropped by a pcap forwarder) ends after 3 s below 100 kB/s.
    '--speed-limit', '100000', '--speed-time', '3',
    '-w', '%{http_code} %{size_download} %{time_starttransfer} %{time_total}', `${url}/bytes?n=${bytes}`], { timeoutMs: 70_000 }));
  const [code, size, tStart, tTotal] = m.out.stdout.trim().split(' ').map(Number);
  const secs = tTotal - tStart;
  const ok = code === 200 && size === bytes;
  return {
    ok,
    // curl's exit status: 28 = stalled below the speed limit or past --max-time.
    curlExit: m.out.code,
    bytes: size,
    seconds: round(secs, 3),
    mbitPerS: ok && secs > 0 ? round((size * 8) / secs / 1e6, 0) : null,
    // The forwarder's CPU over the whole request (generation time included: it idles then).
    lbCpuS: m.cpu ? round(m.cpu.run, 3) : null,
    lbNsPerKB: m.cpu && ok ? Math.round((m.cpu.run * 1e9) / (size / 1024)) : null,
    machineBusyCores: round(m.machine.busyCores, 2),
  };
}
