/**
 * The control socket under bad clients (issue 15 item 3): a real ControlServer on a Unix
 * socket in a temporary directory, answering with a ControlSession on a real engine (what
 * ControlPlane.handle does). Garbage, requests of the wrong shape, clients that abort, a
 * 10 MB request without an end, clients that connect and never send, more connections than
 * the cap, and 100 clients at once doing a valid listing: the server must keep answering,
 * never crash, refuse what is too large with an error and close the connection, and keep its
 * buffers bounded. Deterministic (seeded PRNG) where it is random.
 */
import t from 'tap';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Engine } from '../../src/dataplane/engine.js';
import { ServiceRegistry } from '../../src/control/service-registry.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { parseMac } from '../../src/packet/addr.js';
import { ControlSession } from '../../src/control/session.js';
import { RateEstimator } from '../../src/control/estimator.js';
import { ControlPlane } from '../../src/control/plane.js';
import { ControlServer, parseRequest, request, type ControlRequest, type ControlServerOptions } from '../../src/control/server.js';
import { IP, MAC, ip } from '../helpers/lab-engine.js';
import { prng, randomBytes } from '../helpers/prng.js';

const SEED = Number(process.env.TSLB_FUZZ_SEED ?? 0x5eed5);
const GARBAGE = Number(process.env.TSLB_FUZZ_CONNECTIONS ?? 400);

const dir = mkdtempSync(path.join(tmpdir(), 'tslb-ctl-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let sockets = 0;

function session(): ControlSession {
  const engine = new Engine({ ifaces: [{ name: 'eth0', mac: parseMac(MAC.lb)!, mtu: 1500, ip: ip(IP.lb) }], maxConns: 1024 });
  const routing = new RoutingTable([
    { dst: ip('10.0.0.0'), prefixLen: 24, iface: 0, gateway: 0 },
    { dst: 0, prefixLen: 0, iface: 0, gateway: ip(IP.router) },
  ]);
  const s = new ControlSession(new ServiceRegistry(engine, routing), new RateEstimator(), {}, () => undefined, () => 1000);
  for (const line of ['-A -t 10.0.0.127:80 -s rr', '-a -t 10.0.0.127:80 -r 10.0.0.185:80 -m -w 1', '-a -t 10.0.0.127:80 -r 10.0.0.86:80 -m -w 1']) {
    const out = s.run(line.split(' '));
    if (out.status !== 0) throw new Error(out.stderr);
  }
  return s;
}

/** A server whose handler is what ControlPlane.handle does with a session. */
async function start(opts: ControlServerOptions = {}): Promise<{ srv: ControlServer; s: ControlSession }> {
  const s = session();
  const handle = (req: ControlRequest) => (req.reload ? { stdout: '', stderr: 'lb: nothing to reload\n', status: 1 } : s.run(req.argv ?? [], req.stdin ?? ''));
  const srv = await ControlServer.listen(path.join(dir, `c${sockets++}.sock`), handle, opts);
  return { srv, s };
}

interface RawResult {
  data: string;
  /** The error the client socket saw, if any (EPIPE, ECONNRESET). */
  error?: string;
  ms: number;
}

/** A raw client: `act` writes (or not); everything the server sends is collected until close. */
function raw(p: string, act: (c: net.Socket) => void, maxMs = 20_000): Promise<RawResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const c = net.connect(p);
    let data = '';
    let error: string | undefined;
    const timer = setTimeout(() => c.destroy(), maxMs);
    c.setEncoding('utf8');
    c.on('data', (d: string) => (data += d));
    c.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    c.on('close', () => {
      clearTimeout(timer);
      resolve({ data, ms: performance.now() - t0, ...(error !== undefined ? { error } : {}) });
    });
    c.on('connect', () => act(c));
  });
}

const send = (text: string | Buffer) => (c: net.Socket) => c.end(text);

function answer(r: RawResult): { stdout: string; stderr: string; status: number } | undefined {
  try {
    const o = JSON.parse(r.data) as { stdout: string; stderr: string; status: number };
    return typeof o.stdout === 'string' && typeof o.stderr === 'string' && Number.isInteger(o.status) ? o : undefined;
  } catch {
    return undefined;
  }
}

