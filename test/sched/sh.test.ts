// sh against ip_vs_sh.c as in docs/ipvs-behaviour.md §1.5. Bucket numbers come from an
// independent BigInt hash_32 written here and from the §1.5 test vectors.
import t from 'tap';
import { createShScheduler, SH_TAB_SIZE } from '../../src/sched/sh.js';
import { addDest, editDest, removeDest } from '../../src/sched/dest-list.js';
import { mk, set, type TDest } from '../helpers/sched-dests.js';
import { DEST_F_OVERLOAD, SVC_F_SCHED_SH_FALLBACK, SVC_F_SCHED_SH_PORT } from '../../src/sched/types.js';

const ip = (s: string) => s.split('.').reduce((a, x) => ((a << 8) | Number(x)) >>> 0, 0);

/** hash_32(key, 8) = (key * GOLDEN_RATIO_32 mod 2^32) >> 24, computed with BigInt. */
const refBucket = (key: number) => Number(((BigInt(key >>> 0) * 0x61c88647n) & 0xffffffffn) >> 24n);

function build(adds: [string, string, number][], flags = 0) {
  const svc = { dests: [] as TDest[], flags };
  const sched = createShScheduler<TDest>();
  sched.init(svc);
  const byName = new Map<string, TDest>();
  for (const [name, addr, w] of adds) {
    const d = mk(name, addr);
    byName.set(name, d);
    addDest(svc, sched, d, set(w));
  }
  return { svc, sched, byName };
}

t.test('docs/ipvs-behaviour.md §1.5 vectors: list [.86, .185], even bucket .86, odd .185', async (t) => {
  const { svc, sched } = build([['185', '10.0.0.185', 1], ['86', '10.0.0.86', 1]]);
  const cases: [string, number, string][] = [
    ['10.0.0.1', 39, '185'], ['10.0.0.2', 137, '185'], ['192.168.1.10', 248, '86'], ['172.16.5.4', 138, '86'],
  ];
  for (const [client, bucket, name] of cases) {
    t.equal(refBucket(ip(client)), bucket, `reference hash of ${client}`);
    t.equal(sched.bucketOf(svc, ip(client), 0), bucket, `bucket of ${client}`);
    t.equal(sched.schedule(svc, ip(client), 0)?.name, name);
    t.match(sched.explain(svc, ip(client), 0), new RegExp(`bucket ${bucket} -> 10\\.0\\.0\\.${name}`));
  }
});

t.test('old multiplicative hash variant, docs/ipvs-behaviour.md §1.5 vectors', async (t) => {
  const svc = { dests: [] as TDest[], flags: 0 };
  const sched = createShScheduler<TDest>({ legacyHash: true });
  sched.init(svc);
  const want: [string, number][] = [['10.0.0.1', 177], ['10.0.0.2', 98], ['192.168.1.10', 234], ['172.16.5.4', 196]];
  for (const [client, bucket] of want) {
    t.equal(sched.bucketOf(svc, ip(client), 0), bucket);
    t.equal(Number((BigInt(ip(client)) * 2654435761n) & 255n), bucket);
  }
});

t.test('hash_32 agrees with the reference on a table of addresses and ports', async (t) => {
  const { svc, sched } = build([['A', '10.0.0.1', 1]], SVC_F_SCHED_SH_PORT);
  let seed = 99;
  let bad = 0;
  for (let i = 0; i < 2000; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const port = seed & 0xffff;
    if (sched.bucketOf(svc, seed, port) !== refBucket((seed + port) >>> 0)) bad++;
  }
  t.equal(bad, 0);
  const noPort = build([['A', '10.0.0.1', 1]]);
  t.equal(noPort.sched.bucketOf(noPort.svc, ip('10.0.0.1'), 5555), 39, 'port ignored without sh-port');
});

