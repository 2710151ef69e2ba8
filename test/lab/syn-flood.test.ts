/**
 * SYN flood and a full table (issue 15), on the one-arm NAT lab with real clients:
 * 20 keep-alive HTTP clients (wrk -c 20) and one 50 MB download (curl, checked by SHA-256)
 * run while trafgen in the router floods the VIP with SYNs from random spoofed sources at
 * the highest rate it reaches (bounded: 12 s and 4 M packets).
 *
 * 1. Default table (1 M entries), the IPVS hardening set in automatic mode (drop_entry 1,
 *    drop_packet 1, secure_tcp 1): the share of wrk requests served is printed against the
 *    99 % target and asserted above a floor (the flood and the balancer share 2 cores, so
 *    latency suffers, but no established flow may break); the download completes intact.
 * 2. --max-conns 2048 (the flood fills it in a fraction of a second), secure_tcp 3, and
 *    drop_entry 1 set at run time with `lb sysctl -w net.ipv4.vs.drop_entry=1`:
 *    established flows lose nothing (no wrk error, every response 2xx, the download
 *    intact), new connections during the flood are refused and counted as table_full,
 *    and new connections succeed again once the flood stops.
 * Each run prints the flood's pps, the table's peak fill and the drops by reason.
 */
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lab, labReady, lbCli } from '../helpers/lab.js';
import { dropsByReason, parseMetrics, parseWrk, synFlood, synFloodConfig, trafgenAvailable, type WrkResult } from '../helpers/syn-flood.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const DOWNLOAD = 50 * 1024 * 1024;
const FLOOD_S = 12;
const FLOOD_MAX = 4_000_000;
/** Floor asserted for run 1; the target (99 %) is printed beside the figure. */
const SERVED_FLOOR = 0.95;

