/**
 * IPVS TCP connection states, timeouts and transition tables
 * (net/netfilter/ipvs/ip_vs_proto_tcp.c: tcp_states[], tcp_timeouts[], tcp_state_active_table[],
 * tcp_state_idx, set_tcp_state). Current mainline table (ack in NONE -> ESTABLISHED).
 */
import * as tcp from '../packet/tcp.js';
import {
  S_CLOSE, S_CLOSE_WAIT, S_ESTABLISHED, S_FIN_WAIT, S_LAST_ACK, S_LISTEN, S_SYN_RECV, S_SYN_SENT, S_SYNACK, S_TIME_WAIT,
} from '../lvs/conn-state.js';

// The state numbers, names, timeouts and the active set live in src/lvs/conn-state.ts.
export {
  DEFAULT_TIMEOUTS_S, STATE_ACTIVE, STATE_NAMES, S_CLOSE, S_CLOSE_WAIT, S_ESTABLISHED, S_FIN_WAIT, S_LAST_ACK,
  S_LISTEN, S_NONE, S_SYNACK, S_SYN_RECV, S_SYN_SENT, S_TIME_WAIT, S_UDP,
} from '../lvs/conn-state.js';

/** Which table row set: client->server, server->client, or client only (DR/TUN: NOOUTPUT). */
export const DIR_INPUT = 0;
export const DIR_OUTPUT = 1;
export const DIR_INPUT_ONLY = 2;

const ES = S_ESTABLISHED, SS = S_SYN_SENT, SR = S_SYN_RECV, FW = S_FIN_WAIT, TW = S_TIME_WAIT;
const CL = S_CLOSE, CW = S_CLOSE_WAIT, LA = S_LAST_ACK, LI = S_LISTEN;

/* Rows: [direction*4 + event], columns: current state (NO ES SS SR FW TW CL CW LA LI SA). */
const TABLE = Uint8Array.from([
  /* INPUT syn */ SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR,
  /* INPUT fin */ CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW,
  /* INPUT ack */ ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES,
  /* INPUT rst */ CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR,
  /* OUTPUT syn */ SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR,
  /* OUTPUT fin */ TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW,
  /* OUTPUT ack */ ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES,
  /* OUTPUT rst */ CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL,
  /* IN-ONLY syn */ SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR,
  /* IN-ONLY fin */ CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW,
  /* IN-ONLY ack */ ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES,
  /* IN-ONLY rst */ CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL,
]);

/**
 * tcp_states_dos: the table secure_tcp switches to under pressure (tcp_timeout_change). A
 * client's ACK no longer makes SYN_RECV established, only the server's answer does (NAT);
 * INPUT-ONLY (DR) SYNs go to SYNACK. Same layout as TABLE.
 */
const SA = S_SYNACK;
const TABLE_DOS = Uint8Array.from([
  /* INPUT syn */ SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SA,
  /* INPUT fin */ CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, SA,
  /* INPUT ack */ ES, ES, SS, SR, FW, TW, CL, CW, CL, LI, SA,
  /* INPUT rst */ CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL,
  /* OUTPUT syn */ SS, ES, SS, SA, SS, SS, SS, SS, SS, LI, SA,
  /* OUTPUT fin */ TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW,
  /* OUTPUT ack */ ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES,
  /* OUTPUT rst */ CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL,
  /* IN-ONLY syn */ SA, ES, ES, SR, SA, SA, SA, SA, SA, SA, SA,
  /* IN-ONLY fin */ CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW,
  /* IN-ONLY ack */ ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES,
  /* IN-ONLY rst */ CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL,
]);

const EV_SYN = 0, EV_FIN = 1, EV_ACK = 2, EV_RST = 3;

/** tcp_state_idx: rst, else syn, else fin, else ack; -1 for none of them. */
function tcpEvent(flags: number): number {
  if (flags & tcp.RST) return EV_RST;
  if (flags & tcp.SYN) return EV_SYN;
  if (flags & tcp.FIN) return EV_FIN;
  if (flags & tcp.ACK) return EV_ACK;
  return -1;
}

/**
 * Next TCP state for a segment with these flags (a segment with none of rst/syn/fin/ack
 * leads to CLOSE, as set_tcp_state defaults).
 */
export function nextTcpState(dir: number, state: number, flags: number): number {
  const ev = tcpEvent(flags);
  return ev < 0 ? S_CLOSE : TABLE[(dir * 4 + ev) * 11 + state]!;
}

/** The same while secure_tcp acts: tcp_states_dos (TABLE_DOS). Two functions keep the normal one small. */
export function nextSecureTcpState(dir: number, state: number, flags: number): number {
  const ev = tcpEvent(flags);
  return ev < 0 ? S_CLOSE : TABLE_DOS[(dir * 4 + ev) * 11 + state]!;
}
