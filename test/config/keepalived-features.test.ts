// keepalived.conf features in the shapes keepalived's own doc/samples use (sorry_server,
// HTTP_GET digest, inhibit_on_failure with a trailing ! comment, persistence, sync groups,
// authentication, lvs_sync_daemon_interface), written for this project under
// fixtures/keepalived/features; values checked against the text and keepalived's defaults.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadKeepalivedConfig } from '../../src/config/keepalived/index.js';
import { FEATURES as dir } from './paths.js';

const files = readdirSync(dir).filter((f) => f.endsWith('.conf')).sort();

t.test('the feature configs are there', async (t) => {
  t.same(files, ['inhibit-comment.conf', 'ipv6-group-nat.conf', 'nat-sorry-digest.conf', 'sync-group-auth.conf']);
});

for (const f of files) {
  t.test(`${f} loads without unknown keywords`, async (t) => {
    const { config, warnings } = loadKeepalivedConfig(join(dir, f));
    t.ok(config.virtualServers.length >= 1);
    t.same(warnings.filter((w) => w.message.includes('unknown keyword')), []);
    t.same(warnings.filter((w) => w.message.includes('not yet supported')), [], 'VRRP blocks load as supported');
  });
}

t.test('nat-sorry-digest.conf: sorry_server, HTTP_GET digest, persistence, VRRP', async (t) => {
  const { config } = loadKeepalivedConfig(join(dir, 'nat-sorry-digest.conf'));
  t.equal(config.globalDefs.routerId, 'TSLB_TEST');
  t.ok(config.globalDefs.entries.some((e) => e.keyword === 'notification_email' && e.children?.[0]?.keyword === 'ops@example.org'));
  const vs = config.virtualServers[0]!;
  t.match(vs, { address: '10.20.30.2', port: 8080, protocol: 'TCP', scheduler: 'rr', forwarding: { method: 'NAT' }, persistenceTimeout: 40, delayLoop: 5 });
  t.match(vs.sorryServer, { address: '10.20.40.250', port: 8080, inhibit: false, forwarding: { method: 'NAT' } });
  const rs = vs.realServers[0]!;
  t.match(rs, { address: '10.20.40.2', port: 8080, weight: 2, inhibitOnFailure: false });
  const http = rs.checkers[0]!;
  t.equal(http.type, 'HTTP_GET');
  if (http.type !== 'HTTP_GET') return;
  t.match(http, { connectTimeout: 4, retry: 2, delayBeforeRetry: 2, delayLoop: 5, connectIp: '10.20.40.2', connectPort: 8080 });
  // No status_code: keepalived's url_check fills in 200-299.
  t.same(http.urls.map((u) => [u.path, u.digest, u.statusCodes]), [['/check/status.html', '0123456789abcdef0123456789abcdef', [[200, 299]]]]);
  const vi = config.vrrpInstances[0]!;
  t.match(vi, { name: 'VI_NAT', interface: 'eth0', virtualRouterId: 60, nopreempt: true, priority: 90, advertInt: 1, state: 'BACKUP' });
  t.same(vi.virtualIpAddresses.map((v) => v.address), ['10.20.30.11', '10.20.30.12']);
});

t.test('inhibit-comment.conf: inhibit_on_failure followed by a ! comment', async (t) => {
  const { config } = loadKeepalivedConfig(join(dir, 'inhibit-comment.conf'));
  const rs = config.virtualServers[0]!.realServers[0]!;
  t.equal(rs.inhibitOnFailure, true);
  t.equal(config.virtualServers[0]!.persistenceTimeout, 30);
  t.equal(config.virtualServers[0]!.sorryServer, undefined);
});

t.test('sync-group-auth.conf: sync group, authentication, lvs sync daemon, TCP_CHECK defaults', async (t) => {
  const { config, warnings } = loadKeepalivedConfig(join(dir, 'sync-group-auth.conf'));
  t.same(config.vrrpSyncGroups.map((g) => [g.name, g.instances]), [['SG1', ['VI_B', 'VI_C']]]);
  const a = config.vrrpInstances.find((v) => v.name === 'VI_A')!;
  t.match(a, { state: 'MASTER', interface: 'eth0', virtualRouterId: 71, priority: 120, advertInt: 1, lvsSyncDaemonInterface: 'eth1' });
  t.same(a.authentication, { type: 'PASS', pass: 's3cret' });
  t.same(config.vrrpInstances.map((v) => v.virtualRouterId), [71, 72, 73]);
  t.match(config.globalDefs.lvsSyncDaemon, { interface: 'eth1', instance: 'VI_A' });
  t.ok(warnings.some((w) => w.keyword === 'lvs_sync_daemon_interface' && w.line === 17), 'the deprecated keyword is named with its line');
  const vs = config.virtualServers[0]!;
  t.match(vs, { address: '10.20.30.21', port: 80, delayLoop: 15, persistenceTimeout: 20 });
  const tcp = vs.realServers[0]!.checkers[0]!;
  // TCP_CHECK: retry 1 and delay_before_retry 1 s (check_api.c defaults); warmup = delay_loop;
  // connect_ip/port default to the real server's.
  t.match(tcp, { type: 'TCP_CHECK', connectTimeout: 3, retry: 1, delayBeforeRetry: 1, delayLoop: 15, warmup: 15, connectIp: '10.20.41.100', connectPort: 80 });
});
