/**
 * `vrrp_instance`, `vrrp_sync_group` and `vrrp_script` blocks
 * (vrrp/vrrp_parser.c `init_vrrp_keywords`), parsed into typed objects that
 * src/ha runs (VrrpRunner).
 */
import type { Diagnostics } from './diagnostics.js';
import type { ConfigNode } from './parser.js';
import type { RawEntry, TrackedItem, VirtualIpAddress, VrrpInstance, VrrpScript, VrrpSyncGroup } from './schema.js';
import {
  fail, forbidBlock, parseIp, parseUnsigned, readIp, readOptionalBool, readScript, readTimer, readUnsigned,
  requireArg, requireBlock, warnExtraArgs,
} from './values.js';

/** vrrp_parser.c keywords accepted but not modelled; kept verbatim in `extra`. */
const UNMODELLED_INSTANCE_KEYWORDS = new Set([
  'use_vmac', 'use_vmac_addr', 'vmac_xmit_base', 'use_ipvlan', 'unicast_fault_no_peer', 'check_unicast_src',
  'old_unicast_checksum', 'native_ipv6', 'vrf', 'dont_track_primary', 'track_file', 'track_process', 'track_bfd',
  'mcast_dst_ip', 'track_src_ip', 'unicast_ttl', 'no_virtual_ipaddress', 'promote_secondaries', 'linkbeat_use_polling',
  'v3_checksum_as_v2', 'virtual_routes', 'virtual_rules', 'accept', 'no_accept', 'skip_check_adv_addr', 'strict_mode',
  'debug', 'notify_deleted', 'notify_master_rx_lower_pri', 'smtp_alert', 'notify_priority_changes',
  'garp_master_refresh_repeat', 'garp_lower_prio_delay', 'garp_lower_prio_repeat', 'down_timer_adverts',
  'timer_expired_backup', 'thread_timer_expired', 'garp_extra_if', 'vmac_garp_intvl', 'lower_prio_no_advert',
  'higher_prio_send_advert', 'owner_ignore_adverts', 'kernel_rx_buf_size', 'auth_hmac',
]);
const UNMODELLED_GROUP_KEYWORDS = new Set([
  'track_file', 'track_process', 'track_bfd', 'smtp_alert', 'global_tracking', 'sync_group_tracking_weight', 'notify_priority_changes',
]);
const NOTIFY_KEYS = { notify_master: 'notifyMaster', notify_backup: 'notifyBackup', notify_fault: 'notifyFault', notify_stop: 'notifyStop', notify: 'notify' } as const;

export function toRaw(n: ConfigNode): RawEntry {
  const source = { file: n.file, line: n.line };
  return n.children ? { keyword: n.keyword, args: n.args, children: n.children.map(toRaw), source } : { keyword: n.keyword, args: n.args, source };
}

export function parseVrrpInstance(node: ConfigNode, diag: Diagnostics): VrrpInstance {
  const name = requireArg(node, 0, 'an instance name');
  const vi: VrrpInstance = {
    name, state: 'BACKUP', priority: 100, advertInt: 1, nopreempt: false, preemptDelay: 0, virtualIpAddresses: [],
    virtualIpAddressesExcluded: [], unicastPeers: [], garpMasterDelay: 5, garpMasterRepeat: 5, trackInterfaces: [],
    trackScripts: [], extra: [], source: node,
  };
  for (const n of requireBlock(node)) instanceKeyword(vi, n, diag);
  if (vi.virtualRouterId === undefined) diag.warn(node, 'vrrp_instance', `${name}: virtual_router_id is not set (keepalived rejects the instance)`);
  return vi;
}