t.test('bucket fill: [A w3, B w2, C w0] -> A A A B B C repeating', async (t) => {
  const { sched } = build([['C', '10.0.0.3', 0], ['B', '10.0.0.2', 2], ['A', '10.0.0.1', 3]]);
  const pattern = ['A', 'A', 'A', 'B', 'B', 'C'];
  const got = Array.from({ length: SH_TAB_SIZE }, (_, i) => sched.bucketDest(i)?.name);
  t.same(got, Array.from({ length: SH_TAB_SIZE }, (_, i) => pattern[i % 6]));
});

t.test('weight-0 and overloaded buckets give no destination without fallback', async (t) => {
  const { svc, sched, byName } = build([['C', '10.0.0.3', 0], ['B', '10.0.0.2', 2], ['A', '10.0.0.1', 3]]);
  // find clients whose home bucket holds C (i % 6 == 5) and A
  const clientFor = (pred: (b: number) => boolean) => {
    for (let a = 1; ; a++) if (pred(refBucket(a))) return a;
  };
  const toC = clientFor((b) => b % 6 === 5);
  t.equal(sched.schedule(svc, toC, 0), null);
  const toA = clientFor((b) => b % 6 < 3);
  t.equal(sched.schedule(svc, toA, 0)?.name, 'A');
  byName.get('A')!.flags |= DEST_F_OVERLOAD;
  t.equal(sched.schedule(svc, toA, 0), null);
});

t.test('sh-fallback walks bucket (off + 2h) & 255 to the first available', async (t) => {
  const { svc, sched } = build([['C', '10.0.0.3', 0], ['B', '10.0.0.2', 2], ['A', '10.0.0.1', 3]], SVC_F_SCHED_SH_FALLBACK);
  const names = ['A', 'A', 'A', 'B', 'B', 'C'];
  let checked = 0;
  let bad = 0;
  for (let a = 1; a < 3000; a++) {
    const h = refBucket(a);
    let want = names[h % 6]!;
    if (want === 'C') {
      for (let off = 0; off < 256; off++) {
        const n = names[((off + 2 * h) & 255) % 6]!;
        if (n !== 'C') {
          want = n;
          break;
        }
      }
      checked++;
    }
    if (sched.schedule(svc, a, 0)?.name !== want) bad++;
  }
  t.equal(bad, 0);
  t.ok(checked > 100, 'many clients needed the fallback');
});

t.test('stable across rebuilds; distribution follows weights', async (t) => {
  const a = build([['B', '10.0.0.2', 1], ['A', '10.0.0.1', 3]]);
  const b = build([['B', '10.0.0.2', 1], ['A', '10.0.0.1', 3]]);
  const counts = { A: 0, B: 0 } as Record<string, number>;
  let differ = 0;
  for (let c = 0; c < 20000; c++) {
    const client = (ip('100.64.0.0') + c * 7919) >>> 0;
    const x = a.sched.schedule(a.svc, client, 0)!.name;
    if (b.sched.schedule(b.svc, client, 0)!.name !== x) differ++;
    counts[x]!++;
  }
  t.equal(differ, 0);
  // list [A w3, B w1]: 192 of 256 buckets are A's; with a good hash about 3/4 of clients go to A
  let aBuckets = 0;
  for (let i = 0; i < 256; i++) if (a.sched.bucketDest(i)?.name === 'A') aBuckets++;
  t.equal(aBuckets, 192);
  const share = counts.A! / 20000;
  t.ok(share > 0.7 && share < 0.8, `A share ${share}`);
});

t.test('table rebuilt on edit and delete; empty service -> null', async (t) => {
  const { svc, sched, byName } = build([['B', '10.0.0.2', 1], ['A', '10.0.0.1', 1]]);
  editDest(svc, sched, byName.get('A')!, set(2));
  t.same([0, 1, 2, 3].map((i) => sched.bucketDest(i)?.name), ['A', 'A', 'B', 'A']);
  removeDest(svc, sched, byName.get('A')!);
  t.equal(sched.bucketDest(0)?.name, 'B');
  t.equal(sched.bucketDest(255)?.name, 'B');
  removeDest(svc, sched, byName.get('B')!);
  t.equal(sched.bucketDest(0), null);
  t.equal(sched.schedule(svc, 1, 0), null);
});
