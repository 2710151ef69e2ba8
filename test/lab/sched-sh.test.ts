/**
 * sh end to end (issue 3): twenty client source addresses, each asked three times, each
 * always lands on the same real server, and that server is the one IPVS's source hash
 * gives (docs/ipvs-behaviour.md §1.5, ip_vs_sh.c): bucket = hash_32(addr, 8) =
 * (addr * 0x61C88647 mod 2^32) >> 24, buckets filled by ip_vs_sh_reassign in kernel list
 * order, `weight` consecutive buckets per server per round.
 *
 * The extra client addresses sit in the client's own 198.51.100.0/24, which the router
 * reaches directly on its eth1 (one-arm topology), so replies find their way back.
 */
import t from 'tap';
import { Lab, labReady } from '../helpers/lab.js';
import { addClientAddresses, schedTraces, whoAnswers, socketArgs } from '../helpers/lab-sched.js';

/** hash_32(key, 8) with GOLDEN_RATIO_32 (include/linux/hash.h), computed independently with BigInt. */
function shBucket(addr: string): number {
  const key = addr.split('.').reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n);
  return Number(((key * 0x61c88647n) % 2n ** 32n) >> 24n);
}

/** ip_vs_sh_reassign over a kernel-ordered list of (name, weight). */
function shTable(list: { name: string; weight: number }[]): string[] {
  const table: string[] = [];
  let p = 0;
  let count = 0;
  for (let i = 0; i < 256; i++) {
    table.push(list[p]!.name);
    if (++count >= list[p]!.weight) {
      p = (p + 1) % list.length;
      count = 0;
    }
  }
  return table;
}

if (labReady(t)) {
  t.setTimeout(150_000);

  t.test('the hash written here reproduces the docs/ipvs-behaviour.md §1.5 test vectors', async (t) => {
    t.same(['10.0.0.1', '10.0.0.2', '192.168.1.10', '172.16.5.4'].map(shBucket), [39, 137, 248, 138]);
    t.same(shTable([{ name: 'A', weight: 3 }, { name: 'B', weight: 2 }, { name: 'C', weight: 0 }]).slice(0, 12).join(''), 'AAABBCAAABBC');
  });

  const lab = await Lab.up('onearm');
  t.teardown(() => lab.down());
  const vip = lab.state.LAB_VIP!;
  const clients = Array.from({ length: 20 }, (_, i) => `198.51.100.${10 + i}`); // .10 is the client's own
  await addClientAddresses(lab, clients.slice(1));
  // --rs order rs1 (w2) then rs2 (w3): kernel list [rs2 w3, rs1 w2], so buckets go
  // rs2 rs2 rs2 rs1 rs1, repeated.
  await lab.startLb([
    ...socketArgs(lab), '--vip', vip, '--port', '80', '--iface', 'eth0', '--sched', 'sh', '--trace-sched', '--rs', '10.0.0.185:80@2', '--rs', '10.0.0.86:80@3',
  ]);
  t.teardown(() => lab.stopLb());
  const table = shTable([{ name: 'rs2', weight: 3 }, { name: 'rs1', weight: 2 }]);
  const expected = clients.map((c) => table[shBucket(c)]!);

  await t.test('each source address is stable and maps to its IPVS bucket', async (t) => {
    t.ok(expected.includes('rs1') && expected.includes('rs2'), 'the chosen addresses cover both servers');
    for (let round = 0; round < 3; round++) {
      const seen: string[] = [];
      for (const c of clients) seen.push(await whoAnswers(lab, `http://${vip}/`, ['--interface', c]));
      t.same(seen, expected, `round ${round + 1}: every client on its hashed server`);
    }
  });

  await t.test('--trace-sched shows the hash bucket for each new connection', async (t) => {
    const traces = schedTraces(lab.lbLog);
    t.equal(traces.length, clients.length * 3, 'one record per new connection');
    const addr: Record<string, string> = { rs1: '10.0.0.185:80', rs2: '10.0.0.86:80' };
    for (const [i, x] of traces.entries()) {
      const c = clients[i % clients.length]!;
      const m = /bucket (\d+)/.exec(x.inputs);
      if (x.client !== c || !m || Number(m[1]) !== shBucket(c) || x.dest !== addr[expected[i % clients.length]!]) {
        t.fail(`trace ${i} for ${c}: ${x.client} -> ${x.dest} | ${x.inputs}`);
        return;
      }
    }
    t.pass('client, bucket and choice as computed by hand for every trace');
  });
}
