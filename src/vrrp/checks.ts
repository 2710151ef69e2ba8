/**
 * Receive-side validation of a VRRP advert, in the order of keepalived's vrrp_check_packet (vrrp.c),
 * which follows RFC 3768 §7.1 / RFC 5798 §7.1. Pure: the caller passes what the frame parser saw.
 *
 * Verdicts: 'ok' (hand it to the state machine), 'reject' (an error keepalived counts and logs,
 * VRRP_PACKET_KO) and 'drop' (silently ignored, VRRP_PACKET_DROP). Either non-ok verdict means the
 * advert must not reach the state machine; in BACKUP that lets the down timer keep running.
 *
 * Like keepalived, a wrong address count or list is only a warning by default (the advert is still
 * processed). RFC 3768 §7.1 says to drop it unless the sender is the owner (priority 255):
 * set `strictAddressList` for that behaviour.
 */
import { isIPv4Multicast } from '../lvs/addr.js';
import { VRRP_AUTH_AH, VRRP_AUTH_LEN, VRRP_AUTH_NONE, VRRP_AUTH_PASS, VRRP_TYPE_ADVERTISEMENT, encodingLength, type VrrpAdvert } from './packet.js';

export interface LocalInstance {
  version: 2 | 3;
  vrid: number;
  /** Local advert interval in wire units: seconds for v2, centiseconds for v3. */
  adverInt: number;
  vips: readonly number[];
  /** v2 auth_type; default 0. */
  authType?: number;
  /** v2 PASS: the 8-byte field (see passwordToAuthData). */
  authData?: Uint8Array;
  /** true when unicast_peer is configured: unicast packets expected, TTL not checked. */
  unicast?: boolean;
  /** With unicast, accept only these source addresses (vrrp_check_unicast_src). */
  unicastPeers?: readonly number[];
  /** Our effective priority; with ownerIgnoreAdverts and priority 255 every advert is dropped. */
  priority?: number;
  ownerIgnoreAdverts?: boolean;
  /** skip_check_adv_addr: do not compare the address list (the count is still compared). */
  skipCheckAdvAddr?: boolean;
  /** RFC behaviour: reject an address mismatch unless the advert priority is 255. */
  strictAddressList?: boolean;
}

export interface ReceivedAdvert {
  advert: VrrpAdvert;
  srcIp: number;
  dstIp: number;
  ttl: number;
  /** Result of the VRRP checksum verification (parseAdvertFrame.vrrpChecksumOk). */
  checksumOk: boolean;
  /** VRRP bytes the IP header announced (parseAdvertFrame.vrrpLength); default: exact. */
  vrrpLength?: number;
}

export type CheckCode =
  | 'vrid'
  | 'length'
  | 'ttl'
  | 'version'
  | 'auth-type-invalid'
  | 'auth-type-mismatch'
  | 'auth-password'
  | 'adver-int'
  | 'type'
  | 'checksum'
  | 'cast-mismatch'
  | 'owner-ignore'
  | 'addr-count'
  | 'addr-list'
  | 'unicast-src';

export interface CheckResult {
  verdict: 'ok' | 'reject' | 'drop';
  /** Why it was not ok. */
  code?: CheckCode;
  reason?: string;
  /** Problems that do not stop processing (keepalived only logs them). */
  warnings: { code: CheckCode; reason: string }[];
}

function fail(verdict: 'reject' | 'drop', code: CheckCode, reason: string, warnings: CheckResult['warnings'] = []): CheckResult {
  return { verdict, code, reason, warnings };
}

/** Constant-time-ish compare of the 8-byte PASS field (keepalived uses memcmp_constant_time). */
function authDataEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  let diff = 0;
  for (let i = 0; i < VRRP_AUTH_LEN; i++) diff |= (a?.[i] ?? 0) ^ (b?.[i] ?? 0);
  return diff === 0;
}

