/**
 * The seed scenarios are one command each (`scripts/lab seed000`, ...): run them as a user
 * would and check they pass and show what the guides in docs/seeds/ promise. Seeds 000 and
 * 003 run on their own addresses (the VIP being the director's address, a local VIP).
 * Each runs in its own lab, torn down by the scenario itself (and again here on failure).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO, labReady } from '../helpers/lab.js';

const run = promisify(execFile);
const LAB = path.join(REPO, 'scripts/lab');

async function scenario(name: string): Promise<{ out: string; ok: boolean; prefix: string }> {
  const prefix = `tt${randomBytes(2).toString('hex')}`;
  try {
    const { stdout } = await run(LAB, [name], { env: { ...process.env, LAB_PREFIX: prefix }, timeout: 90_000, maxBuffer: 1 << 22 });
    return { out: stdout, ok: true, prefix };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { out: `${e.stdout ?? ''}\n${e.stderr ?? ''}`, ok: false, prefix };
  } finally {
    await run(LAB, ['down', prefix]).catch(() => undefined);
  }
}

if (labReady(t)) {
  t.setTimeout(600_000);

  const alternating = (a: string, b: string): RegExp => new RegExp(`\\$ for i in \\{0\\.\\.9\\}; do curl [^\\n]+\\n${Array.from({ length: 10 }, (_, i) => `  ${i % 2 === 0 ? a : b}\\n`).join('')}`);

  t.test('seed000 with its own addresses: the post\'s ipvsadm commands, curls alternate, port 22 of the LVS is its own', async (t) => {
    const r = await scenario('seed000');
    if (!t.ok(r.ok, 'scenario passes')) t.comment(r.out);
    t.match(r.out, /director +\S+ +eth0 10\.0\.0\.127 /, 'the director is 10.0.0.127');
    t.match(r.out, /rs1 +\S+ +eth0 10\.0\.0\.185 \S+ gw 10\.0\.0\.127; server 'Web1'/, 'Web1 with GATEWAY=10.0.0.127');
    t.match(r.out, /# ipvsadm -A -t 10\.0\.0\.127:80 -s rr\n# ipvsadm -a -t 10\.0\.0\.127:80 -r 10\.0\.0\.185:80 -m\n/, 'the seed\'s commands');
    t.match(r.out, /TCP {2}10\.0\.0\.127:http rr\n {4}-> 10\.0\.0\.86:http {15}Masq {4}1 {6}0 {10}0/, 'ipvsadm -l as in the post');
    t.match(r.out, alternating('Web2', 'Web1'), '10 curls alternate Web2/Web1 (rr)');
    t.match(r.out, /client -> 10\.0\.0\.127:22 \(ssh-like, not a service\): SSH-2\.0-director-own-listener/, 'the ssh-like port reaches the director');
    t.match(r.out, /TCP {2}10\.0\.0\.127:80 {22}10 /, 'ipvsadm -L -n --stats counts 10 connections');
  });

  t.test('seed000-broken with its own addresses: no answers, tcpdump -e shows the SYN-ACK to the router, the doctor explains', async (t) => {
    const r = await scenario('seed000-broken');
    if (!t.ok(r.ok, 'scenario passes')) t.comment(r.out);
    t.match(r.out, /rs1 +\S+ +eth0 10\.0\.0\.185 \S+ gw 10\.0\.0\.1;/, 'Web1 routed via the VPC router');
    t.match(r.out, /1 {2}\(no answer\)\n.*2 {2}\(no answer\)/);
    t.match(r.out, /02:00:0a:00:00:7f > 02:00:0a:00:00:b9: 198\.51\.100\.10\.\d+ > 10\.0\.0\.185\.80: Flags \[S\]/, 'the SYN comes from the LVS MAC');
    t.match(r.out, /02:00:0a:00:00:b9 > 02:00:0a:00:00:01: 10\.0\.0\.185\.80 > 198\.51\.100\.10\.\d+: Flags \[S\.\]/, 'the SYN-ACK leaves to the router MAC');
    t.match(r.out, /doctor: NAT real server 10\.0\.0\.185:80/);
    t.match(r.out, /doctor: NAT real server 10\.0\.0\.86:80/);
    t.match(r.out, /default route does not point at the director/);
    t.match(r.out, /client -> 10\.0\.0\.127:22 \(ssh-like, not a service\): SSH-2\.0-director-own-listener/, 'the LVS itself is still reachable');
    t.match(r.out, /scenario seed000-broken: PASS/);
  });

  t.test('seed000-fnat: every request answered, the servers see the full-NAT address', async (t) => {
    const r = await scenario('seed000-fnat');
    if (!t.ok(r.ok, 'scenario passes')) t.comment(r.out);
    t.match(r.out, /6 {2}Web1 {3}\(the server saw the client as 10\.0\.0\.3:\d+\)/);
  });

  t.test('seed003 with its own addresses: wlc on 80 and 443, the curl loop alternates, save -n and --rules round trip', async (t) => {
    const r = await scenario('seed003');
    if (!t.ok(r.ok, 'scenario passes')) t.comment(r.out);
    t.match(r.out, /director +\S+ +eth0 192\.168\.2\.200 \S+; eth1 192\.168\.33\.100 /, 'the director is 192.168.2.200 / 192.168.33.100');
    t.match(r.out, /TCP {2}192\.168\.2\.200:http wlc\n.*\n.*\n {2}TCP {2}192\.168\.2\.200:https wlc\n/, 'ipvsadm -l: both services, wlc');
    t.match(r.out, /# ipvsadm --save -n > \/etc\/sysconfig\/ipvsadm .*\n {2}-A -t 192\.168\.2\.200:80 -s wlc\n {2}-a -t 192\.168\.2\.200:80 -r 192\.168\.33\.111:80 -m -w 1\n/, 'the save file');
    t.match(r.out, alternating('Web2', 'Web1'), 'port 80 alternates, Web2 first as in the post');
    t.match(r.out, new RegExp(`curl http://192\\.168\\.2\\.200:443; done\\n${'  Web2\\n  Web1\\n'.repeat(5)}`), 'port 443 alternates');
    t.match(r.out, /client -> 192\.168\.2\.200:22 \(ssh-like, not a service\): SSH-2\.0-director-own-listener/, 'the ssh-like port reaches the director');
    t.match(r.out, /--rules \S+sysconfig-ipvsadm\n# ipvsadm --save -n .*\n {2}the same 6 lines: the rules came back/, 'restore gives back the same save');
    t.equal(r.out.match(/\$ for i in \{0\.\.9\}; do curl http:\/\/192\.168\.2\.200; done\n( {2}Web2\n {2}Web1\n){5}/g)?.length, 2, 'alternates after the restart too');
    t.match(r.out, /empty-ipvsadm: error: the file is empty/, 'an empty rules file is refused');
  });

  t.test('seed001: dig over UDP and TCP, alternating', async (t) => {
    const r = await scenario('seed001');
    if (!t.ok(r.ok, 'scenario passes')) t.comment(r.out);
    t.match(r.out, /example\.lab \(UDP\) +-> 192\.168\.0\.143\n.*-> 192\.168\.0\.142\n/);
    t.match(r.out, /who\.example\.lab -> "rs2"\n.*who\.example\.lab -> "rs1"\n/);
  });

  t.test('seed002: nginx (L7), NAT, DR: connections and client address per mode from the captures', async (t) => {
    const r = await scenario('seed002');
    t.teardown(() => rmSync(`/tmp/tslb-seed002.${r.prefix}`, { recursive: true, force: true }));
    if (!t.ok(r.ok, 'scenario passes')) t.comment(r.out);
    t.match(r.out, /IP 10\.0\.0\.2\.\d+ > 10\.0\.0\.185\.80: Flags \[S\]/, 'L7: the proxy opens its own connection');
    t.match(r.out, /X-Forwarded-For: 198\.51\.100\.10\n/, 'L7: the proxied request carries X-Forwarded-For');
    t.match(r.out, /10\.0\.0\.86\.80 > 198\.51\.100\.10\.\d+: Flags \[S\.\]/, 'NAT: the reply as the director received it');
    t.match(r.out, /10\.0\.0\.127\.80 > 198\.51\.100\.10\.\d+: Flags \[S\.\]/, 'NAT: the reply as the director sent it');
    t.match(r.out, /0 replies passed the director/);
    t.match(r.out, /L7 +4 \(2 per request\) +10\.0\.0\.2 \(the proxy; X-Forwarded-For: 198\.51\.100\.10\)\n/, 'L7: 2 connections per request, the server saw the proxy');
    t.match(r.out, /NAT +2 \(1 per request\) +198\.51\.100\.10 \(the client\)\n/, 'NAT: 1 connection per request, the server saw the client');
    t.match(r.out, /DR +2 \(1 per request\) +198\.51\.100\.10 \(the client\)\n/, 'DR: 1 connection per request, the server saw the client');
  });

  t.test('seed004: DR on port 8000 with /health', async (t) => {
    const r = await scenario('seed004');
    if (!t.ok(r.ok, 'scenario passes')) t.comment(r.out);
    t.match(r.out, /health -> ok/);
    t.match(r.out, /1 {2}rs2 {4}\(the server saw the client as 10\.0\.0\.20:\d+\)/);
  });
}
