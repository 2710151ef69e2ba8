/**
 * Notify scripts (notify_up/notify_down, quorum_up/quorum_down), run like keepalived's
 * `notify_exec`: fire and forget, the command line split into words and executed without a
 * shell, never killed. keepalived passes no arguments; the event is also exported in the
 * environment (TSLB_EVENT, TSLB_SERVICE, TSLB_REAL_SERVER) for scripts that want it.
 */
import { runScript, type ScriptOutcome } from './script.js';
import type { NotifyEvent } from './types.js';

export function notifyEnv(event: NotifyEvent): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TSLB_EVENT: event.kind,
    TSLB_SERVICE: event.svcKey,
    ...(event.rsKey !== undefined ? { TSLB_REAL_SERVER: event.rsKey } : {}),
  };
}

/** Start the script; the returned promise tells how it ended (callers may ignore it). */
export function execNotify(script: string, event: NotifyEvent): Promise<ScriptOutcome> {
  return runScript(script, { timeoutMs: 0, env: notifyEnv(event) });
}
