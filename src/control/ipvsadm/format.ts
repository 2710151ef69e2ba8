/**
 * The text of `ipvsadm -L` in all its forms and of `ipvsadm -S`, from a
 * Snapshot: list_all, list_service, print_title and print_service_entry of
 * ipvsadm.c 1.31, with their printf formats and trailing spaces kept.
 */
import { SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3 } from '../../sched/types.js';
import type { DestSnapshot, ForwardMethod, ServiceSnapshot, Snapshot } from '../snapshot-types.js';
import { DEFAULT_LIST_FORMAT, type ListFormat } from './command.js';
import { familyOf, ntop4 } from './inet.js';
import { addrportToAnyname, type NameEnv } from './names.js';
import { padLeft, padRight, printLargenum } from './printf.js';
import { compareDests, compareServices, glibcMergeSort } from './sort.js';

/** Like FMT_*: a listing format, or the rule form of -S. */
export interface PrintFormat extends ListFormat {
  readonly rule: boolean;
}

const SCHED_BITS = SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3;
const TITLE = 'Prot LocalAddress:Port';

/** print_sched_flags: names depend on the scheduler (sh-*, mh-*, else flag-N). */
export function schedFlagsText(scheduler: string, flags: number): string {
  const names: string[] = [];
  const add = (bit: number, name: string): void => {
    if ((flags & bit) !== 0) names.push(name);
  };
  if (scheduler === 'sh' || scheduler === 'mh') {
    add(SVC_F_SCHED1, `${scheduler}-fallback`);
    add(SVC_F_SCHED2, `${scheduler}-port`);
  } else {
    add(SVC_F_SCHED1, 'flag-1');
    add(SVC_F_SCHED2, 'flag-2');
    add(SVC_F_SCHED3, 'flag-3');
  }
  return names.join(',');
}

/** print_title: the column titles (none for -S). */
export function titleText(f: PrintFormat): string {
  const sub = '  -> RemoteAddress:Port\n';
  if (f.stats) return `${padRight(TITLE, 33)} ${['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((s) => padLeft(s, 8)).join(' ')}\n${sub}`;
  if (f.rate) return `${padRight(TITLE, 33)} ${['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((s) => padLeft(s, 8)).join(' ')}\n${sub}`;
  if (f.thresholds) return `${padRight(TITLE, 33)} ${['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((s) => padRight(s, 10)).join(' ')}\n${sub}`;
  if (f.persistentConn) {
    return `${padRight(TITLE, 33)} ${padRight('Weight', 9)} ${padRight('PersistConn', 11)} ${padRight('ActiveConn', 10)} ${padRight('InActConn', 10)}\n${sub}`;
  }
  if (f.tunInfo) return `${TITLE} Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n`;
  if (!f.rule) return `${TITLE} Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n`;
  return '';
}

/** The svc_name of print_service_entry. */
function serviceName(se: ServiceSnapshot, f: PrintFormat, env: NameEnv): string {
  const v6 = familyOf(se.addr) === 'inet6';
  if (se.fwmark !== 0) {
    if (f.rule) return v6 ? `-f ${se.fwmark} -6` : `-f ${se.fwmark}`;
    return v6 ? `FWM  ${se.fwmark} IPv6` : `FWM  ${se.fwmark}`;
  }
  const vname = addrportToAnyname(se.addr, se.port, se.proto, f.numeric, env);
  if (f.rule) return `${se.proto === 'TCP' ? '-t' : se.proto === 'UDP' ? '-u' : '--sctp-service'} ${vname}`;
  const label = `${padRight(se.proto, 4)} ${vname}`;
  return v6 ? label : label.slice(0, 33);
}

/** The " mask ..." / " -M ..." text, empty for the default granularity. */
function maskText(se: ServiceSnapshot): string {
  if (familyOf(se.addr) === 'inet6') return se.netmask !== 128 ? String(se.netmask) : '';
  return se.netmask >>> 0 !== 0xffffffff ? ntop4(se.netmask >>> 0) : '';
}

function serviceLine(se: ServiceSnapshot, svcName: string, f: PrintFormat): string {
  const persistent = (se.flags & SVC_F_PERSISTENT) !== 0;
  const mask = maskText(se);
  if (f.rule) {
    let s = `-A ${svcName} -s ${se.scheduler}`;
    if (persistent) s += ` -p ${se.timeout}${mask !== '' ? ` -M ${mask}` : ''}`;
    if (se.pe !== '') s += ` --pe ${se.pe}`;
    if ((se.flags & SVC_F_ONEPACKET) !== 0) s += ' -o';
    if ((se.flags & SCHED_BITS) !== 0) s += ` -b ${schedFlagsText(se.scheduler, se.flags)}`;
    return `${s}\n`;
  }
  if (f.stats || f.rate) {
    const st = se.stats;
    const rt = se.rates;
    const values = f.stats ? [st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes] : [rt.cps, rt.inpps, rt.outpps, rt.inbps, rt.outbps];
    return `${padRight(svcName, 33)}${values.map((v) => printLargenum(v, f.exact)).join('')}\n`;
  }
  let s = `${svcName} ${se.scheduler}`;
  if ((se.flags & SCHED_BITS) !== 0) s += ` (${schedFlagsText(se.scheduler, se.flags)})`;
  if (persistent) {
    s += ` persistent ${se.timeout}`;
    if (mask !== '') s += ` mask ${mask}`;
    if (se.pe !== '') s += ` pe ${se.pe}`;
  }
  if ((se.flags & SVC_F_ONEPACKET) !== 0) s += ' ops';
  return `${s}\n`;
}

