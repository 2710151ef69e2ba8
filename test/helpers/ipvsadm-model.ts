/**
 * What the ipvsadm listing tests share: a model of C's printf for ipvsadm's formats
 * (print_service_entry, print_title, print_conn), written independently of src/, and
 * builders of snapshot rows with ipvsadm's defaults.
 */
import {
  DEFAULT_CONN_TABLE_SIZE, DEFAULT_TIMEOUTS, ZERO_RATES, ZERO_STATS,
  type DestSnapshot, type ServiceSnapshot, type Snapshot,
} from '../../src/control/snapshot-types.js';

/** C printf for %[-][width](s|d|u|llu) and %%. */
export function cprintf(fmt: string, ...args: (string | number)[]): string {
  let k = 0;
  return fmt.replace(/%(-?)(\d*)(?:ll)?([sdu%])/g, (_m, minus: string, width: string, conv: string) => {
    if (conv === '%') return '%';
    const s = String(args[k++]);
    const w = width === '' ? 0 : Number(width);
    return minus === '-' ? s.padEnd(w) : s.padStart(w);
  });
}

export const dest = (addr: string, port: number, extra: Partial<DestSnapshot> = {}): DestSnapshot => ({
  addr, port, fwd: 'Masq', weight: 1, uThreshold: 0, lThreshold: 0, activeConns: 0, inactConns: 0, persistConns: 0,
  stats: ZERO_STATS, rates: ZERO_RATES, ...extra,
});

/** A service with ipvsadm's defaults (wlc, not persistent; netmask /32 or /128 by family). */
export const service = (addr: string, port: number, extra: Partial<ServiceSnapshot> = {}): ServiceSnapshot => ({
  proto: 'TCP', addr, port, fwmark: 0, scheduler: 'wlc', flags: 0, timeout: 0, netmask: addr.includes(':') ? 128 : 0xffffffff, pe: '',
  dests: [], stats: ZERO_STATS, rates: ZERO_RATES, ...extra,
});

export const snap = (services: ServiceSnapshot[], extra: Partial<Snapshot> = {}): Snapshot => ({
  services, conns: [], timeouts: DEFAULT_TIMEOUTS, connTableSize: DEFAULT_CONN_TABLE_SIZE, daemons: [], ...extra,
});
