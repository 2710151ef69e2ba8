/** `lb top`: argument parsing and one screen built from the control socket's answers. */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ControlServer, type ControlRequest } from '../../src/control/server.js';
import { parseTopArgs, topScreen } from '../../src/observe/top.js';

t.test('arguments', (t) => {
  t.same(parseTopArgs([]), { intervalMs: 2000, once: false, stats: false });
  t.same(parseTopArgs(['--interval', '0.5', '--once', '--stats']), { intervalMs: 500, once: true, stats: true });
  t.throws(() => parseTopArgs(['--interval', '0']), /interval/);
  t.throws(() => parseTopArgs(['-x']), /unknown option/);
  t.end();
});

t.test('a screen: ipvsadm -L -n --rate from the balancer, then the HA lines', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tslb-top-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const seen: ControlRequest[] = [];
  const srv = await ControlServer.listen(path.join(dir, 's.sock'), (req) => {
    seen.push(req);
    if ((req as { ha?: boolean }).ha) return { stdout: 'VRRP VI_1 vrid 51 prio 100 MASTER\n', stderr: '', status: 0 };
    return { stdout: 'IP Virtual Server version 1.2.1 (size=4096)\nTCP  10.0.0.127:80  3  10  8  900  700\n', stderr: '', status: 0 };
  });
  t.teardown(() => srv.close());
  const screen = await topScreen(srv.path, { intervalMs: 2000, once: true, stats: false }, new Date('2026-01-02T03:04:05Z'));
  t.same(seen[0]!.argv, ['-L', '-n', '--rate']);
  t.match(screen, /^tslb top - 2026-01-02 03:04:05 /);
  t.match(screen, /TCP {2}10\.0\.0\.127:80 {2}3 {2}10/);
  t.match(screen, /VRRP VI_1 vrid 51 prio 100 MASTER/);
});
