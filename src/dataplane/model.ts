/**
 * Virtual services and real servers, shaped like IPVS's ip_vs_service / ip_vs_dest.
 * Plain classes with numeric fields so the per-packet path reads them monomorphically.
 * Addresses are stored as int32 (`addr | 0`), like every address on the data plane (the sign
 * rule: src/lvs/addr.ts). An IPv6 service or server (af AF_INET6) keeps its address as four
 * words in `addr6` (packet/addr6.ts) and, in `addr`, the xor of the words: the number IPVS's
 * sh and mh hash for an IPv6 address (ip_vs_sh_hashkey, ip_vs_mh_hashkey), so the
 * schedulers pick without knowing the family. For IPv4, `addr6` is empty.
 */
import type { Scheduler, SchedDest, SchedService } from '../sched/types.js';
import { DEST_F_AVAILABLE } from '../sched/types.js';
import { AF_INET, AF_INET6 } from '../lvs/af.js';
import { foldAddr6 } from '../packet/addr6.js';

// Forwarding methods and which of them reply past the director: the shared vocabulary.
export { FWD_DR, FWD_FNAT, FWD_MASQ, FWD_NAMES, FWD_TUNNEL, repliesBypass } from '../lvs/fwd.js';

/** The addr6 of an IPv4 service or server. */
const NO_ADDR6 = new Int32Array(0);

export class Stats {
  conns = 0;
  inPkts = 0;
  outPkts = 0;
  inBytes = 0;
  outBytes = 0;
}

export class RealServer implements SchedDest {
  /** Engine-wide id, index into ServiceTable.dests (engine.dests) and the value stored in connection entries. */
  id = -1;
  readonly af: number;
  addr: number;
  readonly addr6: Int32Array;
  port: number;
  weight: number;
  lastWeight: number;
  flags = DEST_F_AVAILABLE;
  fwd: number;
  uThreshold = 0;
  lThreshold = 0;
  activeConns = 0;
  inactConns = 0;
  persistConns = 0;
  readonly stats = new Stats();
  /** Index of the engine interface that reaches it and of its next hop in the neighbour table. */
  iface = 0;
  neigh = -1;
  /** Id of the service it was added to (kept while in the trash, for re-adding). */
  svcId = -1;
  /** Set while this dest is in a service's list. */
  svc: VirtualService | null = null;

  /** An IPv6 server: pass its four words as addr6 (addr is then ignored). */
  constructor(addr: number, port: number, weight: number, fwd: number, addr6: Int32Array | null = null) {
    this.af = addr6 === null ? AF_INET : AF_INET6;
    this.addr6 = addr6 === null ? NO_ADDR6 : Int32Array.from(addr6.subarray(0, 4));
    this.addr = addr6 === null ? addr | 0 : foldAddr6(this.addr6, 0);
    this.port = port;
    this.weight = weight;
    this.lastWeight = weight;
    this.fwd = fwd;
  }

  /** Connections still referring to this dest (keeps it alive in the "trash" after deletion). */
  refs(): number {
    return this.activeConns + this.inactConns + this.persistConns;
  }
}

export class VirtualService implements SchedService<RealServer> {
  id = -1;
  proto: number;
  readonly af: number;
  addr: number;
  readonly addr6: Int32Array;
  port: number;
  /** Kernel list order: index 0 = most recently added (see sched/types.ts). */
  dests: RealServer[] = [];
  flags = 0;
  scheduler: Scheduler<RealServer>;
  /**
   * Persistence timeout in seconds (SVC_F_PERSISTENT) and netmask: an IPv4 mask, or for
   * IPv6 the prefix length, as ipvsadm -M gives it; mask6 is that prefix as four words.
   */
  timeoutS = 0;
  netmask = -1;
  mask6: Int32Array = new Int32Array([-1, -1, -1, -1]);
  /** Index of this service's VIP in the engine's VIP list. */
  vipIndex = -1;
  /** Sloppy TCP for this service (keepalived.conf `sloppy_tcp`), besides the engine-wide setting. */
  sloppyTcp = false;
  readonly stats = new Stats();

  /** An IPv6 service: pass its four words as addr6 (addr is then ignored). */
  constructor(proto: number, addr: number, port: number, scheduler: Scheduler<RealServer>, addr6: Int32Array | null = null) {
    this.proto = proto;
    this.af = addr6 === null ? AF_INET : AF_INET6;
    this.addr6 = addr6 === null ? NO_ADDR6 : Int32Array.from(addr6.subarray(0, 4));
    this.addr = addr6 === null ? addr | 0 : foldAddr6(this.addr6, 0);
    this.port = port;
    this.scheduler = scheduler;
  }
}