function instanceKeyword(vi: VrrpInstance, n: ConfigNode, diag: Diagnostics): void {
  const blockKeywords = ['virtual_ipaddress', 'virtual_ipaddress_excluded', 'authentication', 'unicast_peer', 'track_interface', 'track_script'];
  if (blockKeywords.includes(n.keyword)) requireBlock(n);
  else if (!UNMODELLED_INSTANCE_KEYWORDS.has(n.keyword)) forbidBlock(n);
  switch (n.keyword) {
    case 'state': {
      const s = requireArg(n, 0, 'MASTER or BACKUP');
      if (s !== 'MASTER' && s !== 'BACKUP') fail(n, `expected MASTER or BACKUP, got '${s}'`);
      vi.state = s;
      break;
    }
    case 'interface': vi.interface = requireArg(n, 0, 'an interface name'); break;
    case 'virtual_router_id': vi.virtualRouterId = readUnsigned(n, 0, 1, 255, 'a VRID'); break;
    case 'priority': vi.priority = readUnsigned(n, 0, 1, 255, 'a priority'); break;
    case 'advert_int': vi.advertInt = readTimer(n, 0, 0.01, 255); break;
    case 'nopreempt': vi.nopreempt = true; break;
    case 'preempt': vi.nopreempt = false; break;
    case 'preempt_delay': vi.preemptDelay = readTimer(n, 0, 0, 1000); break;
    case 'virtual_ipaddress': vi.virtualIpAddresses.push(...n.children!.map(parseVip)); return;
    case 'virtual_ipaddress_excluded': vi.virtualIpAddressesExcluded.push(...n.children!.map(parseVip)); return;
    case 'authentication': vi.authentication = parseAuthentication(n, diag); return;
    case 'mcast_src_ip': vi.mcastSrcIp = readIp(n, 0).address; break;
    case 'unicast_src_ip': vi.unicastSrcIp = readIp(n, 0).address; break;
    case 'unicast_peer':
      for (const p of n.children!) vi.unicastPeers.push(parseIp(p, p.keyword, 'a unicast peer IP address').address);
      return;
    case 'garp_master_delay': vi.garpMasterDelay = readUnsigned(n, 0, 0, 4294, 'a delay in seconds'); break;
    case 'garp_master_repeat': vi.garpMasterRepeat = Math.max(1, readUnsigned(n, 0, 0, 4294967295, 'a repeat count')); break;
    case 'garp_master_refresh': vi.garpMasterRefresh = readUnsigned(n, 0, 0, 4294, 'a refresh interval in seconds'); break;
    case 'version': vi.version = readUnsigned(n, 0, 2, 3, 'a VRRP version') as 2 | 3; break;
    case 'track_interface': vi.trackInterfaces.push(...n.children!.map(parseTracked)); return;
    case 'track_script': vi.trackScripts.push(...n.children!.map(parseTracked)); return;
    case 'notify_master': case 'notify_backup': case 'notify_fault': case 'notify_stop': case 'notify':
      vi[NOTIFY_KEYS[n.keyword]] = readScript(n);
      warnExtraArgs(n, 3, diag);
      return;
    case 'lvs_sync_daemon_interface':
      vi.lvsSyncDaemonInterface = requireArg(n, 0, 'an interface name');
      diag.warn(n, n.keyword, 'deprecated in a vrrp_instance - please use global_defs lvs_sync_daemon');
      break;
    default:
      if (UNMODELLED_INSTANCE_KEYWORDS.has(n.keyword)) vi.extra.push(toRaw(n));
      else diag.warn(n, n.keyword, 'unknown keyword in vrrp_instance block - ignored');
      return;
  }
  warnExtraArgs(n, 1, diag);
}

function parseAuthentication(node: ConfigNode, diag: Diagnostics): NonNullable<VrrpInstance['authentication']> {
  const auth: NonNullable<VrrpInstance['authentication']> = {};
  for (const n of node.children!) {
    forbidBlock(n);
    if (n.keyword === 'auth_type') {
      const t = requireArg(n, 0, 'PASS or AH');
      if (t !== 'PASS' && t !== 'AH') fail(n, `expected PASS or AH, got '${t}'`);
      auth.type = t;
    } else if (n.keyword === 'auth_pass') {
      const pass = requireArg(n, 0, 'a password');
      // The VRRPv2 authentication data field is 8 bytes (vrrp_auth_pass_handler truncates).
      if (pass.length > 8) diag.warn(n, n.keyword, 'truncating auth_pass to 8 characters');
      auth.pass = pass.slice(0, 8);
    } else {
      diag.warn(n, n.keyword, 'unknown keyword in authentication block - ignored');
    }
  }
  return auth;
}

