/**
 * Command -> canonical ipvsadm argv (numeric, short options, the -S spelling
 * where there is one), e.g. for --save-on-exit and traces. Parsing the result
 * with parseIpvsadmArgs gives back the same command (the `given` list may name
 * defaults that are now explicit, such as -w 1).
 */
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3 } from '../../sched/types.js';
import type { Command, DestSpec, ServiceSettings, ServiceTarget } from './command.js';
import { forwardSwitch } from './format.js';
import { ntop4 } from './inet.js';

function addrPort(af: 'inet' | 'inet6', addr: string, port: number): string {
  return af === 'inet6' ? `[${addr}]:${port}` : `${addr}:${port}`;
}

export function serviceArgv(s: ServiceTarget): string[] {
  if (s.fwmark !== 0) return s.af === 'inet6' ? ['-f', String(s.fwmark), '-6'] : ['-f', String(s.fwmark)];
  const opt = s.proto === 'TCP' ? '-t' : s.proto === 'UDP' ? '-u' : '--sctp-service';
  return [opt, addrPort(s.af, s.addr, s.port)];
}

/** -b text that parses back to the same bits under this scheduler. */
function schedFlagsArg(scheduler: string, flags: number): string {
  const named = scheduler === 'sh' || scheduler === 'mh';
  const words: string[] = [];
  if ((flags & SVC_F_SCHED1) !== 0) words.push(named ? `${scheduler}-fallback` : 'flag-1');
  if ((flags & SVC_F_SCHED2) !== 0) words.push(named ? `${scheduler}-port` : 'flag-2');
  if ((flags & SVC_F_SCHED3) !== 0) words.push('flag-3');
  return words.join(',');
}

function settingsArgv(s: ServiceSettings, af: 'inet' | 'inet6'): string[] {
  const out = ['-s', s.scheduler];
  if ((s.flags & SVC_F_PERSISTENT) !== 0) out.push('-p', String(s.timeout));
  // -M is legal without -p; keep it whenever it differs from the default.
  if (af === 'inet6' ? s.netmask !== 128 : s.netmask >>> 0 !== 0xffffffff) {
    out.push('-M', af === 'inet6' ? String(s.netmask) : ntop4(s.netmask >>> 0));
  }
  if (s.pe !== '') out.push('--pe', s.pe);
  if ((s.flags & SVC_F_ONEPACKET) !== 0) out.push('-o');
  const b = schedFlagsArg(s.scheduler, s.flags);
  if (b !== '') out.push('-b', b);
  return out;
}

function destArgv(d: DestSpec): string[] {
  const out = ['-r', addrPort(d.af, d.addr, d.port), forwardSwitch(d.fwd), '-w', String(d.weight)];
  if (d.uThreshold !== 0) out.push('-x', String(d.uThreshold));
  if (d.lThreshold !== 0) out.push('-y', String(d.lThreshold));
  if (d.fwd === 'Tunnel' && d.tunnel.type !== 'ipip') {
    out.push('--tun-type', d.tunnel.type);
    if (d.tunnel.type === 'gue') out.push('--tun-port', String(d.tunnel.port));
    if (d.tunnel.csum !== 'nocsum') out.push(`--tun-${d.tunnel.csum}`);
  }
  return out;
}

export function commandToArgv(cmd: Command): string[] {
  switch (cmd.cmd) {
    case 'add-service':
    case 'edit-service':
      return [cmd.cmd === 'add-service' ? '-A' : '-E', ...serviceArgv(cmd.service), ...settingsArgv(cmd.settings, cmd.service.af)];
    case 'delete-service':
      return ['-D', ...serviceArgv(cmd.service)];
    case 'flush':
      return ['-C'];
    case 'add-server':
    case 'edit-server':
      return [cmd.cmd === 'add-server' ? '-a' : '-e', ...serviceArgv(cmd.service), ...destArgv(cmd.dest)];
    case 'delete-server':
      return ['-d', ...serviceArgv(cmd.service), '-r', addrPort(cmd.dest.af, cmd.dest.addr, cmd.dest.port)];
    case 'list': {
      const f = cmd.format;
      const out = ['-L'];
      if (f.numeric) out.push('-n');
      if (cmd.what === 'connections') out.push('-c');
      if (cmd.what === 'service' && cmd.service !== null) out.push(...serviceArgv(cmd.service));
      if (cmd.what === 'timeout') out.push('--timeout');
      if (cmd.what === 'daemon') out.push('--daemon');
      const flags: [boolean, string][] = [
        [f.stats, '--stats'], [f.rate, '--rate'], [f.thresholds, '--thresholds'], [f.persistentConn, '--persistent-conn'],
        [f.tunInfo, '--tun-info'], [f.nosort, '--nosort'], [f.exact, '--exact'],
      ];
      return [...out, ...flags.filter(([on]) => on).map(([, name]) => name)];
    }
    case 'set':
      return ['--set', String(cmd.timeouts.tcp), String(cmd.timeouts.tcpfin), String(cmd.timeouts.udp)];
    case 'start-daemon': {
      const d = cmd.daemon;
      const out = ['--start-daemon', d.state, '--mcast-interface', d.mcastIfn, '--syncid', String(d.syncid)];
      if (d.mcastGroup !== '') out.push('--mcast-group', d.mcastGroup);
      if (d.mcastPort !== 0) out.push('--mcast-port', String(d.mcastPort));
      if (d.mcastTtl !== 0) out.push('--mcast-ttl', String(d.mcastTtl));
      if (d.syncMaxlen !== 0) out.push('--sync-maxlen', String(d.syncMaxlen));
      return out;
    }
    case 'stop-daemon':
      return ['--stop-daemon', cmd.daemon.state, ...(cmd.daemon.syncid !== 0 ? ['--syncid', String(cmd.daemon.syncid)] : [])];
    case 'restore':
      return ['-R'];
    case 'save':
      return cmd.numeric ? ['-S', '-n'] : ['-S'];
    case 'zero':
      return cmd.service === null ? ['-Z'] : ['-Z', ...serviceArgv(cmd.service)];
    case 'help':
      return ['-h'];
    case 'version':
      return ['-v'];
  }
}

/** One shell-safe line, e.g. "ipvsadm -A -t 10.0.0.1:80 -s rr" (our argv never needs quoting). */
export function commandToLine(cmd: Command, program = 'ipvsadm'): string {
  return [program, ...commandToArgv(cmd)].join(' ');
}
