/**
 * wrr end to end (issue 3): three real servers given with --rs in ipvsadm -a order,
 * 24 new TCP connections from curl, and the picks must be the kernel's pick for pick.
 *
 * The lab has two server namespaces; the third server ("rs3") is a second address of
 * rs1's namespace (10.0.0.50) with its own lab-server on port 8080.
 *
 * Expected sequences come from reference-doc §1.2 ("real ipvsadm build" rows) and from
 * an independent model of ip_vs_wrr.c written below (ip_vs_wrr_dest_changed replayed
 * for every add, then ip_vs_wrr_schedule), never from the balancer's own code.
 */
import t from 'tap';
import path from 'node:path';
import { Lab, labUnavailable, REPO } from '../helpers/lab.js';
import { schedTraces, startExtraServer, whoAnswers, type Background, socketArgs } from '../helpers/lab-sched.js';

interface ModelDest { name: string; weight: number }

/** Independent model of ip_vs_wrr.c (reference §1.2). `cl` = -1 is the list head sentinel. */
class WrrModel {
  list: ModelDest[] = [];
  cl = -1;
  // ip_vs_wrr_init_svc on an empty service: gcd() = 1, max = 0.
  di = 1;
  mw = 0;
  cw = 0;

  /** `ipvsadm -a`: insert at the head (list_add_rcu), then the dest_changed hook. */
  add(name: string, weight: number): void {
    this.list.unshift({ name, weight });
    this.destChanged();
  }

  /** `ipvsadm -e … -w W`: the weight changes in place, then the dest_changed hook. */
  edit(name: string, weight: number): void {
    this.list.find((d) => d.name === name)!.weight = weight;
    this.destChanged();
  }

  private destChanged(): void {
    const ws = this.list.map((d) => d.weight).filter((w) => w > 0);
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    this.cl = -1;
    this.di = ws.length ? ws.reduce(gcd) : 1;
    this.mw = Math.max(0, ...this.list.map((d) => d.weight)) - (this.di - 1);
    if (this.cw > this.mw || this.cw === 0) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.floor(this.cw / this.di) * this.di + 1;
  }

  schedule(): string | null {
    if (this.mw === 0) return null;
    const last = this.cl;
    let stop: number | null = null;
    let lastPass = false;
    let restarted = false;
    let pos = this.cl;
    for (;;) {
      for (let i = pos + 1; i < this.list.length; i++) {
        if (this.list[i]!.weight >= this.cw) {
          this.cl = i;
          return this.list[i]!.name;
        }
        if (i === stop) {
          this.cl = i;
          return null;
        }
      }
      pos = -1;
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        if (lastPass || last === -1) {
          this.cl = -1;
          return null;
        }
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      if (lastPass && restarted && last !== -1) stop = last;
    }
  }
}

function modelSequence(adds: ModelDest[], n: number): (string | null)[] {
  const m = new WrrModel();
  for (const a of adds) m.add(a.name, a.weight);
  return Array.from({ length: n }, () => m.schedule());
}

