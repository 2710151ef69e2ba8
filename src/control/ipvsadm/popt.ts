/**
 * The slice of popt's poptGetNextOpt() (popt.c) that ipvsadm's option table
 * exercises, so that argv is cut exactly as the real binary cuts it:
 * - `--long` and `--long=value`; no abbreviations; `-long` is NOT a long
 *   option (the table has no POPT_ARGFLAG_ONEDASH), it is a cluster of shorts;
 * - short clusters `-Ln`, `-At 1.2.3.4:80`, `-p60`, `-p=60`;
 * - a required argument takes the next word even if it starts with '-';
 *   an optional one (`-p`) does not take a word that starts with '-';
 * - words that are not options (and "-" alone, and all after "--") are left
 *   over for poptGetArg().
 */

export type PoptArgKind = 'none' | 'required' | 'optional';

export interface PoptOption<Tag extends string = string> {
  readonly long: string | null;
  readonly short: string | null;
  readonly arg: PoptArgKind;
  readonly tag: Tag;
}

/** poptStrerror texts of the errors this table can produce. */
export type PoptError = 'missing argument' | 'unknown option' | 'option does not take an argument';

export type PoptEvent<Tag extends string> =
  | { readonly kind: 'option'; readonly tag: Tag; readonly arg: string | null; readonly badOption: string }
  | { readonly kind: 'error'; readonly error: PoptError; readonly badOption: string }
  | { readonly kind: 'end' };

export class PoptContext<Tag extends string> {
  private next = 0;
  private nextCharArg: string | null = null;
  private restLeftover = false;
  private readonly leftovers: string[] = [];
  private nextLeftover = 0;

  /** `args` excludes the program name, which only shows up in poptBadOption when nothing was read. */
  constructor(
    private readonly args: readonly string[],
    private readonly table: readonly PoptOption<Tag>[],
    private readonly program: string,
  ) {}

  /** poptBadOption(POPT_BADOPTION_NOALIAS): the last argv word consumed. */
  private badOption(): string {
    return this.next > 0 ? (this.args[this.next - 1] as string) : this.program;
  }

  private fail(error: PoptError): PoptEvent<Tag> {
    return { kind: 'error', error, badOption: this.badOption() };
  }

  nextOption(): PoptEvent<Tag> {
    for (;;) {
      if (this.nextCharArg === null && this.next === this.args.length) return { kind: 'end' };
      let opt: PoptOption<Tag> | undefined;
      let longArg: string | null = null;

      if (this.nextCharArg === null) {
        const word = this.args[this.next++] as string;
        if (this.restLeftover || !word.startsWith('-') || word === '-') {
          this.leftovers.push(word);
          continue;
        }
        if (word === '--') {
          this.restLeftover = true;
          continue;
        }
        if (word.startsWith('--')) {
          const body = word.slice(2);
          const eq = body.indexOf('=');
          const name = eq >= 0 ? body.slice(0, eq) : body;
          if (eq >= 0) longArg = body.slice(eq + 1);
          opt = this.table.find((o) => o.long === name);
          if (opt === undefined) return this.fail('unknown option');
        } else {
          this.nextCharArg = word.slice(1);
        }
      }

      if (opt === undefined) {
        const cluster = this.nextCharArg as string;
        this.nextCharArg = null;
        opt = this.table.find((o) => o.short === cluster[0]);
        if (opt === undefined) return this.fail('unknown option');
        if (cluster.length > 1) this.nextCharArg = cluster.slice(1);
      }

      if (opt.arg === 'none') {
        if (longArg !== null || this.nextCharArg?.startsWith('=')) return this.fail('option does not take an argument');
        return { kind: 'option', tag: opt.tag, arg: null, badOption: this.badOption() };
      }

      let arg: string | null;
      if (longArg !== null) {
        arg = longArg;
      } else if (this.nextCharArg !== null) {
        arg = this.nextCharArg.startsWith('=') ? this.nextCharArg.slice(1) : this.nextCharArg;
        this.nextCharArg = null;
      } else if (this.next === this.args.length) {
        if (opt.arg === 'required') return this.fail('missing argument');
        arg = null;
      } else if (opt.arg === 'optional' && (this.args[this.next] as string).startsWith('-')) {
        arg = null;
      } else {
        arg = this.args[this.next++] as string;
      }
      return { kind: 'option', tag: opt.tag, arg, badOption: this.badOption() };
    }
  }

  /** poptGetArg: the next left-over word, in order. */
  nextArg(): string | null {
    return this.nextLeftover < this.leftovers.length ? (this.leftovers[this.nextLeftover++] as string) : null;
  }
}
