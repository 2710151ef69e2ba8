/**
 * What the ECMP design relies on (docs/scale-out.md): with rr and no connection sync, a flow the
 * routers move to another director finds no entry there; without SYN it is not scheduled
 * (sloppy TCP is only the default for mh), so it stalls. The same failure as in
 * ecmp-failover.test.ts breaks the moved flows here: the test can fail, and prints the figure.
 */
import t from 'tap';
import { labReady } from '../helpers/lab.js';
import { EcmpLab, owners, sleep } from '../helpers/ecmp-lab.js';

const CONNS = 90;

if (labReady(t, 'ECMP lab tests')) {
  t.setTimeout(170_000);
  const lab = await EcmpLab.up(['--sched', 'rr']);
  t.teardown(() => lab.down());

  await t.test('rr without sync: the flows of a dead director break', async (t) => {
    const held = await lab.hold(CONNS, 60, 4000);
    await sleep(1500);
    const own = await owners(lab);
    t.equal(held.ports.filter((p) => own.get(p)?.length === 1).length, CONNS, 'each connection on exactly one director (no sync)');
    const d1 = new Set(held.ports.filter((p) => own.get(p)?.[0]?.dir === 'd1'));
    t.ok(d1.size > 0, `d1 holds ${d1.size}`);
    await lab.kill('d1');
    t.ok((await lab.waitHops((h) => !h.includes(lab.ip('d1')), 15_000)) >= 0, "d1's next hop gone");
    await sleep(5000); // past the client's 4 s per-request timeout
    const results = await held.finish();
    const okD1 = results.filter((r) => d1.has(r.lport) && r.error === null).length;
    const ok = results.filter((r) => r.error === null).length;
    console.log(`# ecmp-nosync: rr without sync, kill d1: ${okD1}/${d1.size} of d1's connections and ${ok}/${results.length} overall completed without error`);
    t.equal(okD1, 0, "none of d1's connections survives: the survivors drop their segments (no entry, no SYN)");
    t.ok(ok < results.length, 'the failure costs connections');
    t.equal((await lab.metrics('d2')).get('tslb_sloppy_connections_total'), 0, 'no sloppy TCP for rr by default');
  });

  await t.test('teardown leaves nothing behind', async (t) => {
    await lab.down();
    t.same(await lab.namespacesLeft(), []);
  });
}
