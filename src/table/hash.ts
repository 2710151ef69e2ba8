/** 32-bit hash of a connection key (a murmur3-style finaliser over the mixed fields). */
export function hashTuple(seed: number, proto: number, a1: number, p1: number, a2: number, p2: number): number {
  let h = seed ^ Math.imul(a1, 0x9e3779b1) ^ Math.imul(a2 ^ ((p1 << 16) | p2), 0x85ebca77) ^ proto;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return h | 0;
}
