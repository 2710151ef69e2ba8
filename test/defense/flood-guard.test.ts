/** The per-service and per-client-prefix new-connection caps (1-second windows). */
import t from 'tap';
import { ADMIT, FloodGuard, REFUSE_PREFIX, REFUSE_SERVICE } from '../../src/defense/flood-guard.js';

const a = (s: string) => s.split('.').reduce((n, x) => (n << 8) | Number(x), 0) | 0;

t.test('no caps: everything admitted', async (t) => {
  const g = new FloodGuard();
  for (let i = 0; i < 1000; i++) t.equal(g.admit(0, i, 0), ADMIT);
});

t.test('per service: N a second, the next one refused, a new second admits again', async (t) => {
  const g = new FloodGuard();
  g.serviceRate = 3;
  const r = [0, 1, 2, 3, 4].map((i) => g.admit(5, a(`10.0.${i}.1`), 1500));
  t.same(r, [ADMIT, ADMIT, ADMIT, REFUSE_SERVICE, REFUSE_SERVICE]);
  t.equal(g.admit(6, a('10.9.9.9'), 1999), ADMIT, 'another service has its own count (id beyond the first arrays too)');
  t.equal(g.admit(200, a('10.9.9.9'), 1999), ADMIT);
  t.equal(g.admit(5, a('10.0.0.1'), 2000), ADMIT, 'window 2 s');
});

t.test('per /24 prefix: the cap applies to the prefix, not the address', async (t) => {
  const g = new FloodGuard();
  g.prefixRate = 2;
  t.equal(g.admit(0, a('192.0.2.1'), 0), ADMIT);
  t.equal(g.admit(0, a('192.0.2.200'), 10), ADMIT);
  t.equal(g.admit(0, a('192.0.2.7'), 20), REFUSE_PREFIX, 'third from 192.0.2.0/24 in the same second');
  t.equal(g.admit(0, a('192.0.3.7'), 30), ADMIT, '192.0.3.0/24 is another prefix');
  t.equal(g.admit(0, a('192.0.2.7'), 1000), ADMIT, 'next second');
  g.setPrefixLength(32);
  t.equal(g.admit(0, a('192.0.2.8'), 1000), ADMIT, '/32: per address');
  t.equal(g.admit(0, a('192.0.2.8'), 1000), ADMIT);
  t.equal(g.admit(0, a('192.0.2.8'), 1000), REFUSE_PREFIX);
  t.equal(g.admit(0, a('192.0.2.9'), 1000), ADMIT);
});

t.test('a spoofed flood from 100 000 random sources cannot push one prefix past its cap', async (t) => {
  const g = new FloodGuard();
  g.prefixRate = 5;
  let x = 12345;
  for (let i = 0; i < 100_000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    g.admit(0, x, 0);
  }
  let admitted = 0;
  for (let i = 0; i < 20; i++) if (g.admit(0, a(`203.0.113.${i}`), 0) === ADMIT) admitted++;
  t.ok(admitted <= 5, `count-min never under-counts: ${admitted} of 20 admitted`);
});
