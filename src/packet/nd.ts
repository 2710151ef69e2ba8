/**
 * Neighbour Discovery for IPv6 over Ethernet (RFC 4861), the IPv6 replacement of ARP:
 * reading a Neighbour Solicitation, answering it with a Neighbour Advertisement, the
 * unsolicited NA a VRRPv3 master sends for each IPv6 VIP on takeover (RFC 9568 6.4.2,
 * keepalived's ndisc_send_unsolicited_na), and the NS that resolves a next hop through
 * its solicited-node multicast group (RFC 4861 7.2.2, RFC 4291 2.7.1).
 *
 * Messages (ICMPv6 header at c):
 *   NS (135): type code csum | reserved(4) | target(16) | options
 *   NA (136): type code csum | R S O flags + reserved(4) | target(16) | options
 *   option:   type(1) len(1, in 8-byte units) | ... ; source (1) / target (2) link-layer
 *             address: type, 1, MAC(6) (RFC 4861 4.6.1)
 * Frames are written into a caller's buffer at 0 (untagged Ethernet, IPv6 at 14) with
 * hop limit 255 (RFC 4861 7.1.1: receivers drop ND with any other). No allocation.
 */
import { copy6, writeU16 } from './bytes.js';
import { copy16, isMulticast6, isUnspecified6 } from './addr6.js';
import { ETH_HLEN, ETHERTYPE_IPV6 } from './ethernet.js';
import * as icmpv6 from './icmpv6.js';
import { IPV6_HLEN, NEXTHDR_ICMPV6, OFF_DST, OFF_HOPLIMIT, OFF_NEXT, OFF_PLEN, OFF_SRC } from './ipv6.js';

export const ND_HOPLIMIT = 255;
/** NS/NA body: 4 bytes of flags/reserved + the 16-byte target. */
export const ND_MSG_LEN = icmpv6.ICMPV6_HLEN + 16;
export const OFF_TARGET = 8;
export const OPT_SOURCE_LLADDR = 1;
export const OPT_TARGET_LLADDR = 2;
/** A link-layer address option on Ethernet: 8 bytes. */
export const LLADDR_OPT_LEN = 8;
/** Every frame written here: Ethernet + IPv6 + NS/NA + one link-layer option = 86 bytes. */
export const ND_FRAME_LEN = ETH_HLEN + IPV6_HLEN + ND_MSG_LEN + LLADDR_OPT_LEN;

/** NA flags, the first byte after the checksum (RFC 4861 4.4). */
export const NA_ROUTER = 0x80;
export const NA_SOLICITED = 0x40;
export const NA_OVERRIDE = 0x20;

/** Slots of parseSolicit's result. */
export const NS_TARGET = 0;
/** Offset of the MAC inside the source link-layer address option, or -1. */
export const NS_SLLA = 1;
export const NS_SLOTS = 2;

/** Negative results of parseSolicit: why the NS is invalid (RFC 4861 7.1.1). */
export const NS_ERR_HOPLIMIT = -1;
export const NS_ERR_CODE = -2;
export const NS_ERR_LENGTH = -3;
export const NS_ERR_CHECKSUM = -4;
export const NS_ERR_TARGET_MULTICAST = -5;
export const NS_ERR_OPTION = -6;
/** Source :: (duplicate address detection) but not to the solicited-node group, or with an SLLA. */
export const NS_ERR_DAD = -7;

/** True when the 16 bytes at b[dst] are the solicited-node multicast group of b[target] (ff02::1:ffXX:XXXX). */
export function isSolicitedNodeOf(b: Uint8Array, dst: number, tb: Uint8Array, target: number): boolean {
  if (b[dst] !== 0xff || b[dst + 1] !== 0x02) return false;
  for (let k = 2; k < 11; k++) if (b[dst + k] !== 0) return false;
  return b[dst + 11] === 1 && b[dst + 12] === 0xff &&
    b[dst + 13] === tb[target + 13] && b[dst + 14] === tb[target + 14] && b[dst + 15] === tb[target + 15];
}

/** Write the solicited-node multicast group of the address tb[target ..] at out[at ..] (RFC 4291 2.7.1). */
export function writeSolicitedNode(out: Uint8Array, at: number, tb: Uint8Array, target: number): void {
  out[at] = 0xff;
  out[at + 1] = 0x02;
  for (let k = 2; k < 11; k++) out[at + k] = 0;
  out[at + 11] = 1;
  out[at + 12] = 0xff;
  out[at + 13] = tb[target + 13]!;
  out[at + 14] = tb[target + 14]!;
  out[at + 15] = tb[target + 15]!;
}

