import t from 'tap';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tcpProbe } from '../../src/health/tcp.js';
import { buildHttpRequest, extractStatusCode, httpProbe, parseStatusCodes } from '../../src/health/http.js';
import { buildDnsQuery, dnsProbe } from '../../src/health/dns.js';
import { miscProbe } from '../../src/health/misc.js';
import { splitCommand } from '../../src/health/script.js';

const LO = '127.0.0.1';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, LO, () => resolve((server.address() as AddressInfo).port)));
}
function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

t.test('TCP_CHECK: open listener ok, closed listener fails, abort fails', async (t) => {
  const server = net.createServer((s) => s.destroy());
  const port = await listen(server);
  const ok = await tcpProbe({ target: { host: LO, port, bindAddress: LO }, timeoutMs: 1000 });
  t.equal(ok.ok, true, ok.detail);
  const ac = new AbortController();
  ac.abort();
  t.equal((await tcpProbe({ target: { host: LO, port }, timeoutMs: 1000, signal: ac.signal })).ok, false);
  await close(server);
  const down = await tcpProbe({ target: { host: LO, port }, timeoutMs: 1000 });
  t.equal(down.ok, false);
  t.match(down.detail, /failed/);
});

t.test('HTTP_GET against a node http server', async (t) => {
  const seen: Array<{ url: string; host?: string; connection?: string; line: string }> = [];
  const server = http.createServer((req, res) => {
    seen.push({
      url: req.url ?? '',
      line: `${req.method} ${req.url} HTTP/${req.httpVersion}`,
      ...(req.headers.host !== undefined ? { host: req.headers.host } : {}),
      ...(req.headers.connection !== undefined ? { connection: req.headers.connection } : {}),
    });
    const status = req.url === '/missing' ? 404 : req.url === '/moved' ? 302 : 200;
    res.writeHead(status, { 'Content-Type': 'text/plain', Connection: 'close' });
    res.end(req.url === '/other' ? 'other body' : 'hello world\n');
  });
  const port = await listen(server);
  const target = { host: LO, port };
  const base = { target, protocol: '1.0' as const, timeoutMs: 1000 };
  t.teardown(() => close(server));

  const ok = await httpProbe({ ...base, urls: [{ path: '/health' }] });
  t.equal(ok.ok, true, ok.detail);
  t.same(seen.at(-1), { url: '/health', line: 'GET /health HTTP/1.0', host: `${LO}:${port}` }, 'Host = ip:port without virtualhost');

  t.equal((await httpProbe({ ...base, urls: [{ path: '/missing' }] })).ok, false, '404 outside default 200-299');
  t.equal((await httpProbe({ ...base, urls: [{ path: '/moved' }] })).ok, false, '302 outside default 200-299');
  t.equal((await httpProbe({ ...base, urls: [{ path: '/moved', statusCodes: parseStatusCodes(['300-302']) }] })).ok, true);
  t.equal((await httpProbe({ ...base, urls: [{ path: '/missing', statusCodes: [[404, 404]] }] })).ok, true);

  const md5 = createHash('md5').update('hello world\n').digest('hex');
  t.equal((await httpProbe({ ...base, urls: [{ path: '/a', digest: md5 }] })).ok, true, 'digest of the body matches');
  t.equal((await httpProbe({ ...base, urls: [{ path: '/other', digest: md5 }] })).ok, false, 'digest mismatch fails');

  // Several urls: checked in turn, the first failure fails the check.
  seen.length = 0;
  t.equal((await httpProbe({ ...base, urls: [{ path: '/a' }, { path: '/missing' }, { path: '/b' }] })).ok, false);
  t.same(seen.map((s) => s.url), ['/a', '/missing']);
  t.equal((await httpProbe({ ...base, urls: [{ path: '/a' }, { path: '/b' }] })).ok, true);

  // virtualhost and http_protocol 1.1 (adds Connection: close)
  await httpProbe({ ...base, protocol: '1.1', virtualhost: 'www.example.org', urls: [{ path: '/v' }] });
  t.same(seen.at(-1), { url: '/v', line: 'GET /v HTTP/1.1', host: 'www.example.org', connection: 'close' });
  await httpProbe({ ...base, virtualhost: 'a.example', urls: [{ path: '/u', virtualhost: 'url.example' }] });
  t.equal(seen.at(-1)?.host, 'url.example', 'url virtualhost wins');
});

t.test('HTTP_GET: no data, silent server, refused', async (t) => {
  const silentSockets: net.Socket[] = [];
  const closer = net.createServer((s) => {
    s.resume();
    s.end();
  });
  const silent = net.createServer((s) => silentSockets.push(s));
  const pc = await listen(closer);
  const ps = await listen(silent);
  const noData = await httpProbe({ target: { host: LO, port: pc }, protocol: '1.0', timeoutMs: 1000, urls: [{ path: '/' }] });
  t.equal(noData.ok, false);
  t.match(noData.detail, /no data/);
  const slow = await httpProbe({ target: { host: LO, port: ps }, protocol: '1.0', timeoutMs: 200, urls: [{ path: '/' }] });
  t.equal(slow.ok, false);
  t.match(slow.detail, /timeout/);
  for (const s of silentSockets) s.destroy();
  await close(closer);
  await close(silent);
  const refused = await httpProbe({ target: { host: LO, port: pc }, protocol: '1.0', timeoutMs: 500, urls: [{ path: '/' }] });
  t.equal(refused.ok, false);
});

