/**
 * From a parsed `vrrp_instance` block (src/config/keepalived/schema.ts) to what the VRRP runner
 * needs: the state machine's configuration, the receive checks and the notify scripts. Pure:
 * the caller says which engine interface the instance's `interface` is and its primary address.
 *
 * Defaults are keepalived's (vrrp_data.c alloc_vrrp / vrrp_parser.c): priority 100, advert_int 1,
 * garp_master_delay 5, garp_master_repeat 5, version 2. `state MASTER` only shortens the start-up
 * wait (vrrp_init_state); the election decides. A virtual_ipaddress with another `dev` than the
 * instance's interface is still announced on the instance's interface (we have one port per
 * interface and the engine answers ARP where its routes say).
 */
import type { VrrpInstance } from '../config/keepalived/schema.js';
import { parseIPv4 } from '../packet/addr.js';
import { VRRP_AUTH_NONE, VRRP_AUTH_PASS, passwordToAuthData } from '../vrrp/packet.js';
import type { LocalInstance } from '../vrrp/checks.js';
import type { VrrpInstanceConfig } from '../vrrp/instance-types.js';

export interface VrrpNotifyScripts {
  master?: string;
  backup?: string;
  fault?: string;
  stop?: string;
  /** The generic `notify` script: called with INSTANCE <name> <STATE> <priority>. */
  any?: string;
}

/** One instance, ready to run. Addresses are host-order unsigned. */
export interface VrrpRunnerInstance {
  name: string;
  /** Index of the engine interface (runtime port) the instance runs on. */
  ifIndex: number;
  machine: VrrpInstanceConfig;
  checks: LocalInstance;
  /** unicast_peer addresses; empty = multicast to 224.0.0.18. */
  unicastPeers: number[];
  notify: VrrpNotifyScripts;
}

/** A vrrp_instance the balancer cannot run; the message starts with the block's FILE:LINE. */
export class VrrpConfigError extends Error {}

/**
 * @param ifIndexOf maps an interface name to the engine's interface index (undefined = not ours)
 * @param primaryIpOf the interface's primary IPv4 address (the advert source, vrrp->saddr)
 */
export function vrrpInstanceFromConfig(
  vi: VrrpInstance,
  ifIndexOf: (name: string) => number | undefined,
  primaryIpOf: (ifIndex: number) => number,
): VrrpRunnerInstance {
  const name = vi.name;
  const fail = (what: string): never => {
    throw new VrrpConfigError(`${vi.source.file}:${vi.source.line}: vrrp_instance ${name}: ${what}`);
  };
  const ip = (text: string, what: string): number => parseIPv4(text) ?? fail(`${what} '${text}' is not an IPv4 address (IPv6 VRRP is not supported)`);
  if (vi.virtualRouterId === undefined) return fail('virtual_router_id is not set');
  if (vi.interface === undefined) return fail('interface is not set');
  const ifIndex = ifIndexOf(vi.interface);
  if (ifIndex === undefined) return fail(`interface ${vi.interface} is not one of the balancer's interfaces (--iface)`);
  const version = vi.version ?? 2;
  const vips = vi.virtualIpAddresses.map((v) => ip(v.address, 'virtual_ipaddress'));
  if (vips.length === 0) return fail('no virtual_ipaddress');
  const src = vi.unicastSrcIp ?? vi.mcastSrcIp;
  const primaryIp = src !== undefined ? ip(src, 'unicast_src_ip/mcast_src_ip') : primaryIpOf(ifIndex) >>> 0;
  if (primaryIp === 0) return fail(`interface ${vi.interface} has no IPv4 address to send adverts from`);
  // v2 carries whole seconds; keepalived rounds a fractional advert_int up to 1 s for v2.
  const advertIntMs = version === 2 ? Math.max(1, Math.round(vi.advertInt)) * 1000 : Math.max(1, Math.round(vi.advertInt * 100)) * 10;
  const auth = vi.authentication;
  if (auth?.type === 'AH') return fail('auth_type AH (IPsec) is not supported; use PASS or none');
  const authType = version === 2 && auth?.type === 'PASS' ? VRRP_AUTH_PASS : VRRP_AUTH_NONE;
  const authData = authType === VRRP_AUTH_PASS ? passwordToAuthData(auth?.pass ?? '') : undefined;
  const unicastPeers = vi.unicastPeers.map((p) => ip(p, 'unicast_peer'));
  const extra = new Set(vi.extra.map((e) => e.keyword));
  const machine: VrrpInstanceConfig = {
    vrid: vi.virtualRouterId,
    priority: vi.priority,
    version,
    advertIntMs,
    initialState: vi.state,
    nopreempt: vi.nopreempt,
    preemptDelayMs: Math.round(vi.preemptDelay * 1000),
    primaryIp,
    vips,
    garpMasterRepeat: vi.garpMasterRepeat,
    garpMasterDelayMs: vi.garpMasterDelay * 1000,
    lowerPrioNoAdvert: extra.has('lower_prio_no_advert'),
    higherPrioSendAdvert: extra.has('higher_prio_send_advert'),
    ...(authType !== VRRP_AUTH_NONE ? { authType, ...(authData ? { authData } : {}) } : {}),
  };
  const checks: LocalInstance = {
    version,
    vrid: vi.virtualRouterId,
    adverInt: version === 2 ? advertIntMs / 1000 : advertIntMs / 10,
    vips,
    authType,
    ...(authData ? { authData } : {}),
    unicast: unicastPeers.length > 0,
    ...(unicastPeers.length > 0 ? { unicastPeers } : {}),
    priority: vi.priority,
    skipCheckAdvAddr: extra.has('skip_check_adv_addr'),
  };
  const notify: VrrpNotifyScripts = {
    ...(vi.notifyMaster ? { master: vi.notifyMaster.command } : {}),
    ...(vi.notifyBackup ? { backup: vi.notifyBackup.command } : {}),
    ...(vi.notifyFault ? { fault: vi.notifyFault.command } : {}),
    ...(vi.notifyStop ? { stop: vi.notifyStop.command } : {}),
    ...(vi.notify ? { any: vi.notify.command } : {}),
  };
  return { name, ifIndex, machine, checks, unicastPeers, notify };
}
