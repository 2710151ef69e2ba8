/**
 * wrr end to end (issue 3): three real servers given with --rs in ipvsadm -a order,
 * 24 new TCP connections from curl, and the picks must be the kernel's pick for pick.
 *
 * The lab has two server namespaces; the third server ("rs3") is a second address of
 * rs1's namespace (10.0.0.50) with its own lab-server on port 8080.
 *
 * The expected sequences are written out literally below, derived by hand from the kernel's
 * algorithm (net/netfilter/ipvs/ip_vs_wrr.c; docs/ipvs-behaviour.md §1.2), never from the
 * balancer's own code. The rules used:
 *  - `ipvsadm -a` puts the new server at the head of the list (list_add_rcu), so the kernel
 *    list is the reverse of the add order: rs3, rs2, rs1.
 *  - every add or edit runs ip_vs_wrr_dest_changed: the position goes back to the list head;
 *    di = gcd of the weights > 0; mw = max weight - (di - 1); cw becomes mw if cw == 0 or
 *    cw > mw, is realigned to a multiple of di plus 1 if di > 1, and is otherwise kept.
 *  - ip_vs_wrr_schedule walks on from the position and takes the first server with
 *    weight >= cw; passing the end of the list lowers cw by di, and cw <= 0 becomes mw.
 */
import t from 'tap';
import path from 'node:path';
import { Lab, labReady, REPO } from '../helpers/lab.js';
import { schedTraces, startExtraServer, whoAnswers, type Background, socketArgs } from '../helpers/lab-sched.js';

/*
 * Weights 3,2,1 (rs1 w3, rs2 w2, rs3 w1 added in that order).
 *   add rs1: di = 3, mw = 3 - 2 = 1, cw was 0 -> cw = 1.
 *   add rs2: di = gcd(3,2) = 1, mw = 3; cw = 1 is kept.  add rs3: di = 1, mw = 3, cw = 1 kept.
 *   cw=1: rs3 rs2 rs1 | cw=3: rs1 | cw=2: rs2 rs1 | cw=1: rs3 rs2 rs1 | cw=3: rs1 | ...
 * The first pass at cw=1 is the end of the 6-pick cycle, so the whole sequence is that
 * cycle from its cw=1 pass: rs3 rs2 rs1 rs1 rs2 rs1, four times in 24 picks.
 */
const WRR_321 = [
  'rs3', 'rs2', 'rs1', 'rs1', 'rs2', 'rs1',
  'rs3', 'rs2', 'rs1', 'rs1', 'rs2', 'rs1',
  'rs3', 'rs2', 'rs1', 'rs1', 'rs2', 'rs1',
  'rs3', 'rs2', 'rs1', 'rs1', 'rs2', 'rs1',
];

/*
 * Weights 4,3,2 (rs1 w4, rs2 w3, rs3 w2).
 *   add rs1: di = 4, mw = 4 - 3 = 1, cw = 1; add rs2: di = 1, mw = 4, cw = 1 kept; add rs3: the same.
 *   cw=1: rs3 rs2 rs1, then the 9-pick cycle
 *   cw=4: rs1 | cw=3: rs2 rs1 | cw=2: rs3 rs2 rs1 | cw=1: rs3 rs2 rs1.
 */
const WRR_432 = [
  'rs3', 'rs2', 'rs1',
  'rs1', 'rs2', 'rs1', 'rs3', 'rs2', 'rs1', 'rs3', 'rs2', 'rs1',
  'rs1', 'rs2', 'rs1', 'rs3', 'rs2', 'rs1', 'rs3', 'rs2', 'rs1',
  'rs1', 'rs2', 'rs1',
];

/*
 * Weights 3,2,1, five picks, then `ipvsadm -e ... -r rs2 -w 4`.
 *   The five picks: cw=1: rs3 rs2 rs1 | cw=3: rs1 | cw=2: rs2 (the walk stands on rs2, cw = 2).
 *   dest_changed: position back to the head; weights 1,4,3: di = 1, mw = 4; cw = 2 is kept
 *   (0 < 2 <= 4, di == 1). From the head, list rs3(1) rs2(4) rs1(3):
 *   cw=2: rs2 rs1 | cw=1: rs3 rs2 rs1 | cw=4: rs2 | cw=3: rs2 rs1 | cw=2: rs2 rs1 | cw=1: rs3 rs2 ...
 */
