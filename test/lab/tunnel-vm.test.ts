/**
 * Tunnel mode end to end with a real decapsulating kernel. This host's kernel has no ipip
 * module, so the real server is the Debian VM of scripts/ipvs-vm (`rs` role): its virtio NIC
 * sits on a tap device on the lab's switch, tunl0 decapsulates, and it answers from the VIP
 * through the router, past the director, as in DR. The director is this balancer in the
 * seed 000 one-arm lab at the kernel's default veth offloads (the client's TCP checksums
 * arrive partial, its uploads as TSO super-frames). Opt-in like the other VM tests: RUN_VM_TESTS=1, root, the Debian mirror
 * (docs/compare.md); a minute or two under software emulation.
 */
import t from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lab, labReady, REPO } from '../helpers/lab.js';

const RS = '10.0.0.50';
const TAP = 'vmtap0';

function serial(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').replace(/\r/g, '') : '';
}

async function until(what: string, ms: number, ok: () => boolean, vm: ChildProcess): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (vm.exitCode !== null) throw new Error(`the VM exited (${vm.exitCode}) before ${what}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

if (process.env['RUN_VM_TESTS'] !== '1') {
  t.plan(0, 'set RUN_VM_TESTS=1 to boot the ipip real server VM (takes minutes)');
} else if (labReady(t, 'the tunnel VM test')) {
  t.setTimeout(1_200_000);
  const lab = await Lab.up('onearm', ['--rs-gw', 'router', '--dr-rs', 'ok'], { offloads: 'default' });
  const dir = mkdtempSync(path.join(tmpdir(), 'tslb-tunnel-vm-'));
  const results = path.join(dir, 'rs-serial.txt');
  let vm: ChildProcess | null = null;
  let vmLog = '';
  // Registered before anything can fail, so the VM, the lab and the folder always go.
  t.teardown(async () => {
    if (vm !== null && vm.exitCode === null && vm.pid !== undefined) {
      try {
        process.kill(-vm.pid, 'SIGTERM'); // its process group: bash, then timeout and qemu
      } catch {
        // already gone
      }
    }
    await lab.down();
    rmSync(dir, { recursive: true, force: true });
  });
  const sw = lab.ns('switch');
  const vip = lab.state['LAB_VIP']!;

  await t.test('the balancer starts with a tunnel server (before the VM: it must not compete with the booting VM for CPU)', async (t) => {
    // lb's start-up is bounded at 15 s by the harness, and under software emulation the booting
    // VM takes a whole core. The server's MAC is learnt by ARP once the VM is up.
    await lab.startLb(['--vip', vip, '--port', '80', '--port', '81', '--udp-port', '53', '--rs', RS, '--mode', 'tun', '--sched', 'rr', '--iface', 'eth0']);
    t.match(lab.lbLog, new RegExp(`-> ${RS.replace(/\./g, '\\.')}:80 Tunnel weight 1 via eth0`));
  });

  await t.test('the VM boots on a tap on the lab switch', async (t) => {
    execFileSync('ip', ['-n', sw, 'tuntap', 'add', 'dev', TAP, 'mode', 'tap']);
    execFileSync('ip', ['-n', sw, 'link', 'set', TAP, 'master', 'br0']);
    execFileSync('ip', ['-n', sw, 'link', 'set', TAP, 'up']);
    const p = spawn('bash', [path.join(REPO, 'scripts/ipvs-vm'), 'rs', sw, TAP, `${RS}/24`, lab.state['LAB_ROUTER_IP']!, vip, results, 'vmrs'], {
      detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSLB_VM_TIMEOUT: '1100' },
    });
    vm = p;
    p.stdout!.on('data', (d: Buffer) => (vmLog += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (vmLog += d.toString()));
    t.ok(p.pid !== undefined, 'scripts/ipvs-vm rs started');
  });

  await t.test('the VM comes up as a tunnel real server (tunl0 up)', async (t) => {
    await until('@@READY from the VM', 900_000, () => serial(results).includes('@@READY'), vm!).catch((err: Error) => {
      throw new Error(`${err.message}\n${vmLog}\n${serial(results)}`);
    });
    t.match(serial(results), new RegExp(`@@READY kernel=\\S+ eth0 ${RS.replace(/\./g, '\\.')}/24 tunl0=`));
  });

  // -t: how long socat waits for the answer after its input ended (UDP has no end of its own).
  const socat = (args: string[], input: string, timeoutMs = 30_000, wait = 20): Promise<string> =>
    lab.exec('client', ['sh', '-c', `${input} | socat -t ${wait} -T 20 ${args.join(' ')}`], timeoutMs).then((s) => s.trim(), () => '');

  await t.test('TCP through the VIP: every connection answered by the VM over the tunnel', async (t) => {
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await socat(['-', `TCP:${vip}:80`], 'echo hi'));
    t.same(answers, Array(6).fill('vmrs'));
  });

  await t.test('UDP through the VIP, the answer from the VIP', async (t) => {
    t.equal(await socat(['-', `UDP:${vip}:53`], 'echo q', 30_000, 5), 'vmrs');
  });

  await t.test('an upload larger than the tunnel MTU, TSO on: frag-needed (MTU 1480), PMTU discovery, super-frames segmented here', async (t) => {
    t.equal(await socat(['-', `TCP:${vip}:81`], 'head -c 200000 /dev/zero', 60_000), '200000');
    const route = await lab.exec('client', ['ip', 'route', 'get', vip]);
    t.match(route, /mtu 1480/, `the client learnt the tunnel's MTU (${route.trim()})`);
  });

  await t.test('ipvsadm sees a Tunnel server with an input-only table', async (t) => {
    const list = await lab.ipvsadm(['-L', '-n']);
    t.match(list.stdout, new RegExp(`-> ${RS.replace(/\./g, '\\.')}:80 +Tunnel +1 `));
    const save = await lab.ipvsadm(['-S', '-n']);
    t.match(save.stdout, new RegExp(`-a -t ${vip.replace(/\./g, '\\.')}:80 -r ${RS.replace(/\./g, '\\.')}:80 -i -w 1 --tun-type ipip`));
    const stats = await lab.ipvsadm(['-L', '-n', '--stats', '-t', `${vip}:80`]);
    t.match(stats.stdout, /-> \S+:80 +6 +\d+ +0 +\d+ +0\n/, 'OutPkts 0: the replies bypass the director');
  });

  await t.test('the same with TSO off on the client (it segments itself)', async (t) => {
    await lab.exec('client', ['ethtool', '-K', 'eth0', 'tso', 'off', 'gso', 'off']);
    t.equal(await socat(['-', `TCP:${vip}:81`], 'head -c 300000 /dev/zero', 60_000), '300000');
  });

  await t.test('the final report: partial checksums completed, frag-needed sent, IPIP counted, super-frames segmented', async (t) => {
    t.equal(await lab.stopLb(), 0, 'clean exit');
    const seg = /(\d+) segmented for tunnel servers/.exec(lab.lbLog);
    t.ok(seg && Number(seg[1]) > 0, `super-frames segmented (${seg?.[0]})`);
    t.notMatch(lab.lbLog, /tunnel_gso=/, 'no segment lost');
    const partial = /offloads: (\d+) partial checksums \((\d+) completed here\)/.exec(lab.lbLog);
    t.ok(partial && Number(partial[2]) > 0, `partial checksums completed before encapsulation (${partial?.[0]})`);
    t.match(lab.lbLog, /drops: .*oversize=\d+/, 'DF segments above 1480 bytes refused');
    t.match(lab.lbLog, /\d+ IPIP packets/);
  });

  await t.test('the VM decapsulated with tunl0 and its tcpdump saw valid IPIP from the director', async (t) => {
    await until('tunl0 counters', 10_000, () => /@@TUNL0 rx=[1-9]/.test(serial(results)), vm!).catch(() => undefined);
    const out = serial(results);
    const rx = [...out.matchAll(/@@TUNL0 rx=(\d+)/g)].map((m) => Number(m[1]));
    t.ok(rx.length > 0 && rx.at(-1)! > 0, `tunl0 received ${rx.at(-1)} packets`);
    const dump = out.split('\n').filter((l) => l.startsWith('@@DUMP ')).map((l) => l.slice(7)).join('\n');
    t.match(dump, new RegExp(`flags \\[DF\\], proto IPIP \\(4\\), length \\d+\\)\\s+10\\.0\\.0\\.2 > ${RS.replace(/\./g, '\\.')}:`), 'outer: DF, protocol 4, director -> server');
    t.match(dump, /198\.51\.100\.10\.\d+ > 10\.0\.0\.127\.80: Flags \[S\], cksum 0x[0-9a-f]+/, 'inner SYN to the VIP');
    t.notMatch(dump, /incorrect/, 'no checksum tcpdump calls incorrect');
    const ttls = /IP \(tos 0x0, ttl (\d+), id 0, offset 0, flags \[DF\], proto IPIP \(4\)[^\n]*\n\s*\S+ > \S+: IP \(tos 0x0, ttl (\d+),/.exec(dump);
    t.ok(ttls && ttls[1] === ttls[2], `outer TTL = inner TTL, outer ID 0 (${ttls?.[0].replace(/\s+/g, ' ')})`);
  });
}
