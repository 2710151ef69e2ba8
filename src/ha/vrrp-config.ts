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
 *
 * IPv6 (RFC 9568, keepalived vrrp_data.c alloc_vrrp_vip, vrrp.c vrrp_complete_instance): an
 * instance has one address family, set by its first virtual_ipaddress; an address of the other
 * family is an error naming its line (keepalived reports it and ignores the address). An IPv6
 * instance runs VRRPv3 (the default for it; `version 2` is an error, as keepalived's
 * vrrp_version_handler refuses it), advertises from the interface's link-local address (or
 * mcast_src_ip) to ff02::12, and has no authentication. unicast_peer is IPv4-only here.
 */
import type { VrrpInstance } from '../config/keepalived/schema.js';
import { parseIPv4 } from '../packet/addr.js';
import { formatIPv6Bytes, ipv6Bytes, parseIPv6 } from '../packet/addr6.js';
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
  /**
   * IPv6 instance only: its VIPs in config order, as inet_ntop text and four words
   * (machine.vips and checks.vips then hold their indices 0..n-1), and the advert source
   * (the interface's link-local address, or mcast_src_ip).
   */
  ipv6?: { vips: { text: string; words: Int32Array }[]; src: string };
}

/** A vrrp_instance the balancer cannot run; the message starts with the block's FILE:LINE. */
export class VrrpConfigError extends Error {}

/**
 * @param ifIndexOf maps an interface name to the engine's interface index (undefined = not ours)
 * @param primaryIpOf the interface's primary IPv4 address (the advert source, vrrp->saddr)
 * @param linkLocalOf the interface's IPv6 link-local address (16 bytes; an IPv6 instance's
 *   advert source). Absent (a config check without interface facts): an IPv6 instance's
 *   source is left '::' and not checked.
 */
export function vrrpInstanceFromConfig(
  vi: VrrpInstance,
  ifIndexOf: (name: string) => number | undefined,
  primaryIpOf: (ifIndex: number) => number,
  linkLocalOf?: (ifIndex: number) => Uint8Array | undefined,
): VrrpRunnerInstance {
  const name = vi.name;
  const fail = (what: string, at: { file: string; line: number } = vi.source): never => {
    throw new VrrpConfigError(`${at.file}:${at.line}: vrrp_instance ${name}: ${what}`);
  };
  const ip = (text: string, what: string): number => parseIPv4(text) ?? fail(`${what} '${text}' is not an IPv4 address (the instance is IPv4)`);
  if (vi.virtualRouterId === undefined) return fail('virtual_router_id is not set');
  if (vi.interface === undefined) return fail('interface is not set');
  const ifIndex = ifIndexOf(vi.interface);
  if (ifIndex === undefined) return fail(`interface ${vi.interface} is not one of the balancer's interfaces (--iface)`);
  if (vi.virtualIpAddresses.length === 0) return fail('no virtual_ipaddress');
  // One family per instance, set by the first address (alloc_vrrp_vip).
  const family = vi.virtualIpAddresses[0]!.family;
  for (const v of vi.virtualIpAddresses) {
    if (v.family !== family) {
      fail(`virtual_ipaddress ${v.address} is ${v.family === 'inet6' ? 'IPv6' : 'IPv4'}, but the instance is ${family === 'inet6' ? 'IPv6' : 'IPv4'} ` +
        '(set by its first address): one address family per vrrp_instance', v.source);
    }
  }
  if (family === 'inet6') return ipv6Instance(vi, ifIndex, linkLocalOf, fail);
  const version = vi.version ?? 2;
  const vips = vi.virtualIpAddresses.map((v) => ip(v.address, 'virtual_ipaddress'));
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
  return { name, ifIndex, machine, checks, unicastPeers, notify: notifyOf(vi) };
}

function notifyOf(vi: VrrpInstance): VrrpNotifyScripts {
  return {
    ...(vi.notifyMaster ? { master: vi.notifyMaster.command } : {}),
    ...(vi.notifyBackup ? { backup: vi.notifyBackup.command } : {}),
    ...(vi.notifyFault ? { fault: vi.notifyFault.command } : {}),
    ...(vi.notifyStop ? { stop: vi.notifyStop.command } : {}),
    ...(vi.notify ? { any: vi.notify.command } : {}),
  };
}

/** The IPv6 (VRRPv3, RFC 9568) instance: see the file comment. */
function ipv6Instance(
  vi: VrrpInstance,
  ifIndex: number,
  linkLocalOf: ((ifIndex: number) => Uint8Array | undefined) | undefined,
  fail: (what: string) => never,
): VrrpRunnerInstance {
  if (vi.version === 2) fail('VRRP version 2 cannot carry IPv6 addresses; an IPv6 instance uses version 3 (RFC 9568)');
  if (vi.authentication?.type === 'AH') fail('auth_type AH (IPsec) is not supported; use PASS or none');
  if (vi.unicastPeers.length > 0) fail('unicast_peer with IPv6 addresses is not supported (IPv6 instances advertise to ff02::12)');
  if (vi.unicastSrcIp !== undefined) fail('unicast_src_ip with IPv6 addresses is not supported (IPv6 instances advertise to ff02::12)');
  const vips = vi.virtualIpAddresses.map((v) => {
    const words = parseIPv6(v.address) ?? fail(`virtual_ipaddress '${v.address}' is not an IPv6 address`);
    return { text: formatIPv6Bytes(ipv6Bytes(v.address)!, 0), words };
  });
  let src: string;
  if (vi.mcastSrcIp !== undefined) {
    const b = ipv6Bytes(vi.mcastSrcIp) ?? fail(`mcast_src_ip '${vi.mcastSrcIp}' is not an IPv6 address (the instance is IPv6)`);
    src = formatIPv6Bytes(b, 0);
  } else if (linkLocalOf) {
    const ll = linkLocalOf(ifIndex) ?? fail(`interface ${vi.interface} has no IPv6 link-local address to send adverts from (RFC 9568 5.1.2.1)`);
    src = formatIPv6Bytes(ll, 0);
  } else {
    src = '::';
  }
  // v3 carries centiseconds (1..4095).
  const advertIntMs = Math.max(1, Math.round(vi.advertInt * 100)) * 10;
  if (advertIntMs > 40_950) fail(`advert_int ${vi.advertInt} exceeds VRRPv3's 40.95 s (12 bits of centiseconds)`);
  const extra = new Set(vi.extra.map((e) => e.keyword));
  const index = vips.map((_, i) => i);
  const machine: VrrpInstanceConfig = {
    vrid: vi.virtualRouterId!,
    priority: vi.priority,
    version: 3,
    advertIntMs,
    initialState: vi.state,
    nopreempt: vi.nopreempt,
    preemptDelayMs: Math.round(vi.preemptDelay * 1000),
    primaryIp: 0,
    primaryIp6: ipv6Bytes(src)!,
    vips: index,
    garpMasterRepeat: vi.garpMasterRepeat,
    garpMasterDelayMs: vi.garpMasterDelay * 1000,
    lowerPrioNoAdvert: extra.has('lower_prio_no_advert'),
    higherPrioSendAdvert: extra.has('higher_prio_send_advert'),
  };
  const checks: LocalInstance = {
    version: 3,
    vrid: vi.virtualRouterId!,
    adverInt: advertIntMs / 10,
    vips: index,
    authType: VRRP_AUTH_NONE,
    unicast: false,
    priority: vi.priority,
    skipCheckAdvAddr: extra.has('skip_check_adv_addr'),
  };
  return { name: vi.name, ifIndex, machine, checks, unicastPeers: [], notify: notifyOf(vi), ipv6: { vips, src } };
}
