/**
 * Issue 14 item 3 (docs/scale-out.md): connection sync among three active directors (role
 * 'active': each sends the connections it forwards, all receive), here with rr, which unlike
 * mh picks again when a flow arrives at another director. After the sync flush, every director
 * holds every connection bound to the server its owner picked; SIGKILL one director under 90
 * long-lived connections and the flows the routers move go on to the same servers.
 */
import t from 'tap';
import { labReady } from '../helpers/lab.js';
import { DIRS, EcmpLab, owners, sleep } from '../helpers/ecmp-lab.js';

const CONNS = 90;

if (labReady(t, 'ECMP lab tests')) {
  t.setTimeout(170_000);
  const lab = await EcmpLab.up(['--sched', 'rr', '--sync']);
  t.teardown(() => lab.down());

  await t.test('rr + sync: every director holds every connection on the same server; a director dies, its flows go on', async (t) => {
    for (const d of DIRS) {
      const m = await lab.metrics(d);
      t.equal(m.get('tslb_sync_role{role="active"}'), 1, `${d}: sync role active`);
    }
    const held = await lab.hold(CONNS, 90);
    await sleep(3500); // sync_threshold 3 packets, then the batcher's 2 s flush
    const own = await owners(lab);
    const everywhere = held.ports.filter((p) => own.get(p)?.length === 3).length;
    t.equal(everywhere, CONNS, `all ${CONNS} connections are ESTABLISHED on all three directors (ipvsadm -L -n -c)`);
    const agree = held.ports.filter((p) => new Set(own.get(p)?.map((e) => e.server)).size === 1).length;
    t.equal(agree, CONNS, 'each bound to one server on all three (the owner\'s rr pick, synced)');
    const applied = await Promise.all(DIRS.map(async (d) => (await lab.metrics(d)).get('tslb_sync_connections_total{outcome="applied"}') ?? 0));
    t.ok(applied.every((n) => n > 0), `each director applied the others' updates (${applied.join(', ')})`);

    const t0 = performance.now();
    await lab.kill('d1');
    const gone = await lab.waitHops((h) => !h.includes(lab.ip('d1')), 15_000, t0);
    t.ok(gone >= 0, `d1's next hop gone after ${Math.round(gone)} ms`);
    await sleep(3000);
    const results = await held.finish();
    const ok = results.filter((r) => r.error === null).length;
    console.log(`# ecmp-sync: rr + sync, kill d1: ${ok}/${results.length} long-lived connections completed without error (${((100 * ok) / results.length).toFixed(1)} %)`);
    for (const r of results.filter((x) => x.error !== null).slice(0, 5)) t.comment(`port ${r.lport}: ${r.error}`);
    t.ok(ok >= 0.99 * results.length, `>= 99 % complete: ${ok}/${results.length}`);
    t.equal((await lab.metrics('d2')).get('tslb_sloppy_connections_total'), 0, 'no sloppy TCP needed (rr: off by default)');
  });

  await t.test('teardown leaves nothing behind', async (t) => {
    await lab.down();
    t.same(await lab.namespacesLeft(), []);
  });
}
