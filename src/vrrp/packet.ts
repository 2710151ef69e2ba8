/**
 * VRRP advertisement codec, versions 2 (RFC 3768 §5) and 3 (RFC 5798 §5), IPv4 only.
 * Layout as keepalived builds it (vrrp.c vrrp_build_vrrp_v2 / vrrp_build_vrrp_v3):
 *
 *   byte 0    version << 4 | type (1 = ADVERTISEMENT)
 *   byte 1    VRID
 *   byte 2    priority (0 = master is stopping, 255 = address owner)
 *   byte 3    count of IPv4 addresses
 *   v2: byte 4 auth type (0 none, 1 simple password, 2 IP AH), byte 5 advert interval in seconds
 *   v3: bytes 4-5 = 4 reserved bits + 12-bit max advert interval in centiseconds
 *   bytes 6-7 checksum
 *   count x 4 bytes of addresses
 *   v2 only: 8 bytes of authentication data (the password for type 1, else zero)
 *
 * Checksum: v2 covers the VRRP message only; v3 adds the IPv4 pseudo-header
 * {src, dst, 0, 112, VRRP length} (RFC 5798 §5.2.8), so encoding/verifying v3 needs the IPs.
 *
 * Contract as dns-packet (abstract-encoding): encode(obj, buf?, offset?), decode(buf, offset?, len?),
 * encodingLength(obj), with encode.bytes / decode.bytes telling how many bytes were used.
 */
import { readU16, readU32, writeU16, writeU32 } from '../packet/bytes.js';
import { checksum, pseudoHeaderSum } from '../packet/checksum.js';

export const IPPROTO_VRRP = 112;
export const VRRP_TYPE_ADVERTISEMENT = 1;
export const VRRP_AUTH_NONE = 0;
export const VRRP_AUTH_PASS = 1;
export const VRRP_AUTH_AH = 2;
/** Size of the v2 authentication data field (VRRP_AUTH_LEN). */
export const VRRP_AUTH_LEN = 8;
const HEADER_LEN = 8;

export interface VrrpAdvert {
  version: 2 | 3;
  /** Packet type; only 1 (ADVERTISEMENT) is defined. Defaults to 1 on encode. */
  type?: number;
  vrid: number;
  priority: number;
  /** v2: advertisement interval in seconds (1..255). v3: max advert interval in centiseconds (1..4095). */
  adverInt: number;
  /** Virtual IPv4 addresses, host-order u32. */
  addresses: number[];
  /** v2 only; defaults to 0 (none). */
  authType?: number;
  /** v2 only: up to 8 bytes, zero-padded on the wire. */
  authData?: Uint8Array;
  /** Wire checksum as decoded; ignored on encode (always recomputed). */
  checksum?: number;
}

/** Source and destination IPv4 addresses, needed for the VRRPv3 pseudo-header. */
export interface Ipv4Pair {
  src: number;
  dst: number;
}

export function encodingLength(obj: Pick<VrrpAdvert, 'version' | 'addresses'>): number {
  return HEADER_LEN + 4 * obj.addresses.length + (obj.version === 2 ? VRRP_AUTH_LEN : 0);
}

/** Turn an `auth_pass` string into the 8-byte field (keepalived truncates longer passwords to 8). */
export function passwordToAuthData(password: string): Uint8Array {
  const out = new Uint8Array(VRRP_AUTH_LEN);
  out.set(new TextEncoder().encode(password).subarray(0, VRRP_AUTH_LEN));
  return out;
}

function validate(obj: VrrpAdvert): void {
  if (obj.version !== 2 && obj.version !== 3) throw new Error(`VRRP version must be 2 or 3, got ${String(obj.version)}`);
  const type = obj.type ?? VRRP_TYPE_ADVERTISEMENT;
  if (!Number.isInteger(type) || type < 0 || type > 15) throw new Error(`VRRP type must be 0..15, got ${type}`);
  if (!Number.isInteger(obj.vrid) || obj.vrid < 1 || obj.vrid > 255) throw new Error(`VRID must be 1..255, got ${obj.vrid}`);
  if (!Number.isInteger(obj.priority) || obj.priority < 0 || obj.priority > 255) {
    throw new Error(`priority must be 0..255, got ${obj.priority}`);
  }
  if (obj.addresses.length > 255) throw new Error(`at most 255 addresses fit the count byte, got ${obj.addresses.length}`);
  for (const a of obj.addresses) {
    if (!Number.isInteger(a) || a < 0 || a > 0xffffffff) throw new Error(`address must be a u32, got ${a}`);
  }
  const maxInt = obj.version === 2 ? 255 : 4095;
  if (!Number.isInteger(obj.adverInt) || obj.adverInt < 1 || obj.adverInt > maxInt) {
    throw new Error(`v${obj.version} advert interval must be 1..${maxInt}, got ${obj.adverInt}`);
  }
  if (obj.version === 2) {
    const auth = obj.authType ?? VRRP_AUTH_NONE;
    if (!Number.isInteger(auth) || auth < 0 || auth > 255) throw new Error(`auth type must be 0..255, got ${auth}`);
    if (obj.authData && obj.authData.length > VRRP_AUTH_LEN) {
      throw new Error(`auth data is at most ${VRRP_AUTH_LEN} bytes, got ${obj.authData.length}`);
    }
  }
}

