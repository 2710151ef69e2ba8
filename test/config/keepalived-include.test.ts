// include with globs resolved relative to the including file (lib/parser.c open_glob_file).
import t from 'tap';
import { parseKeepalivedText } from '../../src/config/keepalived/index.js';
import { ConfigError } from '../../src/config/errors.js';
import { expandBraces, globFiles, segmentRegExp } from '../../src/config/keepalived/glob.js';
import { memoryConfigSource } from '../../src/config/keepalived/source.js';

const vs = (ip: string) => `virtual_server ${ip} 80 {\n protocol TCP\n lvs_sched rr\n lvs_method NAT\n real_server 10.9.9.9 80 {\n }\n}\n`;

t.test('expandBraces follows csh rules, nested and in order', async (t) => {
  t.same(expandBraces('a{b,c{d,e}}f'), ['abf', 'acdf', 'acef']);
  t.same(expandBraces('{x,}y'), ['xy', 'y']);
  t.same(expandBraces('no{brace'), ['no{brace']);
});

t.test('segment wildcards: * ? [..] [!..] and escapes', async (t) => {
  t.ok(segmentRegExp('*.conf').test('dns-tcp.conf'));
  t.notOk(segmentRegExp('*.conf').test('dns.conf.bak'));
  t.ok(segmentRegExp('vs?.conf').test('vs1.conf'));
  t.notOk(segmentRegExp('vs?.conf').test('vs12.conf'));
  t.ok(segmentRegExp('vs[0-3].conf').test('vs2.conf'));
  t.notOk(segmentRegExp('vs[!0-3].conf').test('vs2.conf'));
  t.ok(segmentRegExp('a\\*b').test('a*b'));
  t.notOk(segmentRegExp('a\\*b').test('axb'));
});

// Found by the fuzz test (keepalived-fuzz.test.ts): these were a SyntaxError and stack overflows.
t.test('a reversed range matches nothing, as in fnmatch; the rest of its class still matches', async (t) => {
  t.notOk(segmentRegExp('[z-a]*').test('a.conf'));
  t.ok(segmentRegExp('[az-b]*').test('a.conf'));
  t.notOk(segmentRegExp('[az-b]*').test('b.conf'));
  t.ok(segmentRegExp('[!z-a]*').test('b.conf'));
  t.ok(segmentRegExp('[-a]').test('-') && segmentRegExp('[a-]').test('-') && segmentRegExp('[a^]').test('^'));
});

t.test('braces: deep nesting is fine, an explosion of alternatives is refused', async (t) => {
  t.same(expandBraces(`${'{'.repeat(2000)}x${'}'.repeat(2000)}`), ['x']);
  t.equal(expandBraces('{a,b}'.repeat(10)).length, 1024);
  t.throws(() => expandBraces('{a,b}'.repeat(11)), /expand to more than 1024/);
});

t.test('include patterns that cannot be file names are ConfigErrors at the include line', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [`include ${'{a,b}'.repeat(40)}`, /braces expand to more than 1024 names/],
    [`include ${'a/'.repeat(3000)}*`, /longer than 4096 characters \(PATH_MAX\)/],
  ];
  for (const [line, re] of cases) {
    const err = t.throws(() => parseKeepalivedText(`global_defs {\n}\n${line}\n`, 'k.conf')) as unknown;
    t.ok(err instanceof ConfigError && err.file === 'k.conf' && err.line === 3 && err.keyword === 'include', String(err));
    t.match((err as Error).message, re);
  }
});

t.test('bounded expansion: include depth, files read', async (t) => {
  const chain = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`c${i}.conf`, `include c${i + 1}.conf\n`]));
  const deep = t.throws(() => parseKeepalivedText('include c0.conf\n', 'k.conf', { ...chain, 'c100.conf': '' })) as ConfigError;
  t.match(deep, { file: 'c63.conf', line: 1, message: /expected includes nested at most 64 deep/ });
  const bomb = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`f${i}.conf`, `include f${i + 1}.conf\ninclude f${i + 1}.conf\n`]));
  const many = t.throws(() => parseKeepalivedText('include f0.conf\n', 'k.conf', { ...bomb, 'f25.conf': '' })) as ConfigError;
  t.ok(many instanceof ConfigError, String(many));
  t.match(many.message, /expected at most 4096 configuration files read in all/);
  const ok = parseKeepalivedText('include c0.conf\n', 'k.conf', { ...Object.fromEntries(Object.entries(chain).slice(0, 60)), 'c60.conf': '' });
  t.equal(ok.config.files.length, 62, 'a chain of 60 includes is fine');
});

