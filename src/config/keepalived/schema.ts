/**
 * Typed result of loading a keepalived.conf. All keepalived defaults and the
 * virtual server -> real server -> checker inheritance are already resolved
 * (check_data.c `alloc_vs`, `alloc_rs`, `validate_check_config`; check_api.c
 * `queue_checker`), so consumers never re-implement them. Times are seconds
 * (fractional allowed); `source` points at the defining line.
 */
import type { SourceLocation } from '../errors.js';
import type { AddressFamily, NotifyScript } from './values.js';

export type { AddressFamily, NotifyScript } from './values.js';

/** A keyword kept verbatim (global_defs entries, unmodelled VRRP keywords). */
export interface RawEntry {
  readonly keyword: string;
  readonly args: readonly string[];
  readonly children?: readonly RawEntry[];
  readonly source: SourceLocation;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type LvsMethod = 'NAT' | 'DR' | 'TUN';
export type TunnelType = 'ipip' | 'gue' | 'gre';
export type TunnelChecksum = 'nocsum' | 'csum' | 'remcsum';

/** `lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`. */
export interface Forwarding {
  readonly method: LvsMethod;
  /** Only for TUN. */
  readonly tunnel?: { readonly type: TunnelType; readonly port?: number; readonly checksum: TunnelChecksum };
}

/** Scheduler names accepted by keepalived (check_parser.c `lvs_schedulers`). */
export const LVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'sh', 'mh', 'dh', 'fo', 'ovf', 'lblcr', 'sed', 'nq', 'twos'] as const;
export type LvsScheduler = (typeof LVS_SCHEDULERS)[number];

/** IPVS service flags set by bare keywords in a virtual_server block. */
export interface ServiceFlags {
  ops: boolean;
  hashed: boolean;
  flag1: boolean;
  flag2: boolean;
  flag3: boolean;
  shPort: boolean;
  shFallback: boolean;
  mhPort: boolean;
  mhFallback: boolean;
  /** tslb extension: sloppy TCP for this service (IPVS has only the global sysctl sloppy_tcp). */
  sloppyTcp: boolean;
}

export interface SorryServer {
  readonly address: string;
  /** Forced to the virtual server's port unless NAT (as for real servers). */
  port: number;
  inhibit: boolean;
  forwarding: Forwarding;
  readonly source: SourceLocation;
}

interface CheckerCommon {
  readonly source: SourceLocation;
  retry: number;
  delayBeforeRetry: number;
  warmup: number;
  delayLoop: number;
  alpha: boolean;
  logAllFailures: boolean;
}

/** Connection options of every checker except MISC_CHECK (check_api.c `conn_opts_t`). */
export interface ConnectionOptions {
  /** Default: the real server address. */
  connectIp: string;
  /** Default: the real server port as written on its `real_server` line (else its final port). */
  connectPort: number;
  bindTo?: string;
  bindPort?: number;
  bindIf?: string;
  fwmark?: number;
  connectTimeout: number;
}

export interface TcpCheck extends CheckerCommon, ConnectionOptions {
  readonly type: 'TCP_CHECK';
}

/** HTTP status code ranges, inclusive; default [[200, 299]]. */
export type StatusCodeRange = readonly [number, number];

export interface HttpUrl {
  readonly path: string;
  /** Lower-case 32 hex digits (MD5 of the body). */
  readonly digest?: string;
  readonly statusCodes: StatusCodeRange[];
  /** Resolved: url -> checker -> real server -> virtual server `virtualhost`. */
  readonly virtualhost?: string;
  readonly regex?: string;
  readonly regexNoMatch: boolean;
  readonly source: SourceLocation;
}

export interface HttpCheck extends CheckerCommon, ConnectionOptions {
  readonly type: 'HTTP_GET' | 'SSL_GET';
  readonly urls: HttpUrl[];
  readonly httpProtocol: '1.0' | '1.0C' | '1.1';
  /** The checker's own `virtualhost` (the per-url value is already resolved in `urls`). */
  readonly virtualhost?: string;
  readonly fastRecovery: boolean;
  readonly enableSni: boolean;
  readonly sniName?: string;
}

export const DNS_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;
export type DnsType = (typeof DNS_TYPES)[number];

export interface DnsCheck extends CheckerCommon, ConnectionOptions {
  readonly type: 'DNS_CHECK';
  readonly queryType: DnsType;
  /** "" means the root name ".". */
  readonly name: string;
}

export interface MiscCheck extends CheckerCommon {
  readonly type: 'MISC_CHECK';
  /** The command line as written (quotes removed). */
  readonly path: string;
  /** Seconds; default the virtual server's delay_loop (check_misc.c). */
  timeout: number;
  readonly dynamic: boolean;
  readonly user?: string;
  readonly group?: string;
}

export type Checker = TcpCheck | HttpCheck | DnsCheck | MiscCheck;
export type CheckerType = Checker['type'];

export interface RealServer {
  readonly address: string;
  readonly family: AddressFamily;
  /** Final port (see `validate_check_config`: forced to the VS port unless NAT). */
  port: number;
  /** Port written on the `real_server` line (0 when absent). */
  readonly configuredPort: number;
  weight: number;
  forwarding: Forwarding;
  uThreshold?: number;
  lThreshold?: number;
  inhibitOnFailure: boolean;
  notifyUp?: NotifyScript;
  notifyDown?: NotifyScript;
  alpha: boolean;
  retry?: number;
  delayBeforeRetry?: number;
  warmup?: number;
  connectTimeout: number;
  delayLoop: number;
  virtualhost?: string;
  smtpAlert?: boolean;
  checkers: Checker[];
  readonly source: SourceLocation;
}

