/**
 * What the path doctor looks at (one observation per control-plane tick) and what it
 * concludes. Plain data, so the decisions can be tested without an engine, timers or I/O.
 * Addresses are unsigned here (control plane), MACs are "aa:bb:cc:dd:ee:ff" strings.
 */

/** Forwarding methods, as in dataplane/model.ts (copied as plain numbers: no engine import). */
export const DIAG_FWD_MASQ = 0;
export const DIAG_FWD_DR = 1;
export const DIAG_FWD_FNAT = 2;
export const DIAG_FWD_TUNNEL = 3;

export interface DestObs {
  /** Engine dest id (stable while the server is configured or referenced). */
  id: number;
  addr: number;
  port: number;
  /** 6 = TCP, 17 = UDP. */
  proto: number;
  fwd: number;
  vip: number;
  vport: number;
  /** The server's MAC if its next hop is resolved (it answered ARP), else null. */
  mac: string | null;
  conns: number;
  inPkts: number;
  outPkts: number;
}

/** Per DR dest: TCP entries stuck in SYN_RECV with the client repeating its SYN, and the others. */
export interface HandshakeCount {
  stalled: number;
  progressed: number;
}

export interface Observation {
  /** Milliseconds, monotonic. */
  now: number;
  dests: DestObs[];
  /** Engine counters: ARP for one of our VIPs sent by another host, last offender. */
  vipArpConflicts: number;
  conflictMac: string;
  conflictIp: number;
  /** Engine counters: new flows refused because they came from a DR server's MAC. */
  loopGuardHits: number;
  loopMac: string;
  /** Only present when the handshake scan ran this tick (keyed by dest id). */
  handshakes: Map<number, HandshakeCount> | null;
}

export interface DestRef {
  id: number;
  addr: number;
  port: number;
  proto: number;
  fwd: number;
  vip: number;
  vport: number;
}

export type Finding =
  /** NAT: packets forwarded, nothing back through us. The runner probes the server before saying why. */
  | { kind: 'nat-no-replies'; dest: DestRef; sent: number }
  /** A server reported above answers through the director again. */
  | { kind: 'nat-replies-back'; dest: DestRef }
  /** A host answers (or announces) ARP for one of our VIPs; dest set when it is one of our real servers. */
  | { kind: 'vip-arp'; mac: string; vip: number; dest: DestRef | null }
  /** DR: clients keep repeating SYNs to this server; they never got its SYN-ACK. */
  | { kind: 'dr-stalled'; dest: DestRef; stalled: number }
  /** Loop guard refused new flows from this MAC. */
  | { kind: 'loop'; mac: string; hits: number; dest: DestRef | null };

export function destRef(d: DestObs): DestRef {
  return { id: d.id, addr: d.addr, port: d.port, proto: d.proto, fwd: d.fwd, vip: d.vip, vport: d.vport };
}
