/**
 * ipvsadm 1.31's command/option validity matrix (`commands_v_options`) and the
 * tunnel-type matrix (`tunnel_types_v_options`), with the checks that walk them
 * (generic_opt_check, tunnel_opt_check, set_option). Messages are ipvsadm's.
 */

/** Command names as ipvsadm prints them (cmdnames[], in CMD_* order). */
export const COMMAND_NAMES = [
  'add-service', 'edit-service', 'delete-service', 'flush', 'list', 'add-server',
  'delete-server', 'edit-server', 'set', 'start-daemon', 'stop-daemon', 'restore', 'save', 'zero',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** Option names as ipvsadm prints them (optnames[], in OPTC_* bit order). */
export const OPTION_NAMES = [
  'numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask',
  'real-server', 'forwarding-method', 'weight', 'u-threshold', 'l-threshold',
  'mcast-interface', 'timeout', 'daemon', 'stats', 'rate', 'thresholds',
  'persistent-conn', 'nosort', 'syncid', 'exact', 'ops', 'pe', 'sched-flags',
  'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen', 'tun-info', 'tun-type',
  'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum',
] as const;
export type OptionName = (typeof OPTION_NAMES)[number];

/**
 * One row per command, one column per option (same order as OPTION_NAMES):
 * '+' required, 'x' illegal, '1' at most one of the '1' columns, ' ' optional.
 */
const COMMANDS_V_OPTIONS: Readonly<Record<CommandName, string>> = {
  'add-service':    'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx',
  'edit-service':   'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx',
  'delete-service': 'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  flush:            'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  list:             ' 11xxxxxxxxx11       xxxxxxx xxxxx',
  'add-server':     'xx+xxx+    xxxxxxxxxxxxxxxxxx     ',
  'delete-server':  'xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'edit-server':    'xx+xxx+    xxxxxxxxxxxxxxxxxx     ',
  set:              'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'start-daemon':   'xxxxxxxxxxx xxxxxxx xxxx    xxxxxx',
  'stop-daemon':    'xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx',
  restore:          'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  save:             ' xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  zero:             'xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
};

/**
 * The walk shared by generic_opt_check and tunnel_opt_check: columns in order,
 * the first problem wins; `subject` is "'list' command" or "'gue' tunnel type".
 */
function walkMatrix(row: string, columns: readonly OptionName[], given: ReadonlySet<OptionName>, subject: string): string | null {
  let firstExclusive: OptionName | null = null;
  for (let j = 0; j < columns.length; j++) {
    const opt = columns[j] as OptionName;
    const rule = row[j];
    if (!given.has(opt)) {
      if (rule === '+') return `You need to supply the '${opt}' option for the ${subject}`;
      continue;
    }
    if (rule === 'x') return `Illegal '${opt}' option with the ${subject}`;
    if (rule === '1') {
      if (firstExclusive === null) {
        firstExclusive = opt;
        continue;
      }
      return `The option '${opt}' conflicts with the '${firstExclusive}' option in the ${subject}`;
    }
  }
  return null;
}

/** generic_opt_check: the first illegal/missing/conflicting option, or null. */
export function checkCommandOptions(cmd: CommandName, given: ReadonlySet<OptionName>): string | null {
  return walkMatrix(COMMANDS_V_OPTIONS[cmd], OPTION_NAMES, given, `'${cmd}' command`);
}

export const TUNNEL_TYPES = ['ipip', 'gue', 'gre'] as const;
export type TunnelTypeName = (typeof TUNNEL_TYPES)[number];

/** tunnel_types_v_options: columns tun-port, tun-nocsum, tun-csum, tun-remcsum. */
const TUNNEL_OPTIONS: readonly OptionName[] = ['tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];
const TUNNEL_TYPES_V_OPTIONS: Readonly<Record<TunnelTypeName, string>> = {
  ipip: 'xxxx',
  gue: '+111',
  gre: 'x11x',
};

/** tunnel_opt_check: the same walk over the tunnel table. */
export function checkTunnelOptions(type: TunnelTypeName, given: ReadonlySet<OptionName>): string | null {
  return walkMatrix(TUNNEL_TYPES_V_OPTIONS[type], TUNNEL_OPTIONS, given, `'${type}' tunnel type`);
}

/** set_option: each option at most once. */
export function duplicateOptionMessage(opt: OptionName): string {
  return `multiple '${opt}' options specified`;
}

/** Options in matrix order, for stable traces and tests. */
export function sortOptions(given: ReadonlySet<OptionName>): OptionName[] {
  return OPTION_NAMES.filter((o) => given.has(o));
}