t.test('globFiles sorts each brace alternative, skips dot files and directories', async (t) => {
  const src = memoryConfigSource({ 'd/b.conf': '', 'd/a.conf': '', 'd/.hidden.conf': '', 'd/sub/x.conf': '', 'e/z.conf': '' });
  t.same(globFiles('d/*.conf', src), ['d/a.conf', 'd/b.conf']);
  t.same(globFiles('{e,d}/*.conf', src), ['e/z.conf', 'd/a.conf', 'd/b.conf']);
  t.same(globFiles('d/*', src), ['d/a.conf', 'd/b.conf']);
  t.same(globFiles('*/*/x.conf', src), ['d/sub/x.conf']);
});

t.test('includes resolve relative to the including file, recursively', async (t) => {
  const files = {
    '/etc/k/keepalived.conf': 'include conf.d/*.conf\n',
    '/etc/k/conf.d/10-web.conf': vs('10.0.0.1') + 'include ../more/{a,b}.conf\n',
    '/etc/k/conf.d/20-dns.conf': vs('10.0.0.2'),
    '/etc/k/more/a.conf': vs('10.0.0.3'),
    '/etc/k/more/b.conf': vs('10.0.0.4'),
    '/etc/k/more/c.conf': vs('10.0.0.5'),
  };
  const { config } = parseKeepalivedText(files['/etc/k/keepalived.conf'], '/etc/k/keepalived.conf', files);
  t.same(config.virtualServers.map((v) => v.address), ['10.0.0.1', '10.0.0.3', '10.0.0.4', '10.0.0.2']);
  t.same(config.files, ['/etc/k/keepalived.conf', '/etc/k/conf.d/10-web.conf', '/etc/k/more/a.conf', '/etc/k/more/b.conf', '/etc/k/conf.d/20-dns.conf']);
  t.equal(config.virtualServers[1]!.source.file, '/etc/k/more/a.conf');
  t.equal(config.virtualServers[1]!.source.line, 1);
});

t.test('an include may sit inside a block', async (t) => {
  const files = { 'rs.inc': 'real_server 10.0.0.9 80 {\n weight 7\n}\n' };
  const text = 'virtual_server 10.0.0.1 80 {\n protocol TCP\n include rs.inc\n}\n';
  const { config } = parseKeepalivedText(text, 'main.conf', files);
  t.same(config.virtualServers[0]!.realServers.map((r) => [r.address, r.weight]), [['10.0.0.9', 7]]);
});

t.test('plain include matching nothing is not an error (warning only)', async (t) => {
  const { config, warnings } = parseKeepalivedText('include nothing/*.conf\n' + vs('10.0.0.1'), 'main.conf', {});
  t.equal(config.virtualServers.length, 1);
  t.match(warnings, [{ file: 'main.conf', line: 1, keyword: 'include' }]);
});

t.test('includer matching nothing is a ConfigError', async (t) => {
  t.throws(() => parseKeepalivedText('\nincluder nothing.conf\n', 'main.conf', {}), { name: 'ConfigError', file: 'main.conf', line: 2, keyword: 'includer' });
});

t.test('include cycles are detected', async (t) => {
  const files = { 'a.conf': 'include b.conf\n', 'b.conf': '\n\ninclude a.conf\n' };
  t.throws(() => parseKeepalivedText(files['a.conf'], 'a.conf', files), { name: 'ConfigError', file: 'b.conf', line: 3, message: /a\.conf -> b\.conf -> a\.conf/ });
  t.throws(() => parseKeepalivedText('include self.conf', 'self.conf', { 'self.conf': 'include self.conf' }), { name: 'ConfigError', line: 1 });
  t.ok(new ConfigError('f', 1, 'k', 'expected x') instanceof Error);
});

t.test('the same file included twice in sequence is not a cycle', async (t) => {
  const files = { 'x.inc': 'global_defs {\n router_id R\n}\n' };
  const { config } = parseKeepalivedText('include x.inc\ninclude x.inc\n', 'm.conf', files);
  t.same(config.files, ['m.conf', 'x.inc', 'x.inc']);
});