const ready = labReady(t);
if (ready && !trafgenAvailable()) t.fail('trafgen not found (Debian netsniff-ng; scripts/setup installs it)');
else if (ready) {
  t.setTimeout(300_000);
  const lab = await Lab.up('onearm');
  const work = mkdtempSync(path.join(tmpdir(), 'tslb-synflood-'));
  t.teardown(async () => {
    await lab.down();
    rmSync(work, { recursive: true, force: true });
  });
  const s = lab.state;
  const vip = s.LAB_VIP!;
  const cfg = synFloodConfig(s.LAB_ROUTER_MAC!, s.LAB_DIR_MAC!, vip, 80);
  const base = ['--vip', vip, '--port', '80', '--rs', `${s.LAB_RS1_IP}:80`, '--rs', `${s.LAB_RS2_IP}:80`, '--iface', 'eth0', '--metrics', '127.0.0.1:9100'];
  const metrics = async () => parseMetrics(await lab.exec('director', ['curl', '-s', '--max-time', '3', 'http://127.0.0.1:9100/metrics']));

  /** The keep-alive clients, the download, the flood, and the table sampled once a second. */
  async function underFlood(tag: string, during?: () => Promise<void>) {
    const hdr = path.join(work, `${tag}.headers`);
    const wrk = lab.exec('client', ['wrk', '-t', '2', '-c', '20', '-d', `${FLOOD_S + 8}s`, '--timeout', '5s', `http://${vip}/`], 60_000);
    const download = lab.exec('client', ['sh', '-c',
      `curl -sS --max-time 90 --limit-rate 3M -D ${hdr} -o - 'http://${vip}/bytes?n=${DOWNLOAD}' | sha256sum`], 100_000);
    await sleep(3000);
    const before = await metrics();
    let peak = before.get('tslb_connections') ?? 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const m = await metrics().catch(() => null);
        if (m) peak = Math.max(peak, m.get('tslb_connections') ?? 0);
        await sleep(1000);
      }
    })();
    const floodP = synFlood(lab.ns('router'), 'eth0', cfg, FLOOD_S, FLOOD_MAX);
    if (during) await during();
    const flood = await floodP;
    const after = await metrics();
    // SIGUSR1: the balancer prints its counters, among them what the kernel dropped at the ring.
    const mark = lab.lbLog.length;
    (lab as unknown as { lbProc: ChildProcess }).lbProc.kill('SIGUSR1');
    await lab.logMatches(/dropped by the kernel/, 3000);
    const ringDrops = [...lab.lbLog.slice(mark).matchAll(/(\d+) dropped by the kernel/g)].reduce((n, m) => n + Number(m[1]), 0);
    sampling = false;
    await sampler;
    const w = parseWrk(await wrk);
    const sum = (await download).trim().split(/\s+/)[0];
    const headers = readFileSync(hdr, 'utf8');
    const rx = (after.get('tslb_frames_total{direction="rx"}') ?? 0) - (before.get('tslb_frames_total{direction="rx"}') ?? 0);
    return { flood, w, sum, headers, peak, capacity: after.get('tslb_connection_table_capacity') ?? 0, drops: dropsByReason(after), rx, after, ringDrops };
  }

  function report(t: { comment: (s: string) => void }, r: Awaited<ReturnType<typeof underFlood>>, w: WrkResult) {
    t.comment(`flood: ${r.flood.sent} SYNs in ${r.flood.seconds.toFixed(1)} s = ${Math.round(r.flood.pps)} pps sent; the engine received ${Math.round(r.rx / r.flood.seconds)} frames/s (SYNs and the servers' SYN-ACKs)`);
    t.comment(`wrk (20 keep-alive clients): ${w.requests} requests in ${w.seconds} s, served ${w.served} = ${(100 * w.share).toFixed(2)} % (target >= 99 %); errors ${JSON.stringify(w.errors)}, non-2xx ${w.non2xx}`);
    t.comment(`table: peak ${r.peak} of ${r.capacity} entries (${(100 * r.peak / r.capacity).toFixed(1)} %); drops by reason: ${JSON.stringify(r.drops)}; dropped by the kernel at the receive ring (ring full): ${r.ringDrops}`);
    t.comment(`defences: drop_entry mode ${r.after.get('tslb_defense_mode{strategy="drop_entry"}')}, secure_tcp ${r.after.get('tslb_defense_mode{strategy="secure_tcp"}')}, entries dropped ${r.after.get('tslb_defense_entries_dropped_total')}`);
  }

  await t.test('1: SYN flood on the default table, 20 keep-alive clients and a 50 MB download', async (t) => {
    await lab.startLb([...base, '--drop-entry', '1', '--drop-packet', '1', '--secure-tcp', '1']);
    const r = await underFlood('run1');
    report(t, r, r.w);
    t.ok(r.flood.sent > 10_000, `the flood ran (${r.flood.sent} SYNs)`);
    t.ok(r.peak > 1000, 'spoofed entries filled the table during the flood');
    t.ok(r.w.share >= SERVED_FLOOR, `share served ${(100 * r.w.share).toFixed(2)} % >= floor ${100 * SERVED_FLOOR} %`);
    t.equal(r.w.errors.connect + r.w.errors.read + r.w.errors.write, 0, 'no keep-alive connection broke');
    const want = /x-content-sha256:\s*([0-9a-f]{64})/i.exec(r.headers)?.[1];
    t.match(r.headers, /^HTTP\/1\.1 200/m);
    t.equal(r.sum, want, 'the 50 MB download arrived whole (SHA-256 as the server computed it)');
    t.equal(await lab.stopLb(), 0);
  });

  await t.test('2: --max-conns 2048 filled by the flood: established flows lose nothing, new ones refused and counted, recovery after', async (t) => {
    lab.lbLog = ''; // startLb waits for this balancer's "running;", not the first one's
    await lab.startLb([...base, '--max-conns', '2048', '--secure-tcp', '3']);
    // drop_entry through the control socket, as `sysctl -w net.ipv4.vs.drop_entry=1` would be.
    const set = await lbCli(lab.socket, ['sysctl', '-w', 'net.ipv4.vs.drop_entry=1']);
    t.same([set.status, set.stdout], [0, 'net.ipv4.vs.drop_entry = 1\n'], `lb sysctl -w: ${set.stderr}`);
    let tries = 0, refused = 0;
    const r = await underFlood('run2', async () => {
      await sleep(3000);
      for (let i = 0; i < 4; i++) {
        tries++;
        const ok = await lab.curl(`http://${vip}/`, ['--max-time', '1']).then((x) => /^rs\d/.test(x)).catch(() => false);
        if (!ok) refused++;
        await sleep(500);
      }
    });
    report(t, r, r.w);
    t.comment(`new connections tried during the flood: ${tries}, failed: ${refused}`);
    t.equal(r.peak, 2048, 'the table was full');
    t.ok((r.drops.table_full ?? 0) > 1000, `new connections refused and counted: table_full ${r.drops.table_full}`);
    t.ok(refused >= 1, 'a new client connection during the flood was refused');
    t.equal(r.after.get('tslb_defense_mode{strategy="drop_entry"}'), 2, 'drop_entry engaged: mode 1 became 2 with the table short of room');
    t.ok((r.after.get('tslb_defense_entries_dropped_total') ?? 0) > 0, 'and dropped entries');
    // wrk's "timeout" counts requests slower than --timeout (5 s) and is not a loss: the
    // connection stays and the response is counted when it comes (retransmissions after
    // ring drops). A broken connection shows as read/write errors.
    t.same([r.w.errors.connect, r.w.errors.read, r.w.errors.write], [0, 0, 0], 'the 20 established keep-alive connections: none broke');
    t.comment(`requests slower than 5 s: ${r.w.errors.timeout}`);
    t.equal(r.w.non2xx, 0, 'every response 2xx');
    t.ok(r.w.requests > 100, `${r.w.requests} requests served`);
    const want = /x-content-sha256:\s*([0-9a-f]{64})/i.exec(r.headers)?.[1];
    t.equal(r.sum, want, 'the 50 MB download arrived whole');

    const stopped = Date.now();
    let back = -1;
    while (Date.now() - stopped < 45_000) {
      const ok = await lab.curl(`http://${vip}/`, ['--max-time', '1']).then((x) => /^rs\d/.test(x)).catch(() => false);
      if (ok) { back = Date.now() - stopped; break; }
      await sleep(250);
    }
    t.comment(`new connections served again ${back} ms after the flood stopped`);
    t.ok(back >= 0, 'service recovers once the flood stops (within 45 s)');
    let okAfter = 0;
    for (let i = 0; i < 10; i++) if (/^rs\d/.test(await lab.curl(`http://${vip}/`, ['--max-time', '2']).catch(() => ''))) okAfter++;
    t.equal(okAfter, 10, '10 of 10 new requests served after recovery');
    t.equal(await lab.stopLb(), 0);
  });

  await t.test('teardown leaves nothing', async (t) => {
    await lab.down();
    t.same(lab.namespacesLeft(), []);
  });
}
