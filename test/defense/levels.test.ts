/**
 * update_defense_level and ip_vs_todrop (net/netfilter/ipvs/ip_vs_ctl.c, ip_vs.h): the mode
 * changes of each strategy and the drop rate, with the table's free entries as availmem.
 */
import t from 'tap';
import { DefenseLevels } from '../../src/defense/levels.js';

t.test('drop_entry: 1 -> 2 while short of room and active, back to 1 after; 0 never; 3 always', async (t) => {
  const l = new DefenseLevels();
  l.amemthresh = 100;
  l.dropEntryMode = 1;
  l.update(500);
  t.same([l.dropEntryMode, l.dropEntry], [1, false], 'room: inactive, mode stays 1');
  l.update(99);
  t.same([l.dropEntryMode, l.dropEntry], [2, true], 'availmem < amemthresh: active, sysctl becomes 2');
  l.update(99);
  t.same([l.dropEntryMode, l.dropEntry], [2, true]);
  l.update(100);
  t.same([l.dropEntryMode, l.dropEntry], [1, false], 'availmem == amemthresh is not short (strict <): back to 1');
  l.dropEntryMode = 0;
  l.update(0);
  t.same([l.dropEntryMode, l.dropEntry], [0, false]);
  l.dropEntryMode = 3;
  l.update(1 << 20);
  t.same([l.dropEntryMode, l.dropEntry], [3, true]);
});

t.test('drop_packet: rate = amemthresh / (amemthresh - availmem), integer division', async (t) => {
  const l = new DefenseLevels();
  l.amemthresh = 1024;
  l.dropPacketMode = 1;
  l.update(0);
  t.same([l.dropPacketMode, l.dropRate], [2, 1], 'no room: every new connection');
  l.update(512);
  t.equal(l.dropRate, 2);
  l.update(1000);
  t.equal(l.dropRate, 42, '1024 / 24 = 42');
  l.update(2000);
  t.same([l.dropPacketMode, l.dropRate], [1, 0], 'room again: back to 1, nothing dropped');
});

t.test('ip_vs_todrop: with rate r the r-th, 2r-th... new connection is dropped', async (t) => {
  const l = new DefenseLevels();
  l.amemthresh = 1024;
  l.dropPacketMode = 1;
  l.update(512); // rate 2, drop_counter = 2
  const seq = Array.from({ length: 6 }, () => l.todrop());
  t.same(seq, [false, true, false, true, false, true]);
  t.equal(new DefenseLevels().todrop(), false, 'rate 0: never');
});

t.test('drop_packet 3: am_droprate, drop_counter left at 0 so the first one goes', async (t) => {
  const l = new DefenseLevels();
  l.dropPacketMode = 3;
  l.amDroprate = 10;
  l.update(1 << 20);
  const dropped: number[] = [];
  for (let i = 1; i <= 25; i++) if (l.todrop()) dropped.push(i);
  t.same(dropped, [1, 11, 21]);
});

t.test('secure_tcp: the table switches on a change only (old_secure_tcp)', async (t) => {
  const l = new DefenseLevels();
  l.amemthresh = 10;
  l.secureTcpMode = 1;
  l.update(50);
  t.same([l.secureTcpMode, l.secureTcp], [1, false]);
  l.update(5);
  t.same([l.secureTcpMode, l.secureTcp], [2, true], 'short of room: mode 2, secure table');
  l.update(5);
  t.same([l.secureTcpMode, l.secureTcp], [2, true]);
  l.update(50);
  t.same([l.secureTcpMode, l.secureTcp], [1, false], 'room again: mode 1, normal table');
  l.secureTcpMode = 3;
  l.update(50);
  t.same([l.secureTcpMode, l.secureTcp], [3, true], '3: always');
  l.secureTcpMode = 0;
  l.update(0);
  t.same([l.secureTcpMode, l.secureTcp], [0, false], '0 after 3: normal table again');
  l.update(0);
  t.equal(l.secureTcp, false);
});

t.test('amemthresh 0 (or negative) never counts as short of room', async (t) => {
  const l = new DefenseLevels();
  l.amemthresh = 0;
  l.dropEntryMode = 1;
  l.update(0);
  t.equal(l.dropEntry, false);
});
