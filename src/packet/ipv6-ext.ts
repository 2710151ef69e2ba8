/**
 * Finding the upper-layer header of an IPv6 packet behind its extension headers, as IPVS
 * does it: ip_vs_fill_iph_skb_off calls ipv6_find_hdr(skb, &len, -1, &fragoffs, &flags)
 * with no flags set (net/ipv6/exthdrs_core.c), so
 *   - hop-by-hop (0), routing (43) and destination options (60) are skipped by their
 *     length ((hdrlen + 1) * 8, RFC 8200 section 4.3-4.6, ipv6_optlen),
 *   - AH (51) is skipped by its own length unit ((hdrlen + 2) * 4, RFC 4302 2.2,
 *     ipv6_authlen), ESP (50) is an upper layer like any other,
 *   - a fragment header (44) is 8 bytes; a first fragment (offset 0) goes on to the next
 *     header, a non-first fragment stops there and reports the protocol its fragment
 *     header names with the fragment offset (RFC 8200 section 4.5),
 *   - No Next Header (59) is returned as the protocol, as the kernel returns it.
 * The walk reads only what the packet holds (`end`), and allocates nothing: results go
 * to a caller-owned Int32Array.
 */
import { readU16 } from './bytes.js';
import {
  IPV6_HLEN, NEXTHDR_AUTH, NEXTHDR_DEST, NEXTHDR_FRAGMENT, NEXTHDR_HOP, NEXTHDR_NONE, NEXTHDR_ROUTING, OFF_NEXT,
} from './ipv6.js';

/** Result slots of findUpperLayer. */
export const UL_OFFSET = 0;
/** Fragment offset in bytes: > 0 only for a non-first fragment. */
export const UL_FRAGOFF = 1;
export const UL_FLAGS = 2;
export const UL_SLOTS = 3;

/** UL_FLAGS bits (IP6_FH_F_FRAG, IP6_FH_F_AUTH). */
export const FH_FRAG = 1;
export const FH_AUTH = 2;

/** Negative results of findUpperLayer. */
/** An extension header runs past the end of the packet (ipv6_find_hdr's -EBADMSG). */
export const FH_ERR_TRUNCATED = -1;
/** The header at `o` is not IPv6 (a quoted inner packet that is not; -EBADMSG too). */
export const FH_ERR_NOT_IPV6 = -2;
/** More extension headers than any sane packet carries: refused rather than walked. */
export const FH_ERR_TOO_MANY = -3;
/** A non-first fragment whose fragment header names another extension header (-ENOENT). */
export const FH_ERR_NOT_FOUND = -4;

/** Bound on the walk; the kernel's is the packet length, ours keeps the loop short. */
const MAX_EXT_HEADERS = 16;

/** ipv6_ext_hdr: the next-header values the walk steps over (NONE ends it). */
export function isExtensionHeader(nh: number): boolean {
  return nh === NEXTHDR_HOP || nh === NEXTHDR_ROUTING || nh === NEXTHDR_FRAGMENT || nh === NEXTHDR_AUTH ||
    nh === NEXTHDR_DEST || nh === NEXTHDR_NONE;
}

/**
 * The upper-layer protocol of the IPv6 packet whose fixed header is at `o` and which ends
 * at `end`, or a negative FH_ERR_*. On success out[UL_OFFSET] is the offset of that
 * header (for a non-first fragment: of the fragment's data), out[UL_FRAGOFF] the
 * fragment offset in bytes, out[UL_FLAGS] FH_FRAG and/or FH_AUTH for what was passed.
 */
export function findUpperLayer(b: Uint8Array, o: number, end: number, out: Int32Array): number {
  out[UL_FRAGOFF] = 0;
  out[UL_FLAGS] = 0;
  if (o + IPV6_HLEN > end) return FH_ERR_TRUNCATED;
  if (b[o]! >>> 4 !== 6) return FH_ERR_NOT_IPV6;
  let nh = b[o + OFF_NEXT]!;
  let at = o + IPV6_HLEN;
  for (let n = 0; n <= MAX_EXT_HEADERS; n++) {
    if (!isExtensionHeader(nh) || nh === NEXTHDR_NONE) {
      out[UL_OFFSET] = at;
      return nh;
    }
    if (at + 8 > end) return FH_ERR_TRUNCATED; // every extension header is at least 8 bytes
    const next = b[at]!;
    let hlen: number;
    if (nh === NEXTHDR_FRAGMENT) {
      out[UL_FLAGS] |= FH_FRAG;
      const fragoff = readU16(b, at + 2) & ~7; // 13-bit offset in 8-byte units, already * 8
      if (fragoff !== 0) {
        // A non-first fragment: its data is not a header; report what it continues,
        // unless that is an extension header (ipv6_find_hdr then gives -ENOENT).
        if (isExtensionHeader(next) && next !== NEXTHDR_NONE) return FH_ERR_NOT_FOUND;
        out[UL_OFFSET] = at + 8;
        out[UL_FRAGOFF] = fragoff;
        return next;
      }
      hlen = 8;
    } else if (nh === NEXTHDR_AUTH) {
      out[UL_FLAGS] |= FH_AUTH;
      hlen = (b[at + 1]! + 2) << 2;
    } else {
      hlen = (b[at + 1]! + 1) << 3;
    }
    if (at + hlen > end) return FH_ERR_TRUNCATED;
    nh = next;
    at += hlen;
  }
  return FH_ERR_TOO_MANY;
}

/** More-fragments bit of the fragment header at `f` (RFC 8200 section 4.5). */
export function fragmentMore(b: Uint8Array, f: number): boolean {
  return (b[f + 3]! & 1) !== 0;
}

/** Identification of the fragment header at `f`. */
export function fragmentId(b: Uint8Array, f: number): number {
  return ((b[f + 4]! << 24) | (b[f + 5]! << 16) | (b[f + 6]! << 8) | b[f + 7]!) >>> 0;
}
