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
 *     directly or not, is a ConfigError;
 *   - nor any bound: here at most MAX_CONFIG_FILES files are read and
 *     MAX_CONFIG_BYTES of text in all (a file including the next one twice,
 *     25 deep, would be 2^25 reads), includes nest at most
 *     MAX_INCLUDE_DEPTH deep (the expansion recurses), and a glob pattern that cannot be a path
 *     (longer than PATH_MAX, braces expanding to thousands of names) is a
 *     ConfigError naming the include line.
 */
import { posix } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Diagnostics } from './diagnostics.js';
import { GlobPatternError, globFiles } from './glob.js';
import { lexKeepalived, type LexLine } from './lexer.js';
import type { ConfigSource } from './source.js';

/** Files read for one configuration (the root and every include, counted each time read). */
export const MAX_CONFIG_FILES = 4096;
/** Includes within includes; far beyond any real configuration. */
export const MAX_INCLUDE_DEPTH = 64;
/** Characters of configuration text read in all. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

interface Budget {
  files: number;
  bytes: number;
}

export interface ExpandResult {
  readonly lines: LexLine[];
  /** Every file read, in reading order (the root first). */
  readonly files: string[];
}

/** Lexes `text` (the content of `file`) and splices in the included files. */
export function expandIncludes(text: string, file: string, source: ConfigSource, diag: Diagnostics): ExpandResult {
  const lines: LexLine[] = [];
  const files: string[] = [];
  expandInto(text, file, [], source, diag, lines, files, { files: 1, bytes: text.length });
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
  budget: Budget,
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
    let matches: string[];
    try {
      matches = globFiles(resolved, source);
    } catch (err) {
      if (!(err instanceof GlobPatternError)) throw err;
      throw new ConfigError(line.file, line.line, variant, `expected a file name pattern, but ${err.message}`);
    }
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
      if (chain.length > MAX_INCLUDE_DEPTH) {
        throw new ConfigError(line.file, line.line, variant, `expected includes nested at most ${MAX_INCLUDE_DEPTH} deep`);
      }
      let included: string;
      try {
        included = source.readFile(match);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new ConfigError(line.file, line.line, variant, `expected a readable file '${match}' (${why})`);
      }
      budget.files++;
      budget.bytes += included.length;
      if (budget.files > MAX_CONFIG_FILES) {
        throw new ConfigError(line.file, line.line, variant, `expected at most ${MAX_CONFIG_FILES} configuration files read in all (is a file included over and over?)`);
      }
      if (budget.bytes > MAX_CONFIG_BYTES) {
        throw new ConfigError(line.file, line.line, variant, `expected at most ${MAX_CONFIG_BYTES} characters of configuration in all, '${match}' goes past it`);
      }
      expandInto(included, match, chain, source, diag, out, files, budget);
    }
  }
}