const LIST = JSON.stringify({ argv: ['-L', '-n'] });

t.test('request shapes: only a JSON object with string argv/stdin and boolean flags', async (t) => {
  t.same(parseRequest('{"argv":["-L","-n"],"stdin":"","reload":false,"ha":true,"extra":1}'), { argv: ['-L', '-n'], stdin: '', reload: false, ha: true });
  for (const [text, why] of [
    ['', /not JSON/], ['{', /not JSON/], ['null', /not a JSON object/], ['[]', /not a JSON object/], ['"x"', /not a JSON object/], ['5', /not a JSON object/],
    ['{"argv":"-L"}', /argv must be/], ['{"argv":[1]}', /argv must be/], ['{"argv":[null]}', /argv must be/], ['{"stdin":{}}', /stdin must be/],
    ['{"reload":"yes"}', /reload must be/], ['{"ha":1}', /ha must be/], [`${'['.repeat(100_000)}${']'.repeat(100_000)}`, /not a JSON object/],
  ] as const) {
    t.match(parseRequest(text), why, text.slice(0, 40));
  }
});

t.test('100 clients at once doing a valid listing all get the listing', async (t) => {
  const { srv, s } = await start();
  t.teardown(() => srv.close());
  const expected = s.run(['-L', '-n']);
  const results = await Promise.all(Array.from({ length: 100 }, () => raw(srv.path, send(LIST))));
  t.equal(results.filter((r) => answer(r)?.stdout === expected.stdout && answer(r)?.status === 0).length, 100, 'every one answered with the listing');
  const viaClient = await Promise.all(Array.from({ length: 100 }, () => request(srv.path, { argv: ['-L', '-n'] })));
  t.ok(viaClient.every((o) => o.stdout === expected.stdout), 'and through request(), as `lb ipvsadm` sends it');
  t.match(srv.stats, { connections: 200, answered: 200, aborted: 0, dropped: 0, buffered: 0 });
});