export interface VirtualServer {
  readonly kind: 'address' | 'fwmark' | 'group';
  /** For messages: "10.0.0.1:80/TCP", "fwmark 3", "group NAME". */
  name: string;
  readonly address?: string;
  readonly port?: number;
  family?: AddressFamily;
  readonly fwmark?: number;
  readonly group?: string;
  /** Undefined for fwmark services (the kernel ignores it). */
  protocol?: Protocol;
  scheduler: LvsScheduler;
  forwarding: Forwarding;
  /** Seconds; 0 = not persistent. */
  persistenceTimeout: number;
  persistenceGranularity?: string;
  persistenceEngine?: string;
  flags: ServiceFlags;
  sorryServer?: SorryServer;
  quorum: number;
  hysteresis: number;
  quorumUp?: NotifyScript;
  quorumDown?: NotifyScript;
  alpha: boolean;
  omega: boolean;
  inhibitOnFailure: boolean;
  delayLoop: number;
  connectTimeout: number;
  retry?: number;
  delayBeforeRetry?: number;
  warmup?: number;
  /** Default weight of the real servers. */
  weight: number;
  virtualhost?: string;
  haSuspend: boolean;
  smtpAlert?: boolean;
  realServers: RealServer[];
  readonly source: SourceLocation;
}

export interface VirtualServerGroupEntry {
  readonly kind: 'address' | 'fwmark';
  readonly address?: string;
  /** Last address of a range (`10.0.0.1-10`, `10.0.0.1-10.0.0.9` or IPv4 `/prefix`), when given. */
  readonly addressEnd?: string;
  /** Prefix length of a `ADDR/LEN` entry. */
  readonly prefixLength?: number;
  readonly port?: number;
  readonly fwmark?: number;
  readonly family?: AddressFamily;
  readonly source: SourceLocation;
}

export interface VirtualServerGroup {
  readonly name: string;
  readonly entries: VirtualServerGroupEntry[];
  readonly source: SourceLocation;
}

export interface VirtualIpAddress {
  readonly address: string;
  readonly family: AddressFamily;
  readonly prefixLength?: number;
  readonly dev?: string;
  readonly label?: string;
  readonly broadcast?: string;
  readonly scope?: string;
  /** Options not modelled above, verbatim. */
  readonly options: readonly string[];
  readonly source: SourceLocation;
}

export interface TrackedItem {
  readonly name: string;
  readonly weight?: number;
}

export interface VrrpInstance {
  readonly name: string;
  /** Default BACKUP (keepalived's initial state when none is given). */
  state: 'MASTER' | 'BACKUP';
  interface?: string;
  virtualRouterId?: number;
  /** 1..255, default 100 (VRRP_PRIO_DFL). */
  priority: number;
  /** Seconds, default 1. */
  advertInt: number;
  nopreempt: boolean;
  preemptDelay: number;
  virtualIpAddresses: VirtualIpAddress[];
  virtualIpAddressesExcluded: VirtualIpAddress[];
  authentication?: { type?: 'PASS' | 'AH'; pass?: string };
  mcastSrcIp?: string;
  unicastSrcIp?: string;
  unicastPeers: string[];
  /** Seconds, default 5; 0 disables the second burst. */
  garpMasterDelay: number;
  /** Default 5. */
  garpMasterRepeat: number;
  garpMasterRefresh?: number;
  version?: 2 | 3;
  trackInterfaces: TrackedItem[];
  trackScripts: TrackedItem[];
  notifyMaster?: NotifyScript;
  notifyBackup?: NotifyScript;
  notifyFault?: NotifyScript;
  notifyStop?: NotifyScript;
  notify?: NotifyScript;
  /** Deprecated per-instance form of global lvs_sync_daemon. */
  lvsSyncDaemonInterface?: string;
  /** Recognised keywords that are not modelled, verbatim. */
  extra: RawEntry[];
  readonly source: SourceLocation;
}

export interface VrrpSyncGroup {
  readonly name: string;
  instances: string[];
  trackInterfaces: TrackedItem[];
  trackScripts: TrackedItem[];
  notifyMaster?: NotifyScript;
  notifyBackup?: NotifyScript;
  notifyFault?: NotifyScript;
  notifyStop?: NotifyScript;
  notify?: NotifyScript;
  extra: RawEntry[];
  readonly source: SourceLocation;
}

export interface VrrpScript {
  readonly name: string;
  script?: string;
  /** Seconds, default 1. */
  interval: number;
  timeout?: number;
  /** Default 0 (a failing script puts the instance in FAULT). */
  weight: number;
  rise?: number;
  fall?: number;
  user?: string;
  group?: string;
  initFail: boolean;
  readonly source: SourceLocation;
}

/** `lvs_sync_daemon <IFACE> <VRRP_INSTANCE> [id N] [maxlen N] [port N] [ttl N] [group IP]`. */
export interface LvsSyncDaemon {
  readonly interface: string;
  readonly instance?: string;
  readonly syncId?: number;
  readonly maxlen?: number;
  readonly port?: number;
  readonly ttl?: number;
  readonly group?: string;
  readonly source: SourceLocation;
}

export interface GlobalDefs {
  routerId?: string;
  lvsSyncDaemon?: LvsSyncDaemon;
  /** Every global_defs entry verbatim, in order. */
  readonly entries: RawEntry[];
}

export interface KeepalivedConfig {
  readonly globalDefs: GlobalDefs;
  readonly virtualServerGroups: VirtualServerGroup[];
  readonly virtualServers: VirtualServer[];
  readonly vrrpInstances: VrrpInstance[];
  readonly vrrpSyncGroups: VrrpSyncGroup[];
  readonly vrrpScripts: VrrpScript[];
  /** Files read, root first, then includes in reading order. */
  readonly files: string[];
}
