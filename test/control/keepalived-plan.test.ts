/**
 * planFromKeepalived: parsed keepalived.conf -> IPVS services/real servers + health specs.
 * Expected values are keepalived's documented semantics (docs/ipvs-behaviour.md §6: defaults
 * from alloc_vs / validate_check_config, checker defaults of §6.4, times in ms), worked
 * out by hand from the seed configs as their authors wrote them.
 */
import t from 'tap';
import path from 'node:path';
import { loadKeepalivedConfig, parseKeepalivedText } from '../../src/config/keepalived/index.js';
import { planFromKeepalived, type KeepalivedPlan } from '../../src/control/keepalived-plan.js';
import { FWD_DR, FWD_MASQ, FWD_TUNNEL } from '../../src/dataplane/model.js';
import type { CheckerSpec } from '../../src/health/types.js';
import { FEATURES, FIXTURES } from '../config/paths.js';
import { ip } from '../helpers/lab-engine.js';

const TCP = 6;
const UDP = 17;
const ALL_ONES = 0xffffffff | 0;

function plan(file: string): KeepalivedPlan {
  return planFromKeepalived(loadKeepalivedConfig(file).config);
}
function planText(text: string): KeepalivedPlan {
  return planFromKeepalived(parseKeepalivedText(text, '/etc/keepalived/test.conf').config);
}
/** The scheduler-relevant fields of a spec, addresses compared as int32 or unsigned. */
const u32 = (n: number) => n >>> 0;

t.test('seed 001 lvs-a: DNS over TCP and UDP 53, DR, rr, inhibit_on_failure, DNS_CHECK and TCP_CHECK', async (t) => {
  const p = plan(path.join(FIXTURES, 'seed001/lvs-a/keepalived.conf'));
  t.equal(p.services.length, 2, 'two virtual servers from the include glob');
  const byProto = (proto: number) => p.services.find((s) => s.spec.proto === proto)!;
  for (const proto of [TCP, UDP]) {
    const s = byProto(proto);
    t.ok(s, `${proto === TCP ? 'TCP' : 'UDP'} service`);
    t.equal(u32(s.spec.addr), u32(ip('192.168.0.141')));
    t.equal(s.spec.port, 53);
    t.equal(s.spec.scheduler, 'rr');
    t.equal(s.spec.persistent, 0, 'no persistence_timeout');
    t.equal(s.spec.ops, false);
    t.equal(s.spec.netmask | 0, ALL_ONES, 'default netmask 255.255.255.255');
    t.same(
      s.dests.map((d) => ({ addr: u32(d.spec.addr), port: d.spec.port, weight: d.spec.weight, fwd: d.spec.fwd })).sort((a, b) => a.addr - b.addr),
      [
        { addr: u32(ip('192.168.0.142')), port: 53, weight: 1, fwd: FWD_DR },
        { addr: u32(ip('192.168.0.143')), port: 53, weight: 1, fwd: FWD_DR },
      ],
      'two DR real servers, weight 1',
    );
  }
  t.equal(p.health.length, 2);
  for (const h of p.health) {
    t.equal(h.quorum, 1, 'quorum default 1');
    t.equal(h.hysteresis, 0);
    t.notOk(h.sorryServer);
    const a = h.realServers.find((r) => r.address === '192.168.0.142')!;
    const b = h.realServers.find((r) => r.address === '192.168.0.143')!;
    t.equal(a.inhibitOnFailure, true);
    t.equal(b.inhibitOnFailure, true);
    t.equal(a.weight, 1);
    t.equal(a.port, 53);
    t.equal(a.checkers.length, 1);
    t.equal(b.checkers.length, 1);
    const dns = a.checkers[0]!;
    t.equal(dns.type, 'DNS');
    if (dns.type === 'DNS') {
      t.same(dns.target, { host: '192.168.0.142', port: 53 });
      t.equal(dns.connectTimeoutMs, 5000, 'connect_timeout 5');
      t.equal(dns.retry, 3, 'retry 3');
      t.equal(dns.delayLoopMs, 5000, 'delay_loop 5 inherited');
      t.equal(dns.delayBeforeRetryMs, 5000, 'DNS_CHECK delay_before_retry defaults to delay_loop');
      t.equal(dns.queryType, 'SOA', 'default type SOA');
      t.equal(dns.name, '', 'default name: the root');
      t.equal(dns.alpha, false);
    }
    const tcp = b.checkers[0]!;
    t.equal(tcp.type, 'TCP');
    if (tcp.type === 'TCP') {
      t.same(tcp.target, { host: '192.168.0.143', port: 53 });
      t.equal(tcp.connectTimeoutMs, 5000);
      t.equal(tcp.retry, 3);
      t.equal(tcp.delayLoopMs, 5000);
      t.equal(tcp.delayBeforeRetryMs, 1000, 'delay_before_retry default 1 s');
    }
  }
  t.same(p.vrrp.map((v) => v.name), ['VRRP_1'], 'vrrp_instance carried to the plan (run by src/ha)');
});

