/** The defence flags: parsed into LbOptions, bad values refused naming the flag, applied to a guard. */
import t from 'tap';
import { parseOptions, UsageError } from '../../src/cli/options.js';
import { applyDefense, describeDefense } from '../../src/defense/options.js';
import { Guard } from '../../src/defense/guard.js';
import { ConnTable } from '../../src/table/conn-table.js';

t.test('flags and defaults', async (t) => {
  const o = parseOptions(['--vip', '10.0.0.127', '--drop-entry', '1', '--drop-packet=2', '--secure-tcp', '3', '--amemthresh', '500',
    '--am-droprate', '4', '--secure-syn-recv-timeout', '5', '--svc-conn-rate', '1000', '--client-conn-rate', '50', '--client-prefix-len', '16']);
  t.same(o.defense, { dropEntry: 1, dropPacket: 2, secureTcp: 3, amemthresh: 500, amDroprate: 4, secureSynRecvS: 5, svcConnRate: 1000, clientConnRate: 50, clientPrefixLen: 16 });
  const d = parseOptions(['--vip', '10.0.0.127']).defense;
  t.same(d, { dropEntry: 0, dropPacket: 0, secureTcp: 0, amemthresh: null, amDroprate: 10, secureSynRecvS: 10, svcConnRate: 0, clientConnRate: 0, clientPrefixLen: 24 }, 'the kernel\'s defaults: every strategy off');
});

t.test('bad values name the flag', async (t) => {
  for (const [argv, msg] of [
    [['--drop-entry', '4'], "invalid value for --drop-entry: '4' (expected 0..3)"],
    [['--secure-tcp', 'on'], "invalid value for --secure-tcp: 'on' (expected an integer 0..3)"],
    [['--client-prefix-len', '33'], "invalid value for --client-prefix-len: '33' (expected 0..32)"],
    [['--am-droprate', '0'], "invalid value for --am-droprate: '0' (expected 1..16777216)"],
    [['--svc-conn-rate'], 'option --svc-conn-rate needs a value'],
  ] as const) {
    t.throws(() => parseOptions(['--vip', '10.0.0.127', ...argv]), new UsageError(msg));
  }
});

t.test('applied to a guard; amemthresh defaults to min(1024, capacity / 8)', async (t) => {
  const small = new Guard(new ConnTable(4000), () => undefined);
  applyDefense(small, parseOptions(['--vip', '1.2.3.4', '--drop-entry', '1', '--client-conn-rate', '9']).defense, 4000);
  t.equal(small.levels.amemthresh, 500);
  t.equal(describeDefense(small), 'drop_entry=1 drop_packet=0 secure_tcp=0 amemthresh=500 am_droprate=10 client_conn_rate=9 per /24');
  const big = new Guard(new ConnTable(1 << 16), () => undefined);
  applyDefense(big, parseOptions(['--vip', '1.2.3.4', '--secure-tcp', '3', '--secure-syn-recv-timeout', '0']).defense, 1 << 16);
  t.equal(big.levels.amemthresh, 1024);
  t.equal(big.levels.secureTcp, true, 'mode 3 takes effect at once, as writing the sysctl does');
  t.equal(big.secureSynRecvMs, 0);
});
