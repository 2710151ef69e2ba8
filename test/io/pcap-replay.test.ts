/**
 * glb-director's pcap_tests for tslb: fixtures/pcap/engine-in.pcap (the fixture table's input
 * frames) replayed through the real packet path (Runtime + Engine, io/pcap-replay.ts) must give
 * fixtures/pcap/engine-expected.pcap byte for byte: the same frames, in order, with the time
 * of the frame that caused each. Both files are written from the table by frame-fixtures.ts.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { readPcap } from '../../src/io/pcap-file.js';
import { replayPcaps } from '../../src/io/pcap-replay.js';
import { buildFixtureEngine, fixturePath, loadFixtureTable } from '../helpers/run-fixture.js';

t.test('engine-in.pcap replayed through the data plane gives engine-expected.pcap', async (t) => {
  const fx = buildFixtureEngine(loadFixtureTable().setup);
  const [eth0] = replayPcaps(fx.engine, [readPcap(fixturePath('pcap', 'engine-in.pcap'))]);
  const expected = readFileSync(fixturePath('pcap', 'engine-expected.pcap'));
  const got = eth0!.output();
  t.equal(got.length, expected.length, 'same length');
  t.ok(got.equals(expected), 'byte for byte');
  if (!got.equals(expected)) {
    const want = readPcap(fixturePath('pcap', 'engine-expected.pcap'));
    eth0!.sent.forEach((s, i) => t.equal(s.frame.toString('hex'), want[i]?.frame.toString('hex'), `frame ${i}`));
  }
});

t.test('the replay is deterministic: a second engine gives the same bytes', async (t) => {
  const input = readPcap(fixturePath('pcap', 'engine-in.pcap'));
  const a = replayPcaps(buildFixtureEngine(loadFixtureTable().setup).engine, [input])[0]!.output();
  const b = replayPcaps(buildFixtureEngine(loadFixtureTable().setup).engine, [input])[0]!.output();
  t.ok(a.equals(b));
});