t.test('HTTP helpers follow keepalived formats', async (t) => {
  t.equal(
    buildHttpRequest('/x', '1.0C', { host: '::1', port: 8080 }),
    'GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: [::1]:8080\r\n\r\n',
  );
  t.equal(extractStatusCode('HTTP/1.1 204 No Content\r\n'), 204);
  t.equal(extractStatusCode('HTTP/1.1 2040 x\r\n'), 0);
  t.same(parseStatusCodes(['200', '301-302']), [[200, 200], [301, 302]]);
  t.throws(() => parseStatusCodes(['99']));
  t.throws(() => parseStatusCodes(['300-200']));
});

t.test('DNS query encoding (RFC 1035 §4.1)', async (t) => {
  const root = buildDnsQuery(0x1234, '', 'SOA');
  t.same([...root], [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1]);
  const named = buildDnsQuery(1, 'www.example.', 'AAAA');
  t.same([...named.subarray(12)], [3, 0x77, 0x77, 0x77, 7, ...Buffer.from('example'), 0, 0, 28, 0, 1]);
});

type DnsMode = 'ok' | 'rcode2' | 'wrong-id' | 'wrong-id-then-ok' | 'query-echo';

t.test('DNS_CHECK against a loopback UDP responder', async (t) => {
  let mode: DnsMode = 'ok';
  const queries: Buffer[] = [];
  const server = dgram.createSocket('udp4');
  const reply = (q: Buffer, id: number, flags: number): Buffer => {
    const r = Buffer.from(q);
    r.writeUInt16BE(id, 0);
    r.writeUInt16BE(flags, 2);
    return r;
  };
  server.on('message', (q, rinfo) => {
    queries.push(q);
    const id = q.readUInt16BE(0);
    const send = (b: Buffer): void => void server.send(b, rinfo.port, rinfo.address);
    if (mode === 'ok') send(reply(q, id, 0x8180));
    if (mode === 'rcode2') send(reply(q, id, 0x8182));
    if (mode === 'wrong-id') send(reply(q, (id + 1) & 0xffff, 0x8180));
    if (mode === 'wrong-id-then-ok') {
      send(reply(q, (id + 1) & 0xffff, 0x8182));
      setTimeout(() => send(reply(q, id, 0x8180)), 20);
    }
    if (mode === 'query-echo') send(reply(q, id, 0x0100));
  });
  await new Promise<void>((r) => server.bind(0, LO, () => r()));
  t.teardown(() => server.close());
  const port = server.address().port;
  const probe = (timeoutMs = 1000): ReturnType<typeof dnsProbe> =>
    dnsProbe({ target: { host: LO, port }, queryType: 'SOA', name: '', timeoutMs });

  const ok = await probe();
  t.equal(ok.ok, true, ok.detail);
  const q = queries.at(-1) as Buffer;
  t.equal(q.readUInt16BE(2), 0x0100, 'RD=1, everything else 0');
  t.equal(q.readUInt16BE(4), 1, 'QDCOUNT 1');

  mode = 'rcode2';
  const servfail = await probe();
  t.equal(servfail.ok, false);
  t.match(servfail.detail, /rcode = 2/);

  mode = 'wrong-id';
  const wrong = await probe(300);
  t.equal(wrong.ok, false);
  t.match(wrong.detail, /timeout/, 'a reply with another ID is ignored');

  mode = 'wrong-id-then-ok';
  t.equal((await probe()).ok, true, 'the wrong-ID SERVFAIL is ignored, the right reply counts');

  mode = 'query-echo';
  t.equal((await probe(300)).ok, false, 'QR=0 is not a reply');

  // IDs are random: 8 queries with the same ID would be a 1-in-2^56 event.
  mode = 'ok';
  queries.length = 0;
  for (let i = 0; i < 8; i++) await probe();
  t.ok(new Set(queries.map((b) => b.readUInt16BE(0))).size > 1);
});

t.test('MISC_CHECK exit codes, misc_dynamic and timeout', async (t) => {
  t.same(await miscProbe({ path: 'true', timeoutMs: 5000, dynamic: false }), {
    ok: true,
    exitCode: 0,
    detail: 'Misc check true succeeded (exited with status 0)',
  });
  const f = await miscProbe({ path: 'false', timeoutMs: 5000, dynamic: false });
  t.equal(f.ok, false);
  t.equal(f.exitCode, 1);
  const five = await miscProbe({ path: "sh -c 'exit 5'", timeoutMs: 5000, dynamic: false });
  t.equal(five.ok, false, 'exit 5 is a failure without misc_dynamic');
  const dyn = await miscProbe({ path: "sh -c 'exit 5'", timeoutMs: 5000, dynamic: true });
  t.equal(dyn.ok, true, 'exit 5 is a success with misc_dynamic');
  t.equal(dyn.exitCode, 5);
  t.equal((await miscProbe({ path: 'false', timeoutMs: 5000, dynamic: true })).ok, false, 'exit 1 fails even when dynamic');
  const slow = await miscProbe({ path: 'sleep 10', timeoutMs: 200, dynamic: false, killGraceMs: 200 });
  t.equal(slow.ok, false);
  t.match(slow.detail, /timed out/);
  const missing = await miscProbe({ path: '/nonexistent/script', timeoutMs: 1000, dynamic: false });
  t.equal(missing.ok, false);
});

t.test('command splitting (quotes and escapes, no shell)', async (t) => {
  t.same(splitCommand('/bin/check  a  "b c"'), ['/bin/check', 'a', 'b c']);
  t.same(splitCommand(`sh -c 'exit 5'`), ['sh', '-c', 'exit 5']);
  t.same(splitCommand('a\\ b "x\\"y" \'\''), ['a b', 'x"y', '']);
  t.throws(() => splitCommand('"open'));
});
