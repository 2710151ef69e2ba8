/**
 * `lb sysctl`: the IPVS sysctls of a running balancer (net.ipv4.vs.*, docs/reliability.md
 * and docs/ipvs-behaviour.md §2.8), read and written as sysctl(8) does:
 *   lb sysctl -a | NAME... | [-w] NAME=VALUE...
 * Output lines "NAME = VALUE". Writing a defence mode re-evaluates the defence levels at
 * once, as the kernel's proc_do_defense_mode calls update_defense_level. Our own settings
 * beyond IPVS live under tslb.*.
 */
import type { Engine } from '../dataplane/engine.js';
import type { Output } from './ipvsadm/format-other.js';

interface Key {
  lo: number;
  hi: number;
  get(e: Engine): number;
  set(e: Engine, v: number): void;
}

const bool = (get: (e: Engine) => boolean, set: (e: Engine, v: boolean) => void): Key =>
  ({ lo: 0, hi: 1, get: (e) => (get(e) ? 1 : 0), set: (e, v) => set(e, v === 1) });

const KEYS: ReadonlyMap<string, Key> = new Map<string, Key>([
  ['net.ipv4.vs.am_droprate', { lo: 1, hi: 1 << 24, get: (e) => e.guard.levels.amDroprate, set: (e, v) => { e.guard.levels.amDroprate = v; } }],
  ['net.ipv4.vs.amemthresh', { lo: 0, hi: 1 << 24, get: (e) => e.guard.levels.amemthresh, set: (e, v) => { e.guard.levels.amemthresh = v; } }],
  ['net.ipv4.vs.conn_reuse_mode', { lo: 0, hi: 3, get: (e) => e.settings.connReuseMode, set: (e, v) => { e.settings.connReuseMode = v; } }],
  ['net.ipv4.vs.drop_entry', { lo: 0, hi: 3, get: (e) => e.guard.levels.dropEntryMode, set: (e, v) => { e.guard.levels.dropEntryMode = v; } }],
  ['net.ipv4.vs.drop_packet', { lo: 0, hi: 3, get: (e) => e.guard.levels.dropPacketMode, set: (e, v) => { e.guard.levels.dropPacketMode = v; } }],
  ['net.ipv4.vs.expire_nodest_conn', bool((e) => e.settings.expireNodestConn, (e, v) => { e.settings.expireNodestConn = v; })],
  ['net.ipv4.vs.expire_quiescent_template', bool((e) => e.settings.expireQuiescentTemplate, (e, v) => { e.settings.expireQuiescentTemplate = v; })],
  ['net.ipv4.vs.secure_tcp', { lo: 0, hi: 3, get: (e) => e.guard.levels.secureTcpMode, set: (e, v) => { e.guard.levels.secureTcpMode = v; } }],
  ['net.ipv4.vs.sloppy_tcp', bool((e) => e.settings.sloppyTcp, (e, v) => { e.settings.sloppyTcp = v; })],
  ['tslb.client_conn_rate', { lo: 0, hi: 1 << 30, get: (e) => e.guard.flood.prefixRate, set: (e, v) => { e.guard.flood.prefixRate = v; } }],
  ['tslb.client_prefix_len', { lo: 0, hi: 32, get: (e) => e.guard.flood.prefixLen, set: (e, v) => e.guard.flood.setPrefixLength(v) }],
  ['tslb.secure_syn_recv_timeout', { lo: 0, hi: 3600, get: (e) => e.guard.secureSynRecvMs / 1000, set: (e, v) => { e.guard.secureSynRecvMs = v * 1000; } }],
  ['tslb.svc_conn_rate', { lo: 0, hi: 1 << 30, get: (e) => e.guard.flood.serviceRate, set: (e, v) => { e.guard.flood.serviceRate = v; } }],
]);

export const SYSCTL_NAMES: readonly string[] = [...KEYS.keys()];

/** Run `lb sysctl ARGS` against the engine. Writes are all checked before any is applied. */
export function runSysctl(e: Engine, args: readonly string[]): Output {
  const words = args.filter((a) => a !== '-w' && a !== '-n' && a !== '-a');
  const valuesOnly = args.includes('-n');
  const line = (name: string) => (valuesOnly ? `${KEYS.get(name)!.get(e)}\n` : `${name} = ${KEYS.get(name)!.get(e)}\n`);
  if (args.includes('-a') || words.length === 0) return { stdout: SYSCTL_NAMES.map(line).join(''), stderr: '', status: 0 };
  const writes: [Key, number, string][] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    const name = (eq < 0 ? w : w.slice(0, eq)).trim().replaceAll('/', '.');
    const key = KEYS.get(name);
    if (!key) return { stdout: '', stderr: `lb sysctl: unknown key '${name}' (known: ${SYSCTL_NAMES.join(', ')})\n`, status: 1 };
    if (eq < 0) continue;
    const v = w.slice(eq + 1).trim();
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= key.lo && n <= key.hi)) return { stdout: '', stderr: `lb sysctl: invalid value for ${name}: '${v}' (expected ${key.lo}..${key.hi})\n`, status: 1 };
    writes.push([key, n, name]);
  }
  for (const [key, n] of writes) key.set(e, n);
  if (writes.length > 0) e.guard.apply();
  let out = '';
  for (const w of words) out += line((w.includes('=') ? w.slice(0, w.indexOf('=')) : w).trim().replaceAll('/', '.'));
  return { stdout: out, stderr: '', status: 0 };
}
