// -x/-y OVERLOAD rules of docs/ipvs-behaviour.md §1.7 (ip_vs_bind_dest, ip_vs_unbind_dest,
// __ip_vs_update_dest, the -ERANGE check of ip_vs_add_dest/ip_vs_edit_dest).
import t from 'tap';
import {
  flagsAfterBind,
  flagsAfterThresholdUpdate,
  flagsAfterUnbind,
  markAfterBind,
  markAfterUnbind,
  thresholdsValid,
} from '../../src/sched/thresholds.js';
import { DEST_F_AVAILABLE, DEST_F_OVERLOAD } from '../../src/sched/types.js';

const OV = DEST_F_OVERLOAD;
const AV = DEST_F_AVAILABLE;

t.test('bind sets OVERLOAD when total >= u (u = 0: never)', async (t) => {
  t.equal(flagsAfterBind(AV, 9, 10), AV);
  t.equal(flagsAfterBind(AV, 10, 10), AV | OV);
  t.equal(flagsAfterBind(AV, 11, 10), AV | OV);
  t.equal(flagsAfterBind(AV, 1_000_000, 0), AV);
  t.equal(flagsAfterBind(AV | OV, 3, 10), AV | OV, 'bind never clears');
});

t.test('unbind with l set: clear when total < l', async (t) => {
  t.equal(flagsAfterUnbind(AV | OV, 5, 10, 5), AV | OV);
  t.equal(flagsAfterUnbind(AV | OV, 4, 10, 5), AV);
});

t.test('unbind with only u set: clear below 3/4 of u (total*4 < u*3)', async (t) => {
  t.equal(flagsAfterUnbind(AV | OV, 8, 10, 0), AV | OV); // 32 < 30? no
  t.equal(flagsAfterUnbind(AV | OV, 7, 10, 0), AV); // 28 < 30
  t.equal(flagsAfterUnbind(AV | OV, 3, 4, 0), AV | OV); // 12 < 12? no
  t.equal(flagsAfterUnbind(AV | OV, 2, 4, 0), AV);
});

t.test('unbind with no thresholds always clears', async (t) => {
  t.equal(flagsAfterUnbind(AV | OV, 1000, 0, 0), AV);
  t.equal(flagsAfterUnbind(AV, 0, 0, 0), AV);
});

t.test('-a/-e: clear when the new u is 0 or higher than the old one', async (t) => {
  t.equal(flagsAfterThresholdUpdate(AV | OV, 10, 0), AV);
  t.equal(flagsAfterThresholdUpdate(AV | OV, 10, 11), AV);
  t.equal(flagsAfterThresholdUpdate(AV | OV, 10, 10), AV | OV);
  t.equal(flagsAfterThresholdUpdate(AV | OV, 10, 5), AV | OV, 'lowering u keeps OVERLOAD until the next unbind');
});

t.test('l > u is refused, so -y needs -x', async (t) => {
  t.equal(thresholdsValid(10, 5), true);
  t.equal(thresholdsValid(10, 10), true);
  t.equal(thresholdsValid(0, 0), true);
  t.equal(thresholdsValid(0, 5), false);
  t.equal(thresholdsValid(4, 5), false);
});

t.test('a dest going over and back under its thresholds', async (t) => {
  const d = { flags: AV, activeConns: 0, inactConns: 0, uThreshold: 4, lThreshold: 2 };
  const bind = () => {
    d.activeConns++;
    markAfterBind(d);
  };
  const unbind = () => {
    d.activeConns--;
    markAfterUnbind(d);
  };
  bind(); bind(); bind();
  t.equal(d.flags & OV, 0);
  bind(); // total 4 >= 4
  t.equal(d.flags & OV, OV);
  unbind(); // 3, not < 2
  unbind(); // 2, not < 2
  t.equal(d.flags & OV, OV);
  unbind(); // 1 < 2
  t.equal(d.flags & OV, 0);
  d.inactConns = 3; // inactive connections count too
  bind(); // 2 + 3 = 5 >= 4
  t.equal(d.flags & OV, OV);
});
