/**
 * The fixture table (fixtures/frames/engine.json) through the engine: for every case the
 * verdict, the drop counter, the egress interface and the whole output frame, byte for byte.
 * The expected bytes come from test/helpers/frame-fixtures.ts (protocol rules, full-sum
 * checksums); the first test makes sure the committed table is exactly what it writes.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { frameFixturePcaps, frameFixtureTable } from '../helpers/frame-fixtures.js';
import { buildFixtureEngine, expectedResult, fixturePath, loadFixtureTable, runFixtureFrame } from '../helpers/run-fixture.js';

const table = loadFixtureTable();

t.test('the committed table and pcaps are what frame-fixtures.ts writes', async (t) => {
  t.same(table, frameFixtureTable(), 'fixtures/frames/engine.json (node build/test/helpers/frame-fixtures.js --write)');
  const p = frameFixturePcaps(table);
  t.ok(readFileSync(fixturePath('pcap', 'engine-in.pcap')).equals(p.input), 'fixtures/pcap/engine-in.pcap');
  t.ok(readFileSync(fixturePath('pcap', 'engine-expected.pcap')).equals(p.expected), 'fixtures/pcap/engine-expected.pcap');
});

t.test('every case, in order, on one engine', async (t) => {
  const fx = buildFixtureEngine(table.setup);
  for (const c of table.cases) {
    const got = runFixtureFrame(fx, Buffer.from(c.input, 'hex'), c.ingress, c.timeMs);
    const want = expectedResult(c);
    t.same(
      { verdict: got.verdict, drop: got.drop, egress: got.egress, output: got.output?.toString('hex') ?? null },
      { verdict: want.verdict, drop: want.drop, egress: want.egress, output: want.output?.toString('hex') ?? null },
      `${c.name}: ${c.why}`,
    );
  }
});

t.test('the table covers what the issue asks for', async (t) => {
  const names = new Set(table.cases.map((c) => c.name));
  for (const n of ['nat-in-syn', 'nat-out-synack', 'dr-in-syn', 'tun-in-syn', 'fnat-in-syn', 'arp-who-has-vip',
    'nat-icmp-frag-needed', 'tcp-no-conn', 'runt', 'bad-ip-checksum', 'fragment']) t.ok(names.has(n), n);
});
