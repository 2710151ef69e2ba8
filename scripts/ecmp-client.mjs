#!/usr/bin/env node
// Client for scripts/ecmp-lab and test/lab/ecmp-*.test.ts: HTTP/1.1 keep-alive connections to
// the VIP (served by scripts/lab-server.mjs, whose GET / answers "<name>\n"), each from its
// own source port, so the router's L4 hash spreads them over the directors. Plain Node ESM.
//
//   node scripts/ecmp-client.mjs spread --vip V [--port 80] --count N [--parallel P]
//        N short connections (one GET each); prints one JSON line per connection
//        {"lport":..,"server":"rs2"} or {"lport":..,"error":".."}.
//   node scripts/ecmp-client.mjs hold --vip V [--port 80] --count N --duration S
//        [--interval MS] [--timeout MS] [--ready-file F] [--stop-file F]
//        N long-lived connections; each sends GET / every MS (default 200) for S seconds,
//        then closes. Once all are established the ready file gets their source ports.
//        The run ends early, after every connection's request in flight, when the stop
//        file appears. At the end one JSON object: per connection its source port, the
//        server(s) that answered, requests answered, and the first error (a reset, a
//        request unanswered for --timeout ms (default 15000), or an answer from another
//        server than the first: the flow landed on a server that had no socket for it).
import net from 'node:net';
import fs from 'node:fs';

function parseArgs(argv) {
  const o = { mode: argv[0], vip: '', port: 80, count: 1, parallel: 16, duration: 10, interval: 200, timeout: 15000, readyFile: '', stopFile: '' };
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i], v = argv[i + 1];
    if (v === undefined) throw new Error(`missing value for ${k}`);
    const key = { '--vip': 'vip', '--port': 'port', '--count': 'count', '--parallel': 'parallel', '--duration': 'duration', '--interval': 'interval', '--timeout': 'timeout', '--ready-file': 'readyFile', '--stop-file': 'stopFile' }[k];
    if (!key) throw new Error(`unknown option ${k}`);
    o[key] = typeof o[key] === 'number' ? Number(v) : v;
  }
  if (!o.vip || (o.mode !== 'spread' && o.mode !== 'hold')) throw new Error('usage: ecmp-client.mjs spread|hold --vip V ...');
  return o;
}

/** One keep-alive HTTP connection: get() sends GET / and resolves with the body's first line. */
function connect(vip, port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: vip, port });
    let buf = '';
    let waiting = null;
    let failed = null;
    const fail = (err) => {
      if (failed) return;
      failed = err;
      if (waiting) { clearTimeout(waiting.timer); waiting.reject(err); waiting = null; }
    };
    sock.setEncoding('latin1');
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      buf += d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0 || !waiting) return;
      const len = Number(/content-length:\s*(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const body = buf.slice(end + 4, end + 4 + len);
      buf = buf.slice(end + 4 + len);
      const w = waiting;
      waiting = null;
      clearTimeout(w.timer);
      w.resolve(body.trim());
    });
    sock.on('error', (e) => fail(e.code ?? e.message));
    sock.on('close', () => fail('closed by peer'));
    const conn = {
      lport: 0,
      get() {
        if (failed) return Promise.reject(failed);
        return new Promise((res, rej) => {
          waiting = { resolve: res, reject: rej, timer: setTimeout(() => fail(`no answer in ${timeoutMs} ms`), timeoutMs) };
          sock.write('GET / HTTP/1.1\r\nHost: vip\r\nConnection: keep-alive\r\n\r\n');
        });
      },
      // A failed connection is destroyed: a FIN into a dead path would keep the process alive.
      close() { sock.removeAllListeners('close'); if (failed) sock.destroy(); else sock.end(); },
    };
    const t = setTimeout(() => { sock.destroy(); reject(new Error('connect timeout')); }, timeoutMs);
    sock.once('connect', () => { clearTimeout(t); conn.lport = sock.localPort; resolve(conn); });
    sock.once('error', (e) => { clearTimeout(t); reject(e); });
  });
}

async function spread(o) {
  let next = 0;
  const worker = async () => {
    while (next < o.count) {
      next++;
      try {
        const c = await connect(o.vip, o.port, o.timeout);
        const server = await c.get();
        c.close();
        process.stdout.write(JSON.stringify({ lport: c.lport, server }) + '\n');
      } catch (e) {
        process.stdout.write(JSON.stringify({ error: String(e.message ?? e) }) + '\n');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel, o.count) }, worker));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function hold(o) {
  const conns = [];
  for (let i = 0; i < o.count; i++) conns.push(await connect(o.vip, o.port, o.timeout));
  if (o.readyFile) fs.writeFileSync(o.readyFile, conns.map((c) => c.lport).join('\n') + '\n');
  const until = Date.now() + o.duration * 1000;
  const stopped = () => Date.now() >= until || (o.stopFile !== '' && fs.existsSync(o.stopFile));
  const results = await Promise.all(conns.map(async (c, i) => {
    const r = { lport: c.lport, servers: [], answered: 0, error: null };
    await sleep((o.interval * i) / o.count); // spread the requests over the interval
    while (!stopped()) {
      try {
        const s = await c.get();
        if (!r.servers.includes(s)) r.servers.push(s);
        r.answered++;
        if (r.servers.length > 1) { r.error = `answered by ${r.servers.join(' then ')}`; break; }
      } catch (e) {
        r.error = String(e);
        break;
      }
      await sleep(o.interval);
    }
    c.close();
    return r;
  }));
  const ok = results.filter((r) => r.error === null).length;
  // Exit once written: closed connections still in FIN_WAIT must not hold the process.
  process.stdout.write(JSON.stringify({ count: results.length, ok, results }) + '\n', () => process.exit(0));
}

const o = parseArgs(process.argv.slice(2));
await (o.mode === 'spread' ? spread(o) : hold(o));
