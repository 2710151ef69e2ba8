// The configurations of the seed blog posts 001 and 004, as each director has them.
import t from 'tap';
import { join } from 'node:path';
import { loadKeepalivedConfig } from '../../src/config/keepalived/index.js';
import { FIXTURES } from './paths.js';

for (const [director, priority] of [['lvs-a', 100], ['lvs-b', 50]] as const) {
  t.test(`seed 001 ${director}: DR DNS over TCP and UDP, DNS_CHECK and TCP_CHECK`, async (t) => {
    const { config, warnings } = loadKeepalivedConfig(join(FIXTURES, 'seed001', director, 'keepalived.conf'));
    t.equal(config.files.length, 3, 'keepalived.conf + virtualservers/dns-tcp.conf + dns-udp.conf');
    t.match(config.files[1], /virtualservers\/dns-tcp\.conf$/);
    t.equal(config.globalDefs.routerId, 'LVS_DNS');
    const vi = config.vrrpInstances[0]!;
    t.match(vi, { name: 'VRRP_1', state: 'BACKUP', interface: 'eth0', virtualRouterId: 51, priority, advertInt: 3, nopreempt: true });
    t.equal(vi.lvsSyncDaemonInterface, undefined, 'the commented-out !lvs_sync_daemon_interface is ignored');
    t.match(vi.virtualIpAddresses, [{ address: '192.168.0.141', prefixLength: 23, dev: 'eth0' }]);
    t.same(warnings.map((w) => w.message), []);

    t.same(config.virtualServers.map((v) => v.protocol), ['TCP', 'UDP']);
    for (const vs of config.virtualServers) {
      t.match(vs, { address: '192.168.0.141', port: 53, scheduler: 'rr', forwarding: { method: 'DR' }, delayLoop: 5, persistenceTimeout: 0 });
      t.same(vs.realServers.map((r) => [r.address, r.port, r.weight, r.inhibitOnFailure]), [
        ['192.168.0.142', 53, 1, true],
        ['192.168.0.143', 53, 1, true],
      ]);
      const [dns, tcp] = vs.realServers.map((r) => r.checkers[0]!);
      // DNS_CHECK: type SOA, root name; delay_before_retry defaults to delay_loop (check_dns.c).
      t.match(dns, { type: 'DNS_CHECK', queryType: 'SOA', name: '', connectPort: 53, connectTimeout: 5, retry: 3, delayBeforeRetry: 5, delayLoop: 5 });
      t.match(tcp, { type: 'TCP_CHECK', connectPort: 53, connectTimeout: 5, retry: 3, delayBeforeRetry: 1, delayLoop: 5 });
    }
  });
}

t.test('seed 004 master: HTTP_GET /health on two DR real servers', async (t) => {
  const { config, warnings } = loadKeepalivedConfig(join(FIXTURES, 'seed004', 'master', 'keepalived.conf'));
  t.same(config.globalDefs.entries.map((e) => e.keyword), ['enable_script_security']);
  const vi = config.vrrpInstances[0]!;
  t.match(vi, { name: 'LVS_SETTINGS', state: 'BACKUP', interface: 'eth0', virtualRouterId: 50, priority: 100, advertInt: 1 });
  t.same(vi.notifyMaster, { command: '/etc/keepalived/notify_master.sh' });
  t.same(vi.notifyBackup, { command: '/etc/keepalived/notify_backup.sh' });
  t.same(vi.virtualIpAddresses.map((v) => v.address), ['10.0.0.5']);
  t.same(warnings.map((w) => w.message), []);
  t.equal(config.virtualServers.length, 1);
  const vs = config.virtualServers[0]!;
  t.match(vs, { address: '10.0.0.5', port: 8000, protocol: 'TCP', scheduler: 'rr', forwarding: { method: 'DR' }, delayLoop: 6 });
  t.same(vs.realServers.map((r) => [r.address, r.port, r.weight, r.inhibitOnFailure]), [['10.0.0.12', 8000, 1, false], ['10.0.0.14', 8000, 1, false]]);
  for (const rs of vs.realServers) {
    const http = rs.checkers[0]!;
    // HTTP_GET: retry 1, delay_before_retry 3 s (check_http.c), status 200-299 by default.
    t.match(http, { type: 'HTTP_GET', connectTimeout: 10, retry: 1, delayBeforeRetry: 3, delayLoop: 6, connectIp: rs.address, connectPort: 8000 });
    if (http.type === 'HTTP_GET') t.same(http.urls.map((u) => [u.path, u.statusCodes]), [['/health', [[200, 299]]]]);
  }
});

t.test('seed 004 backup: the empty virtualserver-backup.conf gives no virtual server', async (t) => {
  const { config, warnings } = loadKeepalivedConfig(join(FIXTURES, 'seed004', 'backup', 'keepalived.conf'));
  t.equal(config.virtualServers.length, 0);
  t.match(config.files[1], /virtualserver-backup\.conf$/);
  t.equal(config.vrrpInstances.length, 1);
  t.same(warnings.map((w) => w.message), []);
});
