/**
 * Constants of the IPVS connection sync protocol and connection flags
 * (include/uapi/linux/ip_vs.h, include/net/ip_vs.h, net/netfilter/ipvs/ip_vs_sync.c).
 * Protocol numbers and the connection states the entries carry are in src/lvs/ (proto.ts,
 * conn-state.ts): the wire uses the kernel's IP_VS_TCP_S_* numbering, as the table does.
 */

/** 224.0.0.81 and UDP port 8848 (IP_VS_SYNC_GROUP, IP_VS_SYNC_PORT). */
export const IP_VS_SYNC_GROUP = 0xe0000051;
export const IP_VS_SYNC_PORT = 8848;
/** Message header version byte (SYNC_PROTO_VER). */
export const SYNC_PROTO_VER = 1;
/** Default sync_maxlen: 1500-byte MTU minus IPv4 (20) and UDP (8) headers. */
export const DEFAULT_SYNC_MAXLEN = 1472;
/** net.ipv4.vs.sync_threshold = "3 50" (DEFAULT_SYNC_THRESHOLD, DEFAULT_SYNC_PERIOD). */
export const DEFAULT_SYNC_THRESHOLD = 3;
export const DEFAULT_SYNC_PERIOD = 50;
/** A buffer is sent at the latest 2 s after its first entry (IPVS_SYNC_FLUSH_TIME). */
export const IPVS_SYNC_FLUSH_TIME_MS = 2000;
/** Queue bound of ready buffers (IPVS_SYNC_QLEN_MAX); more are dropped as in sb_queue_tail. */
export const IPVS_SYNC_QLEN_MAX = 32;

// Connection flags (IP_VS_CONN_F_*).
export const CONN_F_FWD_MASK = 0x0007;
export const CONN_F_MASQ = 0x0000;
export const CONN_F_TUNNEL = 0x0002;
export const CONN_F_DROUTE = 0x0003;
/**
 * Full NAT: NOT a mainline value. 0x0005 is what the Alibaba/DPVS LVS forks use; mainline receivers
 * have no transmitter for it. Only meaningful between two tslb instances (see FULLNAT TLV in message.ts).
 */
export const CONN_F_FULLNAT = 0x0005;
export const CONN_F_SYNC = 0x0020;
export const CONN_F_HASHED = 0x0040;
export const CONN_F_NOOUTPUT = 0x0080;
export const CONN_F_INACTIVE = 0x0100;
export const CONN_F_IN_SEQ = 0x0400;
/** IP_VS_CONN_F_OUT_SEQ | IP_VS_CONN_F_IN_SEQ. */
export const CONN_F_SEQ_MASK = 0x0600;
const CONN_F_NO_CPORT = 0x0800;
export const CONN_F_TEMPLATE = 0x1000;
export const CONN_F_ONE_PACKET = 0x2000;
/** Bits a backup takes from a sync message for a new entry (IP_VS_CONN_F_BACKUP_MASK). */
export const CONN_F_BACKUP_MASK =
  CONN_F_FWD_MASK | CONN_F_NOOUTPUT | CONN_F_INACTIVE | CONN_F_SEQ_MASK | CONN_F_NO_CPORT | CONN_F_TEMPLATE;
/** Bits a sync message may change on an existing entry (IP_VS_CONN_F_BACKUP_UPD_MASK). */
export const CONN_F_BACKUP_UPD_MASK = CONN_F_INACTIVE | CONN_F_SEQ_MASK;
