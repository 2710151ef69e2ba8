/**
 * Bytes allocated per packet: run an op millions of times after warm-up and watch the
 * V8 heap. The run is cut into chunks; a chunk in which the used heap shrank had a GC
 * and says nothing about allocation, every other chunk's growth is what the ops
 * allocated. The same harness around an empty op is measured first and subtracted.
 * GCs during the run are counted with a PerformanceObserver('gc'). Needs --expose-gc.
 */
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';

export interface AllocResult {
  name: string;
  ops: number;
  /** Heap growth per op, harness subtracted (median of GC-free chunks). */
  bytesPerOp: number;
  /** Total heap growth over the run divided by ops, before subtraction (GC-free chunks only). */
  rawBytesPerOp: number;
  gcs: number;
  cleanChunks: number;
  chunks: number;
}

declare const gc: (() => void) | undefined;

function usedHeap(): number {
  return v8.getHeapStatistics().used_heap_size;
}

async function gcCount<T>(run: () => T): Promise<{ value: T; gcs: number }> {
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  const value = run();
  // GC entries are delivered asynchronously: let them arrive before counting.
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return { value, gcs };
}

function chunks(fn: () => void, ops: number, chunk: number): { perOp: number[]; total: number; clean: number } {
  const perOp: number[] = [];
  let grown = 0;
  let cleanOps = 0;
  for (let done = 0; done < ops; done += chunk) {
    const before = usedHeap();
    for (let i = 0; i < chunk; i++) fn();
    const delta = usedHeap() - before;
    if (delta >= 0) {
      perOp.push(delta / chunk);
      grown += delta;
      cleanOps += chunk;
    }
  }
  return { perOp, total: cleanOps === 0 ? NaN : grown / cleanOps, clean: perOp.length };
}

function median(a: number[]): number {
  if (a.length === 0) return NaN;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

/** Measure each op; ops per case (default 5M) after `warmup` ops. */
export async function measureAllocations(
  cases: { name: string; fn: () => void }[], ops = 5_000_000, warmup = 300_000, chunk = 20_000,
): Promise<AllocResult[]> {
  if (typeof gc !== 'function') throw new Error('allocation measurement needs node --expose-gc');
  const empty = () => {};
  for (let i = 0; i < warmup; i++) empty();
  gc();
  const harness = median(chunks(empty, ops, chunk).perOp);
  const out: AllocResult[] = [];
  for (const c of cases) {
    for (let i = 0; i < warmup; i++) c.fn();
    gc();
    const { value, gcs } = await gcCount(() => chunks(c.fn, ops, chunk));
    out.push({
      name: c.name,
      ops,
      bytesPerOp: Math.max(0, median(value.perOp) - harness),
      rawBytesPerOp: value.total,
      gcs,
      cleanChunks: value.clean,
      chunks: Math.ceil(ops / chunk),
    });
  }
  return out;
}