t.test('seed 004 master: DR port 8000, HTTP_GET /health', async (t) => {
  const p = plan(path.join(FIXTURES, 'seed004/master/keepalived.conf'));
  t.equal(p.services.length, 1);
  const s = p.services[0]!;
  t.equal(s.spec.proto, TCP);
  t.equal(u32(s.spec.addr), u32(ip('10.0.0.5')));
  t.equal(s.spec.port, 8000);
  t.equal(s.spec.scheduler, 'rr');
  t.same(
    s.dests.map((d) => `${d.key} ${d.spec.port} w${d.spec.weight} ${d.spec.fwd === FWD_DR ? 'DR' : 'other'}`).sort(),
    ['10.0.0.12:8000 8000 w1 DR', '10.0.0.14:8000 8000 w1 DR'],
  );
  const h = p.health[0]!;
  t.equal(h.realServers.length, 2);
  for (const rs of h.realServers) {
    t.equal(rs.inhibitOnFailure, false, 'no inhibit: a failed server is deleted');
    t.equal(rs.checkers.length, 1);
    const c = rs.checkers[0]!;
    t.equal(c.type, 'HTTP');
    if (c.type !== 'HTTP') continue;
    t.same(c.target, { host: rs.address, port: 8000 }, 'checks the real server on its port');
    t.equal(c.connectTimeoutMs, 10_000, 'connect_timeout 10');
    t.equal(c.retry, 1, 'retry default 1');
    t.equal(c.delayBeforeRetryMs, 3000, 'HTTP_GET delay_before_retry default 3 s');
    t.equal(c.delayLoopMs, 6000, 'delay_loop 6');
    t.equal(c.protocol, '1.0');
    t.equal(c.urls.length, 1);
    t.equal(c.urls[0]!.path, '/health');
    t.notOk(c.urls[0]!.digest);
    // keepalived fills in 200-299 when a url block has no status_code (check_http.c url_check,
    // HTTP_DEFAULT_STATUS_CODE_MIN..MAX), so the plan carries that range, not an empty list.
    t.same(c.urls[0]!.statusCodes, [[200, 299]], 'no status_code: 200-299');
  }
  t.same(p.vrrp.map((v) => v.name), ['LVS_SETTINGS'], 'vrrp_instance carried to the plan');
});

t.test('nat-sorry-digest.conf: NAT, persistence 40, sorry_server, HTTP_GET with digest', async (t) => {
  const p = plan(path.join(FEATURES, 'nat-sorry-digest.conf'));
  t.equal(p.services.length, 1);
  const s = p.services[0]!;
  t.equal(s.key, 'TCP 10.20.30.2:8080');
  t.equal(s.spec.proto, TCP);
  t.equal(s.spec.port, 8080);
  t.equal(s.spec.scheduler, 'rr');
  t.equal(s.spec.persistent, 40, 'persistence_timeout 40');
  t.equal(s.spec.netmask | 0, ALL_ONES);
  const rs = s.dests.find((d) => d.key === '10.20.40.2:8080')!;
  t.ok(rs, 'the real server');
  t.equal(rs.spec.fwd, FWD_MASQ, 'lb_kind NAT');
  t.equal(rs.spec.weight, 2);
  const h = p.health[0]!;
  t.same(h.sorryServer && { key: h.sorryServer.key, address: h.sorryServer.address, port: h.sorryServer.port }, { key: '10.20.40.250:8080', address: '10.20.40.250', port: 8080 });
  t.equal(h.realServers.length, 1, 'the sorry server is not a checked real server');
  const c = h.realServers[0]!.checkers[0]!;
  t.equal(c.type, 'HTTP');
  if (c.type === 'HTTP') {
    t.equal(c.urls[0]!.path, '/check/status.html');
    t.equal(c.urls[0]!.digest, '0123456789abcdef0123456789abcdef');
    t.equal(c.connectTimeoutMs, 4000);
    t.equal(c.retry, 2);
    t.equal(c.delayBeforeRetryMs, 2000);
    t.equal(c.delayLoopMs, 5000);
  }
  t.ok(p.vrrp.some((v) => v.name === 'VI_NAT'));
});