t.test(`${GARBAGE} garbage clients, interleaved with valid ones: every one answered or closed, the server goes on`, async (t) => {
  const { srv, s } = await start({ requestTimeoutMs: 2000 });
  t.teardown(() => srv.close());
  const rand = prng(SEED);
  const expected = s.run(['-L', '-n']).stdout;
  const shapes = [
    'null', '[]', '"-L"', '5', 'true', '{"argv":"-L -n"}', '{"argv":[1,2]}', '{"argv":["-L",null]}', '{"argv":["-L"],"stdin":5}', '{"reload":"yes"}',
    '{"ha":{}}', '{"argv":[], "stdin": ""}', '{"argv":["-R"],"stdin":"-A -t 10.0.0.1:80 -s rr\\n-D -t 10.0.0.1:80\\n"}', '{"argv":["-L","-n"]}garbage',
    '{"__proto__":{"argv":["-C"]}}', '{"constructor":{"prototype":{"argv":["-C"]}}}', `{"argv":[${Array(20_000).fill('"-n"').join(',')}]}`,
    `${'['.repeat(50_000)}${']'.repeat(50_000)}`, '\u0000\u0000', '\ufeff{"argv":["-L"]}', '{"argv":["-L","-n"]}\n{"argv":["-C"]}',
  ];
  const kinds = { answered: 0, errors: 0, aborted: 0 };
  const problems: string[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < GARBAGE; i++) {
    const r = rand();
    let act: (c: net.Socket) => void;
    let what: string;
    if (r < 0.35) {
      const b = randomBytes(rand, Math.floor(rand() * 4096));
      act = send(b);
      what = `random ${b.length} bytes`;
    } else if (r < 0.7) {
      const text = shapes[Math.floor(rand() * shapes.length)]!;
      act = send(text);
      what = `shape ${text.slice(0, 60)}`;
    } else if (r < 0.8) {
      // Aborts: half a request, then the connection is destroyed (or reset) before the end.
      const b = LIST.slice(0, Math.floor(rand() * LIST.length));
      act = (c) => c.write(b, () => c.destroy());
      what = 'abort';
    } else {
      act = send(LIST);
      what = 'valid listing';
    }
    pending.push(raw(srv.path, act).then((res) => {
      if (what === 'abort') {
        kinds.aborted++;
        return;
      }
      const a = answer(res);
      if (a === undefined) {
        problems.push(`#${i} ${what}: no answer (${res.error ?? 'closed'}, ${JSON.stringify(res.data.slice(0, 100))})`);
        return;
      }
      if (what === 'valid listing' && (a.status !== 0 || a.stdout !== expected)) problems.push(`#${i} valid listing answered ${JSON.stringify(a)}`);
      if (a.status === 0) kinds.answered++;
      else kinds.errors++;
    }));
    // A few at a time, so garbage and valid clients overlap.
    if (pending.length >= 16) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  t.comment(`${GARBAGE} connections: ${JSON.stringify(kinds)}; server stats ${JSON.stringify(srv.stats)}`);
  t.same(problems, [], 'every non-aborted client got a JSON answer; the valid ones the listing');
  t.ok(kinds.errors > 0 && kinds.answered > 0 && kinds.aborted > 0, 'errors, answers and aborts all happened');
  const st = srv.stats;
  t.equal(st.answered + st.tooLarge + st.busy + st.timedOut + st.badRequest + st.aborted, st.connections, 'every connection ends in one counted outcome');
  t.ok(st.badRequest > 0, 'bad requests counted');
  t.equal(st.buffered, 0, 'nothing left buffered');
  const after = await request(srv.path, { argv: ['-L', '-n'] });
  t.equal(after.stdout, session().run(['-L', '-n']).stdout, 'still answering afterwards, and __proto__ or a second request did not flush the table');
});

t.test('a 10 MB request without an end is refused with an error and closed, memory bounded', async (t) => {
  const { srv, s } = await start();
  t.teardown(() => srv.close());
  const big = Buffer.alloc(10 * 1024 * 1024, 'x'); // not JSON, no newline, no end of request
  const heapBefore = process.memoryUsage().heapUsed;
  const [r, listing] = await Promise.all([
    raw(srv.path, (c) => c.write(big)),
    // Another client is answered meanwhile.
    new Promise<RawResult>((resolve) => setTimeout(() => resolve(raw(srv.path, send(LIST))), 20)),
  ]);
  const a = answer(r);
  t.match(a, { status: 1, stderr: /^lb: request larger than 4194304 bytes refused\n$/ }, 'an error answer');
  t.ok(r.ms < 10_000, `and the connection closed (${r.ms.toFixed(0)} ms)`);
  t.equal(answer(listing)?.stdout, s.run(['-L', '-n']).stdout, 'another client was answered meanwhile');
  t.ok(srv.stats.peakBuffered <= 4 * 1024 * 1024 + 256 * 1024, `at most the limit buffered (peak ${srv.stats.peakBuffered})`);
  t.equal(srv.stats.tooLarge, 1);
  t.equal(srv.stats.buffered, 0);
  t.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024, 'heap did not grow by the request size');
  // The same through request(): the answer is shown, not EPIPE.
  const out = await request(srv.path, { argv: ['-R'], stdin: '-C\n'.repeat(2_500_000) });
  t.match(out, { status: 1, stderr: /request larger than/ }, 'request() shows the refusal');
});

t.test('a client that connects and never sends blocks nobody and is timed out', async (t) => {
  const { srv, s } = await start({ requestTimeoutMs: 400 });
  t.teardown(() => srv.close());
  const silent = raw(srv.path, () => undefined);
  const halfway = raw(srv.path, (c) => c.write('{"argv":["-L"'));
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  const meanwhile = await Promise.all(Array.from({ length: 20 }, () => request(srv.path, { argv: ['-L', '-n'] })));
  t.ok(meanwhile.every((o) => o.stdout === s.run(['-L', '-n']).stdout), 'others answered while the silent ones are connected');
  t.ok(performance.now() - t0 < 400, 'before the silent clients time out');
  for (const r of await Promise.all([silent, halfway])) {
    t.match(answer(r), { status: 1, stderr: /no complete request within 0.4 s/ }, 'the silent client gets an error');
    t.ok(r.ms >= 350 && r.ms < 5000, `and is disconnected after the timeout (${r.ms.toFixed(0)} ms)`);
  }
  t.equal(srv.stats.timedOut, 2);
});

