/**
 * argv parsing against ipvsadm 1.31's documented rules (docs/ipvs-behaviour.md §5.1, §5.2, §3) and
 * the order of checks in parse_options/process_options. Messages and exit
 * statuses are ipvsadm's: fail() = 2, tryhelp and popt errors = 255.
 */
import t from 'tap';
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED2 } from '../../src/sched/types.js';
import { parseIpvsadmArgs, type ParseEnv } from '../../src/control/ipvsadm/args.js';
import { commandToArgv, commandToLine } from '../../src/control/ipvsadm/argv.js';
import type { ArgsError, Command } from '../../src/control/ipvsadm/command.js';
import { parseServices } from '../../src/control/ipvsadm/services-file.js';

const env: ParseEnv = {
  services: parseServices('http 80/tcp www\nhttp 80/udp\ndomain 53/udp\n'),
  lookupHost: (name) => ({ 'vip.example': '10.0.0.127', 'rs1.example': '10.0.0.86' } as Record<string, string>)[name],
};

const TRYHELP = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n";

function ok(t: { fail(message: string): unknown }, argv: string[]): Command {
  const r = parseIpvsadmArgs(argv, env);
  if (!r.ok) {
    t.fail(`${argv.join(' ')}: ${r.error.stderr}`);
    throw new Error('parse failed');
  }
  return r.command;
}

function err(argv: string[]): ArgsError | null {
  const r = parseIpvsadmArgs(argv, env);
  return r.ok ? null : r.error;
}

/** fail(2, msg): the message and a newline on stderr, exit 2. */
const fail2 = (message: string) => ({ message, stderr: `${message}\n`, status: 2, exits: true });

t.test('-A: defaults, -s, -p with and without a value', async (t) => {
  const c = ok(t, ['-A', '-t', '10.0.0.127:80']);
  t.same(c, {
    cmd: 'add-service', given: ['service-address'],
    service: { af: 'inet', proto: 'TCP', addr: '10.0.0.127', port: 80, fwmark: 0 },
    settings: { scheduler: 'wlc', flags: 0, timeout: 0, netmask: 0xffffffff, pe: '' },
  });
  const p = ok(t, ['-A', '-t', '10.0.0.127:80', '-s', 'rr', '-p']);
  t.match(p, { settings: { scheduler: 'rr', flags: SVC_F_PERSISTENT, timeout: 360 } });
  // An optional argument is not taken from a word that starts with '-'.
  t.match(ok(t, ['-A', '-t', '10.0.0.127:80', '-p', '-s', 'rr']), { settings: { scheduler: 'rr', timeout: 360 } });
  t.match(ok(t, ['-A', '-t', '10.0.0.127:80', '-p', '2678400']), { settings: { timeout: 2678400 } });
  t.match(ok(t, ['-A', '-t', '10.0.0.127:80', '-p60']), { settings: { timeout: 60 } });
  t.match(ok(t, ['-A', '-t', '10.0.0.127:80', '--persistent=1']), { settings: { timeout: 1 } });
  t.same(err(['-A', '-t', '10.0.0.127:80', '-p', '0']), fail2("invalid timeout value `0' specified"));
  t.same(err(['-A', '-t', '10.0.0.127:80', '-p', '2678401']), fail2("invalid timeout value `2678401' specified"));
  t.match(ok(t, ['-A', '-t', '10.0.0.127:80', '-p', '-M', '255.255.255.0']), { settings: { netmask: 0xffffff00 } });
  t.same(err(['-A', '-t', '10.0.0.127:80', '-M', 'nonsense']), fail2('illegal virtual server persistent mask specified'));
});

