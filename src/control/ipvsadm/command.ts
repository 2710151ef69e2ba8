/**
 * What one ipvsadm invocation (or one `-R` line) asks for, after parsing:
 * the typed form of ipvsadm.c's `struct ipvs_command_entry` + options + format.
 * Host and service names are already resolved; addresses are canonical text.
 */
import type { DaemonSnapshot, ForwardMethod, Protocol, TimeoutsSnapshot, TunnelCsum, TunnelType } from '../snapshot-types.js';
import type { AddressFamily } from './inet.js';
import type { OptionName } from './matrix.js';

/** Identity of a virtual service (ipvs_service_t's key fields). */
export interface ServiceTarget {
  readonly af: AddressFamily;
  /** 'TCP' for fwmark services, as ipvsadm sends. */
  readonly proto: Protocol;
  /** "0.0.0.0" for fwmark services ("::" with -6). */
  readonly addr: string;
  readonly port: number;
  /** 0 = address/port service. */
  readonly fwmark: number;
}

/**
 * Settings sent with -A/-E. The kernel replaces all of them on -E, so a field
 * not given on the command line takes its default again.
 */
export interface ServiceSettings {
  /** Default "wlc"; at most 15 characters (IP_VS_SCHEDNAME_MAXLEN - 1). */
  readonly scheduler: string;
  /** SVC_F_PERSISTENT | SVC_F_ONEPACKET | SVC_F_SCHED1..3. */
  readonly flags: number;
  /** Persistence timeout; 0 when not persistent, 360 for a bare -p. */
  readonly timeout: number;
  /** IPv4: mask as u32 (default 0xffffffff); IPv6: prefix length (default 128). */
  readonly netmask: number;
  /** "" for none. */
  readonly pe: string;
}

export interface TunnelSpec {
  readonly type: TunnelType;
  /** 0 = none (only gue has one). */
  readonly port: number;
  readonly csum: TunnelCsum;
}

/** A real server as -a/-e/-d describe it (ipvs_dest_t). */
export interface DestSpec {
  readonly af: AddressFamily;
  readonly addr: string;
  readonly port: number;
  /** -g (default) Route, -m Masq, -i Tunnel, --fnat FNAT. */
  readonly fwd: ForwardMethod;
  /** Default 1, replaced on -e like every field. */
  readonly weight: number;
  readonly uThreshold: number;
  readonly lThreshold: number;
  readonly tunnel: TunnelSpec;
}

/** The listing switches (FMT_* bits). */
export interface ListFormat {
  readonly numeric: boolean;
  readonly stats: boolean;
  readonly rate: boolean;
  readonly thresholds: boolean;
  readonly persistentConn: boolean;
  readonly tunInfo: boolean;
  readonly nosort: boolean;
  readonly exact: boolean;
}

/** --start-daemon/--stop-daemon settings: the fields `-L --daemon` shows (mcastIfn defaults to "eth0"). */
export type DaemonSpec = DaemonSnapshot;

interface Base {
  /** The options that were given, in matrix order (for traces). */
  readonly given: readonly OptionName[];
}

export type Command =
  | (Base & { readonly cmd: 'add-service' | 'edit-service'; readonly service: ServiceTarget; readonly settings: ServiceSettings })
  | (Base & { readonly cmd: 'delete-service'; readonly service: ServiceTarget })
  | (Base & { readonly cmd: 'flush' })
  | (Base & {
      readonly cmd: 'list';
      readonly what: 'services' | 'service' | 'connections' | 'timeout' | 'daemon';
      /** Set when what = 'service'. */
      readonly service: ServiceTarget | null;
      readonly format: ListFormat;
    })
  | (Base & { readonly cmd: 'add-server' | 'edit-server' | 'delete-server'; readonly service: ServiceTarget; readonly dest: DestSpec })
  | (Base & { readonly cmd: 'set'; readonly timeouts: TimeoutsSnapshot })
  | (Base & { readonly cmd: 'start-daemon' | 'stop-daemon'; readonly daemon: DaemonSpec })
  | (Base & { readonly cmd: 'restore' })
  | (Base & { readonly cmd: 'save'; readonly numeric: boolean })
  | (Base & { readonly cmd: 'zero'; readonly service: ServiceTarget | null })
  /** -h / -v: print `stdout` and exit 0. */
  | (Base & { readonly cmd: 'help' | 'version'; readonly stdout: string });

/** A refusal with ipvsadm's exact text and exit status. */
export interface ArgsError {
  /** fail() text (may itself end in "\n", like "-6 used before -f\n"). */
  readonly message: string;
  /** Everything ipvsadm writes to stderr for it. */
  readonly stderr: string;
  /** 2 for fail(), 255 for the tryhelp and popt cases. */
  readonly status: number;
  /**
   * true when ipvsadm exits on the spot (fail, tryhelp): inside `-R` this also
   * ends the restore. false for popt errors after the command word, which only
   * make that line return -1.
   */
  readonly exits: boolean;
}

export type ParseResult = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly error: ArgsError };

export const DEFAULT_LIST_FORMAT: ListFormat = {
  numeric: false, stats: false, rate: false, thresholds: false,
  persistentConn: false, tunInfo: false, nosort: false, exact: false,
};
