/**
 * Running checker and notify scripts the way keepalived does (notify.c `system_call_script`,
 * check_misc.c `misc_check_child_thread`): the command line is split into words (quotes and
 * backslash escapes, like `alloc_strvec_quoted`) and executed directly, not through a shell,
 * in its own process group. On timeout the group gets SIGTERM, then SIGKILL after a grace
 * period (keepalived waits 2 s).
 */
import { spawn } from 'node:child_process';

/** Split a command line: whitespace separates words; "…" and '…' group; \ escapes. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else cur += ch;
      continue;
    }
    if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = null;
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated quote in command: ${line}`);
  if (inWord) words.push(cur);
  return words;
}

export type ScriptOutcome =
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: string; timedOut: boolean }
  | { kind: 'error'; message: string };

export interface RunScriptOptions {
  /** Kill the script after this many ms; 0, negative or non-finite means never. */
  timeoutMs: number;
  /** Delay between SIGTERM and SIGKILL after a timeout; default 2000 ms like keepalived. */
  killGraceMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** Run `command` (split with splitCommand) and report how it ended. Never rejects. */
export function runScript(command: string, opts: RunScriptOptions): Promise<ScriptOutcome> {
  let argv: string[];
  try {
    argv = splitCommand(command);
  } catch (e) {
    return Promise.resolve({ kind: 'error', message: (e as Error).message });
  }
  const file = argv[0];
  if (file === undefined) return Promise.resolve({ kind: 'error', message: 'empty command' });
  return new Promise((resolve) => {
    const child = spawn(file, argv.slice(1), {
      detached: true, // own process group, so a timeout kills the script's children too
      stdio: 'ignore',
      ...(opts.env ? { env: opts.env } : {}),
    });
    let timedOut = false;
    let done = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // ESRCH: already gone
      }
    };
    const stop = (): void => {
      if (done || timedOut) return;
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 2000);
    };
    const timer = opts.timeoutMs > 0 && Number.isFinite(opts.timeoutMs) ? setTimeout(stop, opts.timeoutMs) : undefined;
    const onAbort = (): void => stop();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (o: ScriptOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    child.on('error', (err) => finish({ kind: 'error', message: err.message }));
    child.on('exit', (code, sig) => {
      // Make sure helpers the script left behind die with it after a timeout.
      if (timedOut) killGroup('SIGKILL');
      if (code !== null) finish({ kind: 'exited', code });
      else finish({ kind: 'signaled', signal: sig ?? 'unknown', timedOut });
    });
  });
}