t.test('service addresses: names, ports, IPv6, fwmark', async (t) => {
  t.match(ok(t, ['-A', '-t', 'vip.example:http']), { service: { addr: '10.0.0.127', port: 80 } });
  t.match(ok(t, ['-A', '-u', '10.0.0.127:domain']), { service: { proto: 'UDP', port: 53 } });
  // domain is only udp in this services file.
  t.same(err(['-A', '-t', '10.0.0.127:domain']), fail2('illegal virtual server address[:port] specified'));
  t.same(err(['-A', '-t', '10.0.0.127:65536']), fail2('illegal virtual server address[:port] specified'));
  t.same(err(['-A', '-t', 'nohost.example:80']), fail2('illegal virtual server address[:port] specified'));
  t.same(err(['-A', '-t', '80']), fail2('illegal virtual server address[:port] specified'));
  // inet_aton shorthands are accepted and printed canonically.
  t.match(ok(t, ['-A', '-t', '10.1:80']), { service: { addr: '10.0.0.1' } });
  t.match(ok(t, ['-A', '-t', '[2001:DB8:0:0::1]:443']), {
    service: { af: 'inet6', addr: '2001:db8::1', port: 443 }, settings: { netmask: 128 },
  });
  t.match(ok(t, ['-A', '-f', '7']), { service: { fwmark: 7, proto: 'TCP', af: 'inet' } });
  t.match(ok(t, ['-A', '-f', '7', '-6']), { service: { fwmark: 7, af: 'inet6', addr: '::' }, settings: { netmask: 128 } });
  t.same(err(['-A', '-f', '0']), fail2("invalid fwmark value `0' specified"));
  t.same(err(['-A', '-f', '4294967296']), fail2("invalid fwmark value `4294967296' specified"));
  t.same(err(['-A', '-6', '-f', '1']), { message: '-6 used before -f\n', stderr: '-6 used before -f\n\n', status: 2, exits: true });
});

t.test('-p/-o/zero port rules (docs/ipvs-behaviour.md §3)', async (t) => {
  t.same(err(['-A', '-t', '10.0.0.1:0']), fail2('Zero port specified for non-persistent service'));
  t.same(err(['-A', '-t', '10.0.0.1']), fail2('Zero port specified for non-persistent service'));
  t.match(ok(t, ['-A', '-t', '10.0.0.1:0', '-p']), { service: { port: 0 }, settings: { flags: SVC_F_PERSISTENT } });
  t.same(err(['-A', '-t', '10.0.0.1:80', '-o']), fail2('One-Packet Scheduling is only for UDP virtual services'));
  t.match(ok(t, ['-A', '-u', '10.0.0.1:53', '-o']), { settings: { flags: SVC_F_ONEPACKET } });
  t.match(ok(t, ['-A', '-f', '3', '-o']), { settings: { flags: SVC_F_ONEPACKET } });
  t.same(err(['-E', '-t', '10.0.0.1:80', '-o']), fail2('One-Packet Scheduling is only for UDP virtual services'));
});

t.test('-b scheduler flags', async (t) => {
  t.match(ok(t, ['-A', '-t', '10.0.0.1:80', '-s', 'sh', '-b', 'sh-port']), { settings: { flags: SVC_F_SCHED2 } });
  t.same(err(['-A', '-t', '10.0.0.1:80', '-s', 'rr', '-b', 'sh-port']), fail2("incompatible scheduler flag `sh-port'"));
  // Without -s the scheduler is wlc.
  t.same(err(['-A', '-t', '10.0.0.1:80', '-b', 'mh-fallback']), fail2("incompatible scheduler flag `mh-fallback'"));
  t.same(err(['-A', '-t', '10.0.0.1:80', '-b', 'flag-9']), fail2("invalid scheduler flag `flag-9'"));
  // Names of Object.prototype were looked up in an object literal and called "incompatible".
  for (const w of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    t.same(err(['-A', '-t', '10.0.0.1:80', '-b', w]), fail2(`invalid scheduler flag \`${w}'`));
  }
  t.match(ok(t, ['-A', '-t', '10.0.0.1:80', '-b', 'flag-1,flag-3']), { settings: { flags: 0x08 | 0x20 } });
});

