/**
 * The subset of glob(3) that keepalived's `include` uses (`glob()` with
 * GLOB_BRACE in lib/parser.c `open_and_check_glob`): `*`, `?`, `[...]`
 * (with `!`/`^` negation and ranges), `\` escapes, and csh-style braces
 * `{a,b}` (nested allowed). Node 20 has no fs.glob, hence this file.
 *
 * As glob(3): wildcards never match `/` nor a leading `.` of a name; results
 * of each brace alternative are sorted (byte order) and then concatenated.
 */
import { posix } from 'node:path';
import type { ConfigSource } from './source.js';

/** A pattern glob(3) would refuse or that would not fit in memory (include.ts names the line). */
export class GlobPatternError extends Error {}

/** PATH_MAX: glob(3) cannot match a longer path, and a longer pattern is not a path. */
export const MAX_PATTERN_LENGTH = 4096;
/** Brace alternatives one pattern may expand to (`{a,b}` x 40 would be 2^40). */
export const MAX_BRACE_ALTERNATIVES = 1024;

/**
 * Expands csh braces: `a{b,c{d,e}}f` -> [abf, acdf, acef]. Unbalanced braces stay literal.
 * Iterative (a worklist, first alternative first), so deep nesting cannot overflow the stack;
 * more than MAX_BRACE_ALTERNATIVES results is a GlobPatternError.
 */
export function expandBraces(pattern: string): string[] {
  const out: string[] = [];
  const work = [pattern];
  while (work.length > 0) {
    const p = work.pop()!;
    const group = firstBraceGroup(p);
    if (group === undefined) {
      out.push(p);
      continue;
    }
    const head = p.slice(0, group.open);
    const tail = p.slice(group.close + 1);
    const alts = splitTopLevelCommas(p.slice(group.open + 1, group.close));
    if (out.length + work.length + alts.length > MAX_BRACE_ALTERNATIVES) {
      throw new GlobPatternError(`its braces expand to more than ${MAX_BRACE_ALTERNATIVES} names`);
    }
    for (let i = alts.length - 1; i >= 0; i--) work.push(head + alts[i]! + tail);
  }
  return out;
}

/** The first top-level `{...}` of a pattern (escapes skipped), or undefined. */
function firstBraceGroup(pattern: string): { open: number; close: number } | undefined {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
    } else if (c === '{') {
      if (depth++ === 0) open = i;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      return { open, close: i };
    }
  }
  return undefined;
}

function splitTopLevelCommas(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

/** True when a path segment contains a wildcard. */
export function hasWildcard(segment: string): boolean {
  return /(^|[^\\])[*?[]/.test(segment);
}

/** Compiles one path segment (no `/`) to an anchored RegExp. */
export function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '\\' && i + 1 < segment.length) {
      re += escapeRegExp(segment[++i]!);
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = findClassEnd(segment, i);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, end);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      const cls = classBody(body);
      re += negate ? `[^/${cls}]` : `[${cls}]`;
      i = end;
    } else {
      re += escapeRegExp(c);
    }
  }
  return new RegExp(`^${re}$`);
}

/**
 * A bracket expression's body as a RegExp class body. A range whose end sorts before its start
 * (`z-a`) matches nothing, as in fnmatch(3); for RegExp it would be a SyntaxError.
 */
function classBody(body: string): string {
  const esc = (c: string): string => (/[\\\]^-]/.test(c) ? `\\${c}` : c);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (body[i + 1] === '-' && i + 2 < body.length) {
      const last = body[i + 2]!;
      if (c <= last) out += `${esc(c)}-${esc(last)}`;
      i += 2;
    } else {
      out += esc(c);
    }
  }
  return out;
}

/** Index of the `]` closing a class opened at `start`, or -1 (a leading `]` is literal). */
function findClassEnd(segment: string, start: number): number {
  let i = start + 1;
  if (segment[i] === '!' || segment[i] === '^') i++;
  if (segment[i] === ']') i++;
  for (; i < segment.length; i++) if (segment[i] === ']') return i;
  return -1;
}

function escapeRegExp(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

/** Removes glob escapes from a segment without wildcards. */
function unescapeSegment(segment: string): string {
  return segment.replace(/\\(.)/g, '$1');
}

/**
 * Files matching `pattern` (already made relative to the including file's
 * directory, or absolute). Only regular files are returned.
 */
export function globFiles(pattern: string, source: ConfigSource): string[] {
  if (pattern.length > MAX_PATTERN_LENGTH) throw new GlobPatternError(`it is longer than ${MAX_PATTERN_LENGTH} characters (PATH_MAX)`);
  const results: string[] = [];
  for (const alternative of expandBraces(pattern)) {
    results.push(...matchOne(alternative, source).sort(byteOrder));
  }
  return results;
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function matchOne(pattern: string, source: ConfigSource): string[] {
  const absolute = pattern.startsWith('/');
  const segments = pattern.split('/').filter((s) => s !== '');
  let candidates: string[] = [absolute ? '/' : ''];
  for (const segment of segments) {
    const next: string[] = [];
    for (const base of candidates) {
      if (!hasWildcard(segment)) {
        next.push(joinPath(base, unescapeSegment(segment)));
        continue;
      }
      const names = source.listDir(base === '' ? '.' : base) ?? [];
      const re = segmentRegExp(segment);
      const dotAllowed = segment.startsWith('.');
      for (const name of names) {
        if (name.startsWith('.') && !dotAllowed) continue;
        if (re.test(name)) next.push(joinPath(base, name));
      }
    }
    candidates = next;
    if (candidates.length === 0) return [];
  }
  return candidates.filter((p) => p !== '' && source.isFile(p));
}

function joinPath(base: string, name: string): string {
  if (base === '') return name;
  return base === '/' ? `/${name}` : posix.join(base, name);
}
