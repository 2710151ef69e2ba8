/** Collects warnings while a configuration is interpreted. */
import type { ConfigWarning, SourceLocation } from '../errors.js';

export class Diagnostics {
  readonly warnings: ConfigWarning[] = [];

  /** Records a warning at `where`; `keyword` names what it is about. */
  warn(where: SourceLocation, keyword: string | undefined, message: string): void {
    this.warnings.push(
      keyword === undefined
        ? { file: where.file, line: where.line, message }
        : { file: where.file, line: where.line, keyword, message },
    );
  }
}