t.test('-a/-e/-d: port defaults and forcing, weight, methods', async (t) => {
  t.same(ok(t, ['-a', '-t', '10.0.0.127:80', '-r', '10.0.0.86', '-m']), {
    cmd: 'add-server', given: ['service-address', 'real-server', 'forwarding-method'],
    service: { af: 'inet', proto: 'TCP', addr: '10.0.0.127', port: 80, fwmark: 0 },
    dest: {
      af: 'inet', addr: '10.0.0.86', port: 80, fwd: 'Masq', weight: 1, uThreshold: 0, lThreshold: 0,
      tunnel: { type: 'ipip', port: 0, csum: 'nocsum' },
    },
  });
  t.match(ok(t, ['-a', '-t', '10.0.0.127:80', '-r', 'rs1.example:8080', '-m']), { dest: { addr: '10.0.0.86', port: 8080 } });
  // -g is the default and forces the service port, as does -i.
  t.match(ok(t, ['-a', '-t', '10.0.0.127:80', '-r', '10.0.0.86:8080']), { dest: { fwd: 'Route', port: 80 } });
  t.match(ok(t, ['-a', '-t', '10.0.0.127:80', '-r', '10.0.0.86:8080', '-i']), { dest: { fwd: 'Tunnel', port: 80 } });
  t.match(ok(t, ['-a', '-t', '10.0.0.127:80', '-r', '10.0.0.86:8080', '--fnat']), { dest: { fwd: 'FNAT', port: 8080 } });
  t.match(ok(t, ['-e', '-t', '10.0.0.127:80', '-r', '10.0.0.86', '-w', '0', '-x', '100', '-y', '50']), {
    cmd: 'edit-server', dest: { weight: 0, uThreshold: 100, lThreshold: 50 },
  });
  t.same(err(['-a', '-t', '10.0.0.127:80', '-r', '10.0.0.86', '-w', '65536']), fail2('illegal weight specified'));
  t.same(err(['-a', '-t', '10.0.0.127:80', '-r', '10.0.0.86', '-w', '-1']), fail2('illegal weight specified'));
  t.same(err(['-a', '-t', '10.0.0.127:80', '-r', '10.0.0.86', '-w', 'ten']), fail2('illegal weight specified'));
  t.same(err(['-a', '-t', '10.0.0.127:80', '-r', '10.0.0.86:99999']), fail2('illegal real server address[:port] specified'));
  t.same(err(['-a', '-t', '10.0.0.127:80', '-r', '10.0.0.86', '-m', '-g']), fail2("multiple 'forwarding-method' options specified"));
  t.same(err(['-a', '-t', '10.0.0.1:80', '-r', '[2001:db8::2]:80', '-m']), fail2('Different address family is allowed only for tunneling servers'));
  t.same(err(['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2', '-m', '--tun-type', 'gue']), fail2('Tunnel options conflict with forward method'));
  t.same(err(['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2', '-i', '--tun-type', 'gue']), fail2("You need to supply the 'tun-port' option for the 'gue' tunnel type"));
  t.match(ok(t, ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2', '-i', '--tun-type', 'gue', '--tun-port', '6080', '--tun-csum']), {
    dest: { tunnel: { type: 'gue', port: 6080, csum: 'csum' } },
  });
  t.same(err(['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2', '-i', '--tun-type', 'gre', '--tun-remcsum']), fail2("Illegal 'tun-remcsum' option with the 'gre' tunnel type"));
  t.match(ok(t, ['-d', '-t', '10.0.0.1:80', '-r', '10.0.0.2:81']), { cmd: 'delete-server', dest: { port: 81 } });
});

t.test('the command/option matrix', async (t) => {
  t.same(err(['-A', '-t', '10.0.0.1:80', '-r', '10.0.0.2']), fail2("Illegal 'real-server' option with the 'add-service' command"));
  t.same(err(['-a', '-t', '10.0.0.1:80']), fail2("You need to supply the 'real-server' option for the 'add-server' command"));
  t.same(err(['-a', '-r', '10.0.0.2']), fail2("You need to supply the 'service-address' option for the 'add-server' command"));
  t.same(err(['-D']), fail2("You need to supply the 'service-address' option for the 'delete-service' command"));
  t.same(err(['-C', '-n']), fail2("Illegal 'numeric' option with the 'flush' command"));
  t.same(err(['-S', '-c']), fail2("Illegal 'connection' option with the 'save' command"));
  t.same(err(['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2', '-s', 'rr']), fail2("Illegal 'scheduler' option with the 'add-server' command"));
  t.same(err(['-L', '-c', '--timeout']), fail2("The option 'timeout' conflicts with the 'connection' option in the 'list' command"));
  t.same(err(['-L', '--daemon', '-t', '10.0.0.1:80']), fail2("The option 'daemon' conflicts with the 'service-address' option in the 'list' command"));
  t.same(err(['-L', '-n', '-n']), fail2("multiple 'numeric' options specified"));
  t.same(err(['-A', '-t', '10.0.0.1:80', '-u', '10.0.0.1:80']), fail2("multiple 'service-address' options specified"));
});

