// What the lab benchmark compares, all in one onearm lab (scripts/lab up onearm
// --rs-gw director --dr-rs ok): each target prepares the director and the servers'
// routes, starts its forwarder, and undoes everything in stop().
//
//   direct       client -> server through the router, no balancer (servers' gateway: router)
//   kernel-nat   nftables DNAT, `numgen inc mod 2` round robin, in the director (ip_forward=1
//                and send_redirects=0 for this target only; servers' gateway: the director)
//   bare-nat-cap, bare-dr-cap    bench/lab/bare-fwd.mjs: the pcap (cap) I/O path, no engine logic
//   bare-nat-ring, bare-dr-ring  bench/lab/bare-ring-fwd.mjs: the ring I/O path, no engine logic
//   engine-nat-pcap, engine-dr-pcap  dist/lb.js --io pcap
//   engine-nat-ring, engine-dr-ring  dist/lb.js --io ring
//   engine-nat-ring-w2, engine-nat-pcap-w2  dist/lb.js --workers 2 (not run unless --only names them)
// plus I/O experiments (UDP only): capture without transmit on each backend, a 4x ring
// for the bare ring forwarder, a 1 MiB pcap ring, raw-socket TX.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, childPids, sleep, stopChild, watchOutput } from './lab-env.mjs';
import { ECHO_PORT, UDP_PORT } from './workloads.mjs';

/** Once per lab: sinks in the servers, the VIP pinned on the router, client sysctls. */
export async function prepareLab(lab) {
  const s = lab.s;
  for (const rs of ['rs1', 'rs2']) {
    await lab.must(rs, ['nft', '-f', '-'], {
      input: 'table netdev tslb_bench_sink {\n chain ingress {\n  type filter hook ingress device "eth0" priority -500; policy accept;\n' +
        '  udp dport 9100 meta pkttype host counter drop\n  udp dport 9100 drop\n }\n}\n',
    });
  }
  // The VIP always maps to the director's MAC; pinning it keeps ARP out of every case.
  await lab.must('router', ['ip', 'neigh', 'replace', s.LAB_VIP, 'lladdr', s.LAB_DIR_MAC, 'dev', 'eth0', 'nud', 'permanent']);
  // The servers only receive during a UDP flood: once their MACs age out of the bridge's
  // table (300 s) every frame to them is flooded to every port, which triples a forwarder's
  // transmit cost (each copy runs a veth and a namespace's ingress in its context). Static
  // entries keep unknown-unicast flooding out of every case, as the VIP pin keeps ARP out.
  await lab.must('switch', ['bridge', 'fdb', 'replace', s.LAB_RS1_MAC, 'dev', 'p-rs1', 'master', 'static']);
  await lab.must('switch', ['bridge', 'fdb', 'replace', s.LAB_RS2_MAC, 'dev', 'p-rs2', 'master', 'static']);
  // Thousands of short connections per case: reuse TIME_WAIT ports, widen the range.
  await lab.must('client', ['sysctl', '-qw', 'net.ipv4.tcp_tw_reuse=1', 'net.ipv4.ip_local_port_range=10000 65000']);
  lab.serverPids = ['RS1', 'RS2'].map((k) => JSON.parse(readFileSync(path.join(s.LAB_LOG_DIR, `${k}.ready`), 'utf8')).pid);
}

const BARE = path.join(REPO, 'bench/lab/bare-fwd.mjs');
const BARE_RING = path.join(REPO, 'bench/lab/bare-ring-fwd.mjs');
const LB = path.join(REPO, 'dist/lb.js');

async function serversVia(lab, gw) {
  for (const rs of ['rs1', 'rs2']) await lab.must(rs, ['ip', 'route', 'replace', 'default', 'via', gw]);
  // Drop what the servers learnt from the previous target's path.
  for (const rs of ['rs1', 'rs2']) await lab.exec(rs, ['ip', 'route', 'flush', 'cache']);
}

/** The same kind of netdev drops the engine's host guard installs (src/io/host-guard.ts). */
async function bareGuard(lab, on) {
  const s = lab.s;
  if (!on) return lab.exec('director', ['nft', 'delete', 'table', 'netdev', 'tslb_bench_bare']);
  const rules = [`ip daddr ${s.LAB_VIP} drop`];
  for (const ip of [s.LAB_RS1_IP, s.LAB_RS2_IP]) {
    rules.push(`ip daddr != ${s.LAB_DIR_IP} ip saddr ${ip} tcp sport 80 drop`, `ip daddr != ${s.LAB_DIR_IP} ip saddr ${ip} udp sport { ${UDP_PORT}, ${ECHO_PORT} } drop`);
  }
  const script = `table netdev tslb_bench_bare {\n chain ingress {\n  type filter hook ingress device "eth0" priority 0; policy accept;\n  ${rules.join('\n  ')}\n }\n}\n`;
  return lab.must('director', ['nft', '-f', '-'], { input: script });
}

