// Lexical rules of lib/parser.c (decomment, read_line brace splitting, quotes).
import t from 'tap';
import { lexKeepalived } from '../../src/config/keepalived/lexer.js';
import { ConfigError } from '../../src/config/errors.js';

const words = (text: string) => lexKeepalived(text, 'f.conf').map((l) => [l.line, l.tokens.map((tk) => tk.text)]);

t.test('comments start at ! or # anywhere outside quotes', async (t) => {
  t.same(words('a 1 ! c\n# whole line\n  ! indented\nb "x # y" # z\nc d#e'), [[1, ['a', '1']], [4, ['b', 'x # y']], [5, ['c', 'd']]]);
});

t.test('\\! and \\# escape the comment characters', async (t) => {
  t.same(words('pass ab\\#c\\!d'), [[1, ['pass', 'ab#c!d']]]);
});

t.test('a trailing backslash continues the line; the line number is the first one', async (t) => {
  t.same(words('\nnotify_up /bin/x \\\n   arg2 \\\n arg3\nnext'), [[2, ['notify_up', '/bin/x', 'arg2', 'arg3']], [5, ['next']]]);
});

t.test('braces are tokens even when glued to words; quoted braces are not', async (t) => {
  const lines = lexKeepalived('real_server 1.2.3.4 80{weight 1}\nx "{a}"', 'f.conf');
  t.same(lines[0]!.tokens.map((tk) => [tk.kind, tk.text]), [['word', 'real_server'], ['word', '1.2.3.4'], ['word', '80'], ['open', '{'], ['word', 'weight'], ['word', '1'], ['close', '}']]);
  t.same(lines[1]!.tokens.map((tk) => [tk.kind, tk.text, tk.quoted]), [['word', 'x', false], ['word', '{a}', true]]);
});

t.test('quoted strings keep spaces and support \\" and \\\\', async (t) => {
  t.same(words('misc_path "/bin/check --name \\"a b\\" \\\\x" user'), [[1, ['misc_path', '/bin/check --name "a b" \\x', 'user']]]);
  t.same(words('a"b c"d'), [[1, ['ab cd']]]);
});

t.test('CRLF line endings are accepted', async (t) => {
  t.same(words('a 1\r\nb 2\r\n'), [[1, ['a', '1']], [2, ['b', '2']]]);
});

t.test('include lines keep their raw pattern (braces included)', async (t) => {
  const lines = lexKeepalived('x\n  include conf.d/{a,b}.conf  # c\nincluder  /etc/k/*.conf', 'f.conf');
  t.same(lines.map((l) => [l.line, l.include]), [[1, undefined], [2, { variant: 'include', pattern: 'conf.d/{a,b}.conf' }], [3, { variant: 'includer', pattern: '/etc/k/*.conf' }]]);
  t.same(words('includes x'), [[1, ['includes', 'x']]], 'a word merely starting with include is a keyword');
});

t.test('an unterminated quote is a ConfigError naming file and line', async (t) => {
  t.throws(() => lexKeepalived('a\nnotify_up "/bin/x', 'k.conf'), { name: 'ConfigError', line: 2, file: 'k.conf', keyword: 'notify_up', message: /closing '"'/ });
  t.ok(new ConfigError('f', 1, 'k', 'expected x').message === "f:1: keyword 'k': expected x");
});