t.test('-L forms and their conflicts', async (t) => {
  t.same(ok(t, []), {
    cmd: 'list', given: [], what: 'services', service: null,
    format: { numeric: false, stats: false, rate: false, thresholds: false, persistentConn: false, tunInfo: false, nosort: false, exact: false },
  });
  t.match(ok(t, ['-Ln']), { cmd: 'list', what: 'services', format: { numeric: true } });
  t.match(ok(t, ['-l', '--stats', '--exact', '--sort']), { what: 'services', format: { stats: true, exact: true, nosort: false } });
  t.match(ok(t, ['-L', '-n', '-c']), { what: 'connections' });
  t.match(ok(t, ['-L', '--timeout']), { what: 'timeout' });
  t.match(ok(t, ['-L', '-u', '10.0.0.1:53', '--rate']), { what: 'service', service: { proto: 'UDP', port: 53 }, format: { rate: true } });
  t.match(ok(t, ['-L', '-c', '--persistent-conn']), { what: 'connections', format: { persistentConn: true } });
  t.same(err(['-L', '-c', '--stats']), fail2('options conflicts in the list command'));
  t.same(err(['-L', '--timeout', '--rate']), fail2('options conflicts in the list command'));
  t.same(err(['-L', '--daemon', '--persistent-conn']), fail2('options conflicts in the list command'));
  t.same(err(['-L', '-s', 'rr']), fail2("Illegal 'scheduler' option with the 'list' command"));
});