export function checkAdvert(rx: ReceivedAdvert, local: LocalInstance): CheckResult {
  const adv = rx.advert;
  // The dispatcher looks the instance up by VRID (vrrp_dispatcher_read): others are not ours.
  if (adv.vrid !== local.vrid) return fail('drop', 'vrid', `VRID ${adv.vrid} is not ours (${local.vrid})`);

  const expected = encodingLength(adv);
  if (rx.vrrpLength !== undefined && rx.vrrpLength !== expected) {
    return fail('reject', 'length', `VRRP length ${rx.vrrpLength}, expected ${expected} for ${adv.addresses.length} addresses`);
  }
  // RFC 3768 §7.1: TTL must be 255 (not checked for unicast peers).
  if (!local.unicast && rx.ttl !== 255) return fail('reject', 'ttl', `TTL ${rx.ttl}, expected 255`);
  if (adv.version !== local.version) return fail('reject', 'version', `VRRP version ${adv.version}, expected ${local.version}`);

  if (local.version === 2) {
    const rxAuth = adv.authType ?? VRRP_AUTH_NONE;
    const myAuth = local.authType ?? VRRP_AUTH_NONE;
    if (rxAuth !== VRRP_AUTH_NONE && rxAuth !== VRRP_AUTH_PASS && rxAuth !== VRRP_AUTH_AH) {
      return fail('reject', 'auth-type-invalid', `invalid auth type ${rxAuth}`);
    }
    if (rxAuth !== myAuth) return fail('reject', 'auth-type-mismatch', `auth type ${rxAuth}, expected ${myAuth}`);
    if (myAuth === VRRP_AUTH_PASS && !authDataEqual(adv.authData, local.authData)) {
      return fail('reject', 'auth-password', 'wrong password');
    }
    // v2 MUST: a different interval means another router config in our VRID; drop it.
    if (adv.adverInt !== local.adverInt) {
      return fail('drop', 'adver-int', `advert interval ${adv.adverInt}s, ours ${local.adverInt}s`);
    }
  }

  if ((adv.type ?? VRRP_TYPE_ADVERTISEMENT) !== VRRP_TYPE_ADVERTISEMENT) {
    return fail('reject', 'type', `packet type ${adv.type ?? -1}, expected ${VRRP_TYPE_ADVERTISEMENT}`);
  }

  const warnings: CheckResult['warnings'] = [];
  // v3: the master's interval is learnt, so a difference is only worth a warning.
  if (local.version === 3 && adv.adverInt !== local.adverInt) {
    warnings.push({ code: 'adver-int', reason: `advert interval ${adv.adverInt}cs, ours ${local.adverInt}cs` });
  }
  if (!rx.checksumOk) return fail('reject', 'checksum', `invalid VRRPv${adv.version} checksum`, warnings);

  if (isIPv4Multicast(rx.dstIp) === Boolean(local.unicast)) {
    return fail('reject', 'cast-mismatch', local.unicast ? 'multicast packet on a unicast instance' : 'unicast packet on a multicast instance', warnings);
  }
  if (local.ownerIgnoreAdverts && local.priority === 255) {
    return fail('drop', 'owner-ignore', 'we are the address owner and ignore adverts', warnings);
  }

  let addrProblem: { code: CheckCode; reason: string } | undefined;
  if (adv.addresses.length !== local.vips.length) {
    addrProblem = { code: 'addr-count', reason: `expected ${local.vips.length} VIPs, received ${adv.addresses.length}` };
  } else if (!local.skipCheckAdvAddr) {
    // Counts match and VIPs are distinct, so "every local VIP is present" means equal sets.
    const got = new Set(adv.addresses);
    const missing = local.vips.find((v) => !got.has(v));
    if (missing !== undefined) addrProblem = { code: 'addr-list', reason: 'a local VIP is missing from the advert' };
  }
  if (addrProblem) {
    if (local.strictAddressList && adv.priority !== 255) return fail('reject', addrProblem.code, addrProblem.reason, warnings);
    warnings.push(addrProblem);
  }

  if (local.unicast && local.unicastPeers && !local.unicastPeers.includes(rx.srcIp)) {
    return fail('reject', 'unicast-src', 'unicast source is not a configured peer', warnings);
  }
  return { verdict: 'ok', warnings };
}
