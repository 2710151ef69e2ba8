// hsiphash (SipHash-1-3 on 64-bit kernels) checked two ways:
//  1. an independent BigInt SipHash-c-d written here is validated against the reference
//     vectors (veorq/SipHash, as copied into the kernel's lib/test_siphash.c): 2-4 for siphash,
//     1-3 truncated to 32 bits for the 64-bit hsiphash;
//  2. the allocation-free u32-pair implementation must equal that model.
import t from 'tap';
import { hsiphash1u32, sipKeyFromU32, type SipKey } from '../../src/sched/siphash.js';

const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M64;

function sipHashRef(c: number, d: number, k0: bigint, k1: bigint, msg: Uint8Array): bigint {
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = () => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const word = (at: number, n: number) => {
    let m = 0n;
    for (let i = n - 1; i >= 0; i--) m = (m << 8n) | BigInt(msg[at + i]!);
    return m;
  };
  const full = msg.length - (msg.length % 8);
  for (let at = 0; at < full; at += 8) {
    const m = word(at, 8);
    v3 ^= m;
    for (let i = 0; i < c; i++) round();
    v0 ^= m;
  }
  const b = (BigInt(msg.length & 255) << 56n) | word(full, msg.length - full);
  v3 ^= b;
  for (let i = 0; i < c; i++) round();
  v0 ^= b;
  v2 ^= 0xffn;
  for (let i = 0; i < d; i++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

const K0 = 0x0706050403020100n;
const K1 = 0x0f0e0d0c0b0a0908n;
const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);

// SipHash-2-4, messages 00, 00 01, ... (first 16 of the 64 reference vectors)
const SIPHASH_24 = [
  0x726fdb47dd0e0e31n, 0x74f839c593dc67fdn, 0x0d6c8009d9a94f5an, 0x85676696d7fb7e2dn,
  0xcf2794e0277187b7n, 0x18765564cd99a68dn, 0xcbc9466e58fee3cen, 0xab0200f58b01d137n,
  0x93f5f5799a932462n, 0x9e0082df0ba9e4b0n, 0x7a5dbbc594ddb9f3n, 0xf4b32f46226bada7n,
  0x751e8fbc860ee5fbn, 0x14ea5627c0843d90n, 0xf723ca908e7af2een, 0xa129ca6149be45e5n,
];
// hsiphash on 64-bit (SipHash-1-3, low 32 bits), messages of length 0..15
const HSIPHASH_64BIT = [
  0x050fc4dc, 0x7d57ca93, 0x4dc7d44d, 0xe7ddf7fb, 0x88d38328, 0x49533b67, 0xc59f22a7, 0x9bb11140,
  0x8d299a8e, 0x6c063de4, 0x92ff097f, 0xf94dc352, 0x57b4d9a2, 0x1229ffa7, 0xc0f95d34, 0x2a519956,
];

t.test('reference model matches the published vectors', async (t) => {
  SIPHASH_24.forEach((want, len) => t.equal(sipHashRef(2, 4, K0, K1, bytes(len)), want, `siphash-2-4 len ${len}`));
  HSIPHASH_64BIT.forEach((want, len) =>
    t.equal(Number(sipHashRef(1, 3, K0, K1, bytes(len)) & 0xffffffffn), want, `hsiphash len ${len}`),
  );
});

const TEST_KEY: SipKey = [0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c];

t.test('hsiphash1u32 equals the kernel self-test value and the model', async (t) => {
  // lib/test_siphash.c: hsiphash_1u32(0x03020100, key) == vector for 4 bytes
  t.equal(hsiphash1u32(0x03020100, TEST_KEY), 0x88d38328);
  const le = (v: number) => Uint8Array.of(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24);
  let seed = 7;
  let bad = 0;
  for (let i = 0; i < 500; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    for (const k of [2654435761, 2654446892, seed ^ 0x5a5a5a5a]) {
      const want = Number(sipHashRef(1, 3, BigInt(k >>> 0), BigInt(k >>> 0), le(seed)) & 0xffffffffn);
      if (hsiphash1u32(seed, sipKeyFromU32(k)) !== want) bad++;
    }
  }
  t.equal(bad, 0);
  // edge values
  for (const v of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) {
    const want = Number(sipHashRef(1, 3, 2654435761n, 2654435761n, le(v)) & 0xffffffffn);
    t.equal(hsiphash1u32(v, sipKeyFromU32(2654435761)), want, `value ${v}`);
  }
});