t.test('commands: more than one, none first, help, version', async (t) => {
  // The popt build reads the command from the first option only; a later one is an invalid option.
  t.same(err(['-A', '-t', '10.0.0.1:80', '-D']), fail2("invalid option `-D'"));
  t.same(err(['-L', '-C']), fail2("invalid option `-C'"));
  t.same(err(['-Ln', '-h']), fail2("invalid option `-h'"));
  // An option before the command, an unknown first option, or only words: tryhelp, 255.
  const tryhelp = { message: '', stderr: TRYHELP, status: 255, exits: true };
  t.same(err(['-n', '-L']), tryhelp);
  t.same(err(['--bogus']), tryhelp);
  t.same(err(['list']), tryhelp);
  // popt errors after the command: "<word>: <reason>", 255, and ipvsadm does not exit (-R goes on).
  t.same(err(['-L', '--bogus']), { message: '--bogus: unknown option', stderr: '--bogus: unknown option\n', status: 255, exits: false });
  t.same(err(['-L', '--nosort=1']), { message: '--nosort=1: option does not take an argument', stderr: '--nosort=1: option does not take an argument\n', status: 255, exits: false });
  t.same(err(['-A', '-t']), { message: '-t: missing argument', stderr: '-t: missing argument\n', status: 255, exits: false });
  t.same(err(['-L', 'extra']), fail2('unexpected argument extra'));
  // Words are left over wherever they stand; the command is still the first option.
  t.same(err(['extra', '-L']), fail2('unexpected argument extra'));
  t.same(err(['-L', '--', '-n']), fail2('unexpected argument -n'));
  // Short clusters and --long=value.
  t.match(ok(t, ['-At', '10.0.0.1:80', '-srr']), { cmd: 'add-service', service: { port: 80 }, settings: { scheduler: 'rr' } });
  t.match(ok(t, ['--add-service', '--tcp-service=10.0.0.1:80', '--scheduler=sed']), { settings: { scheduler: 'sed' } });
  // A required argument takes the next word even when it looks like an option.
  t.same(err(['-A', '-t', '-s', 'rr']), fail2('illegal virtual server address[:port] specified'));
  // Single-dash long names are not long options in popt without ONEDASH: "-list" is -l -i -s t,
  // and the matrix reports the lowest column first (scheduler before forwarding-method).
  t.same(err(['-list']), fail2("Illegal 'scheduler' option with the 'list' command"));
  const h = ok(t, ['-h']);
  t.match(h, { cmd: 'help' });
  if (h.cmd === 'help') {
    t.ok(h.stdout.startsWith('ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\nUsage:\n  ipvsadm -A|E virtual-service'));
  }
  t.same(ok(t, ['--version']), { cmd: 'version', given: [], stdout: 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n' });
  const custom = parseIpvsadmArgs(['-x'], { program: '/sbin/ipvsadm' });
  t.same(custom, { ok: false, error: { message: '', stderr: "Try `/sbin/ipvsadm -h' or '/sbin/ipvsadm --help' for more information.\n", status: 255, exits: true } });
});

t.test('--set, -S, -Z, -C, -R, daemons', async (t) => {
  t.same(ok(t, ['--set', '900', '120', '300']), { cmd: 'set', given: [], timeouts: { tcp: 900, tcpfin: 120, udp: 300 } });
  t.same(err(['--set', '900', '120']), fail2('--set option requires 3 timeout values'));
  t.same(err(['--set', '1', '2', '3', '4']), fail2('unexpected argument 4'));
  t.same(err(['--set', '1', 'x', '3']), fail2("invalid timeout value `x' specified"));
  t.match(ok(t, ['-S', '-n']), { cmd: 'save', numeric: true });
  t.match(ok(t, ['-S']), { cmd: 'save', numeric: false });
  t.match(ok(t, ['-Z']), { cmd: 'zero', service: null });
  t.match(ok(t, ['-Z', '-f', '9']), { cmd: 'zero', service: { fwmark: 9 } });
  t.match(ok(t, ['-C']), { cmd: 'flush' });
  t.match(ok(t, ['-R']), { cmd: 'restore' });
  t.match(ok(t, ['--start-daemon', 'master', '--syncid', '5']), { cmd: 'start-daemon', daemon: { state: 'master', mcastIfn: 'eth0', syncid: 5 } });
  t.same(err(['--start-daemon', 'primary']), fail2('illegal start-daemon parameter specified'));
  t.same(err(['--start-daemon', 'master', '--mcast-group', '10.0.0.1']), fail2("invalid IPv4 mcast-group `10.0.0.1'"));
});

t.test('commandToArgv gives argv that parses back to the same command', async (t) => {
  const lines = [
    ['-A', '-t', 'vip.example:http', '-s', 'sh', '-p', '120', '-M', '255.255.0.0', '-b', 'sh-fallback,sh-port'],
    ['-A', '-u', '10.0.0.1:53', '-o', '--pe', 'sip', '-p'],
    ['-E', '-f', '5', '-6', '-s', 'mh', '-b', 'mh-port', '-p', '10', '-M', '64'],
    ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2:8080', '-m', '-w', '3', '-x', '9', '-y', '4'],
    ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2', '-i', '--tun-type', 'gre', '--tun-csum'],
    ['-e', '-t', '10.0.0.1:80', '-r', '10.0.0.2', '--fnat', '-w', '0'],
    ['-d', '-u', '[2001:db8::1]:53', '-r', '[2001:db8::2]:53'],
    ['-D', '--sctp-service', '10.0.0.1:9'],
    ['-L', '-n', '-t', '10.0.0.1:80', '--stats', '--exact', '--nosort'],
    ['-L', '-c'], ['-L', '--daemon'], ['--set', '0', '10', '20'], ['-S', '-n'], ['-Z'], ['-C'], ['-R'],
    ['--start-daemon', 'backup', '--mcast-interface', 'eth1', '--mcast-group', '224.0.0.82', '--mcast-port', '9000'],
    ['--stop-daemon', 'master'],
  ];
  const strip = (c: Command) => ({ ...c, given: [] });
  for (const argv of lines) {
    const c = ok(t, argv);
    const again = ok(t, commandToArgv(c));
    t.same(strip(again), strip(c), argv.join(' '));
  }
  t.equal(commandToLine(ok(t, ['-A', '-t', 'vip.example:http', '-s', 'rr', '-p'])), 'ipvsadm -A -t 10.0.0.127:80 -s rr -p 360');
});
