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
  t.same([engine.expireNodestConn, engine.sloppyTcp], [true, true]);
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
