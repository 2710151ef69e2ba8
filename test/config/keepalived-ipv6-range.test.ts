// keepalived's IPv6 range syntax in virtual_server_group (utils.c inet_stor: the end is
// the last 16-bit group, in hex): it parses, and the plan refuses it with a clear
// "IPv6 is not supported yet" naming the line, instead of a parse error (issue 12 item 5).
import t from 'tap';
import { ConfigError, parseKeepalivedText } from '../../src/config/keepalived/index.js';
import { planFromKeepalived } from '../../src/control/keepalived-plan.js';

const conf = (entry: string) => ['virtual_server_group v6 {', `    ${entry}`, '}', 'virtual_server group v6 {', '    lvs_sched rr', '    protocol TCP', '}', ''].join('\n');

t.test('ae00::2-9 and friends parse to a start and an end address', async (t) => {
  const cases: [string, string, string][] = [
    ['ae00::2-9 80', 'ae00::2', 'ae00::9'],
    ['ae00::2-1f 80', 'ae00::2', 'ae00::1f'],
    ['2001:db8:0:0:1:0:0:10-FFFF 443', '2001:db8:0:0:1:0:0:10', '2001:db8::1:0:0:ffff'],
    ['::2-3 80', '::2', '::3'],
  ];
  for (const [entry, start, end] of cases) {
    const { config } = parseKeepalivedText(conf(entry), 'v6.conf');
    const e = config.virtualServerGroups[0]!.entries[0]!;
    t.same([e.family, e.address, e.addressEnd], ['inet6', start, end], entry);
  }
});

t.test('bad IPv6 range ends: a ConfigError at the line', async (t) => {
  for (const [entry, why] of [['ae00::2-g 80', /in hex/], ['ae00::9-2 80', /greater than the start/], ['ae00::2-10000 80', /in hex/]] as const) {
    try {
      parseKeepalivedText(conf(entry), 'v6.conf');
      t.fail(`${entry}: accepted`);
    } catch (err) {
      t.ok(err instanceof ConfigError, entry);
      t.equal((err as ConfigError).line, 2);
      t.match((err as Error).message, why);
    }
  }
});

t.test('the plan: IPv6 is not supported yet, with file:line; errors can be collected', async (t) => {
  const { config } = parseKeepalivedText(conf('ae00::2-9 80'), 'v6.conf');
  t.throws(() => planFromKeepalived(config), /^v6\.conf:2: keyword 'virtual_server_group': IPv6 is not supported yet \(entry ae00::2 to ae00::9 of group v6\)/);
  const errors: ConfigError[] = [];
  const plan = planFromKeepalived(config, errors);
  t.equal(errors.length, 1);
  t.equal(errors[0]!.line, 2);
  t.same(plan.services, []);
});
