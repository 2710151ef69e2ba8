/**
 * Plain data the engine fills for the control plane to print: what
 * `ipvsadm -L`, `--stats`, `--rate`, `-c`, `--timeout` and `-S` read from the
 * kernel (ipvs_get_services / ipvs_get_dests / /proc/net/ip_vs_conn /
 * ipvs_get_timeout in ipvsadm 1.31). No behaviour here, only shapes.
 *
 * Addresses are text: dotted IPv4 ("10.0.0.1") or IPv6 ("2001:db8::1"); the
 * family is whatever the text is. Lists are in kernel order (the most recently
 * added dest first); the printers sort them like ipvsadm unless --nosort.
 */

import type { ForwardMethod } from '../lvs/fwd.js';
import type { ProtoName } from '../lvs/proto.js';

/** 'TCP' | 'UDP' | 'SCTP' (src/lvs/proto.ts). */
export type Protocol = ProtoName;
/** Forwarding methods as `ipvsadm -L` names them, plus our full-NAT 'FNAT' (src/lvs/fwd.ts). */
export type { ForwardMethod };

export type TunnelType = 'ipip' | 'gue' | 'gre';
/** IP_VS_TUNNEL_ENCAP_FLAG_*: nocsum = 0, csum = 1, remcsum = 2. */
export type TunnelCsum = 'nocsum' | 'csum' | 'remcsum';

/** Cumulative counters (struct ip_vs_kstats; docs/ipvs-behaviour.md §4.6). Values stay below 2^53. */
export interface StatsSnapshot {
  readonly conns: number;
  readonly inpkts: number;
  readonly outpkts: number;
  readonly inbytes: number;
  readonly outbytes: number;
}

/** Estimator output per second (ip_vs_est.c; docs/ipvs-behaviour.md §4.6). */
export interface RatesSnapshot {
  readonly cps: number;
  readonly inpps: number;
  readonly outpps: number;
  readonly inbps: number;
  readonly outbps: number;
}

export interface DestSnapshot {
  readonly addr: string;
  readonly port: number;
  readonly fwd: ForwardMethod;
  /** 0..65535; 0 = quiescent. */
  readonly weight: number;
  /** `-x`, 0 = unset. */
  readonly uThreshold: number;
  /** `-y`, 0 = unset. */
  readonly lThreshold: number;
  readonly activeConns: number;
  readonly inactConns: number;
  readonly persistConns: number;
  readonly stats: StatsSnapshot;
  readonly rates: RatesSnapshot;
  /** Only for fwd 'Tunnel'; absent means ipip. */
  readonly tunnel?: { readonly type: TunnelType; readonly port: number; readonly csum: TunnelCsum };
}

export interface ServiceSnapshot {
  /**
   * For fwmark services ipvsadm always sends TCP (parse_options, case 'f'),
   * and dest ports are named with this protocol.
   */
  readonly proto: Protocol;
  /** Virtual address; for a fwmark service the family's any-address ("0.0.0.0" or "::"). */
  readonly addr: string;
  readonly port: number;
  /** 0 = not a fwmark service. */
  readonly fwmark: number;
  /** Scheduler name, e.g. "wlc". */
  readonly scheduler: string;
  /** SVC_F_* bits (src/sched/types.ts): PERSISTENT, ONEPACKET, SCHED1..3. */
  readonly flags: number;
  /** Persistence timeout in seconds (meaningful with SVC_F_PERSISTENT). */
  readonly timeout: number;
  /**
   * Persistence granularity: for IPv4 the mask as an unsigned 32-bit number in
   * host order (0xffffffff = /32, the default); for IPv6 a prefix length (128).
   */
  readonly netmask: number;
  /** Persistence engine name ("sip") or "" for none. */
  readonly pe: string;
  readonly dests: readonly DestSnapshot[];
  readonly stats: StatsSnapshot;
  readonly rates: RatesSnapshot;
}

/** One row of `ipvsadm -L -c` (a line of /proc/net/ip_vs_conn). */
export interface ConnSnapshot {
  /** "IP" for fwmark persistence templates. */
  readonly proto: Protocol | 'IP';
  /** Seconds left before expiry. */
  readonly expires: number;
  /** Kernel state name: ESTABLISHED, SYN_RECV, FIN_WAIT, ..., UDP, NONE. */
  readonly state: string;
  readonly clientAddr: string;
  readonly clientPort: number;
  readonly virtualAddr: string;
  readonly virtualPort: number;
  readonly destAddr: string;
  readonly destPort: number;
  /** Persistence engine name and data, only for connections that have them. */
  readonly peName?: string;
  readonly peData?: string;
}

/** `ipvsadm --set tcp tcpfin udp` values (docs/ipvs-behaviour.md §2.6). */
export interface TimeoutsSnapshot {
  readonly tcp: number;
  readonly tcpfin: number;
  readonly udp: number;
}

/** One running sync daemon (`ipvsadm -L --daemon`). */
export interface DaemonSnapshot {
  readonly state: 'master' | 'backup';
  readonly mcastIfn: string;
  readonly syncid: number;
  /** 0 = not shown. */
  readonly syncMaxlen: number;
  /** Multicast group text, or "" when the family is unspecified. */
  readonly mcastGroup: string;
  readonly mcastPort: number;
  readonly mcastTtl: number;
}

export interface Snapshot {
  readonly services: readonly ServiceSnapshot[];
  readonly conns: readonly ConnSnapshot[];
  readonly timeouts: TimeoutsSnapshot;
  /** Connection hash table size shown in the `-L` header (IP_VS_CONN_TAB_SIZE, 4096). */
  readonly connTableSize: number;
  readonly daemons: readonly DaemonSnapshot[];
}

/** The kernel defaults (tcp_timeouts[ESTABLISHED], [FIN_WAIT], udp_timeouts[NORMAL]). */
export const DEFAULT_TIMEOUTS: TimeoutsSnapshot = { tcp: 900, tcpfin: 120, udp: 300 };
export const DEFAULT_CONN_TABLE_SIZE = 4096;
export const ZERO_STATS: StatsSnapshot = { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
export const ZERO_RATES: RatesSnapshot = { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };
