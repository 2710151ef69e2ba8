/**
 * The default control socket is distinct per network namespace (issue 12 item 7), since
 * /run is shared by the namespaces of a host: the host's own keeps /run/tslb.sock, a
 * named one /run/tslb.NAME.sock, another one (or one it cannot tell) /run/tslb.netINODE.sock. Checked on fake
 * namespace identities, and for real in a throwaway namespace (`unshare -n`, root only;
 * nothing is created in the host's namespace or under /run/netns).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { clientSocketPath, currentNetns, defaultSocketPath, socketPathFor } from '../../src/cli/netns.js';
import { REPO } from '../helpers/lab.js';

const run = promisify(execFile);

t.test('socketPathFor: one path per namespace', async (t) => {
  t.equal(socketPathFor({ ino: 4026531840, name: null, host: true }), '/run/tslb.sock', "the host's namespace keeps the usual path");
  t.equal(socketPathFor({ ino: 4026532281, name: 'tt01-director', host: false }), '/run/tslb.tt01-director.sock', 'named (ip netns add)');
  t.equal(socketPathFor({ ino: 4026532999, name: null, host: false }), '/run/tslb.net4026532999.sock', 'unnamed: by inode');
  t.equal(socketPathFor({ ino: 4026532999, name: null, host: null }), '/run/tslb.net4026532999.sock', 'cannot tell (pid 1 unreadable): by inode');
  const paths = new Set([
    socketPathFor({ ino: 1, name: null, host: true }),
    socketPathFor({ ino: 2, name: 'a', host: false }),
    socketPathFor({ ino: 3, name: 'b', host: false }),
    socketPathFor({ ino: 4, name: null, host: false }),
    socketPathFor({ ino: 5, name: null, host: false }),
  ]);
  t.equal(paths.size, 5, 'five namespaces, five sockets');
});

t.test('clientSocketPath: its namespace first; /run/tslb.sock only when it cannot tell', async (t) => {
  const unknown = { ino: 7, name: null, host: null };
  t.equal(clientSocketPath(unknown, () => false), '/run/tslb.net7.sock', 'nothing there: its own path (the error names it)');
  t.equal(clientSocketPath(unknown, (p) => p === '/run/tslb.sock'), '/run/tslb.sock', "only the host's balancer's is there");
  t.equal(clientSocketPath(unknown, () => true), '/run/tslb.net7.sock', 'its own when both are');
  t.equal(clientSocketPath({ ino: 7, name: null, host: false }, (p) => p === '/run/tslb.sock'), '/run/tslb.net7.sock', 'known not the host: never the host socket');
  t.equal(clientSocketPath({ ino: 7, name: 'ns1', host: null }, (p) => p === '/run/tslb.sock'), '/run/tslb.ns1.sock', 'named: never the host socket');
});

t.test('currentNetns: the name is the /run/netns entry with the same device and inode', async (t) => {
  const fs: Record<string, { dev: number; ino: number }> = {
    '/proc/self/ns/net': { dev: 4, ino: 4026532500 },
    '/proc/1/ns/net': { dev: 4, ino: 4026531840 },
    '/run/netns/other': { dev: 4, ino: 4026532400 },
    '/run/netns/mine': { dev: 4, ino: 4026532500 },
  };
  const stat = (p: string) => fs[p] ?? null;
  const list = () => ['other', 'mine'];
  t.same(currentNetns('/run/netns', stat, list), { ino: 4026532500, name: 'mine', host: false });
  t.same(currentNetns('/run/netns', stat, () => []), { ino: 4026532500, name: null, host: false }, 'unnamed');
  fs['/proc/self/ns/net'] = { dev: 4, ino: 4026531840 };
  t.same(currentNetns('/run/netns', stat, list), { ino: 4026531840, name: null, host: true }, "the host's");
  delete fs['/proc/1/ns/net'];
  t.same(currentNetns('/run/netns', stat, list).host, null, 'pid 1 unreadable');
});

t.test('for real: this namespace and a fresh one (unshare -n) get different sockets', { skip: process.getuid?.() === 0 ? false : 'needs root (unshare -n)' }, async (t) => {
  const here = currentNetns();
  t.equal(here.ino, statSync('/proc/self/ns/net').ino);
  const mine = defaultSocketPath();
  const script = `import(${JSON.stringify(path.join(REPO, 'dist/cli/netns.js'))}).then((m) => console.log(m.defaultSocketPath()))`;
  const { stdout } = await run('unshare', ['-n', process.execPath, '--input-type=module', '-e', script]);
  const other = stdout.trim();
  t.match(other, /^\/run\/tslb\.(net\d+|[\w.-]+)\.sock$/, `the other namespace's: ${other}`);
  t.not(other, mine, `differs from this namespace's ${mine}`);
});