const WRR_321_BEFORE_EDIT = ['rs3', 'rs2', 'rs1', 'rs1', 'rs2'];
const WRR_AFTER_EDIT_RS2_W4 = ['rs2', 'rs1', 'rs3', 'rs2', 'rs1', 'rs2', 'rs2', 'rs1', 'rs2', 'rs1', 'rs3', 'rs2'];

if (labReady(t)) {
  t.setTimeout(180_000);
  const lab = await Lab.up('onearm');
  let rs3: Background | null = null;
  t.teardown(async () => {
    await lab.stopLb().catch(() => undefined);
    await rs3?.stop();
    await lab.down();
  });
  const vip = lab.state.LAB_VIP!;
  rs3 = await startExtraServer(lab, 'rs1', '10.0.0.50', 8080, 'rs3');

  const cases: { weights: [number, number, number]; doc: string[] }[] = [
    { weights: [3, 2, 1], doc: WRR_321 },
    { weights: [4, 3, 2], doc: WRR_432 },
  ];

  for (const { weights, doc } of cases) {
    await t.test(`wrr ${weights.join(',')}: 24 new TCP connections give the kernel sequence`, async (t) => {
      const [w1, w2, w3] = weights;
      await lab.startLb([
        ...socketArgs(lab), '--vip', vip, '--port', '80', '--iface', 'eth0', '--sched', 'wrr', '--trace-sched',
        '--rs', `10.0.0.185:80@${w1}`, '--rs', `10.0.0.86:80@${w2}`, '--rs', `10.0.0.50:8080@${w3}`,
      ]);
      t.teardown(() => lab.stopLb());
      const seen: string[] = [];
      for (let i = 0; i < 24; i++) seen.push(await whoAnswers(lab, `http://${vip}/`));
      t.same(seen, doc, 'answers, in order, from the real servers');

      // --trace-sched: one record per new connection, naming the same server, with the
      // walk state and the servers in kernel list order (last added first).
      const traces = schedTraces(lab.lbLog);
      t.equal(traces.length, 24, 'one trace per new connection');
      const addrOf: Record<string, string> = { rs1: '10.0.0.185:80', rs2: '10.0.0.86:80', rs3: '10.0.0.50:8080' };
      t.same(traces.map((x) => x.dest), doc.map((n) => addrOf[n]), 'trace choices match the answers');
      t.ok(traces.every((x) => x.sched === 'wrr' && x.client === '198.51.100.10'), 'scheduler and client named');
      const first = traces[0]!.inputs;
      t.match(first, /cw=1 mw=\d+ di=1/, 'first pick after the adds runs at cw=1 (docs/ipvs-behaviour.md §1.2)');
      t.match(first, new RegExp(`#0 10\\.0\\.0\\.50:8080 w=${w3}[^\\n]*\\n\\s+#1 10\\.0\\.0\\.86:80 w=${w2}[^\\n]*\\n\\s+#2 10\\.0\\.0\\.185:80 w=${w1}`),
        'servers listed in kernel order with their weights');
      t.equal(await lab.stopLb(), 0, 'clean exit');
      lab.lbLog = '';
    });
  }

  await t.test('wrr 3,2,1 with a weight change mid-run (ipvsadm -e through the control socket)', async (t) => {
    await lab.startLb([
      ...socketArgs(lab), '--vip', vip, '--port', '80', '--iface', 'eth0', '--sched', 'wrr',
      '--rs', '10.0.0.185:80@3', '--rs', '10.0.0.86:80@2', '--rs', '10.0.0.50:8080@1',
    ]);
    t.teardown(() => lab.stopLb());
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) seen.push(await whoAnswers(lab, `http://${vip}/`));
    t.same(seen, WRR_321_BEFORE_EDIT, 'before the change');
    // -m: ipvsadm -e without a method would switch the server to -g (DR).
    await lab.exec('director', [
      process.execPath, path.join(REPO, 'dist/lb.js'), ...socketArgs(lab), 'ipvsadm', '-e', '-t', `${vip}:80`, '-r', '10.0.0.86:80', '-m', '-w', '4',
    ]);
    const list = await lab.exec('director', [process.execPath, path.join(REPO, 'dist/lb.js'), ...socketArgs(lab), 'ipvsadm', '-L', '-n']);
    t.match(list, /-> 10\.0\.0\.86:80\s+Masq\s+4\b/, 'the listing shows the new weight');
    const later: string[] = [];
    for (let i = 0; i < 12; i++) later.push(await whoAnswers(lab, `http://${vip}/`));
    t.same(later, WRR_AFTER_EDIT_RS2_W4, 'after the change: the kernel continuation');
    t.equal(await lab.stopLb(), 0);
    lab.lbLog = '';
  });
}