t.test('timers are seconds (fractions allowed) converted to ms; MISC_CHECK defaults', async (t) => {
  const p = planText([
    'virtual_server 10.0.0.127 80 {',
    '    delay_loop 1.5',
    '    lb_algo wrr',
    '    lb_kind NAT',
    '    protocol TCP',
    '    real_server 10.0.0.185 8080 {',
    '        weight 3',
    '        TCP_CHECK {',
    '            connect_timeout 0.25',
    '            delay_before_retry 0.5',
    '        }',
    '        MISC_CHECK {',
    '            misc_path "/bin/true"',
    '        }',
    '    }',
    '}',
  ].join('\n'));
  const s = p.services[0]!;
  t.equal(s.spec.scheduler, 'wrr');
  t.same(s.dests.map((d) => [d.spec.port, d.spec.weight, d.spec.fwd]), [[8080, 3, FWD_MASQ]], 'NAT keeps the real server port');
  const [tc, misc] = p.health[0]!.realServers[0]!.checkers as [CheckerSpec, CheckerSpec];
  t.equal(tc.type, 'TCP');
  if (tc.type === 'TCP') {
    t.equal(tc.connectTimeoutMs, 250);
    t.equal(tc.delayBeforeRetryMs, 500);
    t.equal(tc.delayLoopMs, 1500);
    t.same(tc.target, { host: '10.0.0.185', port: 8080 }, 'connect_port defaults to the real server port');
  }
  t.equal(misc.type, 'MISC');
  if (misc.type === 'MISC') {
    t.equal(misc.retry, 0, 'MISC_CHECK retry default 0');
    t.equal(misc.timeoutMs, 1500, 'misc_timeout defaults to delay_loop');
    t.equal(misc.dynamic, false);
    t.match(misc.path, /\/bin\/true/);
  }
});

t.test('DR forces the real server port to the virtual server port (keepalived "ports don\'t match")', async (t) => {
  const p = planText('virtual_server 10.0.0.127 80 {\n  lb_kind DR\n  lb_algo rr\n  protocol TCP\n  real_server 10.0.0.185 8080 {\n    weight 1\n  }\n}\n');
  t.same(p.services[0]!.dests.map((d) => d.spec.port), [80]);
});

t.test('unsupported things are reported, never silently dropped', async (t) => {
  // fwmark virtual server: reported and skipped.
  const fw = planText('virtual_server fwmark 7 {\n  lb_algo rr\n  lb_kind NAT\n  real_server 10.0.0.185 80 {\n    weight 1\n  }\n}\n');
  t.equal(fw.services.length, 0);
  t.ok(fw.warnings.some((w) => /fwmark/.test(w) && /test\.conf:1\b/.test(w)), `fwmark reported with file:line (${fw.warnings.join(' | ')})`);

  // TUN with keepalived's default tunnel type ipip: planned as a tunnel server, port forced
  // to the virtual server's. GUE/GRE are refused, naming the real server (line 5) whose
  // inherited lb_kind it cannot apply: skipping the server would leave the service without it.
  const tun = planText('virtual_server 10.0.0.127 80 {\n  lb_algo rr\n  lb_kind TUN\n  protocol TCP\n  real_server 10.0.0.185 8080 {\n    weight 1\n  }\n}\n');
  t.same(tun.services[0]!.dests.map((d) => [d.spec.fwd, d.spec.port]), [[FWD_TUNNEL, 80]]);
  const lvsMethod = planText('virtual_server 10.0.0.127 80 {\n  lb_algo rr\n  lvs_method TUN type ipip\n  protocol TCP\n  real_server 10.0.0.185 80 {\n    weight 1\n  }\n}\n');
  t.same(lvsMethod.services[0]!.dests.map((d) => d.spec.fwd), [FWD_TUNNEL]);
  t.throws(
    () => planText('virtual_server 10.0.0.127 80 {\n  lb_algo rr\n  lb_kind TUN type gue port 6080\n  protocol TCP\n  real_server 10.0.0.185 80 {\n    weight 1\n  }\n}\n'),
    /^\/etc\/keepalived\/test\.conf:5: keyword 'lvs_method': TUN type gue is not supported/,
  );

  // A checker this balancer does not run (SSL_GET): reported.
  const ssl = planText('virtual_server 10.0.0.127 443 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server 10.0.0.185 443 {\n    weight 1\n    SSL_GET {\n      url {\n        path /\n      }\n    }\n  }\n}\n');
  t.equal(ssl.services.length, 1);
  t.ok(ssl.warnings.some((w) => /SSL/.test(w) && /test\.conf:\d+/.test(w)), `SSL_GET reported (${ssl.warnings.join(' | ')})`);

  // A scheduler keepalived knows but this balancer has not (lblc): an error naming the line.
  t.throws(() => planText('virtual_server 10.0.0.127 80 {\n  lb_algo lblc\n  lb_kind NAT\n  protocol TCP\n  real_server 10.0.0.185 80 {\n    weight 1\n  }\n}\n'), /^\/etc\/keepalived\/test\.conf:\d+: keyword 'lvs_sched': .*no 'lblc'/);
});

t.test('no protocol: keepalived defaults an address virtual server to UDP', async (t) => {
  const p = planText('virtual_server 10.0.0.127 53 {\n  lb_algo rr\n  lb_kind NAT\n  real_server 10.0.0.185 53 {\n    weight 1\n  }\n}\n');
  t.equal(p.services[0]!.spec.proto, UDP);
});

t.test('a real server with no checker is planned with no checkers (keepalived: always up)', async (t) => {
  const p = planText('virtual_server 10.0.0.127 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server 10.0.0.185 80 {\n    weight 2\n    inhibit_on_failure\n  }\n}\n');
  const rs = p.health[0]!.realServers[0]!;
  t.same(rs.checkers, []);
  t.equal(rs.weight, 2);
  t.equal(rs.inhibitOnFailure, true);
});
