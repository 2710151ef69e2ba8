/**
 * `include` expansion (lib/parser.c `check_include`, `open_glob_file`,
 * `open_conf_file`), paraphrased:
 *   - the pattern is a glob with braces, resolved against the directory of
 *     the file that contains the include line (keepalived chdir()s into it);
 *   - matching files are read in glob order, as if their lines replaced the
 *     include line, so an include may sit inside a block;
 *   - plain `include` with no match is not an error (only logged by
 *     keepalived; we warn); the variants includer/m/w/b/a report it;
 *   - keepalived has no cycle protection; here a file that includes itself,
 *     directly or not, is a ConfigError.
 */
import { posix } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Diagnostics } from './diagnostics.js';
import { globFiles } from './glob.js';
import { lexKeepalived, type LexLine } from './lexer.js';
import type { ConfigSource } from './source.js';

export interface ExpandResult {
  readonly lines: LexLine[];
  /** Every file read, in reading order (the root first). */
  readonly files: string[];
}

/** Lexes `text` (the content of `file`) and splices in the included files. */
export function expandIncludes(text: string, file: string, source: ConfigSource, diag: Diagnostics): ExpandResult {
  const lines: LexLine[] = [];
  const files: string[] = [];
  expandInto(text, file, [], source, diag, lines, files);
  return { lines, files };
}

function expandInto(
  text: string,
  file: string,
  stack: readonly string[],
  source: ConfigSource,
  diag: Diagnostics,
  out: LexLine[],
  files: string[],
): void {
  files.push(file);
  const chain = [...stack, posix.normalize(file)];
  for (const line of lexKeepalived(text, file)) {
    if (!line.include) {
      out.push(line);
      continue;
    }
    const { variant, pattern } = line.include;
    const resolved = pattern.startsWith('/') ? pattern : posix.join(posix.dirname(file), pattern);
    const matches = globFiles(resolved, source);
    if (matches.length === 0) {
      if (variant === 'include') {
        diag.warn(line, variant, `no configuration file matched '${pattern}'`);
        continue;
      }
      throw new ConfigError(line.file, line.line, variant, `expected at least one file matching '${pattern}'`);
    }
    for (const match of matches) {
      const id = posix.normalize(match);
      if (chain.includes(id)) {
        const cycle = [...chain.slice(chain.indexOf(id)), id].join(' -> ');
        throw new ConfigError(line.file, line.line, variant, `expected no include cycle, but ${cycle}`);
      }
      let included: string;
      try {
        included = source.readFile(match);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new ConfigError(line.file, line.line, variant, `expected a readable file '${match}' (${why})`);
      }
      expandInto(included, match, chain, source, diag, out, files);
    }
  }
}
