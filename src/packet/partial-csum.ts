/**
 * CHECKSUM_PARTIAL frames: a sender that offloads its TCP/UDP checksum (veth with tx
 * checksumming on, the default) leaves in the checksum field only the folded pseudo-header
 * sum, not inverted (tcp_v4_send_check: th->check = ~tcp_v4_check(len, saddr, daddr, 0)); the
 * device, or the kernel before a device that cannot, adds the segment's sum and inverts.
 */
import { fold, pseudoHeaderSum } from './checksum.js';
import { readI32, readU16 } from './bytes.js';

/** The value a partial checksum field holds for the datagram at IP offset l3. */
export function partialSeed(b: Uint8Array, l3: number, proto: number, l4len: number): number {
  return fold(pseudoHeaderSum(readI32(b, l3 + 12), readI32(b, l3 + 16), proto, l4len));
}

/**
 * True when the field at csumAt holds the partial seed. A complete checksum can equal it
 * by chance (1 in 65 536); completing such a frame recomputes the same value, so the
 * caller may always complete what this reports.
 */
export function looksPartial(b: Uint8Array, l3: number, csumAt: number, proto: number, l4len: number): boolean {
  return readU16(b, csumAt) === partialSeed(b, l3, proto, l4len);
}
