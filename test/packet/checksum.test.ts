import t from 'tap';
import { checksum, csumReplace16, csumReplace32, fold, sum16 } from '../../src/packet/checksum.js';
import { prng, randomBytes } from '../helpers/prng.js';

t.test('RFC 1071 §3 example: sum of 0001 f203 f4f5 f6f7 folds to ddf2', async (t) => {
  const b = Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  t.equal(fold(sum16(b, 0, 8, 0)), 0xddf2);
  t.equal(checksum(b, 0, 8), ~0xddf2 & 0xffff);
});

t.test('odd length pads with a zero byte', async (t) => {
  t.equal(checksum(Buffer.from([0x12, 0x34, 0x56]), 0, 3), ~(0x1234 + 0x5600) & 0xffff);
});

t.test('RFC 1624 incremental update equals full recomputation (10k random cases)', async (t) => {
  const rand = prng(1624);
  let bad = 0;
  for (let i = 0; i < 10000; i++) {
    const len = 20 + 2 * ((rand() * 200) | 0);
    const b = randomBytes(rand, len);
    b[10] = 0; b[11] = 0;
    const c0 = checksum(b, 0, len);
    b.writeUInt16BE(c0, 10);
    // change a 32-bit field at 12 and a 16-bit field at 2
    const old32 = b.readUInt32BE(12), new32 = (rand() * 2 ** 32) >>> 0;
    const old16 = b.readUInt16BE(2), new16 = (rand() * 65536) | 0;
    b.writeUInt32BE(new32, 12);
    b.writeUInt16BE(new16, 2);
    const inc = csumReplace16(csumReplace32(c0, old32, new32), old16, new16);
    b[10] = 0; b[11] = 0;
    const full = checksum(b, 0, len);
    // One's complement has two zeros: RFC 1624 eqn. 3 never yields 0xffff->0 confusion for sums != 0.
    if (inc !== full && !(inc === 0xffff && full === 0) && !(inc === 0 && full === 0xffff)) bad++;
  }
  t.equal(bad, 0);
});
