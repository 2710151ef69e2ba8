import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PcapTap } from '../../src/io/pcap-tap.js';
import { readPcap } from '../../src/io/pcap-file.js';

t.test('per interface: in, out and both files, readable as pcap, frames cut to len', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tslb-tap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tap = new PcapTap(path.join(dir, 'sub'), ['eth0', 'eth1']);
  const a = Buffer.alloc(100, 1), b = Buffer.alloc(100, 2), c = Buffer.alloc(100, 3);
  tap.tap(0, 'in', a, 60);
  tap.tap(0, 'out', b, 70);
  tap.tap(1, 'in', c, 80);
  tap.tap(5, 'in', c, 80); // unknown interface: ignored
  tap.close();
  tap.tap(0, 'in', a, 60); // after close: ignored
  const r = (f: string) => readPcap(path.join(dir, 'sub', f));
  t.same(r('eth0.in.pcap').map((x) => [x.frame.length, x.frame[0]]), [[60, 1]]);
  t.same(r('eth0.out.pcap').map((x) => [x.frame.length, x.frame[0]]), [[70, 2]]);
  t.same(r('eth0.pcap').map((x) => [x.frame.length, x.frame[0]]), [[60, 1], [70, 2]]);
  t.same(r('eth1.pcap').map((x) => x.frame.length), [80]);
  t.same(r('eth1.out.pcap'), []);
  const times = r('eth0.pcap').map((x) => x.time);
  t.ok(times[0]! > 1.6e9 && times[1]! >= times[0]!, 'wall-clock timestamps in order');
  t.same(tap.frames, { in: 2, out: 1 });
  t.equal(tap.files.length, 6);
});
