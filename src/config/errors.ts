/**
 * Configuration diagnostics shared by the config loaders.
 *
 * A ConfigError stops the load (syntax errors: unbalanced braces, a missing
 * or malformed argument, a block keyword without `{`); a ConfigWarning is
 * reported and the load goes on (unknown keywords, keepalived defaults that
 * keepalived itself reports, features parsed but not implemented yet).
 * Both name the file and line so the user can jump to the offending text.
 */

/** Where a diagnostic points: a file and a 1-based line number. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

/** A non-fatal finding while loading a configuration. */
export interface ConfigWarning extends SourceLocation {
  /** The keyword the warning is about, when there is one. */
  readonly keyword?: string;
  readonly message: string;
}

/** Formats a warning as `FILE:LINE: keyword 'X': message` (keyword part omitted when absent). */
export function formatWarning(w: ConfigWarning): string {
  return formatDiagnostic(w.file, w.line, w.keyword, w.message);
}

function formatDiagnostic(file: string, line: number, keyword: string | undefined, message: string): string {
  const kw = keyword === undefined ? '' : `keyword '${keyword}': `;
  return `${file}:${line}: ${kw}${message}`;
}

/**
 * A fatal configuration error. `message` is `FILE:LINE: keyword 'X': expected ...`;
 * the parts are also available separately.
 */
export class ConfigError extends Error {
  readonly file: string;
  readonly line: number;
  readonly keyword: string;
  /** The message without the location prefix, e.g. "expected an integer in [1, 255], got 'x'". */
  readonly detail: string;

  constructor(file: string, line: number, keyword: string, detail: string) {
    super(formatDiagnostic(file, line, keyword, detail));
    this.name = 'ConfigError';
    this.file = file;
    this.line = line;
    this.keyword = keyword;
    this.detail = detail;
  }
}
