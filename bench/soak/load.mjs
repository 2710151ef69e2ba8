#!/usr/bin/env node
// Mixed load for scripts/soak, run in the lab's client namespace (plain Node, no build):
// new connections (agent off: one TCP connection per GET /), long flows (keep-alive
// connections downloading /bytes?n=N again and again, length checked), and UDP echo
// datagrams to VIP:9000 (one in flight per loop, 1 s to answer). Bounded by --seconds.
// Every --interval seconds prints one JSON line of counts so far; a last line with "end".
//
//   node bench/soak/load.mjs --vip 10.0.0.127 --seconds 600 [--interval 10] [--new 4] [--long 2] [--udp 2]
//        [--long-bytes 2000000] [--long-rate 1000000]
import http from 'node:http';
import dgram from 'node:dgram';

const a = Object.fromEntries(process.argv.slice(2).reduce((acc, x, i, v) => (x.startsWith('--') ? [...acc, [x.slice(2), v[i + 1]]] : acc), []));
const vip = a.vip;
const seconds = Number(a.seconds ?? 60);
const interval = Number(a.interval ?? 10);
const nNew = Number(a.new ?? 4), nLong = Number(a.long ?? 2), nUdp = Number(a.udp ?? 2);
const LONG_BYTES = Number(a['long-bytes'] ?? 2_000_000);
/** Long flows read at most this fast (bytes/s): the soak is not a throughput test (docs/reliability.md). */
const LONG_RATE = Number(a['long-rate'] ?? 1_000_000);
const start = Date.now();
const until = start + seconds * 1000;
const c = { newOk: 0, newFail: 0, longOk: 0, longFail: 0, udpOk: 0, udpLost: 0, failures: [] };
const fail = (kind, why) => {
  c[`${kind}Fail`] !== undefined ? c[`${kind}Fail`]++ : c.udpLost++;
  if (c.failures.length < 50) c.failures.push({ t: ((Date.now() - start) / 1000).toFixed(1), kind, why: String(why).slice(0, 80) });
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** GET; with `rate` (bytes/s) the body is read no faster (paused reads: TCP's window throttles the server). */
function get(path, agent, timeoutMs, rate = 0) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: vip, port: 80, path, agent, timeout: timeoutMs }, (res) => {
      let n = 0;
      const t0 = Date.now();
      res.on('data', (d) => {
        n += d.length;
        const ahead = rate > 0 ? (n / rate) * 1000 - (Date.now() - t0) : 0;
        if (ahead > 20) {
          res.pause();
          setTimeout(() => res.resume(), ahead);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode, n }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function newConns() {
  while (Date.now() < until) {
    try {
      const r = await get('/', false, 3000);
      if (r.status === 200 && r.n > 0) c.newOk++;
      else fail('new', `status ${r.status}`);
    } catch (e) { fail('new', e.message); }
    await sleep(20);
  }
}

async function longFlow() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  while (Date.now() < until) {
    try {
      const r = await get(`/bytes?n=${LONG_BYTES}`, agent, 20_000, LONG_RATE);
      if (r.status === 200 && r.n === LONG_BYTES) c.longOk++;
      else fail('long', `status ${r.status} ${r.n} bytes`);
    } catch (e) { fail('long', e.message); }
    await sleep(100);
  }
  agent.destroy();
}

async function udp(k) {
  const s = dgram.createSocket('udp4');
  let seq = 0;
  let waiting = null;
  s.on('message', (m) => { if (waiting && m.toString().endsWith(`:u${k}-${waiting.seq}`)) { waiting.done(true); } });
  while (Date.now() < until) {
    const my = ++seq;
    const ok = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 1000);
      waiting = { seq: my, done: (v) => { clearTimeout(timer); resolve(v); } };
      s.send(`u${k}-${my}`, 9000, vip);
    });
    waiting = null;
    if (ok) c.udpOk++;
    else fail('udp', `datagram ${my} unanswered`);
    await sleep(50);
  }
  s.close();
}

const line = (extra = {}) => {
  const { failures, ...counts } = c;
  console.log(JSON.stringify({ t: Math.round((Date.now() - start) / 1000), ...counts, ...extra }));
};
const ticker = setInterval(() => line(), interval * 1000);
await Promise.all([
  ...Array.from({ length: nNew }, newConns),
  ...Array.from({ length: nLong }, longFlow),
  ...Array.from({ length: nUdp }, (_, k) => udp(k)),
]);
clearInterval(ticker);
line({ end: true, failures: c.failures });