/** The Ethernet address of an IPv6 multicast group: 33:33 and its last 32 bits (RFC 2464 section 7). */
export function writeMulticastMac(out: Uint8Array, at: number, gb: Uint8Array, group: number): void {
  out[at] = 0x33;
  out[at + 1] = 0x33;
  out[at + 2] = gb[group + 12]!;
  out[at + 3] = gb[group + 13]!;
  out[at + 4] = gb[group + 14]!;
  out[at + 5] = gb[group + 15]!;
}

/**
 * Check the Neighbour Solicitation whose IPv6 header is at o and ICMPv6 header at c (the
 * packet ends at `end`) as RFC 4861 7.1.1 says a node must before using it. Returns 0
 * and fills out[NS_TARGET] (offset of the target address) and out[NS_SLLA] (of the MAC
 * in the source link-layer address option, -1 when absent), or a negative NS_ERR_*.
 */
export function parseSolicit(b: Uint8Array, o: number, c: number, end: number, out: Int32Array): number {
  if (b[o + OFF_HOPLIMIT] !== ND_HOPLIMIT) return NS_ERR_HOPLIMIT;
  if (b[c + 1] !== 0) return NS_ERR_CODE;
  const l4len = end - c;
  if (l4len < ND_MSG_LEN) return NS_ERR_LENGTH;
  if (!icmpv6.verifyChecksum(b, o, c, l4len)) return NS_ERR_CHECKSUM;
  const target = c + OFF_TARGET;
  if (isMulticast6(b, target)) return NS_ERR_TARGET_MULTICAST;
  let slla = -1;
  for (let p = c + ND_MSG_LEN; p < end; ) {
    if (p + 2 > end) return NS_ERR_OPTION;
    const olen = b[p + 1]! << 3;
    if (olen === 0 || p + olen > end) return NS_ERR_OPTION; // RFC 4861 7.1.1: length 0 is invalid
    if (b[p] === OPT_SOURCE_LLADDR && olen >= LLADDR_OPT_LEN && slla < 0) slla = p + 2;
    p += olen;
  }
  if (isUnspecified6(b, o + OFF_SRC) && (slla >= 0 || !isSolicitedNodeOf(b, o + OFF_DST, b, target))) return NS_ERR_DAD;
  out[NS_TARGET] = target;
  out[NS_SLLA] = slla;
  return 0;
}

/** Ethernet + IPv6 header of an ND frame; the caller fills the addresses. Returns the ICMPv6 offset. */
function ndHeaders(out: Uint8Array, mac: Uint8Array): number {
  copy6(out, 6, mac, 0);
  writeU16(out, 12, ETHERTYPE_IPV6);
  const o = ETH_HLEN;
  out[o] = 0x60;
  out[o + 1] = 0;
  out[o + 2] = 0;
  out[o + 3] = 0;
  writeU16(out, o + OFF_PLEN, ND_MSG_LEN + LLADDR_OPT_LEN);
  out[o + OFF_NEXT] = NEXTHDR_ICMPV6;
  out[o + OFF_HOPLIMIT] = ND_HOPLIMIT;
  return o + IPV6_HLEN;
}

/** NS/NA body after the IPv6 header: type, flags, target, one link-layer option with `mac`; then the checksum. */
function ndBody(out: Uint8Array, c: number, type: number, flags: number, tb: Uint8Array, target: number, opt: number, mac: Uint8Array): number {
  out[c] = type;
  out[c + 1] = 0;
  out[c + 4] = flags;
  out[c + 5] = 0;
  out[c + 6] = 0;
  out[c + 7] = 0;
  copy16(out, c + OFF_TARGET, tb, target);
  const p = c + ND_MSG_LEN;
  out[p] = opt;
  out[p + 1] = 1;
  copy6(out, p + 2, mac, 0);
  icmpv6.fillChecksum(out, ETH_HLEN, c, ND_MSG_LEN + LLADDR_OPT_LEN);
  return ND_FRAME_LEN;
}

