/**
 * lc end to end (issue 3): while some connections are held open, new connections go to
 * the server with the smaller IPVS overhead = active*256 + inactive (docs/ipvs-behaviour.md §1.3,
 * ip_vs_lc_schedule: strict `<`, so ties go to the earliest server in kernel list order,
 * i.e. the one added last).
 *
 * Held connections: curl downloading a large /bytes body at 1 kB/s (ESTABLISHED for the
 * whole test). Short connections: one curl each; the client closes first (the servers
 * keep idle connections alive for 30 s), so by the next SYN the balancer has seen its
 * FIN and the entry is FIN_WAIT/TIME_WAIT: inactive, weighing 1 (§9).
 */
import t from 'tap';
import { Lab, labReady } from '../helpers/lab.js';
import { schedTraces, spawnIn, waitFor, whoAnswers, type Background, socketArgs } from '../helpers/lab-sched.js';

/** Independent model of ip_vs_lc_schedule over a kernel-ordered list. */
class LcModel {
  constructor(readonly list: { name: string; active: number; inactive: number }[]) {}
  pick(): string {
    let least: (typeof this.list)[number] | null = null;
    let loh = 0;
    for (const d of this.list) {
      const oh = d.active * 256 + d.inactive;
      if (least === null || oh < loh) {
        least = d;
        loh = oh;
      }
    }
    return least!.name;
  }
  held(): string {
    const n = this.pick();
    this.list.find((d) => d.name === n)!.active++;
    return n;
  }
  short(): string {
    const n = this.pick();
    this.list.find((d) => d.name === n)!.inactive++;
    return n;
  }
}

if (labReady(t)) {
  t.setTimeout(120_000);
  const lab = await Lab.up('onearm');
  const held: Background[] = [];
  t.teardown(async () => {
    for (const h of held) await h.stop();
    await lab.down();
  });
  const vip = lab.state.LAB_VIP!;
  // --rs order rs1 then rs2: kernel list [rs2, rs1].
  await lab.startLb([...socketArgs(lab), '--vip', vip, '--port', '80', '--iface', 'eth0', '--sched', 'lc', '--trace-sched', '--rs', '10.0.0.185:80', '--rs', '10.0.0.86:80']);

  /** Start a slow download and wait until its response headers name the server. */
  async function hold(): Promise<string> {
    const h = spawnIn(lab, 'client', [
      'curl', '-s', '--max-time', '100', '--limit-rate', '1k', '-D', '-', '-o', '/dev/null', `http://${vip}/bytes?n=20000000`,
    ]);
    held.push(h);
    await waitFor(() => /x-served-by: (rs\d)/i.test(h.output()) || h.proc.exitCode !== null, 10_000, 'held connection headers');
    const m = /x-served-by: (rs\d)/i.exec(h.output());
    if (!m) throw new Error(`held curl ended early:\n${h.output()}`);
    return m[1]!;
  }

  await t.test('new connections go to the server with fewer open connections', async (t) => {
    const model = new LcModel([{ name: 'rs2', active: 0, inactive: 0 }, { name: 'rs1', active: 0, inactive: 0 }]);
    // By hand (overheads rs2/rs1):
    //  H1 (held):   0/0, tie -> rs2 (earliest)            -> 256/0
    //  4 short:     0 < 256 -> rs1 each                   -> 256/4
    //  H2 (held):   4 < 256 -> rs1                        -> 256/260
    //  8 short:     rs2 257, 258, 259, 260 (< 260) then 260 = 260 tie -> rs2 (261),
    //               rs1 (260 < 261 -> 261), tie -> rs2 (262), rs1 (261 < 262)
    const hand = ['rs2', 'rs1', 'rs1', 'rs1', 'rs1', 'rs1', 'rs2', 'rs2', 'rs2', 'rs2', 'rs2', 'rs1', 'rs2', 'rs1'];
    const expected = [model.held(), ...[1, 2, 3, 4].map(() => model.short()), model.held(), ...[1, 2, 3, 4, 5, 6, 7, 8].map(() => model.short())];
    t.same(expected, hand, 'model agrees with the hand derivation');

    const seen: string[] = [await hold()];
    for (let i = 0; i < 4; i++) seen.push(await whoAnswers(lab, `http://${vip}/`));
    seen.push(await hold());
    for (let i = 0; i < 8; i++) seen.push(await whoAnswers(lab, `http://${vip}/`));
    t.same(seen, hand, 'servers that answered, in order');

    const traces = schedTraces(lab.lbLog);
    t.equal(traces.length, hand.length, 'one --trace-sched record per new connection');
    const addr: Record<string, string> = { rs1: '10.0.0.185:80', rs2: '10.0.0.86:80' };
    t.same(traces.map((x) => x.dest), hand.map((n) => addr[n]), 'trace choices match');
    // The second held connection's inputs: rs2 one active, rs1 four inactive.
    const h2 = traces[5]!.inputs;
    t.match(h2, /#0 10\.0\.0\.86:80 weight=1 active=1 inactive=0 overhead=256\b/, 'rs2 inputs (list head)');
    t.match(h2, /#1 10\.0\.0\.185:80 weight=1 active=0 inactive=4 overhead=4\b.*<- chosen/, 'rs1 inputs and the choice');
    // The tie: rs2 260 vs rs1 260 (5th short after H2) goes to the list head.
    t.match(traces[10]!.inputs, /#0 10\.0\.0\.86:80 weight=1 active=1 inactive=4 overhead=260\b.*<- chosen/, 'tie to the earliest');
    t.match(traces[10]!.inputs, /#1 10\.0\.0\.185:80 weight=1 active=1 inactive=4 overhead=260\b/);
  });

  await t.test('the held downloads were still running throughout', async (t) => {
    t.ok(held.every((h) => h.proc.exitCode === null), 'held connections still open');
  });
}