/** fwd_switch: the -S option of a method (local dests are saved as -g). */
export function forwardSwitch(fwd: ForwardMethod): string {
  return { Masq: '-m', Route: '-g', Local: '-g', Tunnel: '-i', FNAT: '--fnat' }[fwd];
}

const TUN_FLAG_TEXT = { nocsum: '-c', csum: '+c', remcsum: 'r+c' } as const;

/** fwd_tun_info: "ipip", "gue:PORT:FLAGS", "gre:FLAGS" (16-byte buffer), or "n/a". */
function tunnelInfo(e: DestSnapshot): string {
  if (e.fwd !== 'Tunnel') return 'n/a';
  const t = e.tunnel ?? { type: 'ipip', port: 0, csum: 'nocsum' };
  const text = t.type === 'ipip' ? 'ipip' : t.type === 'gue' ? `gue:${t.port}:${TUN_FLAG_TEXT[t.csum]}` : `gre:${TUN_FLAG_TEXT[t.csum]}`;
  return text.slice(0, 15);
}

/** -S line of a dest (print_tunnel_rule for tunnels). */
function destRule(svcName: string, dname: string, e: DestSnapshot): string {
  const base = `-a ${svcName} -r ${dname} ${forwardSwitch(e.fwd)} -w ${e.weight}`;
  if (e.fwd !== 'Tunnel') return `${base}\n`;
  const t = e.tunnel ?? { type: 'ipip', port: 0, csum: 'nocsum' };
  if (t.type === 'ipip') return `${base} --tun-type ipip\n`;
  const csum = `--tun-${t.csum}`;
  return t.type === 'gue' ? `${base} --tun-type gue --tun-port ${t.port} ${csum}\n` : `${base} --tun-type gre ${csum}\n`;
}

function destLine(svcName: string, se: ServiceSnapshot, e: DestSnapshot, f: PrintFormat, env: NameEnv): string {
  const full = addrportToAnyname(e.addr, e.port, se.proto, f.numeric, env);
  const dname = !f.rule && familyOf(e.addr) !== 'inet6' ? full.slice(0, 28) : full;
  if (f.rule) return destRule(svcName, dname, e);
  const head = `  -> ${padRight(dname, 28)}`;
  if (f.stats) {
    const s = e.stats;
    return `${head}${[s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes].map((v) => printLargenum(v, f.exact)).join('')}\n`;
  }
  if (f.rate) {
    const r = e.rates;
    return `${head} ${padLeft(r.cps, 8)} ${padLeft(r.inpps, 8)} ${padLeft(r.outpps, 8)}${printLargenum(r.inbps, f.exact)}${printLargenum(r.outbps, f.exact)}\n`;
  }
  if (f.thresholds) {
    return `${head} ${[e.uThreshold, e.lThreshold, e.activeConns, e.inactConns].map((v) => padRight(v, 10)).join(' ')}\n`;
  }
  if (f.persistentConn) {
    return `${head} ${padRight(e.weight, 9)} ${padRight(e.persistConns, 11)} ${padRight(e.activeConns, 10)} ${padRight(e.inactConns, 10)}\n`;
  }
  const middle = f.tunInfo ? `${padRight(e.fwd, 7)} ${padRight(tunnelInfo(e), 13)}` : padRight(e.fwd, 7);
  return `${head} ${middle} ${padRight(e.weight, 6)} ${padRight(e.activeConns, 10)} ${padRight(e.inactConns, 10)}\n`;
}

/** print_service_entry: the service line, then its dests (sorted unless --nosort). */
export function serviceEntryText(se: ServiceSnapshot, f: PrintFormat, env: NameEnv = {}): string {
  const svcName = serviceName(se, f, env);
  const dests = f.nosort ? se.dests : glibcMergeSort(se.dests, compareDests);
  return serviceLine(se, svcName, f) + dests.map((e) => destLine(svcName, se, e, f, env)).join('');
}

/** list_all: `ipvsadm -L [...]` (rule = false) or `ipvsadm -S` (rule = true). */
export function listAllText(snapshot: Snapshot, f: PrintFormat, env: NameEnv = {}): string {
  const header = f.rule ? '' : `IP Virtual Server version 1.2.1 (size=${snapshot.connTableSize})\n`;
  const services = f.nosort ? snapshot.services : glibcMergeSort(snapshot.services, compareServices);
  return header + titleText(f) + services.map((se) => serviceEntryText(se, f, env)).join('');
}

/** list_service: `ipvsadm -L -t|-u|-f ...`: titles and the one service, no version line. */
export function listServiceText(se: ServiceSnapshot, f: PrintFormat, env: NameEnv = {}): string {
  return titleText(f) + serviceEntryText(se, f, env);
}

/** `ipvsadm -S [-n]`. */
export function saveText(snapshot: Snapshot, numeric: boolean, env: NameEnv = {}): string {
  return listAllText(snapshot, { ...DEFAULT_LIST_FORMAT, numeric, rule: true }, env);
}

export function listFormat(f: Partial<ListFormat> = {}): PrintFormat {
  return { ...DEFAULT_LIST_FORMAT, ...f, rule: false };
}
