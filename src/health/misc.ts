/**
 * MISC_CHECK probe (check_misc.c `misc_check_thread` / `misc_check_child_thread`).
 * Exit 0 is success, any other exit is failure, except that with misc_dynamic the exits
 * 2..255 are success too (the weight becomes exit-2, see misc-weight.ts). Being killed,
 * including the kill after misc_timeout, is a failure.
 */
import { miscExitOk } from './misc-weight.js';
import { runScript } from './script.js';
import type { ProbeResult } from './types.js';

export interface MiscProbeOptions {
  path: string;
  timeoutMs: number;
  dynamic: boolean;
  signal?: AbortSignal;
  /** SIGTERM -> SIGKILL delay after a timeout (default 2000 ms). */
  killGraceMs?: number;
}

export async function miscProbe(opts: MiscProbeOptions): Promise<ProbeResult> {
  const o = await runScript(opts.path, {
    timeoutMs: opts.timeoutMs,
    ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (o.kind === 'error') return { ok: false, detail: `Misc check ${opts.path} could not run: ${o.message}` };
  if (o.kind === 'signaled') {
    const why = o.timedOut ? 'timed out' : `failed (due to signal ${o.signal})`;
    return { ok: false, detail: `Misc check ${opts.path} ${why}` };
  }
  const ok = miscExitOk(o.code, opts.dynamic);
  return {
    ok,
    exitCode: o.code,
    detail: `Misc check ${opts.path} ${ok ? 'succeeded' : 'failed'} (exited with status ${o.code})`,
  };
}
