/**
 * The Prometheus text: format (HELP/TYPE once per family, escaped labels, one sample per line)
 * and values counted independently from the frames the test sends.
 */
import t from 'tap';
import http from 'node:http';
import { oneArm, MAC, IP } from '../helpers/lab-engine.js';
import { tcpFrame } from '../../src/packet/builder.js';
import * as tcp from '../../src/packet/tcp.js';
import { MetricsServer, parseMetricsAddress, renderMetrics } from '../../src/observe/metrics.js';
import type { VrrpInstanceStats } from '../../src/ha/vrrp-runner.js';

function parse(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

t.test('counters match the traffic sent', (t) => {
  const { engine } = oneArm();
  let ipBytes = 0;
  for (let i = 0; i < 5; i++) {
    const f = tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport: 30000 + i, dport: 80, flags: tcp.SYN, seq: 1, ttl: 63, options: new Uint8Array(i * 4) });
    ipBytes += f.length - 14;
    engine.process(f, f.length, 0, 1);
  }
  const stray = tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: IP.client, dst: IP.vip, sport: 1, dport: 81, flags: tcp.SYN, seq: 1, ttl: 63 });
  engine.process(stray, stray.length, 0, 1);
  const stats: VrrpInstanceStats = { advertsSent: 12, advertsReceived: 3, rejected: { 'auth-password': 2 }, garpsSent: 5, nasSent: 0, becameMaster: 1, becameBackup: 1, becameFault: 0, lastTransitionAt: 0 };
  const rx = { frames: 9, notRunning: 0, malformed: 3, otherVrid: 1, rejected: 2, accepted: 3 };
  const text = renderMetrics({ engine, vrrp: { rx, status: () => [{ name: 'VI_1', ifIndex: 0, vrid: 51, priority: 100, state: 'MASTER', vips: [], stats }] } });
  const m = parse(text);
  const svc = 'service="TCP 10.0.0.127:80"';
  t.equal(m.get(`tslb_service_connections_total{${svc}}`), 5);
  t.equal(m.get(`tslb_service_packets_total{${svc},direction="in"}`), 5);
  t.equal(m.get(`tslb_service_bytes_total{${svc},direction="in"}`), ipBytes, 'bytes = sum of IP total lengths (skb->len)');
  t.equal(m.get(`tslb_service_packets_total{${svc},direction="out"}`), 0);
  // rr over [rs2, rs1]: 3 to rs2, 2 to rs1; SYN_RECV counts as active.
  t.equal(m.get(`tslb_real_server_connections_total{${svc},server="10.0.0.86:80"}`), 3);
  t.equal(m.get(`tslb_real_server_connections_total{${svc},server="10.0.0.185:80"}`), 2);
  t.equal(m.get(`tslb_real_server_active_connections{${svc},server="10.0.0.86:80"}`), 3);
  t.equal(m.get(`tslb_real_server_inactive_connections{${svc},server="10.0.0.86:80"}`), 0);
  t.equal(m.get(`tslb_real_server_up{${svc},server="10.0.0.86:80"}`), 1);
  t.equal(m.get('tslb_drops_total{reason="no_service"}'), 1);
  t.equal(m.get('tslb_connections'), 5);
  t.equal(m.get('tslb_vip_active{vip="10.0.0.127"}'), 1);
  t.equal(m.get('tslb_vrrp_state{instance="VI_1",vrid="51",state="MASTER"}'), 1);
  t.equal(m.get('tslb_vrrp_state{instance="VI_1",vrid="51",state="BACKUP"}'), 0);
  t.equal(m.get('tslb_vrrp_adverts_rejected_total{instance="VI_1",vrid="51",reason="auth-password"}'), 2);
  t.equal(m.get('tslb_vrrp_frames_total{outcome="malformed"}'), 3);
  t.equal(m.get('tslb_vrrp_frames_total{outcome="other_vrid"}'), 1, 'frames for another router\'s VRID are counted too');
  // Format: each family declared once, before its samples.
  const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
  t.equal(new Set(types).size, types.length, 'one TYPE line per family');
  t.match(text, /# HELP tslb_drops_total .+\n# TYPE tslb_drops_total counter\n/);
  t.notMatch(text, /# HELP \S+\n/, 'no empty HELP');
  t.ok(text.endsWith('\n'));
  t.end();
});

t.test('--metrics address parsing: localhost unless told otherwise', (t) => {
  t.same(parseMetricsAddress('9100'), { host: '127.0.0.1', port: 9100 });
  t.same(parseMetricsAddress('0.0.0.0:9100'), { host: '0.0.0.0', port: 9100 });
  t.throws(() => parseMetricsAddress('localhost:9100'));
  t.throws(() => parseMetricsAddress('70000'));
  t.end();
});

t.test('the endpoint serves /metrics on 127.0.0.1 and nothing else', async (t) => {
  const srv = await MetricsServer.listen('127.0.0.1', 0 || 39000 + (process.pid % 1000), () => 'x 1\n');
  t.teardown(() => srv.close());
  const get = (path: string) => new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    http.get(`http://${srv.address}${path}`, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
  const ok = await get('/metrics');
  t.equal(ok.status, 200);
  t.match(ok.type, /^text\/plain; version=0\.0\.4/);
  t.equal(ok.body, 'x 1\n');
  t.equal((await get('/')).status, 404);
});
