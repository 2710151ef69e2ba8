/**
 * The mutable command entry the parser fills while it walks argv (ipvsadm.c's
 * `struct ipvs_command_entry` + options bits), with process_options' defaults:
 * weight 1, direct routing, ipip tunnels, netmask /32.
 */
import type { ForwardMethod, Protocol, TimeoutsSnapshot, TunnelType } from '../snapshot-types.js';
import type { Command, ServiceTarget } from './command.js';
import type { AddressFamily } from './inet.js';
import { sortOptions, type CommandName, type OptionName } from './matrix.js';

export interface Draft {
  proto: Protocol | null;
  af: AddressFamily;
  addr: string;
  port: number;
  fwmark: number;
  scheduler: string;
  flags: number;
  timeout: number;
  netmask: number;
  pe: string;
  /** The raw -b text; parsed after the loop, once -s is known. */
  schedFlagsArg: string;
  dest: {
    af: AddressFamily;
    addr: string;
    port: number;
    fwd: ForwardMethod;
    weight: number;
    uThreshold: number;
    lThreshold: number;
    tunType: TunnelType;
    tunPort: number;
    /** IP_VS_TUNNEL_ENCAP_FLAG_* bits: 1 csum, 2 remcsum. */
    tunFlags: number;
  };
  timeouts: TimeoutsSnapshot;
  daemon: {
    state: 'master' | 'backup';
    mcastIfn: string;
    syncid: number;
    syncMaxlen: number;
    mcastGroup: string;
    mcastPort: number;
    mcastTtl: number;
  };
  given: Set<OptionName>;
}

export function newDraft(): Draft {
  return {
    proto: null,
    af: 'inet',
    addr: '0.0.0.0',
    port: 0,
    fwmark: 0,
    scheduler: '',
    flags: 0,
    timeout: 0,
    netmask: 0xffffffff,
    pe: '',
    schedFlagsArg: '',
    dest: {
      af: 'inet', addr: '0.0.0.0', port: 0, fwd: 'Route', weight: 1, uThreshold: 0, lThreshold: 0,
      tunType: 'ipip', tunPort: 0, tunFlags: 0,
    },
    timeouts: { tcp: 0, tcpfin: 0, udp: 0 },
    daemon: { state: 'master', mcastIfn: '', syncid: 0, syncMaxlen: 0, mcastGroup: '', mcastPort: 0, mcastTtl: 0 },
    given: new Set(),
  };
}

function serviceOf(d: Draft): ServiceTarget {
  return { af: d.af, proto: d.proto ?? 'TCP', addr: d.addr, port: d.port, fwmark: d.fwmark };
}

/** The parsed draft as the public Command. */
export function toCommand(d: Draft, cmd: CommandName): Command {
  const given = sortOptions(d.given);
  const has = (o: OptionName): boolean => d.given.has(o);
  const service = has('service-address') ? serviceOf(d) : null;
  switch (cmd) {
    case 'add-service':
    case 'edit-service':
      return {
        cmd, given, service: serviceOf(d),
        settings: { scheduler: d.scheduler, flags: d.flags, timeout: d.timeout, netmask: d.netmask, pe: d.pe },
      };
    case 'delete-service':
      return { cmd, given, service: serviceOf(d) };
    case 'add-server':
    case 'edit-server':
    case 'delete-server': {
      const t = d.dest;
      const csum = t.tunFlags === 1 ? 'csum' : t.tunFlags === 2 ? 'remcsum' : 'nocsum';
      return {
        cmd, given, service: serviceOf(d),
        dest: {
          af: t.af, addr: t.addr, port: t.port, fwd: t.fwd, weight: t.weight, uThreshold: t.uThreshold,
          lThreshold: t.lThreshold, tunnel: { type: t.tunType, port: t.tunPort, csum },
        },
      };
    }
    case 'list': {
      const what = has('connection') ? 'connections' : service !== null ? 'service' : has('timeout') ? 'timeout' : has('daemon') ? 'daemon' : 'services';
      const format = {
        numeric: has('numeric'), stats: has('stats'), rate: has('rate'), thresholds: has('thresholds'),
        persistentConn: has('persistent-conn'), tunInfo: has('tun-info'), nosort: has('nosort'), exact: has('exact'),
      };
      return { cmd, given, what, service: what === 'service' ? service : null, format };
    }
    case 'set':
      return { cmd, given, timeouts: d.timeouts };
    case 'start-daemon':
    case 'stop-daemon':
      return { cmd, given, daemon: { ...d.daemon } };
    case 'save':
      return { cmd, given, numeric: has('numeric') };
    case 'zero':
      return { cmd, given, service };
    case 'flush':
    case 'restore':
      return { cmd, given };
  }
}