const why = labUnavailable();
if (why) {
  t.fail(why);
} else {
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

  t.test('the model reproduces the documented "real ipvsadm build" rows of §1.2', async (t) => {
    const names = (s: (string | null)[]) => s.join(' ');
    t.equal(names(modelSequence([{ name: 'RS1', weight: 3 }, { name: 'RS2', weight: 2 }, { name: 'RS3', weight: 1 }], 12)),
      'RS3 RS2 RS1 RS1 RS2 RS1 RS3 RS2 RS1 RS1 RS2 RS1');
    t.equal(names(modelSequence([{ name: 'RS1', weight: 4 }, { name: 'RS2', weight: 3 }, { name: 'RS3', weight: 2 }], 12)),
      'RS3 RS2 RS1 RS1 RS2 RS1 RS3 RS2 RS1 RS3 RS2 RS1');
    t.equal(names(modelSequence([{ name: 'RS1', weight: 1 }, { name: 'RS2', weight: 1 }], 6)), 'RS2 RS1 RS2 RS1 RS2 RS1');
  });

  const cases: { weights: [number, number, number]; doc: string[] }[] = [
    // §1.2: list RS3(1) RS2(2) RS1(3); after the adds cw = 1, so one pass over every
    // server first, then the cycle cw=3: RS1; cw=2: RS2 RS1; cw=1: RS3 RS2 RS1.
    // Over 24 picks that is the documented 6-pick pattern four times.
    { weights: [3, 2, 1], doc: Array<string[]>(4).fill(['rs3', 'rs2', 'rs1', 'rs1', 'rs2', 'rs1']).flat() },
    // §1.2 "real build, weights 4,3,2": RS3 RS2 RS1, then the 9-pick cycle
    // cw=4: RS1; 3: RS2 RS1; 2: RS3 RS2 RS1; 1: RS3 RS2 RS1.
    {
      weights: [4, 3, 2],
      doc: ['rs3', 'rs2', 'rs1', ...Array<string[]>(3).fill(['rs1', 'rs2', 'rs1', 'rs3', 'rs2', 'rs1', 'rs3', 'rs2', 'rs1']).flat()].slice(0, 24),
    },
  ];

  for (const { weights, doc } of cases) {
    await t.test(`wrr ${weights.join(',')}: 24 new TCP connections give the kernel sequence`, async (t) => {
      const [w1, w2, w3] = weights;
      await lab.startLb([
        ...socketArgs(lab), '--vip', vip, '--port', '80', '--iface', 'eth0', '--sched', 'wrr', '--trace-sched',
        '--rs', `10.0.0.185:80@${w1}`, '--rs', `10.0.0.86:80@${w2}`, '--rs', `10.0.0.50:8080@${w3}`,
      ]);
      t.teardown(() => lab.stopLb());
      const model = modelSequence([{ name: 'rs1', weight: w1 }, { name: 'rs2', weight: w2 }, { name: 'rs3', weight: w3 }], 24);
      t.same(model, doc, 'independent model agrees with the documented table');

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
      t.match(first, /cw=1 mw=\d+ di=1/, 'first pick after the adds runs at cw=1 (§1.2)');
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
    const model = new WrrModel();
    model.add('rs1', 3);
    model.add('rs2', 2);
    model.add('rs3', 1);
    // Five picks (RS3 RS2 RS1 RS1 RS2: the walk stands on rs2 at cw=2), then rs2 -> weight 4.
    // dest_changed: cl back to the head, di=1, mw=4, cw=2 kept (0 < 2 <= 4, di == 1), so the
    // walk restarts from the head at cw=2: rs2 rs1, then cw=1: rs3 rs2 rs1, cw=4: rs2, …
    const before = Array.from({ length: 5 }, () => model.schedule());
    model.edit('rs2', 4);
    const after = Array.from({ length: 12 }, () => model.schedule());
    t.same(before, ['rs3', 'rs2', 'rs1', 'rs1', 'rs2']);
    t.same(after.slice(0, 6), ['rs2', 'rs1', 'rs3', 'rs2', 'rs1', 'rs2'], 'model agrees with the hand derivation');

    const seen: string[] = [];
    for (let i = 0; i < 5; i++) seen.push(await whoAnswers(lab, `http://${vip}/`));
    t.same(seen, before, 'before the change');
    // -m: ipvsadm -e without a method would switch the server to -g (DR).
    await lab.exec('director', [
      process.execPath, path.join(REPO, 'dist/lb.js'), ...socketArgs(lab), 'ipvsadm', '-e', '-t', `${vip}:80`, '-r', '10.0.0.86:80', '-m', '-w', '4',
    ]);
    const list = await lab.exec('director', [process.execPath, path.join(REPO, 'dist/lb.js'), ...socketArgs(lab), 'ipvsadm', '-L', '-n']);
    t.match(list, /-> 10\.0\.0\.86:80\s+Masq\s+4\b/, 'the listing shows the new weight');
    const later: string[] = [];
    for (let i = 0; i < 12; i++) later.push(await whoAnswers(lab, `http://${vip}/`));
    t.same(later, after, 'after the change: the kernel continuation');
    t.equal(await lab.stopLb(), 0);
    lab.lbLog = '';
  });
}
