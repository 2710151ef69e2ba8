// Every keepalived doc/samples file (read from ../shared/keepalived-samples, see paths.ts)
// loads, with values checked against the text of each file and keepalived's defaults.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadKeepalivedConfig } from '../../src/config/keepalived/index.js';
import { SAMPLES as dir, SAMPLES_MISSING } from './paths.js';

const skip = SAMPLES_MISSING;
const files = skip ? [] : readdirSync(dir).filter((f) => f.startsWith('keepalived.conf')).sort();

t.test('the three samples are there', { skip }, async (t) => {
  t.same(files, ['keepalived.conf.inhibit', 'keepalived.conf.sample', 'keepalived.conf.vrrp.lvs_syncd']);
});

for (const f of files) {
  t.test(`${f} loads without unknown keywords`, async (t) => {
    const { config, warnings } = loadKeepalivedConfig(join(dir, f));
    t.ok(config.virtualServers.length >= 1);
    t.same(warnings.filter((w) => w.message.includes('unknown keyword')), []);
    t.same(warnings.filter((w) => w.message.includes('not yet supported')), [], 'VRRP blocks load as supported');
  });
}

t.test('keepalived.conf.sample: sorry_server, HTTP_GET digest, persistence, VRRP', { skip }, async (t) => {
  const { config } = loadKeepalivedConfig(join(dir, 'keepalived.conf.sample'));
  t.equal(config.globalDefs.routerId, 'LVS_DEVEL');
  t.ok(config.globalDefs.entries.some((e) => e.keyword === 'notification_email' && e.children?.[0]?.keyword === 'acassen'));
  const vs = config.virtualServers[0]!;
  t.match(vs, { address: '10.10.10.2', port: 1358, protocol: 'TCP', scheduler: 'rr', forwarding: { method: 'NAT' }, persistenceTimeout: 50, delayLoop: 6 });
  t.match(vs.sorryServer, { address: '192.168.200.200', port: 1358, inhibit: false, forwarding: { method: 'NAT' } });
  const rs = vs.realServers[0]!;
  t.match(rs, { address: '192.168.200.2', port: 1358, weight: 1, inhibitOnFailure: false });
  const http = rs.checkers[0]!;
  t.equal(http.type, 'HTTP_GET');
  if (http.type !== 'HTTP_GET') return;
  t.match(http, { connectTimeout: 3, retry: 3, delayBeforeRetry: 3, delayLoop: 6, connectIp: '192.168.200.2', connectPort: 1358 });
  t.same(http.urls.map((u) => [u.path, u.digest, u.statusCodes]), [['/testurl3/test.jsp', '640205b7b0fc66c1ea91c463fac6334d', [[200, 299]]]]);
  const vi = config.vrrpInstances[0]!;
  t.match(vi, { name: 'VI_1', interface: 'eth0', virtualRouterId: 50, nopreempt: true, priority: 100, advertInt: 1, state: 'BACKUP' });
  t.same(vi.virtualIpAddresses.map((v) => v.address), ['192.168.200.11', '192.168.200.12', '192.168.200.13']);
});

t.test('keepalived.conf.inhibit: inhibit_on_failure followed by a ! comment', { skip }, async (t) => {
  const { config } = loadKeepalivedConfig(join(dir, 'keepalived.conf.inhibit'));
  const rs = config.virtualServers[0]!.realServers[0]!;
  t.equal(rs.inhibitOnFailure, true);
  t.equal(config.virtualServers[0]!.persistenceTimeout, 50);
  t.equal(config.virtualServers[0]!.sorryServer, undefined);
});

t.test('keepalived.conf.vrrp.lvs_syncd: sync group, authentication, lvs sync daemon, TCP_CHECK defaults', { skip }, async (t) => {
  const { config, warnings } = loadKeepalivedConfig(join(dir, 'keepalived.conf.vrrp.lvs_syncd'));
  t.same(config.vrrpSyncGroups.map((g) => [g.name, g.instances]), [['VG1', ['VI_2', 'VI_3']]]);
  const vi1 = config.vrrpInstances.find((v) => v.name === 'VI_1')!;
  t.match(vi1, { state: 'MASTER', interface: 'eth0', virtualRouterId: 51, priority: 150, advertInt: 1, lvsSyncDaemonInterface: 'eth1' });
  t.same(vi1.authentication, { type: 'PASS', pass: 'grr02' });
  t.same(config.vrrpInstances.map((v) => v.virtualRouterId), [51, 52, 53]);
  t.match(config.globalDefs.lvsSyncDaemon, { interface: 'eth1', instance: 'VI_1' });
  t.ok(warnings.some((w) => w.keyword === 'lvs_sync_daemon_interface' && w.line === 11));
  const vs = config.virtualServers[0]!;
  t.match(vs, { address: '192.168.200.19', port: 80, delayLoop: 20, persistenceTimeout: 50 });
  const tcp = vs.realServers[0]!.checkers[0]!;
  // TCP_CHECK: retry 1 and delay_before_retry 1 s (check_api.c defaults); warmup = delay_loop.
  t.match(tcp, { type: 'TCP_CHECK', connectTimeout: 3, retry: 1, delayBeforeRetry: 1, delayLoop: 20, warmup: 20, connectIp: '192.168.201.100', connectPort: 80 });
});
