/**
 * The seed scenarios are one command each (`scripts/lab seed000-broken`, ...): run them
 * as a user would and check they pass and show what the guides in docs/seeds/ promise.
 * Each runs in its own lab, torn down by the scenario itself (and again here on failure).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO, labReady } from '../helpers/lab.js';

const run = promisify(execFile);
const LAB = path.join(REPO, 'scripts/lab');

async function scenario(name: string): Promise<{ out: string; ok: boolean; prefix: string }> {
  const prefix = `tt${randomBytes(2).toString('hex')}`;
  try {
    const { stdout } = await run(LAB, [name], { env: { ...process.env, LAB_PREFIX: prefix }, timeout: 90_000, maxBuffer: 1 << 22 });
    return { out: stdout, ok: true, prefix };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { out: `${e.stdout ?? ''}\n${e.stderr ?? ''}`, ok: false, prefix };
  } finally {
    await run(LAB, ['down', prefix]).catch(() => undefined);
  }
}

if (labReady(t)) {
  t.setTimeout(600_000);

  t.test('seed000-broken: no answers, the doctor explains the return path', async (t) => {
    const r = await scenario('seed000-broken');
    if (!t.ok(r.ok, 'scenario passes')) t.comment(r.out);
    t.match(r.out, /1 {2}\(no answer\)/);
    t.match(r.out, /doctor: NAT real server 10\.0\.0\.185:80/);
    t.match(r.out, /default route does not point at the director/);
    t.match(r.out, /scenario seed000-broken: PASS/);
  });

  t.test('seed000-fnat: every request answered, the servers see the full-NAT address', async (t) => {
    const r = await scenario('seed000-fnat');
    if (!t.ok(r.ok, 'scenario passes')) t.comment(r.out);
    t.match(r.out, /6 {2}rs1 {4}\(the server saw the client as 10\.0\.0\.3:\d+\)/);
  });

  t.test('seed001: dig over UDP and TCP, alternating', async (t) => {
    const r = await scenario('seed001');
    if (!t.ok(r.ok, 'scenario passes')) t.comment(r.out);
    t.match(r.out, /example\.lab \(UDP\) +-> 192\.168\.0\.143\n.*-> 192\.168\.0\.142\n/);
    t.match(r.out, /who\.example\.lab -> "rs2"\n.*who\.example\.lab -> "rs1"\n/);
  });

  t.test('seed002: NAT captures show both directions rewritten, DR captures no reply', async (t) => {
    const r = await scenario('seed002');
    t.teardown(() => rmSync(`/tmp/tslb-seed002.${r.prefix}`, { recursive: true, force: true }));
    if (!t.ok(r.ok, 'scenario passes')) t.comment(r.out);
    t.match(r.out, /10\.0\.0\.86\.80 > 198\.51\.100\.10\.\d+: Flags \[S\.\]/, 'NAT: the reply as the director received it');
    t.match(r.out, /10\.0\.0\.127\.80 > 198\.51\.100\.10\.\d+: Flags \[S\.\]/, 'NAT: the reply as the director sent it');
    t.match(r.out, /0 replies passed the director/);
  });

  t.test('seed004: DR on port 8000 with /health', async (t) => {
    const r = await scenario('seed004');
    if (!t.ok(r.ok, 'scenario passes')) t.comment(r.out);
    t.match(r.out, /health -> ok/);
    t.match(r.out, /1 {2}rs2 {4}\(the server saw the client as 10\.0\.0\.20:\d+\)/);
  });
}
