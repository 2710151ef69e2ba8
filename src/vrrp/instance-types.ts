/**
 * Types of the VRRP instance state machine (state-machine.ts): its configuration, the events
 * the driver feeds in and the actions it must carry out.
 */
import type { VrrpAdvert } from './packet.js';

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';
/** 'advert': master's next advert, or backup's master-down timer. 'garp': the delayed GARP burst. */
export type VrrpTimer = 'advert' | 'garp';
export type NotifyKind = 'master' | 'backup' | 'fault' | 'stop' | 'master-rx-lower-pri';

export interface VrrpInstanceConfig {
  vrid: number;
  /** 1..255; 255 = address owner. keepalived default 100. */
  priority: number;
  /** Default 2. */
  version?: 2 | 3;
  /** advert_int in ms; whole seconds for v2, whole centiseconds for v3. Default 1000. */
  advertIntMs?: number;
  /** `state MASTER|BACKUP` from the config: only changes the start-up timers. */
  initialState: 'MASTER' | 'BACKUP';
  nopreempt?: boolean;
  /** preempt_delay in ms (0 = none). */
  preemptDelayMs?: number;
  /** Our source address (primary IP or unicast_src_ip), host-order u32; breaks equal-priority ties. */
  primaryIp: number;
  /**
   * An IPv6 instance (VRRPv3 over IPv6, RFC 9568): our advert source, the interface's
   * link-local address (16 bytes). Equal-priority ties then compare it with the advert's
   * IPv6 source (the event's srcIp6) as keepalived's vrrp_saddr_cmp does (memcmp order);
   * primaryIp is unused.
   */
  primaryIp6?: Uint8Array;
  /**
   * The VIPs, as host-order u32 for IPv4. For an IPv6 instance, the indices 0..n-1 of its
   * VIP list (ha/vrrp-config.ts vips6): the machine only counts them and hands them back in
   * 'send-garps', and the driver sends the IPv6 addresses in their place.
   */
  vips: readonly number[];
  /** garp_master_repeat, default 5. */
  garpMasterRepeat?: number;
  /** garp_master_delay in ms, default 5000; 0 disables the second burst. */
  garpMasterDelayMs?: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  /** down_timer_adverts, default 3. */
  downTimerAdverts?: number;
  /** v2 auth fields copied into our adverts. */
  authType?: number;
  authData?: Uint8Array;
  /** Link state before 'start'; default up. */
  interfaceUp?: boolean;
}

export type VrrpEvent =
  | { type: 'start' }
  /** srcIp6: the IPv6 source (16 bytes) of an IPv6 instance's advert; srcIp is then 0. */
  | { type: 'advert'; advert: VrrpAdvert; srcIp: number; srcIp6?: Uint8Array }
  | { type: 'timer'; timer: VrrpTimer }
  | { type: 'interface-down' }
  | { type: 'interface-up' }
  | { type: 'shutdown' };

export type VrrpAction =
  | { type: 'state'; from: VrrpState; to: VrrpState }
  | { type: 'send-advert'; priority: number; advert: VrrpAdvert }
  | { type: 'set-vips'; owned: boolean }
  | { type: 'send-garps'; vips: readonly number[]; repeat: number }
  | { type: 'notify'; kind: NotifyKind }
  /** keepalived lvs_sync_daemon: ipvs_syncd_master / ipvs_syncd_backup. */
  | { type: 'sync-daemon'; role: 'master' | 'backup' }
  | { type: 'arm-timer'; timer: VrrpTimer; at: number }
  | { type: 'cancel-timer'; timer: VrrpTimer };
