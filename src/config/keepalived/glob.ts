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

/** Expands csh braces: `a{b,c{d,e}}f` -> [abf, acdf, acef]. Unbalanced braces stay literal. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
    } else if (c === '{') {
      if (depth++ === 0) open = i;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      const head = pattern.slice(0, open);
      const tail = pattern.slice(i + 1);
      const out: string[] = [];
      for (const alt of splitTopLevelCommas(pattern.slice(open + 1, i))) {
        out.push(...expandBraces(head + alt + tail));
      }
      return out;
    }
  }
  return [pattern];
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
      const cls = body.replace(/[\\\]^]/g, (m) => `\\${m}`);
      re += negate ? `[^/${cls}]` : `[${cls}]`;
      i = end;
    } else {
      re += escapeRegExp(c);
    }
  }
  return new RegExp(`^${re}$`);
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
