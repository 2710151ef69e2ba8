/**
 * keepalived.conf lexer: physical text -> logical lines of tokens.
 *
 * Mirrors keepalived's lib/parser.c (`decomment`, `read_line`, `alloc_strvec_r`),
 * paraphrased:
 *   - a comment starts at `!` or `#` anywhere outside "..." and runs to the end
 *     of the line; `\!` and `\#` stand for the characters themselves;
 *   - a trailing `\` continues the logical line on the next physical line
 *     (keepalived only honours this inside `$NAME=` definitions; accepting it
 *     everywhere is a deliberate superset);
 *   - `include[rmwba] PATTERN` is recognised on the whole decommented line,
 *     before braces are split off, so glob braces `{a,b}` survive;
 *   - `{` and `}` outside quotes are always tokens of their own, even when glued
 *     to a word (`read_line` splits the line at them);
 *   - "..." groups text (spaces, `{`, `#`) into one word without the quotes;
 *     inside quotes `\"` and `\\` are escapes.
 */
import { ConfigError } from '../errors.js';

export type TokenKind = 'word' | 'open' | 'close';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** True when any part of the word came from a "..." string. */
  readonly quoted: boolean;
}

/** The include keyword variants of lib/parser.c `check_include`. */
export type IncludeVariant = 'include' | 'includer' | 'includem' | 'includew' | 'includeb' | 'includea';

export interface LexLine {
  readonly file: string;
  /** 1-based number of the first physical line of this logical line. */
  readonly line: number;
  /** Width of the leading whitespace of the first physical line (tab stops every 8). */
  readonly indent: number;
  readonly tokens: readonly Token[];
  /** Set when the line is an include directive (then `tokens` is empty). */
  readonly include?: { readonly variant: IncludeVariant; readonly pattern: string };
}

interface Decommented {
  text: string;
  continued: boolean;
  unterminatedQuote: boolean;
}

/** Strips a comment and detects a continuation backslash (paraphrase of `decomment`). */
function decomment(raw: string): Decommented {
  let out = '';
  let inQuote = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '"') {
      inQuote = !inQuote;
      out += c;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= raw.length) return { text: out.trim(), continued: true, unterminatedQuote: inQuote };
      const next = raw[i + 1]!;
      // Outside quotes \# and \! lose their backslash; every other pair is kept for the tokenizer.
      out += !inQuote && (next === '#' || next === '!') ? next : c + next;
      i++;
      continue;
    }
    if (!inQuote && (c === '!' || c === '#')) break;
    out += c;
  }
  return { text: out.trim(), continued: false, unterminatedQuote: inQuote };
}

const INCLUDE_RE = /^(include[rmwba]?)[ \t]+(.+)$/;

/** Splits a decommented logical line into tokens. */
function tokenize(text: string, file: string, line: number): Token[] {
  const tokens: Token[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  let inQuote = false;
  const endWord = (): void => {
    if (inWord) tokens.push({ kind: 'word', text: word, quoted });
    word = '';
    inWord = false;
    quoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuote) {
      if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
        word += text[++i];
      } else if (c === '"') {
        inQuote = false;
      } else {
        word += c;
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      endWord();
    } else if (c === '"') {
      inQuote = true;
      inWord = true;
      quoted = true;
    } else if (c === '{' || c === '}') {
      endWord();
      tokens.push({ kind: c === '{' ? 'open' : 'close', text: c, quoted: false });
    } else if (c === '\\' && i + 1 < text.length && '"\\{}'.includes(text[i + 1]!)) {
      word += text[++i];
      inWord = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inQuote) {
    const first = tokens[0]?.text ?? word.split(/\s/)[0] ?? '';
    throw new ConfigError(file, line, first, `expected a closing '"' before the end of the line`);
  }
  endWord();
  return tokens;
}

/**
 * Lexes one file's text. Blank and comment-only lines are dropped; line
 * numbers refer to the physical lines of `text`.
 */
export function lexKeepalived(text: string, file: string): LexLine[] {
  const physical = text.split('\n');
  const lines: LexLine[] = [];
  let pending = '';
  let pendingLine = 0;
  let pendingIndent = 0;
  for (let i = 0; i < physical.length; i++) {
    const raw = physical[i]!.replace(/\r$/, '');
    const d = decomment(raw);
    if (pending === '' && d.text === '' && !d.continued) continue;
    if (pending === '' && pendingLine === 0) {
      pendingLine = i + 1;
      pendingIndent = indentWidth(raw);
    }
    pending = pending === '' ? d.text : d.text === '' ? pending : `${pending} ${d.text}`;
    if (d.continued && i + 1 < physical.length) continue;
    const startLine = pendingLine;
    const logical = pending;
    pending = '';
    pendingLine = 0;
    if (logical === '') continue;
    const inc = INCLUDE_RE.exec(logical);
    if (inc) {
      lines.push({ file, line: startLine, indent: pendingIndent, tokens: [], include: { variant: inc[1] as IncludeVariant, pattern: inc[2]!.trim() } });
      continue;
    }
    const tokens = tokenize(logical, file, startLine);
    if (tokens.length > 0) lines.push({ file, line: startLine, indent: pendingIndent, tokens });
  }
  return lines;
}

function indentWidth(raw: string): number {
  let width = 0;
  for (const c of raw) {
    if (c === ' ') width++;
    else if (c === '\t') width = (Math.floor(width / 8) + 1) * 8;
    else break;
  }
  return width;
}
