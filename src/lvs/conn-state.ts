/**
 * IPVS connection states: numbers, names, default timeouts and which count as active
 * (net/netfilter/ipvs/ip_vs_proto_tcp.c tcp_states[], tcp_state_name_table[], tcp_timeouts[];
 * ip_vs_proto_udp.c). The TCP numbers are the kernel's IP_VS_TCP_S_* and go on the sync wire
 * as they are; the transition table is in src/table/tcp-state.ts.
 */

export const S_NONE = 0;
export const S_ESTABLISHED = 1;
export const S_SYN_SENT = 2;
export const S_SYN_RECV = 3;
export const S_FIN_WAIT = 4;
export const S_TIME_WAIT = 5;
export const S_CLOSE = 6;
export const S_CLOSE_WAIT = 7;
export const S_LAST_ACK = 8;
export const S_LISTEN = 9;
export const S_SYNACK = 10;
/** IP_VS_TCP_S_LAST: number of TCP states (a synced TCP state must be below it). */
export const TCP_S_LAST = 11;
/**
 * UDP has one state (ip_vs_proto_udp.c, IP_VS_UDP_S_NORMAL = 0 on the wire, IP_VS_UDP_S_LAST = 1).
 * Our table numbers it after TCP's so one array of names and timeouts serves both.
 */
export const S_UDP = 11;
export const UDP_S_NORMAL = 0;
export const UDP_S_LAST = 1;

/** Indexed by state, as /proc/net/ip_vs_conn and ipvsadm -lc print them. */
export const STATE_NAMES: readonly string[] = [
  'NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT',
  'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK', 'UDP',
];

/** The name of a state, or "?" for a number no table holds. */
export function stateName(state: number): string {
  return STATE_NAMES[state] ?? '?';
}

/** Default timeouts in seconds (tcp_timeouts[], udp_timeouts[]). */
export const DEFAULT_TIMEOUTS_S: readonly number[] = [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120, 300];

/** States counted in ActiveConn ("ipvs: count pre-established TCP states as active"). */
export const STATE_ACTIVE = Uint8Array.from([0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0]);