/**
 * A forwarder process in the director namespace. opts: mode 'nat'|'dr' (the servers'
 * gateway), bare (install the bare forwarder's netdev drops), workers (wait for that
 * many ready lines; the forwarding pids are the children), wrap (argv prefix, e.g.
 * clinic; the forwarding pid is then the wrapper's child), env.
 */
export function processTarget(name, label, argvFor, readyText, opts = {}) {
  let child = null, out = null;
  return {
    name, label, ...opts,
    async start(lab) {
      await serversVia(lab, opts.mode === 'dr' ? lab.s.LAB_ROUTER_IP : lab.s.LAB_DIR_IP);
      if (opts.bare) await bareGuard(lab, true);
      const spawnOpts = opts.env ? { env: { ...process.env, ...opts.env } } : {};
      // Own process group: stop() signals the whole group, as Ctrl-C in a terminal would.
      child = lab.spawn('director', [...(opts.wrap ?? []), ...argvFor(lab)], { ...spawnOpts, detached: true });
      out = watchOutput(child);
      const want = opts.workers ?? 1;
      await out.waitFor((t) => t.split(readyText).length - 1 >= want, opts.wrap ? 60_000 : 20_000, name);
      await sleep(300);
    },
    pids() {
      if (!child || child.exitCode !== null) return [];
      if (opts.wrap) return childPids(child.pid).flatMap((p) => (opts.workers ? childPids(p) : [p]));
      return opts.workers ? childPids(child.pid) : [child.pid];
    },
    async stop(lab) {
      if (child) await stopChild(child, opts.wrap ? 120_000 : 8000, Boolean(opts.wrap));
      if (opts.bare) await bareGuard(lab, false);
      this.log = out?.text ?? '';
      child = null;
    },
  };
}

function bareArgv(mode, extra = [], script = BARE) {
  return (lab) => {
    const s = lab.s;
    return [process.execPath, script, '--iface', 'eth0', '--mac', s.LAB_DIR_MAC, '--ip', s.LAB_DIR_IP, '--vip', s.LAB_VIP,
      '--rs', `${s.LAB_RS1_IP}=${s.LAB_RS1_MAC},${s.LAB_RS2_IP}=${s.LAB_RS2_MAC}`, '--mode', mode, '--gw-mac', s.LAB_ROUTER_MAC, ...extra];
  };
}

export function lbArgv(mode, extra = []) {
  return (lab) => {
    const s = lab.s;
    return [process.execPath, LB, '--vip', s.LAB_VIP, '--port', '80', '--udp-port', String(UDP_PORT), '--udp-port', String(ECHO_PORT),
      '--rs', `${s.LAB_RS1_IP}:80`, '--rs', `${s.LAB_RS2_IP}:80`, '--sched', 'rr', '--mode', mode, '--iface', 'eth0',
      '--socket', `/tmp/tslb-${lab.prefix}.sock`, ...extra];
  };
}

const direct = {
  name: 'direct', label: 'direct client->server (no balancer)', direct: true,
  async start(lab) {
    await serversVia(lab, lab.s.LAB_ROUTER_IP);
  },
  pids: () => [],
  async stop() {},
};

function kernelNat() {
  let saved = null;
  return {
    name: 'kernel-nat', label: 'kernel nftables DNAT numgen rr',
    async start(lab) {
      const s = lab.s;
      await serversVia(lab, s.LAB_DIR_IP);
      const get = async (k) => (await lab.must('director', ['sysctl', '-n', k])).trim();
      saved = {
        'net.ipv4.ip_forward': await get('net.ipv4.ip_forward'),
        'net.ipv4.conf.all.send_redirects': await get('net.ipv4.conf.all.send_redirects'),
        'net.ipv4.conf.eth0.send_redirects': await get('net.ipv4.conf.eth0.send_redirects'),
      };
      const map = `numgen inc mod 2 map { 0 : ${s.LAB_RS1_IP}, 1 : ${s.LAB_RS2_IP} }`;
      await lab.must('director', ['nft', '-f', '-'], {
        input: `table ip tslb_bench_knat {\n chain pre {\n  type nat hook prerouting priority dstnat; policy accept;\n` +
          `  ip daddr ${s.LAB_VIP} tcp dport 80 dnat to ${map}\n  ip daddr ${s.LAB_VIP} udp dport { ${UDP_PORT}, ${ECHO_PORT} } dnat to ${map}\n }\n` +
          ` chain post {\n  type nat hook postrouting priority srcnat; policy accept;\n }\n}\n`,
      });
      // One-arm: the director forwards out of the interface it received on; an ICMP
      // redirect would teach the servers to bypass it (and conntrack's un-NAT).
      await lab.must('director', ['sysctl', '-qw', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0']);
      await lab.must('director', ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    },
    pids: () => [],
    async stop(lab) {
      await lab.exec('director', ['nft', 'delete', 'table', 'ip', 'tslb_bench_knat']);
      if (saved) for (const [k, v] of Object.entries(saved)) await lab.exec('director', ['sysctl', '-qw', `${k}=${v}`]);
      saved = null;
    },
  };
}

const BARE_READY = ': ready';
const LB_READY = 'running;';

/**
 * The main comparison, in run order (DR first: same server routes as direct). `extra`
 * targets run only when --only names them.
 */
export function mainTargets() {
  const pcap = ['--io', 'pcap'], ring = ['--io', 'ring'];
  return [
    direct,
    processTarget('bare-dr-cap', 'bare forwarder, DR (cap I/O, no engine)', bareArgv('dr'), BARE_READY, { mode: 'dr', bare: true, extra: true, offloadBlind: true }),
    processTarget('engine-dr-pcap', 'engine DR, --io pcap', lbArgv('dr', pcap), LB_READY, { mode: 'dr' }),
    processTarget('bare-dr-ring', 'bare forwarder, DR (ring I/O, no engine)', bareArgv('dr', [], BARE_RING), BARE_READY, { mode: 'dr', bare: true }),
    processTarget('engine-dr-ring', 'engine DR, --io ring', lbArgv('dr', ring), LB_READY, { mode: 'dr' }),
    processTarget('bare-nat-cap', 'bare forwarder, NAT (cap I/O, no engine)', bareArgv('nat'), BARE_READY, { mode: 'nat', bare: true, offloadBlind: true }),
    processTarget('engine-nat-pcap', 'engine NAT, --io pcap', lbArgv('nat', pcap), LB_READY, { mode: 'nat' }),
    processTarget('bare-nat-ring', 'bare forwarder, NAT (ring I/O, no engine)', bareArgv('nat', [], BARE_RING), BARE_READY, { mode: 'nat', bare: true }),
    processTarget('engine-nat-ring', 'engine NAT, --io ring', lbArgv('nat', ring), LB_READY, { mode: 'nat' }),
    processTarget('engine-nat-ring-w2', 'engine NAT --io ring --workers 2', lbArgv('nat', [...ring, '--workers', '2']), LB_READY, { mode: 'nat', workers: 2, extra: true }),
    processTarget('engine-nat-pcap-w2', 'engine NAT --io pcap --workers 2', lbArgv('nat', [...pcap, '--workers', '2']), LB_READY, { mode: 'nat', workers: 2, extra: true }),
    kernelNat(),
  ];
}

/** UDP-only experiments on the I/O paths (what bounds them). */
export function ioExperiments() {
  return [
    processTarget('sink-cap', 'capture only, nothing sent (cap RX ceiling)', bareArgv('sink'), BARE_READY, { mode: 'nat', bare: true, sink: true }),
    processTarget('sink-ring', 'drain only, nothing sent (ring RX ceiling)', bareArgv('sink', [], BARE_RING), BARE_READY, { mode: 'nat', bare: true, sink: true }),
    processTarget('bare-nat-ring-4x', 'bare ring NAT, 2040-slot ring instead of 510', bareArgv('nat', ['--frames', '2040'], BARE_RING), BARE_READY, { mode: 'nat', bare: true }),
    processTarget('bare-nat-cap-ring1m', 'bare cap NAT, 1 MiB ring instead of 64 MiB', bareArgv('nat', ['--ring', String(1 << 20)]), BARE_READY, { mode: 'nat', bare: true, extra: true }),
    processTarget('bare-nat-cap-raw', 'bare cap NAT, raw-socket TX instead of cap.send', bareArgv('nat', ['--tx', 'raw']), BARE_READY, { mode: 'nat', bare: true, extra: true }),
  ];
}