/** `<IPADDR>[/<LEN>] [brd <IP>] [dev <IF>] [scope <S>] [label <L>] ...` (vrrp_ipaddress.c). */
function parseVip(n: ConfigNode): VirtualIpAddress {
  forbidBlock(n);
  const [addrText, lenText] = n.keyword.split('/', 2) as [string, string | undefined];
  const ip = parseIp(n, addrText, 'a virtual IP address');
  const vip: { -readonly [K in keyof VirtualIpAddress]: VirtualIpAddress[K] } = { address: ip.address, family: ip.family, options: [], source: n };
  if (lenText !== undefined) vip.prefixLength = parseUnsigned(n, lenText, 0, ip.family === 'inet' ? 32 : 128, 'a prefix length');
  const options: string[] = [];
  for (let i = 0; i < n.args.length; i++) {
    const opt = n.args[i]!;
    if (opt === 'dev' || opt === 'label' || opt === 'brd' || opt === 'scope') {
      const value = requireArg(n, ++i, `a value after '${opt}'`);
      if (opt === 'dev') vip.dev = value;
      else if (opt === 'label') vip.label = value;
      else if (opt === 'scope') vip.scope = value;
      else vip.broadcast = value;
    } else {
      options.push(opt);
    }
  }
  vip.options = options;
  return vip;
}

/** `NAME [weight N [reverse]]` of track_interface / track_script. */
function parseTracked(n: ConfigNode): TrackedItem {
  forbidBlock(n);
  if (n.args[0] !== 'weight') return { name: n.keyword };
  const text = requireArg(n, 1, 'a weight in [-253, 253]');
  if (!/^-?\d+$/.test(text) || Math.abs(Number(text)) > 253) fail(n, `expected a weight in [-253, 253], got '${text}'`);
  return { name: n.keyword, weight: Number(text) };
}

export function parseVrrpSyncGroup(node: ConfigNode, diag: Diagnostics): VrrpSyncGroup {
  const name = requireArg(node, 0, 'a sync group name');
  const g: VrrpSyncGroup = { name, instances: [], trackInterfaces: [], trackScripts: [], extra: [], source: node };
  for (const n of requireBlock(node)) {
    switch (n.keyword) {
      case 'group': for (const c of requireBlock(n)) g.instances.push(c.keyword, ...c.args); break;
      case 'track_interface': g.trackInterfaces.push(...requireBlock(n).map(parseTracked)); break;
      case 'track_script': g.trackScripts.push(...requireBlock(n).map(parseTracked)); break;
      case 'notify_master': case 'notify_backup': case 'notify_fault': case 'notify_stop': case 'notify':
        forbidBlock(n);
        g[NOTIFY_KEYS[n.keyword]] = readScript(n);
        break;
      default:
        if (UNMODELLED_GROUP_KEYWORDS.has(n.keyword)) {
          g.extra.push(toRaw(n));
        } else if (!n.children && /^[A-Za-z0-9_.-]+$/.test(n.keyword)) {
          // Old syntax (keepalived's own doc/samples): instance names directly in the block.
          forbidBlock(n);
          g.instances.push(n.keyword, ...n.args);
          diag.warn(n, n.keyword, `old vrrp_sync_group syntax: instance listed outside 'group { }' - accepted`);
        } else {
          diag.warn(n, n.keyword, 'unknown keyword in vrrp_sync_group block - ignored');
        }
    }
  }
  return g;
}

export function parseVrrpScript(node: ConfigNode, diag: Diagnostics): VrrpScript {
  const name = requireArg(node, 0, 'a script name');
  const s: VrrpScript = { name, interval: 1, weight: 0, initFail: false, source: node };
  for (const n of requireBlock(node)) {
    forbidBlock(n);
    switch (n.keyword) {
      case 'script': s.script = requireArg(n, 0, 'a script command'); warnExtraArgs(n, 1, diag); break;
      case 'interval': s.interval = readTimer(n, 0, 0.000001); break;
      case 'timeout': s.timeout = readTimer(n, 0, 0.000001); break;
      case 'weight': {
        const text = requireArg(n, 0, 'a weight in [-253, 253]');
        if (!/^-?\d+$/.test(text) || Math.abs(Number(text)) > 253) fail(n, `expected a weight in [-253, 253], got '${text}'`);
        s.weight = Number(text);
        break;
      }
      case 'rise': s.rise = readUnsigned(n, 0, 1, 4294967295, 'a count'); break;
      case 'fall': s.fall = readUnsigned(n, 0, 1, 4294967295, 'a count'); break;
      case 'user':
        s.user = requireArg(n, 0, 'a user name');
        if (n.args[1] !== undefined) s.group = n.args[1];
        break;
      case 'init_fail': s.initFail = readOptionalBool(n, 0); break;
      default: diag.warn(n, n.keyword, 'unknown keyword in vrrp_script block - ignored');
    }
  }
  return s;
}