/** Checksum of an encoded VRRP message at buf[offset, offset+length) with its checksum field as stored. */
function computeChecksum(buf: Uint8Array, offset: number, length: number, version: number, ipv4?: Ipv4Pair): number {
  let initial = 0;
  if (version === 3) {
    if (!ipv4) throw new Error('VRRPv3 checksum needs the IPv4 source and destination (pseudo-header)');
    initial = pseudoHeaderSum(ipv4.src, ipv4.dst, IPPROTO_VRRP, length);
  }
  return checksum(buf, offset, length, initial);
}

function encodeImpl(obj: VrrpAdvert, buf?: Uint8Array, offset = 0, ipv4?: Ipv4Pair): Uint8Array {
  validate(obj);
  const len = encodingLength(obj);
  const out = buf ?? new Uint8Array(len + offset);
  if (offset < 0 || offset + len > out.length) throw new RangeError(`VRRP encode needs ${len} bytes at offset ${offset}, buffer has ${out.length}`);
  out[offset] = (obj.version << 4) | (obj.type ?? VRRP_TYPE_ADVERTISEMENT);
  out[offset + 1] = obj.vrid;
  out[offset + 2] = obj.priority;
  out[offset + 3] = obj.addresses.length;
  if (obj.version === 2) {
    out[offset + 4] = obj.authType ?? VRRP_AUTH_NONE;
    out[offset + 5] = obj.adverInt;
  } else {
    writeU16(out, offset + 4, obj.adverInt & 0x0fff); // reserved bits zero
  }
  writeU16(out, offset + 6, 0);
  let p = offset + HEADER_LEN;
  for (const a of obj.addresses) {
    writeU32(out, p, a);
    p += 4;
  }
  if (obj.version === 2) {
    out.fill(0, p, p + VRRP_AUTH_LEN);
    if (obj.authData) out.set(obj.authData, p);
  }
  writeU16(out, offset + 6, computeChecksum(out, offset, len, obj.version, ipv4));
  encode.bytes = len;
  return out;
}

/** Encode an advert; the checksum is computed (v3 needs `ipv4` for the pseudo-header). */
export const encode = Object.assign(encodeImpl, { bytes: 0 });

function decodeImpl(buf: Uint8Array, offset = 0, len?: number): VrrpAdvert {
  const end = len === undefined ? buf.length : offset + len;
  if (offset < 0 || end > buf.length) throw new RangeError('VRRP decode range is outside the buffer');
  if (end - offset < HEADER_LEN) throw new Error(`VRRP packet truncated: ${end - offset} bytes, header needs ${HEADER_LEN}`);
  const version = buf[offset]! >> 4;
  if (version !== 2 && version !== 3) throw new Error(`unsupported VRRP version ${version}`);
  const count = buf[offset + 3]!;
  const need = encodingLength({ version, addresses: new Array<number>(count) });
  if (end - offset < need) {
    throw new Error(`VRRP packet truncated: ${end - offset} bytes, ${count} addresses need ${need}`);
  }
  const addresses: number[] = [];
  for (let i = 0; i < count; i++) addresses.push(readU32(buf, offset + HEADER_LEN + 4 * i));
  const adv: VrrpAdvert = {
    version,
    type: buf[offset]! & 0x0f,
    vrid: buf[offset + 1]!,
    priority: buf[offset + 2]!,
    adverInt: version === 2 ? buf[offset + 5]! : readU16(buf, offset + 4) & 0x0fff,
    addresses,
    checksum: readU16(buf, offset + 6),
  };
  if (version === 2) {
    adv.authType = buf[offset + 4]!;
    const a = offset + HEADER_LEN + 4 * count;
    adv.authData = buf.slice(a, a + VRRP_AUTH_LEN);
  }
  decode.bytes = need;
  return adv;
}

/**
 * Decode an advert. `len` bounds the bytes available (e.g. the IP payload length); bytes after the
 * message (Ethernet padding) are allowed and not consumed. Does not verify the checksum: see checksumOk.
 */
export const decode = Object.assign(decodeImpl, { bytes: 0 });

/**
 * True when the VRRP message at buf[offset, offset+length) carries a correct checksum
 * (the one's-complement sum over it, plus the pseudo-header for v3, is 0xffff).
 */
export function checksumOk(buf: Uint8Array, offset: number, length: number, ipv4?: Ipv4Pair): boolean {
  if (length < HEADER_LEN || offset + length > buf.length) return false;
  return computeChecksum(buf, offset, length, buf[offset]! >> 4, ipv4) === 0;
}
