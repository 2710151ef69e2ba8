// Same-process A/B of two builds of the microbench's engine cases:
//   node bench/micro/ab-same-process.mjs BASE_CHECKOUT NEW_CHECKOUT [TRIALS]
// (each checkout built with `npx tsc -p tsconfig.test.json`). Both are loaded side by side
// and their trials interleaved (A B, B A, ...), so a busy or throttled machine slows both
// alike; the figure to read is the median of the per-trial ratios new/base. On a shared
// 2-core VM whose timings vary two-fold between runs, this resolves a few per cent where
// separate runs of run.js cannot.
import path from 'node:path';
const [baseRoot, newRoot] = process.argv.slice(2);
if (!baseRoot || !newRoot) {
  console.error('usage: node bench/micro/ab-same-process.mjs BASE_CHECKOUT NEW_CHECKOUT [TRIALS]');
  process.exit(2);
}
const A = await import(path.resolve(baseRoot, 'build/bench/micro/engine-cases.js'));
const B = await import(path.resolve(newRoot, 'build/bench/micro/engine-cases.js'));
const want = ['NAT established, client->server', 'NAT established, server->client', 'DR established', 'new TCP connection (+ free)'];
const pick = (m) => m.engineCases('fraction').filter((c) => want.includes(c.name));
const ca = pick(A), cb = pick(B);
const N = 100_000, TRIALS = Number(process.argv[4] ?? 41);
const time = (fn) => { const t0 = process.hrtime.bigint(); for (let i = 0; i < N; i++) fn(); return Number(process.hrtime.bigint() - t0) / N; };
const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
for (let k = 0; k < ca.length; k++) {
  const a = ca[k], b = cb.find((c) => c.name === a.name);
  for (let i = 0; i < 300_000; i++) { a.fn(); b.fn(); }
  const ta = [], tb = [], r = [];
  for (let t = 0; t < TRIALS; t++) {
    const x = t % 2 === 0 ? [time(a.fn), time(b.fn)] : [time(b.fn), time(a.fn)].reverse();
    ta.push(x[0]); tb.push(x[1]); r.push(x[1] / x[0]);
  }
  console.log(`${a.name.padEnd(40)} base ${med(ta).toFixed(1)} ns  new ${med(tb).toFixed(1)} ns  median of per-trial ratios ${med(r).toFixed(3)}`);
}
