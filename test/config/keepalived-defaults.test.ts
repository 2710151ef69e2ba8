// keepalived defaults and inheritance (check_data.c alloc_vs/alloc_rs/validate_check_config,
// check_api.c queue_checker, check_http.c, check_dns.c, check_misc.c). Expected values are
// the documented defaults, worked out by hand for each configuration.
import t from 'tap';
import { parseKeepalivedText, type Checker, type VirtualServer } from '../../src/config/keepalived/index.js';

function load(text: string) {
  return parseKeepalivedText(text, 'k.conf');
}
function only(text: string): { vs: VirtualServer; messages: string[] } {
  const { config, warnings } = load(text);
  if (config.virtualServers.length !== 1) throw new Error(`expected one virtual server, got ${config.virtualServers.length}`);
  return { vs: config.virtualServers[0]!, messages: warnings.map((w) => w.message) };
}

t.test('no scheduler, method or protocol: wlc, NAT, UDP, each with a warning', async (t) => {
  const { vs, messages } = only('virtual_server 10.0.0.1 53 {\n real_server 10.0.0.2 53 {\n }\n}\n');
  t.match(vs, { scheduler: 'wlc', forwarding: { method: 'NAT' }, protocol: 'UDP', delayLoop: 60, connectTimeout: 5, quorum: 1, hysteresis: 0, persistenceTimeout: 0, weight: 1 });
  t.equal(vs.realServers[0]!.weight, 1);
  t.same(messages.sort(), [
    "virtual server 10.0.0.1:53: no forwarding method set, setting default NAT",
    'virtual server 10.0.0.1:53: no protocol set - defaulting to UDP',
    "virtual server 10.0.0.1:53: no scheduler set, setting default 'wlc'",
  ]);
});

t.test('persistence_timeout without a value is 360; persistence_granularity enables it', async (t) => {
  const base = (kw: string) => `virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind DR\n ${kw}\n real_server 10.0.0.2 80 {\n }\n}\n`;
  t.equal(only(base('persistence_timeout')).vs.persistenceTimeout, 360);
  t.equal(only(base('persistence_timeout 900')).vs.persistenceTimeout, 900);
  const g = only(base('persistence_granularity 255.255.255.0')).vs;
  t.equal(g.persistenceTimeout, 360);
  t.equal(g.persistenceGranularity, '255.255.255.0');
});