t.test('the default request timeout is bounded', async (t) => {
  const { srv } = await start({});
  t.teardown(() => srv.close());
  const r = await raw(srv.path, () => undefined, 30_000);
  t.match(answer(r), { status: 1, stderr: /no complete request within 10 s/ });
  t.ok(r.ms >= 9_900 && r.ms < 15_000, `disconnected after ~10 s (${r.ms.toFixed(0)} ms)`);
});

t.test('buffers of all connections together are bounded: past the budget a request is refused as busy', async (t) => {
  const { srv } = await start({ maxRequestBytes: 1024 * 1024, maxBufferedBytes: 2 * 1024 * 1024 });
  t.teardown(() => srv.close());
  const chunk = Buffer.alloc(900 * 1024, ' ');
  const holders: net.Socket[] = [];
  const results = Array.from({ length: 4 }, () => raw(srv.path, (c) => {
    holders.push(c);
    c.write(chunk);
  }));
  await new Promise((r) => setTimeout(r, 300));
  t.ok(srv.stats.buffered <= 2 * 1024 * 1024, `buffered ${srv.stats.buffered} within the budget`);
  for (const c of holders) c.end('{"argv":["-L","-n"]}');
  const answers = (await Promise.all(results)).map(answer);
  t.equal(answers.filter((a) => a?.status === 1 && /busy/.test(a.stderr)).length, 2, 'two refused as busy');
  t.equal(answers.filter((a) => a?.status === 0).length, 2, 'two read in full and answered (leading blanks are valid JSON)');
  t.equal(srv.stats.buffered, 0);
  t.equal((await request(srv.path, { argv: ['-L', '-n'] })).status, 0, 'still answering');
});

t.test('more connections than the cap are closed on arrival, and counted', async (t) => {
  const { srv } = await start({ maxConnections: 8, requestTimeoutMs: 300 });
  t.teardown(() => srv.close());
  const results = await Promise.all(Array.from({ length: 20 }, () => raw(srv.path, () => undefined)));
  t.equal(results.filter((r) => answer(r)?.stderr.includes('no complete request')).length, 8, 'the first 8 held until the timeout');
  t.equal(srv.stats.dropped, 12, 'the other 12 dropped');
  t.equal((await request(srv.path, { argv: ['-L', '-n'] })).status, 0, 'still answering');
});

t.test('ControlPlane serves its session on the socket and survives garbage', async (t) => {
  const engine = new Engine({ ifaces: [{ name: 'eth0', mac: parseMac(MAC.lb)!, mtu: 1500, ip: ip(IP.lb) }], maxConns: 64 });
  const registry = new ServiceRegistry(engine, new RoutingTable([{ dst: ip('10.0.0.0'), prefixLen: 24, iface: 0, gateway: 0 }]));
  const sock = path.join(dir, 'plane.sock');
  const plane = new ControlPlane(registry, { rulesFile: null, saveOnExit: null, config: null, socket: sock }, () => undefined, () => undefined);
  await plane.start();
  t.teardown(() => plane.stop());
  t.equal((await request(sock, { argv: ['-A', '-t', '10.0.0.127:80', '-s', 'rr'] })).status, 0);
  for (const g of ['{"argv":5}', 'nonsense', '{"argv":["-L"],"stdin":[]}']) t.match(answer(await raw(sock, send(g))), { status: 1, stderr: /^lb: bad request/ });
  t.match(await request(sock, { argv: ['-L', '-n'] }), { status: 0, stdout: /TCP {2}10\.0\.0\.127:80 rr/ });
});