/**
 * The Neighbour Advertisement answering the NS at b (IPv6 header at o, parsed by
 * parseSolicit into ns), for its target, with link-layer address `mac` (RFC 4861 7.2.4):
 * from the target address, to the solicitation's source with S set, or to all-nodes
 * ff02::1 with S clear when the source was :: (a DAD probe). `flags` adds R and/or O
 * (O set for an address we own, as the kernel's ndisc_send_na for a non-anycast one).
 * The Ethernet destination is the SLLA option if any, else the frame's source MAC.
 * Returns the frame length.
 */
export function writeAdvertFor(out: Uint8Array, b: Uint8Array, o: number, ns: Int32Array, mac: Uint8Array, flags: number): number {
  const c = ndHeaders(out, mac);
  const target = ns[NS_TARGET]!;
  const dad = isUnspecified6(b, o + OFF_SRC);
  copy16(out, ETH_HLEN + OFF_SRC, b, target);
  if (dad) {
    writeAllNodes(out, ETH_HLEN + OFF_DST);
    writeMulticastMac(out, 0, out, ETH_HLEN + OFF_DST);
  } else {
    copy16(out, ETH_HLEN + OFF_DST, b, o + OFF_SRC);
    const slla = ns[NS_SLLA]!;
    copy6(out, 0, b, slla >= 0 ? slla : 6);
  }
  return ndBody(out, c, icmpv6.NEIGHBOUR_ADVERT, (flags & (NA_ROUTER | NA_OVERRIDE)) | (dad ? 0 : NA_SOLICITED), b, target, OPT_TARGET_LLADDR, mac);
}

/**
 * Unsolicited NA for the address vb[vip ..] with link-layer address `mac`, as a VRRPv3
 * master sends one per IPv6 VIP on becoming master (RFC 9568 6.4.2: R set, S clear, O
 * set; from the VIP to all-nodes ff02::1, Ethernet 33:33:00:00:00:01). `router` false
 * clears R, as keepalived does on an interface that does not forward.
 */
export function writeUnsolicitedAdvert(out: Uint8Array, mac: Uint8Array, vb: Uint8Array, vip: number, router = true): number {
  const c = ndHeaders(out, mac);
  copy16(out, ETH_HLEN + OFF_SRC, vb, vip);
  writeAllNodes(out, ETH_HLEN + OFF_DST);
  writeMulticastMac(out, 0, out, ETH_HLEN + OFF_DST);
  return ndBody(out, c, icmpv6.NEIGHBOUR_ADVERT, NA_OVERRIDE | (router ? NA_ROUTER : 0), vb, vip, OPT_TARGET_LLADDR, mac);
}

/**
 * Multicast NS resolving tb[target ..] (a next hop) from our address sb[src ..] and `mac`:
 * to the target's solicited-node group and its 33:33:ff:XX:XX:XX, with our source
 * link-layer address option (RFC 4861 7.2.2).
 */
export function writeSolicit(out: Uint8Array, mac: Uint8Array, sb: Uint8Array, src: number, tb: Uint8Array, target: number): number {
  const c = ndHeaders(out, mac);
  copy16(out, ETH_HLEN + OFF_SRC, sb, src);
  writeSolicitedNode(out, ETH_HLEN + OFF_DST, tb, target);
  writeMulticastMac(out, 0, out, ETH_HLEN + OFF_DST);
  return ndBody(out, c, icmpv6.NEIGHBOUR_SOLICIT, 0, tb, target, OPT_SOURCE_LLADDR, mac);
}

/** ff02::1 (RFC 4291 2.7.1). */
function writeAllNodes(out: Uint8Array, at: number): void {
  out[at] = 0xff;
  out[at + 1] = 0x02;
  for (let k = 2; k < 15; k++) out[at + k] = 0;
  out[at + 15] = 1;
}

/** Offset of the MAC in the target link-layer address option of the NA at c (ending at end), or -1. */
export function advertTargetMac(b: Uint8Array, c: number, end: number): number {
  for (let p = c + ND_MSG_LEN; p + 2 <= end; ) {
    const olen = b[p + 1]! << 3;
    if (olen === 0 || p + olen > end) return -1;
    if (b[p] === OPT_TARGET_LLADDR && olen >= LLADDR_OPT_LEN) return p + 2;
    p += olen;
  }
  return -1;
}

/** The NA flags byte (NA_ROUTER | NA_SOLICITED | NA_OVERRIDE bits) of the NA at c. */
export function advertFlags(b: Uint8Array, c: number): number {
  return b[c + 4]! & 0xe0;
}
