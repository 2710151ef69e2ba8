/**
 * Big-endian field access on a frame. Plain byte indexing: on V8 this is several
 * times faster than Buffer.readUInt32BE and never allocates.
 */
export function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

/** Unsigned 32-bit read. */
export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Signed 32-bit read: how the data plane carries IPv4 addresses. V8 keeps int32 values
 * unboxed (Smi) across calls, while an unsigned value >= 2^31 (every address from
 * 128.0.0.0 up) becomes a heap number: an allocation per packet.
 */
export function readI32(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** Copy 6 bytes (a MAC address) without Buffer.copy (slow for tiny copies). */
export function copy6(dst: Uint8Array, dOff: number, src: Uint8Array, sOff: number): void {
  dst[dOff] = src[sOff]!;
  dst[dOff + 1] = src[sOff + 1]!;
  dst[dOff + 2] = src[sOff + 2]!;
  dst[dOff + 3] = src[sOff + 3]!;
  dst[dOff + 4] = src[sOff + 4]!;
  dst[dOff + 5] = src[sOff + 5]!;
}

export function equal6(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  return (
    a[aOff] === b[bOff] &&
    a[aOff + 1] === b[bOff + 1] &&
    a[aOff + 2] === b[bOff + 2] &&
    a[aOff + 3] === b[bOff + 3] &&
    a[aOff + 4] === b[bOff + 4] &&
    a[aOff + 5] === b[bOff + 5]
  );
}
