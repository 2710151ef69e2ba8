/** `lb sysctl` against an engine: listing, reading, writing (checked whole first), errors naming key and value. */
import t from 'tap';
import { oneArm } from '../helpers/lab-engine.js';
import { runSysctl, SYSCTL_NAMES } from '../../src/control/sysctl.js';

t.test('-a lists every key with the kernel defaults', async (t) => {
  const { engine } = oneArm({ maxConns: 4096 });
  const out = runSysctl(engine, ['-a']);
  t.equal(out.status, 0);
  t.equal(out.stdout.split('\n').filter(Boolean).length, SYSCTL_NAMES.length);
  t.match(out.stdout, /^net\.ipv4\.vs\.drop_entry = 0$/m);
  t.match(out.stdout, /^net\.ipv4\.vs\.secure_tcp = 0$/m);
  t.match(out.stdout, /^net\.ipv4\.vs\.am_droprate = 10$/m);
  t.match(out.stdout, /^net\.ipv4\.vs\.conn_reuse_mode = 1$/m);
  t.match(out.stdout, /^net\.ipv4\.vs\.expire_nodest_conn = 0$/m);
});

t.test('write, read back; a defence mode takes effect at once', async (t) => {
  const { engine } = oneArm({ maxConns: 4096 });
  const w = runSysctl(engine, ['-w', 'net.ipv4.vs.secure_tcp=3', 'net.ipv4.vs.drop_entry=1', 'tslb.svc_conn_rate=500']);
  t.same(w, { stdout: 'net.ipv4.vs.secure_tcp = 3\nnet.ipv4.vs.drop_entry = 1\ntslb.svc_conn_rate = 500\n', stderr: '', status: 0 });
  t.equal(engine.guard.levels.secureTcp, true, 'secure_tcp 3: the secure table at once (proc_do_defense_mode -> update_defense_level)');
  t.equal(engine.guard.flood.serviceRate, 500);
  t.same(runSysctl(engine, ['-n', 'net/ipv4/vs/drop_entry']), { stdout: '1\n', stderr: '', status: 0 }, 'slashes as sysctl(8) takes them');
  runSysctl(engine, ['net.ipv4.vs.expire_nodest_conn=1', 'net.ipv4.vs.sloppy_tcp=1']);
  t.same([engine.settings.expireNodestConn, engine.settings.sloppyTcp], [true, true]);
});

t.test('an unknown key or a bad value: an error naming it, and nothing written', async (t) => {
  const { engine } = oneArm({ maxConns: 4096 });
  const bad = runSysctl(engine, ['net.ipv4.vs.drop_entry=1', 'net.ipv4.vs.secure_tcp=4']);
  t.equal(bad.status, 1);
  t.equal(bad.stderr, "lb sysctl: invalid value for net.ipv4.vs.secure_tcp: '4' (expected 0..3)\n");
  t.equal(engine.guard.levels.dropEntryMode, 0, 'the valid write before it was not applied either');
  const unk = runSysctl(engine, ['net.ipv4.vs.nope']);
  t.equal(unk.status, 1);
  t.match(unk.stderr, /^lb sysctl: unknown key 'net\.ipv4\.vs\.nope' \(known: /);
  t.equal(runSysctl(engine, ['net.ipv4.vs.amemthresh=-1']).status, 1);
});

t.test('fuzz: 5000 random argument lists never throw, and every value stays in its range', async (t) => {
  const { prng } = await import('../helpers/prng.js');
  const rand = prng(0x5c71);
  const { engine } = oneArm({ maxConns: 4096 });
  const words = [...SYSCTL_NAMES, '-a', '-n', '-w', 'net.ipv4.vs', '', '=', 'x=1', 'net/ipv4/vs/secure_tcp', ' net.ipv4.vs.drop_entry '];
  const values = ['0', '1', '2', '3', '4', '-1', '1e3', '0x10', '', ' 2', '99999999999', 'NaN', '3.5'];
  let errors = 0, badStatus = 0;
  for (let i = 0; i < 5000; i++) {
    const args: string[] = [];
    const n = Math.floor(rand() * 4);
    for (let k = 0; k < n; k++) {
      const w = words[Math.floor(rand() * words.length)]!;
      args.push(rand() < 0.5 ? `${w}=${values[Math.floor(rand() * values.length)]}` : w);
    }
    const out = runSysctl(engine, args);
    if (out.status !== 0) errors++;
    if (out.status !== 0 && out.status !== 1) badStatus++;
    const l = engine.guard.levels;
    for (const m of [l.dropEntryMode, l.dropPacketMode, l.secureTcpMode]) if (!(m >= 0 && m <= 3)) t.fail(`mode ${m} after ${JSON.stringify(args)}`);
    if (!(engine.guard.flood.prefixLen >= 0 && engine.guard.flood.prefixLen <= 32)) t.fail(`prefix length after ${JSON.stringify(args)}`);
  }
  t.equal(badStatus, 0, 'every answer has status 0 or 1');
  t.comment(`5000 argument lists: ${5000 - errors} answered, ${errors} refused`);
});
