/**
 * `ipvsadm -R`: split stdin into lines and words like config_stream_read
 * (config_stream.c), and parse each line with args.ts, as restore_table does.
 *
 * What the original does, kept here:
 * - words are separated by blanks (space, tab, CR); a line ends at "\n";
 * - the word "ipvsadm" is dropped wherever it appears, so saved lines may
 *   start with it;
 * - blank lines are skipped;
 * - `-R` itself does NOT know comments: a "# ..." line is parsed as words and
 *   stops the restore with the tryhelp error. The `ipvsadm-restore` script
 *   removes lines starting with "#" first (`grep -v '^#'`); pass
 *   { stripComments: true } for that behaviour;
 * - a last line without a newline that ends in two or more blanks is lost
 *   (the reader meets EOF while skipping blanks and drops the words it had).
 * - a line error that makes ipvsadm exit (fail(), tryhelp, a nested -R, -h, -v)
 *   ends the restore; a popt error only fails that line.
 */
import { parseIpvsadmArgs, type ParseEnv } from './args.js';
import type { ArgsError, Command } from './command.js';
import { tryHelpLine } from './usage.js';

export interface RestoreLine {
  /** 1-based line number in the input. */
  readonly lineNumber: number;
  readonly argv: readonly string[];
  readonly result: { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly error: ArgsError };
}

export interface RestorePlan {
  /** Lines to run in order (the last one may be an error). */
  readonly lines: readonly RestoreLine[];
  /**
   * Set when a line ends the restore: the process exits with this status after
   * printing `stderr` (and `stdout` for -h / -v). Lines before it still apply.
   */
  readonly stop: { readonly lineNumber: number; readonly status: number; readonly stdout: string; readonly stderr: string } | null;
}

export interface RestoreOptions {
  /** Drop lines starting with "#", as the ipvsadm-restore wrapper does. */
  readonly stripComments?: boolean;
}

/** Lines and their words, numbered; blank lines (no words) included with argv []. */
export function splitRestoreStream(text: string, opts: RestoreOptions = {}): { lineNumber: number; argv: string[] }[] {
  const rawLines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  if (endsWithNewline) rawLines.pop();
  const out: { lineNumber: number; argv: string[] }[] = [];
  rawLines.forEach((raw, i) => {
    if (opts.stripComments === true && raw.startsWith('#')) return;
    const isLast = i === rawLines.length - 1 && !endsWithNewline;
    // The first blank after a word is read with it; a second one sends the reader to EOF.
    if (isLast && /[ \t\r]{2}$/.test(raw)) return;
    const argv = raw.split(/[ \t\r]+/).filter((w) => w !== '' && w !== 'ipvsadm');
    out.push({ lineNumber: i + 1, argv });
  });
  return out;
}

/** Parse a whole -R input into the commands to run and where (if anywhere) it stops. */
export function planRestore(text: string, env: ParseEnv = {}, opts: RestoreOptions = {}): RestorePlan {
  const program = env.program ?? 'ipvsadm';
  const lines: RestoreLine[] = [];
  for (const { lineNumber, argv } of splitRestoreStream(text, opts)) {
    if (argv.length === 0) continue;
    const result = parseIpvsadmArgs(argv, env);
    lines.push({ lineNumber, argv, result });
    if (!result.ok) {
      if (result.error.exits) {
        return { lines, stop: { lineNumber, status: result.error.status, stdout: '', stderr: result.error.stderr } };
      }
      continue;
    }
    const cmd = result.command;
    // restore_table refuses to recurse: tryhelp_exit(-1).
    if (cmd.cmd === 'restore') return { lines, stop: { lineNumber, status: 255, stdout: '', stderr: tryHelpLine(program) } };
    if (cmd.cmd === 'help' || cmd.cmd === 'version') return { lines, stop: { lineNumber, status: 0, stdout: cmd.stdout, stderr: '' } };
  }
  return { lines, stop: null };
}

/** "line N: message", for logs that want to say where a restore failed. */
export function describeRestoreError(line: RestoreLine): string | null {
  if (line.result.ok) return null;
  const text = line.result.error.stderr.trimEnd() || `exit status ${line.result.error.status}`;
  return `line ${line.lineNumber}: ${text}`;
}
