/**
 * Text mutators for the fuzz tests of the text inputs (keepalived.conf, ipvsadm -R rules,
 * ipvsadm argument vectors): they break valid text the ways an editor, a truncated copy or a
 * hostile user would (issue 15 item 3). Deterministic: every choice comes from the PRNG passed in.
 */
export type Rand = () => number;

export function pick<T>(rand: Rand, a: readonly T[]): T {
  return a[Math.floor(rand() * a.length)]!;
}

export function int(rand: Rand, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** Numbers that overflow, underflow or are not numbers at all, for any numeric field. */
export const BAD_NUMBERS = [
  '0', '-1', '-0', '1.5', '1e3', '1e309', '0x10', '010', '+5', '65535', '65536', '255', '256', '2147483647', '2147483648',
  '4294967295', '4294967296', '18446744073709551616', '99999999999999999999999999999999', 'NaN', 'Infinity', '', '.', '1.', '.5',
  '1.0000001', '00000000000000000000000001', '١٢٣', '1 2',
] as const;

/** Words of the wrong type, glued characters, and characters that mean something to a lexer. */
export const BAD_WORDS = [
  'abc', 'on', 'off', 'yes', 'NAT', 'DR', 'TUN', 'rr', 'wlc', 'TCP', 'UDP', 'SCTP', 'inet', 'inet6', '::', '::1', 'fe80::1%eth0',
  '10.0.0.1', '10.0.0.1:80', '10.0.0.256', '224.0.0.18', '0.0.0.0', '255.255.255.255', '1.2.3', '[::1]:80', 'localhost', '-',
  '--', '-t', '{', '}', '{}', '"', '""', '"a b"', '\\', '!', '#', ';', '=', '*', '?', '[', '[z-a]', '{a,b}', '..', '/', '/etc/passwd',
  '__proto__', 'constructor', 'toString', '\u0000', '\u00ff', '\ufeff', '\ud800', '\u{1f600}', 'x'.repeat(300),
] as const;

/** One random character: mostly printable ASCII, sometimes structure, control or non-ASCII. */
export function randomChar(rand: Rand): string {
  const r = rand();
  if (r < 0.5) return String.fromCharCode(int(rand, 0x20, 0x7e));
  if (r < 0.8) return pick(rand, ['{', '}', '"', '\\', '!', '#', '\n', '\t', ' ', '\r', '-', ':', '.', ',', '/', '=']);
  if (r < 0.9) return String.fromCharCode(int(rand, 0, 0x1f));
  return String.fromCharCode(int(rand, 0x80, 0xffff));
}

export function randomWord(rand: Rand, maxLen = 12): string {
  let w = '';
  const n = int(rand, 1, maxLen);
  for (let i = 0; i < n; i++) w += randomChar(rand);
  return w;
}

/** Offsets of every match of `re` (global) in `text`. */
function matches(text: string, re: RegExp): { index: number; text: string }[] {
  const out: { index: number; text: string }[] = [];
  for (const m of text.matchAll(re)) out.push({ index: m.index, text: m[0] });
  return out;
}

function replaceAt(text: string, index: number, len: number, by: string): string {
  return text.slice(0, index) + by + text.slice(index + len);
}

/**
 * One generic mutation of `text`: character flips, truncation, line deletion, duplication and
 * swapping, numbers swapped for bad ones, words swapped for ones of the wrong type, random
 * words inserted. `vocabulary` (keywords of the format) makes inserted words meaningful.
 */
export function mutateText(rand: Rand, text: string, vocabulary: readonly string[]): string {
  const lines = text.split('\n');
  const line = int(rand, 0, Math.max(0, lines.length - 1));
  switch (int(rand, 0, 11)) {
    case 0: { // flip a few characters
      let out = text;
      for (let k = int(rand, 1, 4); k > 0 && out.length > 0; k--) out = replaceAt(out, int(rand, 0, out.length - 1), 1, randomChar(rand));
      return out;
    }
    case 1: // truncation anywhere (mid-word, mid-line, mid-block)
      return text.slice(0, int(rand, 0, text.length));
    case 2: // delete a line
      lines.splice(line, 1);
      return lines.join('\n');
    case 3: // duplicate a line
      lines.splice(line, 0, lines[line] ?? '');
      return lines.join('\n');
    case 4: { // swap two lines
      const other = int(rand, 0, Math.max(0, lines.length - 1));
      [lines[line], lines[other]] = [lines[other] ?? '', lines[line] ?? ''];
      return lines.join('\n');
    }
    case 5:
    case 6: { // a number becomes a bad number
      const nums = matches(text, /\d+(?:\.\d+)?/g);
      if (nums.length === 0) return text + pick(rand, BAD_NUMBERS);
      const m = pick(rand, nums);
      return replaceAt(text, m.index, m.text.length, pick(rand, BAD_NUMBERS));
    }
    case 7:
    case 8: { // a word becomes one of the wrong type (or a keyword of the format)
      const words = matches(text, /[^\s{}"]+/g);
      if (words.length === 0) return text + pick(rand, BAD_WORDS);
      const m = pick(rand, words);
      const by = rand() < 0.3 && vocabulary.length > 0 ? pick(rand, vocabulary) : rand() < 0.8 ? pick(rand, BAD_WORDS) : randomWord(rand);
      return replaceAt(text, m.index, m.text.length, by);
    }
    case 9: { // insert a line of random tokens
      const n = int(rand, 1, 5);
      const words: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = rand();
        words.push(r < 0.45 && vocabulary.length > 0 ? pick(rand, vocabulary) : r < 0.7 ? pick(rand, BAD_WORDS) : r < 0.85 ? pick(rand, BAD_NUMBERS) : randomWord(rand));
      }
      lines.splice(line, 0, ' '.repeat(int(rand, 0, 8)) + words.join(' '));
      return lines.join('\n');
    }
    case 10: { // insert random characters
      let s = '';
      for (let k = int(rand, 1, 16); k > 0; k--) s += randomChar(rand);
      return replaceAt(text, int(rand, 0, text.length), 0, s);
    }
    default: { // a word glued to its neighbour, or split in two
      const spaces = matches(text, /[ \t]+/g);
      if (spaces.length === 0 || rand() < 0.3) {
        const at = int(rand, 0, text.length);
        return replaceAt(text, at, 0, ' ');
      }
      const m = pick(rand, spaces);
      return replaceAt(text, m.index, m.text.length, '');
    }
  }
}
