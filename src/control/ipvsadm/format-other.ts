/**
 * The other `ipvsadm -L` forms (list_conn/print_conn, list_timeout,
 * list_daemon) and one entry point that runs a parsed list/save command
 * against a Snapshot, with the same stdout/stderr/exit status as ipvsadm.
 */
import type { ConnSnapshot, DaemonSnapshot, ServiceSnapshot, Snapshot, TimeoutsSnapshot } from '../snapshot-types.js';
import type { Command, ListFormat, ServiceTarget } from './command.js';
import { listAllText, listServiceText, saveText } from './format.js';
import { canonicalAddress, addrportToAnyname, type NameEnv } from './names.js';
import { padRight } from './printf.js';
import { NO_SUCH_SERVICE } from './strerror.js';

/** "%02d:%02d" of the seconds left (minutes are not capped). */
function expireText(seconds: number): string {
  const s = Math.max(0, Math.trunc(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** list_conn: `ipvsadm -L -c [-n] [--persistent-conn]`. Rows keep the snapshot's order. */
export function connectionsText(conns: readonly ConnSnapshot[], f: Pick<ListFormat, 'numeric' | 'persistentConn'>, env: NameEnv = {}): string {
  let out = 'IPVS connection entries\n';
  out += f.persistentConn
    ? `pro expire ${padRight('state', 11)} ${padRight('source', 18)} ${padRight('virtual', 18)} ${padRight('destination', 18)} ${padRight('pe name', 16)} pe_data\n`
    : `pro expire ${padRight('state', 11)} ${padRight('source', 18)} ${padRight('virtual', 18)} destination\n`;
  for (const c of conns) {
    const name = (addr: string, port: number): string => addrportToAnyname(addr, port, c.proto, f.numeric, env);
    const head = `${padRight(c.proto, 3)} ${padRight(expireText(c.expires), 6)} ${padRight(c.state, 11)} ${padRight(name(c.clientAddr, c.clientPort), 18)} ${padRight(name(c.virtualAddr, c.virtualPort), 18)}`;
    const dname = name(c.destAddr, c.destPort);
    // Rows carry the persistence-engine columns only when the kernel line has them.
    out += f.persistentConn && c.peName !== undefined && c.peData !== undefined
      ? `${head} ${padRight(dname, 16)} ${padRight(c.peName, 18)} ${c.peData}\n`
      : `${head} ${dname}\n`;
  }
  return out;
}

/** list_timeout. */
export function timeoutText(t: TimeoutsSnapshot): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpfin} ${t.udp}\n`;
}

/** list_daemon: one line per running daemon, master first. */
export function daemonText(daemons: readonly DaemonSnapshot[]): string {
  const ordered = [...daemons.filter((d) => d.state === 'master'), ...daemons.filter((d) => d.state === 'backup')];
  return ordered
    .map((d) => {
      let s = `${d.state} sync daemon (mcast=${d.mcastIfn}, syncid=${d.syncid}`;
      if (d.syncMaxlen !== 0) s += `, maxlen=${d.syncMaxlen}`;
      if (d.mcastGroup !== '') s += `, group=${canonicalAddress(d.mcastGroup)}`;
      if (d.mcastPort !== 0) s += `, port=${d.mcastPort}`;
      if (d.mcastTtl !== 0) s += `, ttl=${d.mcastTtl}`;
      return `${s})\n`;
    })
    .join('');
}

/** The kernel's service lookup (ipvs_get_service): by fwmark, else by proto/addr/port. */
export function findService(snapshot: Snapshot, t: ServiceTarget): ServiceSnapshot | undefined {
  return snapshot.services.find((s) => {
    if (t.fwmark !== 0) return s.fwmark === t.fwmark && (s.addr.includes(':') === (t.af === 'inet6'));
    return s.fwmark === 0 && s.proto === t.proto && s.port === t.port && canonicalAddress(s.addr) === canonicalAddress(t.addr);
  });
}

export interface Output {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number;
}

/**
 * Run a read-only command (list, save, help, version) against a snapshot, or
 * null for commands that change state.
 */
export function renderReadOnly(cmd: Command, snapshot: Snapshot, env: NameEnv = {}): Output | null {
  switch (cmd.cmd) {
    case 'help':
    case 'version':
      return { stdout: cmd.stdout, stderr: '', status: 0 };
    case 'save':
      return { stdout: saveText(snapshot, cmd.numeric, env), stderr: '', status: 0 };
    case 'list': {
      const f = { ...cmd.format, rule: false };
      switch (cmd.what) {
        case 'connections':
          return { stdout: connectionsText(snapshot.conns, f, env), stderr: '', status: 0 };
        case 'timeout':
          return { stdout: timeoutText(snapshot.timeouts), stderr: '', status: 0 };
        case 'daemon':
          return { stdout: daemonText(snapshot.daemons), stderr: '', status: 0 };
        case 'service': {
          const se = cmd.service === null ? undefined : findService(snapshot, cmd.service);
          // list_service: ipvs_strerror(ESRCH) and exit(1).
          if (se === undefined) return { stdout: '', stderr: `${NO_SUCH_SERVICE}\n`, status: 1 };
          return { stdout: listServiceText(se, f, env), stderr: '', status: 0 };
        }
        case 'services':
          return { stdout: listAllText(snapshot, f, env), stderr: '', status: 0 };
      }
    }
    // falls through: TypeScript knows the inner switch is exhaustive
    default:
      return null;
  }
}