t.test('real server ports: forced to the VS port unless NAT', async (t) => {
  const text = [
    'virtual_server 10.0.0.1 80 {', ' protocol TCP', ' lvs_sched rr', ' lvs_method DR',
    ' real_server 10.0.0.2 8080 {', ' }', //   DR, wrong port -> reset with a warning
    ' real_server 10.0.0.3 {', ' }', //        DR, no port -> vs port
    ' real_server 10.0.0.4 8080 {', '  lvs_method NAT', ' }', // NAT keeps its port
    ' real_server 10.0.0.5 {', '  lvs_method NAT', ' }', //     NAT without port -> vs port
    '}', '',
  ].join('\n');
  const { config, warnings } = load(text);
  t.same(config.virtualServers[0]!.realServers.map((r) => [r.address, r.port, r.forwarding.method]), [
    ['10.0.0.2', 80, 'DR'], ['10.0.0.3', 80, 'DR'], ['10.0.0.4', 8080, 'NAT'], ['10.0.0.5', 80, 'NAT'],
  ]);
  t.match(warnings, [{ line: 5, keyword: 'real_server', message: /ports don't match - resetting/ }]);
  t.equal(warnings.length, 1);
});

t.test('inheritance virtual server -> real server -> checker', async (t) => {
  const text = `
virtual_server 10.0.0.1 80 {
  protocol TCP
  lvs_sched wrr
  lvs_method NAT
  delay_loop 10
  connect_timeout 2.5
  retry 4
  delay_before_retry 0.5
  warmup 7
  weight 3
  inhibit_on_failure
  alpha
  virtualhost vs.example
  real_server 10.0.0.2 80 {
    TCP_CHECK {
    }
    HTTP_GET {
      url {
        path /
      }
    }
  }
  real_server 10.0.0.3 81 {
    weight 5
    inhibit_on_failure off
    alpha no
    delay_loop 20
    retry 2
    connect_timeout 1
    virtualhost rs.example
    HTTP_GET {
      delay_loop 30
      connect_timeout 0.25
      url {
        path /a
        virtualhost url.example
      }
      url {
        path /b
      }
    }
  }
}
`;
  const { vs } = only(text);
  const [a, b] = vs.realServers;
  t.match(a, { weight: 3, inhibitOnFailure: true, alpha: true, delayLoop: 10, connectTimeout: 2.5, retry: 4, delayBeforeRetry: 0.5, warmup: 7 });
  t.match(b, { weight: 5, inhibitOnFailure: false, alpha: false, delayLoop: 20, connectTimeout: 1, retry: 2, delayBeforeRetry: 0.5, warmup: 7 });
  t.match(a!.checkers, [
    { type: 'TCP_CHECK', delayLoop: 10, connectTimeout: 2.5, retry: 4, delayBeforeRetry: 0.5, warmup: 7, alpha: true },
    { type: 'HTTP_GET', delayLoop: 10, connectTimeout: 2.5, retry: 4, delayBeforeRetry: 0.5, urls: [{ path: '/', virtualhost: 'vs.example' }] },
  ]);
  t.match(b!.checkers, [{ type: 'HTTP_GET', delayLoop: 30, connectTimeout: 0.25, retry: 2, warmup: 7, alpha: false, connectPort: 81 }]);
  const http = b!.checkers[0] as Checker & { type: 'HTTP_GET' };
  t.same(http.urls.map((u) => [u.path, u.virtualhost]), [['/a', 'url.example'], ['/b', 'rs.example']]);
});

t.test('per-type checker defaults: retry 1/3/0, delay_before_retry 1/3/delay_loop, warmup = delay_loop', async (t) => {
  const text = `
virtual_server 10.0.0.1 53 {
  protocol UDP
  lvs_sched rr
  lvs_method DR
  delay_loop 8
  real_server 10.0.0.2 53 {
    TCP_CHECK {
    }
    HTTP_GET {
      url {
        path /x
        status_code 200 301-302 404
      }
      nb_get_retry 6
    }
    SSL_GET {
      url {
        path /y
      }
    }
    DNS_CHECK {
      type a
      name example.org
    }
    MISC_CHECK {
      misc_path "/usr/local/bin/check --fast"
      misc_dynamic
      user nobody nogroup
    }
  }
}
`;
  const { vs, messages } = only(text);
  const c = vs.realServers[0]!.checkers;
  t.same(c.map((x) => [x.type, x.retry, x.delayBeforeRetry, x.warmup, x.delayLoop]), [
    ['TCP_CHECK', 1, 1, 8, 8],
    ['HTTP_GET', 6, 3, 8, 8],
    ['SSL_GET', 1, 3, 8, 8],
    ['DNS_CHECK', 3, 8, 8, 8],
    ['MISC_CHECK', 0, 1, 8, 8],
  ]);
  t.match(c[1], { urls: [{ statusCodes: [[200, 200], [301, 302], [404, 404]] }], httpProtocol: '1.0' });
  t.match(c[3], { queryType: 'A', name: 'example.org', connectIp: '10.0.0.2', connectPort: 53, connectTimeout: 5 });
  t.match(c[4], { path: '/usr/local/bin/check --fast', dynamic: true, user: 'nobody', group: 'nogroup', timeout: 8 });
  t.notOk('connectIp' in c[4]!, 'MISC_CHECK has no connection options');
  t.ok(messages.includes("nb_get_retry is deprecated - please use 'retry'"));
});

t.test('several keywords on one line: keepalived reads only the first (warned)', async (t) => {
  // The one-line form `TCP_CHECK { connect_timeout 3  retry 2 }` becomes one statement in lib/parser.c.
  const { vs, messages } = only('virtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_sched rr\n lvs_method NAT\n real_server 10.0.0.2 80 {\n  TCP_CHECK { connect_timeout 3  retry 2  delay_before_retry 2 }\n }\n}\n');
  t.match(vs.realServers[0]!.checkers[0], { connectTimeout: 3, retry: 1, delayBeforeRetry: 1 });
  t.ok(messages.some((m) => m.startsWith("extra arguments ignored: 'retry 2 delay_before_retry 2'")));
});

t.test('quorum is capped at the total weight; hysteresis kept below the quorum', async (t) => {
  const { vs, messages } = only('virtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_sched rr\n lvs_method DR\n quorum 10\n hysteresis 9\n real_server 10.0.0.2 80 {\n  weight 2\n }\n real_server 10.0.0.3 80 {\n  weight 3\n }\n}\n');
  t.equal(vs.quorum, 5);
  t.equal(vs.hysteresis, 4);
  t.equal(messages.length, 2);
});

t.test('fwmark and group virtual servers', async (t) => {
  const text = `
virtual_server_group WEB {
  10.0.0.1 80
  10.0.1.1-3 80
  10.0.2.0/30 80
  fwmark 7
}
virtual_server group WEB {
  protocol TCP
  lvs_sched sh
  sh-port
  lvs_method DR
  real_server 10.1.0.1 80 {
  }
}
virtual_server fwmark 5 {
  lvs_sched rr
  lvs_method DR
  real_server 10.1.0.2 80 {
  }
}
`;
  const { config, warnings } = load(text);
  t.match(config.virtualServerGroups[0]!.entries, [
    { kind: 'address', address: '10.0.0.1', port: 80 },
    { kind: 'address', address: '10.0.1.1', addressEnd: '10.0.1.3', port: 80 },
    { kind: 'address', address: '10.0.2.0', prefixLength: 30, addressEnd: '10.0.2.3' },
    { kind: 'fwmark', fwmark: 7 },
  ]);
  const [g, f] = config.virtualServers;
  t.match(g, { kind: 'group', group: 'WEB', protocol: 'TCP', scheduler: 'sh', flags: { shPort: true } });
  t.match(f, { kind: 'fwmark', fwmark: 5, name: 'fwmark 5' });
  t.equal(f!.protocol, undefined);
  t.equal(f!.realServers[0]!.port, 0, 'a DR real server of a fwmark service loses its port');
  t.match(warnings, [{ keyword: 'real_server', message: /fwmark virtual server fwmark 5, real server 10.1.0.2 has port specified - clearing/ }]);
});

t.test('sorry_server, sorry_server_inhibit, notify scripts, thresholds, ops and BOOL spellings', async (t) => {
  const text = `
virtual_server 10.0.0.1 53 {
  protocol UDP
  ops
  lvs_sched rr
  lvs_method DR
  sorry_server 10.0.0.9
  sorry_server_inhibit
  quorum_up "/bin/up arg" root
  real_server 10.0.0.2 53 {
    uthreshold 100
    lthreshold 10
    inhibit_on_failure yes
    notify_up /bin/on-up alice staff
    notify_down "/bin/on-down --now"
  }
}
`;
  const { vs } = only(text);
  t.match(vs, { flags: { ops: true }, sorryServer: { address: '10.0.0.9', port: 53, inhibit: true, forwarding: { method: 'DR' } } });
  t.same(vs.quorumUp, { command: '/bin/up arg', user: 'root' });
  t.match(vs.realServers[0], { uThreshold: 100, lThreshold: 10, inhibitOnFailure: true, notifyUp: { command: '/bin/on-up', user: 'alice', group: 'staff' }, notifyDown: { command: '/bin/on-down --now' } });
});

t.test('VRRP blocks are parsed into typed objects and only warned about', async (t) => {
  const text = `
vrrp_script chk_lb {
  script "/usr/bin/pgrep lb"
  interval 2
  weight -20
  fall 2
  rise 1
}
vrrp_sync_group SG {
  group {
    VI_A
  }
  notify_master /bin/sg-master
}
vrrp_instance VI_A {
  state MASTER
  interface eth1
  virtual_router_id 7
  priority 200
  advert_int 0.5
  preempt_delay 30
  garp_master_delay 1
  garp_master_repeat 3
  version 2
  unicast_src_ip 10.0.0.1
  unicast_peer {
    10.0.0.2
    10.0.0.3
  }
  authentication {
    auth_type AH
    auth_pass secret
  }
  virtual_ipaddress {
    10.0.0.100/24 dev eth1 label eth1:vip
    10.0.0.101
  }
  track_interface {
    eth0 weight -10
    eth2
  }
  track_script {
    chk_lb
  }
  notify "/bin/notify all"
  use_vmac
}
`;
  const { config, warnings } = load(text);
  const vi = config.vrrpInstances[0]!;
  t.match(vi, { state: 'MASTER', interface: 'eth1', virtualRouterId: 7, priority: 200, advertInt: 0.5, preemptDelay: 30, garpMasterDelay: 1, garpMasterRepeat: 3, version: 2, unicastSrcIp: '10.0.0.1', unicastPeers: ['10.0.0.2', '10.0.0.3'], authentication: { type: 'AH', pass: 'secret' } });
  t.match(vi.virtualIpAddresses, [{ address: '10.0.0.100', prefixLength: 24, dev: 'eth1', label: 'eth1:vip' }, { address: '10.0.0.101' }]);
  t.same(vi.trackInterfaces, [{ name: 'eth0', weight: -10 }, { name: 'eth2' }]);
  t.same(vi.trackScripts, [{ name: 'chk_lb' }]);
  t.same(vi.notify, { command: '/bin/notify all' });
  t.same(vi.extra.map((e) => e.keyword), ['use_vmac']);
  t.match(config.vrrpScripts[0], { name: 'chk_lb', script: '/usr/bin/pgrep lb', interval: 2, weight: -20, fall: 2, rise: 1 });
  t.match(config.vrrpSyncGroups[0], { name: 'SG', instances: ['VI_A'], notifyMaster: { command: '/bin/sg-master' } });
  t.same(warnings.map((w) => w.message), []);
});
