/**
 * Input and output types of the health-check subsystem (keepalived "checkers", GitHub issue 5 item 5).
 *
 * Every timing field is already resolved (virtual server -> real server -> checker inheritance,
 * keepalived defaults) and expressed in milliseconds, so nothing below needs to know about the
 * keepalived.conf parser. The adapter that builds these objects should apply the defaults of
 * docs/ipvs-behaviour.md §6.4 (`resolveCheckerTiming()` in defaults.ts does this for one checker).
 */

/** Result of one probe run. `detail` is a short human-readable reason, used for logs. */
export interface ProbeResult {
  ok: boolean;
  detail: string;
  /** MISC_CHECK only: the script's exit status (when it exited normally). */
  exitCode?: number;
}

/** Connection options shared by the network checkers (keepalived `conn_opts_t`). */
export interface ConnectTarget {
  /** `connect_ip`, default the real server address. */
  host: string;
  /** `connect_port`, default the real server port. */
  port: number;
  /** `bindto`: local source address. */
  bindAddress?: string;
  /** `bind_port`: local source port. */
  bindPort?: number;
}

/** One `url { }` block of HTTP_GET. */
export interface HttpUrlSpec {
  path: string;
  /** Accepted status codes as inclusive [min, max] ranges; empty or absent means 200-299. */
  statusCodes?: Array<[number, number]>;
  /** Lower-case 32-hex MD5 of the response body (`digest`), optional. */
  digest?: string;
  /** Per-url `virtualhost` (Host header), overrides the checker's. */
  virtualhost?: string;
}

export type HttpProtocol = '1.0' | '1.0C' | '1.1';

export type DnsQueryType = 'A' | 'NS' | 'CNAME' | 'SOA' | 'MX' | 'TXT' | 'AAAA';

interface CheckerCommon {
  /** `retry`: extra attempts after a failure before the checker goes down (docs/ipvs-behaviour.md §6.5). */
  retry: number;
  /** `delay_loop` in ms: interval between regular checks. */
  delayLoopMs: number;
  /** `delay_before_retry` in ms: interval before a retry after a failure. */
  delayBeforeRetryMs: number;
  /** `warmup` in ms: the first check runs after a random delay in [0, warmup]. */
  warmupMs: number;
  /** `alpha`: the checker starts failed and the server is only added after a success. */
  alpha: boolean;
}

export interface TcpCheckerSpec extends CheckerCommon {
  type: 'TCP';
  target: ConnectTarget;
  /** `connect_timeout` in ms. */
  connectTimeoutMs: number;
}

export interface HttpCheckerSpec extends CheckerCommon {
  type: 'HTTP';
  target: ConnectTarget;
  connectTimeoutMs: number;
  urls: HttpUrlSpec[];
  /** Checker-level `virtualhost` (already inherited from the real/virtual server if unset). */
  virtualhost?: string;
  /** `http_protocol`, default '1.0'. */
  protocol: HttpProtocol;
}

export interface DnsCheckerSpec extends CheckerCommon {
  type: 'DNS';
  target: ConnectTarget;
  connectTimeoutMs: number;
  /** `type`, default 'SOA'. */
  queryType: DnsQueryType;
  /** `name`, default '' (the root). */
  name: string;
}

export interface MiscCheckerSpec extends CheckerCommon {
  type: 'MISC';
  /** `misc_path`: command line, split into words with keepalived's quoting rules. */
  path: string;
  /** `misc_timeout` in ms (default: the virtual server's delay_loop). */
  timeoutMs: number;
  /** `misc_dynamic`: exit codes 2..255 are success and set the weight to exit-2. */
  dynamic: boolean;
}

export type CheckerSpec = TcpCheckerSpec | HttpCheckerSpec | DnsCheckerSpec | MiscCheckerSpec;

/** A real server (or the sorry server) as the health subsystem sees it. */
export interface HealthRealServerSpec {
  /** Stable identifier used in actions, e.g. "10.0.0.185:80". */
  key: string;
  address: string;
  port: number;
  /** Configured weight (`weight`, default 1). */
  weight: number;
  /** `inhibit_on_failure`: quiesce to weight 0 instead of deleting the dest. */
  inhibitOnFailure: boolean;
  /** `notify_up` / `notify_down` command lines. */
  notifyUp?: string;
  notifyDown?: string;
  checkers: CheckerSpec[];
}

export interface SorryServerSpec {
  key: string;
  address: string;
  port: number;
  /** Weight used when it is added (keepalived default 1). */
  weight?: number;
  /** `sorry_server_inhibit`. */
  inhibit: boolean;
}

export interface HealthServiceSpec {
  /** Stable identifier of the virtual server, e.g. "TCP 10.0.0.127:80". */
  key: string;
  /** `quorum`, default 1. Capped at the total weight and hysteresis kept below it (check_data.c). */
  quorum: number;
  /** `hysteresis`, default 0. */
  hysteresis: number;
  quorumUp?: string;
  quorumDown?: string;
  sorryServer?: SorryServerSpec;
  realServers: HealthRealServerSpec[];
}

/** Which transition a notify script is run for. */
export type NotifyEventKind = 'rs-up' | 'rs-down' | 'quorum-up' | 'quorum-down';

export interface NotifyEvent {
  kind: NotifyEventKind;
  svcKey: string;
  /** Set for rs-up / rs-down. */
  rsKey?: string;
}

/** A destination as passed to the IPVS-like table. */
export interface DestRef {
  svcKey: string;
  rsKey: string;
  address: string;
  port: number;
}

/**
 * One side effect decided by the pure service model. Inhibit handling (ipvs_cmd) is already
 * applied: a "removal" of an inhibited server arrives as `edit-dest` with weight 0.
 * `add-dest` of a dest that already exists should be treated as an update by the consumer.
 */
export type HealthAction =
  | { kind: 'add-dest'; dest: DestRef; weight: number }
  | { kind: 'edit-dest'; dest: DestRef; weight: number }
  | { kind: 'del-dest'; dest: DestRef }
  | { kind: 'notify'; script: string; event: NotifyEvent }
  | { kind: 'log'; msg: string };

/** What the runner drives. The lead wires these to the IPVS table and the process runner. */
export interface HealthActions {
  addDest(dest: DestRef, weight: number): void;
  editDest(dest: DestRef, weight: number): void;
  delDest(dest: DestRef): void;
  runNotify(script: string, event: NotifyEvent): void;
  log(msg: string): void;
}
