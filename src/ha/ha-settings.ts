/**
 * What src/ha will run, from keepalived.conf: the VRRP instances and the sync daemon,
 * checked without starting anything (no capture, no socket), so start-up can refuse a bad
 * setting before any side effect (src/cli/preflight.ts) and lb --config-test can report it.
 * Kept apart from ha.ts, which loads the capture addon.
 */
import type { KeepalivedPlan } from '../control/keepalived-plan.js';
import type { LvsSyncDaemon } from '../config/keepalived/schema.js';
import { parseIPv4 } from '../packet/addr.js';
import { vrrpInstanceFromConfig, type VrrpRunnerInstance } from './vrrp-config.js';

/** A VRRP or sync setting the balancer cannot run; names the keepalived.conf line when known. */
export class HaError extends Error {
  readonly source: { file: string; line: number } | undefined;
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(detail: string, source?: { file: string; line: number }) {
    super(source ? `${source.file}:${source.line}: ${detail}` : detail);
    this.detail = detail;
    this.source = source;
  }
}

/** What startHa will run, checked before anything starts (src/cli/preflight.ts, lb --config-test). */
export interface HaSettings {
  specs: VrrpRunnerInstance[];
  /**
   * The sync daemon: the instance it follows (null: none, N active directors, role 'active')
   * and the interface it sends on; null = no sync.
   */
  sync: { instance: string | null; ifIndex: number; daemon: LvsSyncDaemon | undefined; group: number | null } | null;
  /** Sync asked for, but there is no vrrp_instance to follow. */
  syncWithoutVrrp: boolean;
}

/** Pure: the VRRP instances and the sync daemon of a plan, or an HaError naming the line. */
export function haSettings(
  plan: KeepalivedPlan | null,
  opts: { sync: 'auto' | 'on' | 'off'; nActive?: boolean },
  indexOf: (name: string) => number | undefined,
  primaryIpOf: (ifIndex: number) => number,
  /** The interface's IPv6 link-local address, the source of an IPv6 instance's adverts (vrrp-config.ts). */
  linkLocalOf?: (ifIndex: number) => Uint8Array | undefined,
): HaSettings {
  const specs = (plan?.vrrp ?? []).map((vi) => {
    try {
      return vrrpInstanceFromConfig(vi, indexOf, primaryIpOf, linkLocalOf);
    } catch (err) {
      throw new HaError((err as Error).message, vi.source);
    }
  });
  // global_defs lvs_sync_daemon, or the deprecated per-instance lvs_sync_daemon_interface.
  const legacy = plan?.vrrp.find((v) => v.lvsSyncDaemonInterface !== undefined);
  const sd = plan?.syncDaemon ?? (legacy ? { interface: legacy.lvsSyncDaemonInterface!, instance: legacy.name, source: legacy.source } : undefined);
  const wantSync = opts.sync === 'on' || (opts.sync === 'auto' && sd !== undefined);
  const group = sd?.group !== undefined ? parseIPv4(sd.group) : null;
  // N active directors (--bgp) without VRRP: every director sends and receives, on the
  // lvs_sync_daemon interface or else the first one.
  if (wantSync && specs.length === 0 && opts.nActive === true) {
    const ifIndex = sd ? indexOf(sd.interface) : 0;
    if (ifIndex === undefined) throw new HaError(`lvs_sync_daemon: interface ${sd?.interface} is not one of the balancer's interfaces`, sd?.source);
    return { specs, sync: { instance: null, ifIndex, daemon: sd, group }, syncWithoutVrrp: false };
  }
  if (!wantSync || specs.length === 0) return { specs, sync: null, syncWithoutVrrp: wantSync };
  const syncInstance = sd?.instance ?? specs[0]!.name;
  const inst = specs.find((s) => s.name === syncInstance);
  if (!inst) throw new HaError(`lvs_sync_daemon: no vrrp_instance named ${syncInstance}`, sd?.source);
  const ifIndex = sd ? indexOf(sd.interface) : inst.ifIndex;
  if (ifIndex === undefined) throw new HaError(`lvs_sync_daemon: interface ${sd?.interface} is not one of the balancer's interfaces`, sd?.source);
  return { specs, sync: { instance: syncInstance, ifIndex, daemon: sd, group }, syncWithoutVrrp: false };
}
