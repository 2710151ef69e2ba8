// Malformed configurations: each ConfigError names the file, the right line and what was expected.
import t, { type Test } from 'tap';
import { ConfigError, parseKeepalivedText } from '../../src/config/keepalived/index.js';

const GOOD = [
  'virtual_server 10.0.0.1 80 {', //  1
  '    delay_loop 6', //               2
  '    lvs_sched rr', //               3
  '    lvs_method NAT', //             4
  '    protocol TCP', //               5
  '    real_server 10.0.0.2 80 {', //  6
  '        weight 1', //               7
  '        TCP_CHECK {', //            8
  '            connect_timeout 3', //  9
  '        }', //                     10
  '    }', //                         11
  '}', //                             12
];

/** GOOD with line `n` (1-based) replaced. */
function variant(n: number, text: string | null): string {
  const lines = [...GOOD];
  if (text === null) lines.splice(n - 1, 1);
  else lines[n - 1] = text;
  return lines.join('\n') + '\n';
}

function expectError(t: Test, text: string, line: number, keyword: string, pattern: RegExp): void {
  try {
    parseKeepalivedText(text, 'bad.conf');
    t.fail('expected a ConfigError');
  } catch (e) {
    t.ok(e instanceof ConfigError, 'is a ConfigError');
    if (!(e instanceof ConfigError)) return;
    t.equal(e.file, 'bad.conf');
    t.equal(e.line, line, `line of: ${e.message}`);
    t.equal(e.keyword, keyword);
    t.match(e.message, pattern);
    t.ok(e.message.startsWith(`bad.conf:${line}: keyword '${keyword}': expected`), e.message);
  }
}

t.test('the unmodified configuration loads', async (t) => {
  const { config, warnings } = parseKeepalivedText(variant(1, GOOD[0]!), 'good.conf');
  t.equal(config.virtualServers.length, 1);
  t.same(warnings, []);
});

t.test('a missing closing brace names the unclosed block', async (t) => {
  expectError(t, variant(10, null), 8, 'TCP_CHECK', /expected '}' to close this block \(the '}' at line 10 is indented like an outer block's\)/);
  expectError(t, variant(12, null), 1, 'virtual_server', /expected '}' to close this block before the end/);
});

t.test('an extra closing brace names its line', async (t) => {
  expectError(t, variant(12, '}\n}'), 13, '}', /no open block/);
});

t.test('a block keyword without { is an error', async (t) => {
  expectError(t, variant(8, '        TCP_CHECK'), 8, 'TCP_CHECK', /expected '\{'/);
});

t.test('a missing required argument', async (t) => {
  expectError(t, variant(3, '    lvs_sched'), 3, 'lvs_sched', /expected a scheduler/);
  expectError(t, variant(6, '    real_server {'), 6, 'real_server', /expected a real server IP address/);
});

t.test('bad numbers', async (t) => {
  expectError(t, variant(7, '        weight heavy'), 7, 'weight', /expected a weight in \[0, 2147483647\], got 'heavy'/);
  expectError(t, variant(7, '        weight -1'), 7, 'weight', /got '-1'/);
  expectError(t, variant(2, '    delay_loop 6s'), 2, 'delay_loop', /expected a time in seconds/);
  expectError(t, variant(9, '            connect_timeout 0'), 9, 'connect_timeout', /expected a time in seconds/);
  expectError(t, variant(1, 'virtual_server 10.0.0.1 99999 {'), 1, 'virtual_server', /expected a port in \[0, 65535\]/);
});

t.test('bad IP addresses', async (t) => {
  expectError(t, variant(1, 'virtual_server 10.0.0.300 80 {'), 1, 'virtual_server', /got '10\.0\.0\.300'/);
  expectError(t, variant(6, '    real_server web1 80 {'), 6, 'real_server', /expected a real server IP address, got 'web1'/);
  expectError(t, variant(9, '            connect_ip 1.2.3'), 9, 'connect_ip', /expected an IP address/);
});

t.test('bad enumerations', async (t) => {
  expectError(t, variant(3, '    lvs_sched roundrobin'), 3, 'lvs_sched', /got 'roundrobin'/);
  expectError(t, variant(4, '    lvs_method MASQ'), 4, 'lvs_method', /NAT\|DR\|TUN/);
  expectError(t, variant(5, '    protocol ICMP'), 5, 'protocol', /TCP\|UDP\|SCTP/);
  expectError(t, variant(9, '            alpha maybe'), 9, 'alpha', /on\|off\|true\|false\|yes\|no/);
});

t.test('errors inside an included file name that file and line', async (t) => {
  const files = { 'vs.d/web.conf': 'virtual_server 10.0.0.1 80 {\n  protocol TCP\n  quorum many\n}\n' };
  try {
    parseKeepalivedText('global_defs {\n}\ninclude vs.d/*.conf\n', 'main.conf', files);
    t.fail('expected a ConfigError');
  } catch (e) {
    t.ok(e instanceof ConfigError);
    t.match(e, { file: 'vs.d/web.conf', line: 3, keyword: 'quorum' });
  }
});

t.test('unknown keywords are warnings with file and line, and loading goes on', async (t) => {
  const { config, warnings } = parseKeepalivedText(variant(7, '        wieght 3') + 'frobnicate 1\n', 'typo.conf');
  t.equal(config.virtualServers.length, 1);
  t.equal(config.virtualServers[0]!.realServers[0]!.weight, 1, 'the misspelt weight is ignored');
  t.match(warnings, [
    { file: 'typo.conf', line: 7, keyword: 'wieght', message: /unknown keyword/ },
    { file: 'typo.conf', line: 13, keyword: 'frobnicate', message: /unknown keyword/ },
  ]);
});

// Found by the fuzz test (keepalived-fuzz.test.ts): 100000 nested blocks overflowed the stack.
t.test('blocks nested deeper than 64 are a ConfigError at the 65th', async (t) => {
  const lines = Array.from({ length: 70 }, (_, i) => `${'  '.repeat(i)}b${i} {`);
  const text = `global_defs {\n${lines.join('\n')}\n${'}\n'.repeat(71)}`;
  expectError(t, text, 65, 'b63', /expected blocks nested at most 64 deep/);
  t.doesNotThrow(() => parseKeepalivedText(`global_defs {\n${lines.slice(0, 63).join('\n')}\n${'}\n'.repeat(64)}`, 'bad.conf'), '64 deep is fine');
});
