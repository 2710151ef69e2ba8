/**
 * Seed 001's failover tests, replayed with two tslb directors sharing VIP 192.168.0.141 by VRRP
 * (advert_int 1, state BACKUP on both, priorities 100/50, nopreempt) in front of two NAT real
 * servers: kill the master's balancer, cut the master's link, bring the old master back, with and
 * without connection sync. Bounds come from keepalived's timers: a backup of priority p takes
 * over 3 * advert_int + (256 - p)/256 s after the last advert it heard.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HaLab, haLabReady, sleep, type Director } from '../ha/ha-lab.js';

const mdi = (prio: number): number => 3000 + ((256 - prio) / 256) * 1000;
/** Process scheduling on a 2-core box shared with another test file (tap --jobs=2); the takeover time is read from the balancer's own log line. */
const SLACK_MS = 1000;

if (haLabReady(t)) {
  t.setTimeout(300_000);
  const lab = await HaLab.up();
  t.teardown(() => lab.down());
  const vip = lab.state.LAB_VIP!;
  let dl = 0;
  // curl --limit-rate paces its reads, not the wire: with the default receive buffer (up to
  // 6 MB) a 3 MB body can arrive whole in the first second and survive any failover. A small
  // buffer in the client's namespace keeps the bytes on the wire at about the limited rate.
  await lab.exec('client', ['sysctl', '-qw', 'net.ipv4.tcp_rmem=4096 65536 131072']);

  /** A rate-limited NAT download from the client; resolves with curl's exit code and whether it is intact. */
  const download = (bytes: number, maxTime: number) => {
    const n = ++dl;
    const body = path.join(lab.state.LAB_LOG_DIR!, `dl.${n}`);
    const hdr = `${body}.hdr`;
    const p = spawn('ip', ['netns', 'exec', lab.ns('client'), 'curl', '-s', '--max-time', String(maxTime), '--limit-rate', '400k', '-D', hdr, '-o', body, `http://${vip}/bytes?n=${bytes}`], { stdio: 'ignore' });
    return new Promise<{ code: number | null; intact: boolean; got: number }>((resolve) => {
      p.on('exit', (code) => {
        let data = Buffer.alloc(0);
        let want = '';
        try {
          data = readFileSync(body);
          want = /x-content-sha256:\s*([0-9a-f]{64})/i.exec(readFileSync(hdr, 'latin1'))?.[1] ?? '';
        } catch { /* nothing received */ }
        const intact = data.length === bytes && want !== '' && createHash('sha256').update(data).digest('hex') === want;
        resolve({ code, intact, got: data.length });
      });
    });
  };

  const syncApplied = async (dir: Director): Promise<number> => (await lab.metrics(dir)).get('tslb_sync_connections_total{outcome="applied"}') ?? 0;
  /** Wait until the backup has received the download's connection (the master flushes after 2 s). */
  const waitSynced = async (dir: Director, before: number): Promise<boolean> => {
    for (let i = 0; i < 100; i++) {
      if ((await syncApplied(dir)) > before) return true;
      await sleep(100);
    }
    return false;
  };

  await t.test('election: priority 100 becomes MASTER, priority 50 stays BACKUP; the VIP answers', async (t) => {
    await lab.startLb('dir1', 100, true);
    await lab.startLb('dir2', 50, true);
    const waited = await lab.waitState('dir1', 'MASTER', 10_000);
    t.ok(waited >= 0, `dir1 MASTER after ${Math.round(waited)} ms`);
    await sleep(1500);
    t.equal(await lab.vrrpState('dir2'), 'BACKUP');
    t.match(await lab.exec('client', ['curl', '-s', '--max-time', '3', `http://${vip}/`]), /^rs[12]\n$/);
    const m1 = await lab.metrics('dir1'), m2 = await lab.metrics('dir2');
    t.equal(m1.get(`tslb_vip_active{vip="${vip}"}`), 1, 'master: VIP active');
    t.equal(m2.get(`tslb_vip_active{vip="${vip}"}`), 0, 'backup: VIP passive');
    t.ok((m2.get('tslb_vrrp_adverts_received_total{instance="VI_1",vrid="51"}') ?? 0) >= 1, 'the backup hears the adverts');
    // As keepalived: the master carries the VIP on its interface, the backup does not.
    t.match(await lab.exec('dir1', ['ip', '-4', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet ${vip.replace(/\./g, '\\.')}/32`), 'master: VIP on eth0 (ip addr)');
    t.notMatch(await lab.exec('dir2', ['ip', '-4', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet ${vip.replace(/\./g, '\\.')}/`), 'backup: no VIP on eth0');
  });

  await t.test('kill the master balancer (SIGKILL): the backup owns the VIP in time, the synced download completes', async (t) => {
    const before = await syncApplied('dir2');
    const d = download(3_000_000, 30);
    t.ok(await waitSynced('dir2', before), 'the download connection reached the backup by sync');
    const warm = await lab.cli('dir2', ['ipvsadm', '-L', '-n', '-c']);
    t.match(warm, new RegExp(`ESTABLISHED\\s+${lab.state.LAB_CLIENT_IP!.replace(/\./g, '\\.')}:\\d+\\s+${vip.replace(/\./g, '\\.')}:80\\s+192\\.168\\.0\\.14[23]:80`), 'the backup lists it (ipvsadm -L -n -c)');
    await lab.stopLb('dir1', 'SIGKILL');
    const waited = await lab.waitState('dir2', 'MASTER', 10_000);
    t.ok(waited >= 0 && waited <= mdi(50) + SLACK_MS, `dir2 MASTER ${Math.round(waited)} ms after the kill (bound ${mdi(50)} + ${SLACK_MS} ms)`);
    t.match(await lab.exec('client', ['curl', '-s', '--max-time', '3', `http://${vip}/`]), /^rs[12]\n$/, 'a new connection works');
    t.match(await lab.exec('dir2', ['ip', '-4', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet ${vip.replace(/\./g, '\\.')}/32`), 'the new master carries the VIP');
    const r = await d;
    t.equal(r.code, 0, 'curl exit 0');
    t.ok(r.intact, `download byte-identical (${r.got} bytes)`);
  });

  await t.test('the old master comes back: nopreempt keeps it BACKUP', async (t) => {
    await lab.startLb('dir1', 100, true);
    await sleep(6000); // longer than its master_down_interval (3.61 s)
    t.equal(await lab.vrrpState('dir1'), 'BACKUP', 'priority 100 does not preempt');
    t.equal(await lab.vrrpState('dir2'), 'MASTER');
  });

  await t.test('metrics scraped during the run match the traffic sent', async (t) => {
    const before = await lab.metrics('dir2');
    for (let i = 0; i < 10; i++) await lab.exec('client', ['curl', '-s', '--max-time', '3', `http://${vip}/`]);
    const after = await lab.metrics('dir2');
    const svc = `service="TCP ${vip}:80"`;
    const delta = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    t.equal(delta(`tslb_service_connections_total{${svc}}`), 10, '10 new connections');
    t.equal(delta(`tslb_real_server_connections_total{${svc},server="${lab.state.LAB_RS1_IP}:80"}`), 5, 'rr: 5 to rs1');
    t.equal(delta(`tslb_real_server_connections_total{${svc},server="${lab.state.LAB_RS2_IP}:80"}`), 5, 'rr: 5 to rs2');
    // Each curl: SYN, ACK, request, ACK(s) of the reply, FIN, last ACK: at least 5 client packets.
    t.ok(delta(`tslb_service_packets_total{${svc},direction="in"}`) >= 50, 'client packets counted');
    t.ok(delta(`tslb_service_packets_total{${svc},direction="out"}`) >= 30, 'reply packets counted (NAT)');
    t.equal(after.get('tslb_vrrp_state{instance="VI_1",vrid="51",state="MASTER"}'), 1);
    t.equal((await lab.metrics('dir1')).get(`tslb_service_connections_total{${svc}}`), 0, 'the backup balanced nothing');
    const top = await lab.cli('dir2', ['top', '--once']);
    t.match(top, /TCP\s+192\.168\.0\.141:80/, 'lb top shows the service with its rates');
    t.match(top, /VRRP VI_1 vrid 51 prio 50 MASTER/, 'and the VRRP state');
    t.match(top, /SYNC master 224\.0\.0\.81:8848/, 'and the sync daemon');
  });

  await t.test("cut the master's link: the backup takes over and the synced download completes", async (t) => {
    const before = await syncApplied('dir1');
    const d = download(3_000_000, 30);
    t.ok(await waitSynced('dir1', before), 'synced to dir1');
    await lab.link('dir2', false);
    const waited = await lab.waitState('dir1', 'MASTER', 10_000);
    t.ok(waited >= 0 && waited <= mdi(100) + SLACK_MS, `dir1 MASTER ${Math.round(waited)} ms after the cut (bound ${mdi(100)} + ${SLACK_MS} ms)`);
    t.equal(await lab.vrrpState('dir2'), 'FAULT', 'the cut director sees its link down');
    const r = await d;
    t.ok(r.code === 0 && r.intact, `download byte-identical (curl ${r.code}, ${r.got} bytes)`);
    await lab.link('dir2', true);
    await sleep(5000);
    t.equal(await lab.vrrpState('dir2'), 'BACKUP', 'back on the segment as BACKUP');
    t.equal(await lab.vrrpState('dir1'), 'MASTER');
  });

  await t.test('without sync the same failover breaks the download (the test can fail)', async (t) => {
    await lab.stopLb('dir2');
    await lab.stopLb('dir1');
    await lab.startLb('dir1', 100, false);
    await lab.startLb('dir2', 50, false);
    t.ok((await lab.waitState('dir1', 'MASTER', 10_000)) >= 0);
    const d = download(3_000_000, 14);
    await sleep(3000);
    await lab.stopLb('dir1', 'SIGKILL');
    t.ok((await lab.waitState('dir2', 'MASTER', 10_000)) >= 0, 'dir2 takes over');
    const r = await d;
    t.notOk(r.intact, `download broken or stalled (curl ${r.code}, ${r.got} of 3000000 bytes)`);
    t.match(await lab.exec('client', ['curl', '-s', '--max-time', '3', `http://${vip}/`]), /^rs[12]\n$/, 'new connections still work');
  });

  await t.test('teardown leaves nothing behind', async (t) => {
    await lab.down();
    t.same(await lab.namespacesLeft(), []);
  });
}
