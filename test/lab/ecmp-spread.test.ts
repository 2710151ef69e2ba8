/**
 * Issue 14 (docs/scale-out.md): three active directors behind a router with ECMP. Each
 * director's BIRD announces the VIP /32 by BGP while the director can serve it; the router
 * merges the three routes into one multipath route and hashes flows on their 5-tuple
 * (fib_multipath_hash_policy=1). New connections from many client ports must spread over all
 * three directors and reach the servers with mh's pick, the same on every director; a director
 * without a real server up withdraws the VIP (keepalived's quorum), and a clean stop withdraws
 * it too, while the others keep serving.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { labReady } from '../helpers/lab.js';
import { DIRS, EcmpLab, sleep, type Dir } from '../helpers/ecmp-lab.js';

/** Polling, process start-up and BIRD's reaction on a loaded 2-core box. */
const SLACK_MS = 1000;

if (labReady(t, 'ECMP lab tests')) {
  t.setTimeout(170_000);
  const lab = await EcmpLab.up();
  t.teardown(() => lab.down());
  const vip = lab.vip;
  const rsIps = [1, 2, 3].map((n) => lab.state[`LAB_RS${n}_IP`]!);
  const rsName = new Map(rsIps.map((ip, i) => [ip, `rs${i + 1}`]));
  const svc = `service="TCP ${vip}:80"`;

  await t.test('the router has one ECMP route for the VIP with the three directors as next hops', async (t) => {
    t.same(await lab.nextHops(), DIRS.map((d) => lab.ip(d)).sort(), await lab.routeText());
    for (const d of DIRS) {
      const protos = await lab.exec(d, ['birdc', '-s', `${lab.state.LAB_LOG_DIR}/${d}.bgp/bird.ctl`, 'show', 'protocols']);
      t.match(protos, /peer1\s+BGP\s+---\s+up\s+\S+\s+Established/, `${d}: BGP session with the router established`);
    }
  });

  await t.test('300 new connections spread over all three directors; each reaches the server its director picked', async (t) => {
    const before = new Map<Dir, number>();
    for (const d of DIRS) before.set(d, await lab.connections(d));
    const rsBefore = new Map<string, number>();
    for (const d of DIRS) {
      const m = await lab.metrics(d);
      for (const ip of rsIps) rsBefore.set(`${d} ${ip}`, m.get(`tslb_real_server_connections_total{${svc},server="${ip}:80"}`) ?? 0);
    }
    const res = await lab.spread(300);
    t.equal(res.filter((r) => r.error !== undefined).length, 0, 'every connection answered');
    let total = 0;
    const perDir: string[] = [];
    for (const d of DIRS) {
      const n = (await lab.connections(d)) - before.get(d)!;
      total += n;
      perDir.push(`${d} ${n}`);
      // 300 flows hashed over 3 next hops: 100 expected each, sd 8; 40 is 7 sd below.
      t.ok(n >= 40, `${d} balanced ${n} of them (each balancer's counter)`);
    }
    t.equal(total, 300, `every connection counted by exactly one director (${perDir.join(', ')})`);
    // Each server answered as many connections as the directors sent it, summed over the directors.
    const answered = new Map<string, number>();
    for (const r of res) if (r.server) answered.set(r.server, (answered.get(r.server) ?? 0) + 1);
    for (const ip of rsIps) {
      let sent = 0;
      const from: string[] = [];
      for (const d of DIRS) {
        const n = ((await lab.metrics(d)).get(`tslb_real_server_connections_total{${svc},server="${ip}:80"}`) ?? 0) - rsBefore.get(`${d} ${ip}`)!;
        sent += n;
        from.push(`${d} ${n}`);
        t.ok(n > 0, `${d} sent connections to ${rsName.get(ip)}`);
      }
      t.equal(answered.get(rsName.get(ip)!) ?? 0, sent, `${rsName.get(ip)} answered what the directors sent it (${from.join(', ')})`);
    }
    // The client's answer names the server of the entry in the one director that saw the flow.
    const byPort = new Map<number, { dir: Dir; server: string }[]>();
    for (const d of DIRS) for (const e of await lab.conns(d)) byPort.set(e.cport, [...(byPort.get(e.cport) ?? []), { dir: d, server: e.server }]);
    let matched = 0, seen = 0;
    for (const r of res) {
      const es = byPort.get(r.lport!);
      if (!es) continue;
      seen++;
      if (es.length === 1 && rsName.get(es[0]!.server) === r.server) matched++;
    }
    t.ok(seen >= 250, `${seen} of the 300 flows still listed (ipvsadm -L -n -c)`);
    t.equal(matched, seen, 'each listed flow is in one director only, with the server that answered');
  });

  await t.test('a director with no real server up withdraws the VIP; the others keep serving', async (t) => {
    for (const ip of rsIps.slice(0, 2)) await lab.lb('d3', ['ipvsadm', '-e', '-t', `${vip}:80`, '-r', `${ip}:80`, '-g', '-w', '0']);
    await sleep(500);
    t.same(await lab.nextHops(), DIRS.map((d) => lab.ip(d)).sort(), 'one server of three up: still announced');
    await lab.lb('d3', ['ipvsadm', '-e', '-t', `${vip}:80`, '-r', `${rsIps[2]}:80`, '-g', '-w', '0']);
    const t0 = performance.now(); // the edit is applied when the command returns
    const gone = await lab.waitHops((h) => !h.includes(lab.ip('d3')), 10_000, t0);
    // The announcer polls every 200 ms; BIRD sees the route deleted by netlink at once.
    t.ok(gone >= 0 && gone <= 200 + SLACK_MS, `d3's next hop gone ${Math.round(gone)} ms after its last server got weight 0 (ipvsadm -e -w 0, as a failed health check does) (bound ${200 + SLACK_MS} ms)`);
    t.same(await lab.nextHops(), [lab.ip('d1'), lab.ip('d2')].sort());
    t.match(await lab.lb('d3', ['top', '--once']), /BGP 10\.96\.0\.80\/32 withdrawn \(TCP 10\.96\.0\.80:80 has no real server up/, 'lb top says why');
    const before = await lab.connections('d3');
    const res = await lab.spread(60);
    t.equal(res.filter((r) => r.error !== undefined).length, 0, '60 new connections answered by d1 and d2');
    t.equal((await lab.connections('d3')) - before, 0, 'none reached d3');
    for (const ip of rsIps) await lab.lb('d3', ['ipvsadm', '-e', '-t', `${vip}:80`, '-r', `${ip}:80`, '-g', '-w', '1']);
    const back = await lab.waitHops((h) => h.length === 3, 10_000);
    t.ok(back >= 0, `announced again ${Math.round(back)} ms after its servers came back`);
  });

  await t.test("d3's health checks fail (its TCP_CHECKs blocked in its namespace): it withdraws the VIP, the others serve", async (t) => {
    const nft = (script: string) => new Promise<void>((resolve, reject) => {
      const p = spawn('ip', ['netns', 'exec', lab.ns('d3'), 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nft: ${err}`))));
      p.stdin!.end(script);
    });
    // Only the director's own connections (the checks): the balancer's frames leave by AF_PACKET, past netfilter.
    await nft('table ip ecmplab_hc {\n chain out {\n  type filter hook output priority 0;\n  ip daddr 10.97.0.0/24 tcp dport 80 drop\n }\n}\n');
    const t0 = performance.now();
    const gone = await lab.waitHops((h) => !h.includes(lab.ip('d3')), 15_000, t0);
    // retry 1: an UP checker needs 2 failures: connect_timeout 1 s + delay_before_retry 1 s + 1 s, after delay_loop 1 s.
    t.ok(gone >= 0 && gone <= 4000 + 2 * SLACK_MS, `d3's next hop gone ${Math.round(gone)} ms after its checks were blocked (bound ${4000 + 2 * SLACK_MS} ms)`);
    t.match(await lab.lb('d3', ['ipvsadm', '-L', '-n']), /10\.97\.0\.21:80\s+Route\s+0\s/, 'inhibit_on_failure: weight 0, the server stays in the table');
    const before = await lab.connections('d3');
    t.equal((await lab.spread(30)).filter((r) => r.error !== undefined).length, 0, 'd1 and d2 serve');
    t.equal((await lab.connections('d3')) - before, 0, 'none reached d3');
    await nft('delete table ip ecmplab_hc\n');
    const back = await lab.waitHops((h) => h.length === 3, 15_000);
    t.ok(back >= 0, `announced again ${Math.round(back)} ms after the checks were let through`);
  });

  await t.test('a clean stop (SIGINT) withdraws the VIP; started again, the director is a next hop again', async (t) => {
    const t0 = performance.now();
    await lab.kill('d2', 'SIGINT');
    const gone = await lab.waitHops((h) => !h.includes(lab.ip('d2')), 10_000, t0);
    t.ok(gone >= 0 && gone <= 5000, `d2's next hop gone ${Math.round(gone)} ms after SIGINT, counted from the signal to the exit of the balancer and on (bound 5 s)`);
    const res = await lab.spread(30);
    t.equal(res.filter((r) => r.error !== undefined).length, 0, 'd1 and d3 serve');
    const t1 = performance.now();
    await lab.dir('d2', 'start');
    const back = await lab.waitHops((h) => h.length === 3, 15_000, t1);
    t.ok(back >= 0, `three next hops again ${Math.round(back)} ms after starting d2's balancer (its BIRD stopped with it: a new BGP session)`);
    await sleep(200);
    t.equal((await lab.spread(30)).filter((r) => r.error !== undefined).length, 0, 'all three serve');
  });

  await t.test("a director's BIRD killed: the router drops the next hop; the balancer starts BIRD again and it returns", async (t) => {
    const pidFile = `${lab.state.LAB_LOG_DIR}/d3.bgp/bird.pid`;
    const pid = Number(readFileSync(pidFile, 'latin1').trim());
    t.ok(pid > 0, `d3's BIRD is pid ${pid}`);
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    const gone = await lab.waitHops((h) => !h.includes(lab.ip('d3')), 10_000, t0);
    // The kernel closes the dead BIRD's TCP session: the router sees it at once (BFD 300 ms otherwise).
    t.ok(gone >= 0 && gone <= 3000 + SLACK_MS, `d3's next hop gone ${Math.round(gone)} ms after its BIRD was killed (bound: hold time 3 s + ${SLACK_MS} ms)`);
    const back = await lab.waitHops((h) => h.length === 3, 20_000, t0);
    t.ok(back >= 0, `back ${Math.round(back)} ms after the kill (the balancer checks BIRD every second, then a new session)`);
    t.not(Number(readFileSync(pidFile, 'latin1').trim()), pid, 'a new BIRD process');
    t.equal((await lab.spread(30)).filter((r) => r.error !== undefined).length, 0, 'all three serve');
  });

  await t.test('teardown leaves nothing behind', async (t) => {
    await lab.down();
    t.same(await lab.namespacesLeft(), []);
  });
}
