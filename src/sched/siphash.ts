/**
 * hsiphash of one u32, as the 64-bit kernel computes it (lib/siphash.c, BITS_PER_LONG == 64):
 * there "HalfSipHash-1-3" is really SipHash-1-3 with a 128-bit key, truncated to 32 bits.
 * The mh scheduler (ip_vs_mh.c ip_vs_mh_hashkey) hashes a 4-byte value, so only the
 * 4-byte message case is needed:
 *
 *   v0..v3 = "somepseudorandomlygeneratedbytes" ^ (k0, k1, k0, k1)     # HPREAMBLE
 *   b      = (4 << 56) | value                                          # length byte + LE tail
 *   v3 ^= b; SIPROUND; v0 ^= b                                          # 1 compression round
 *   v2 ^= 0xff; SIPROUND x3                                             # 3 finalisation rounds
 *   return low32(v0 ^ v1 ^ v2 ^ v3)
 *
 * Each 64-bit word is kept as two 32-bit halves in local variables, so a call
 * allocates nothing (mh hashes once per new connection, more with mh-fallback).
 */

/** A 128-bit SipHash key as four u32: [k0 low, k0 high, k1 low, k1 high]. */
export type SipKey = readonly [number, number, number, number];

/** hsiphash(&value, 4, key) on a 64-bit kernel (== hsiphash_1u32(value, key)), as a u32. */
export function hsiphash1u32(value: number, key: SipKey): number {
  return hsiphash1u32Int(value, key) >>> 0;
}

/**
 * The same hash as an int32 (same bits). Hot-path callers use this form and apply `>>> 0`
 * themselves: V8 boxes a returned or passed number >= 2^31 as a heap number unless the
 * call is inlined, and an int32 never needs that.
 * `value` is the u32 as the CPU holds it (little-endian memory, read back as this number).
 * The four SIPROUNDs run in one loop over local int32 halves (lo/hi) so that optimised
 * code keeps them in registers; unsigned views (>>> 0) are used only to detect carries.
 */
export function hsiphash1u32Int(value: number, key: SipKey): number {
  // HPREAMBLE(4): SipHash initial constants xor the key (v0,v2 take k0; v1,v3 take k1).
  let v0l = 0x70736575 ^ key[0], v0h = 0x736f6d65 ^ key[1];
  let v1l = 0x6e646f6d ^ key[2], v1h = 0x646f7261 ^ key[3];
  let v2l = 0x6e657261 ^ key[0], v2h = 0x6c796765 ^ key[1];
  let v3l = 0x79746573 ^ key[2], v3h = 0x74656462 ^ key[3];
  const bLo = value | 0;
  const bHi = 0x04000000; // message length 4 in the top byte
  // HPOSTAMBLE: v3 ^= b; round; v0 ^= b; v2 ^= 0xff; 3 rounds
  v3l ^= bLo;
  v3h ^= bHi;
  let lo: number, t: number;
  for (let round = 0; round < 4; round++) {
    // v0 += v1; v1 = rol64(v1, 13); v1 ^= v0; v0 = rol64(v0, 32)
    lo = (v0l + v1l) | 0;
    v0h = (v0h + v1h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0;
    v0l = lo;
    t = (v1l << 13) | (v1h >>> 19);
    v1h = ((v1h << 13) | (v1l >>> 19)) ^ v0h;
    v1l = t ^ v0l;
    t = v0l; v0l = v0h; v0h = t;
    // v2 += v3; v3 = rol64(v3, 16); v3 ^= v2
    lo = (v2l + v3l) | 0;
    v2h = (v2h + v3h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0;
    v2l = lo;
    t = (v3l << 16) | (v3h >>> 16);
    v3h = ((v3h << 16) | (v3l >>> 16)) ^ v2h;
    v3l = t ^ v2l;
    // v0 += v3; v3 = rol64(v3, 21); v3 ^= v0
    lo = (v0l + v3l) | 0;
    v0h = (v0h + v3h + ((lo >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0;
    v0l = lo;
    t = (v3l << 21) | (v3h >>> 11);
    v3h = ((v3h << 21) | (v3l >>> 11)) ^ v0h;
    v3l = t ^ v0l;
    // v2 += v1; v1 = rol64(v1, 17); v1 ^= v2; v2 = rol64(v2, 32)
    lo = (v2l + v1l) | 0;
    v2h = (v2h + v1h + ((lo >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0;
    v2l = lo;
    t = (v1l << 17) | (v1h >>> 15);
    v1h = ((v1h << 17) | (v1l >>> 15)) ^ v2h;
    v1l = t ^ v2l;
    t = v2l; v2l = v2h; v2h = t;
    if (round === 0) {
      // end of the single compression round: v0 ^= b; then finalisation starts
      v0l ^= bLo;
      v0h ^= bHi;
      v2l ^= 0xff;
    }
  }
  return v0l ^ v1l ^ v2l ^ v3l;
}

/** Key whose two 64-bit words both equal the unsigned 32-bit `k` (ip_vs_mh.c generate_hash_secret). */
export function sipKeyFromU32(k: number): SipKey {
  return [k >>> 0, 0, k >>> 0, 0];
}
