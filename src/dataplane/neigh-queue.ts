/**
 * Frames waiting for their next hop's MAC, as the kernel's neighbour layer queues them
 * while it resolves (__neigh_event_send: arp_queue, bounded by unres_qlen_bytes) and sends
 * them once the reply comes (neigh_update -> neigh_connect, the queue flushed), or drops
 * them when resolution fails (neigh_invalidate, after mcast_solicit probes a second apart).
 * Copies live in one preallocated buffer: no allocation per packet.
 */
const FREE = -1;
/**
 * Offload word of a slot filled by enqueueReady: a complete frame (sent with a plain vnet
 * header) that did not wait for ARP; takeQueued does not count it as flushed.
 */
export const OFFLOAD_SEGMENT = -2;

export class NeighQueue {
  readonly slots: number;
  readonly slotBytes: number;
  /** At most this many frames wait for one neighbour. */
  readonly perNeigh: number;
  readonly buf: Uint8Array;
  /** One view per slot, made once. */
  readonly views: Uint8Array[] = [];
  /** Neighbour slot waited for, FREE, or -2 - n once released (ready to send). */
  readonly owner: Int32Array;
  readonly len: Int32Array;
  readonly offload: Int32Array;
  readonly iface: Uint8Array;
  readonly queuedAt: Float64Array;
  readonly seq: Float64Array;
  private nextSeq = 0;
  /** Frames queued or ready. */
  used = 0;
  ready = 0;

  constructor(slots = 256, slotBytes = 2048, perNeigh = 32) {
    this.slots = slots;
    this.slotBytes = slotBytes;
    this.perNeigh = perNeigh;
    this.buf = new Uint8Array(slots * slotBytes);
    for (let i = 0; i < slots; i++) this.views.push(this.buf.subarray(i * slotBytes, (i + 1) * slotBytes));
    this.owner = new Int32Array(slots).fill(FREE);
    this.len = new Int32Array(slots);
    this.offload = new Int32Array(slots);
    this.iface = new Uint8Array(slots);
    this.queuedAt = new Float64Array(slots);
    this.seq = new Float64Array(slots);
  }

  /** Copy b[0, len) to wait for neighbour n; false when it does not fit (size, per-neighbour or total bound). */
  enqueue(n: number, b: Uint8Array, len: number, offload: number, iface: number, now: number): boolean {
    if (len > this.slotBytes || this.used === this.slots) return false;
    let free = -1;
    let mine = 0;
    const owner = this.owner;
    for (let i = 0; i < this.slots; i++) {
      const o = owner[i]!;
      if (o === n) mine++;
      else if (o === FREE && free < 0) free = i;
    }
    if (mine >= this.perNeigh || free < 0) return false;
    this.buf.set(b.subarray(0, len), free * this.slotBytes);
    owner[free] = n;
    this.len[free] = len;
    this.offload[free] = offload;
    this.iface[free] = iface;
    this.queuedAt[free] = now;
    this.seq[free] = this.nextSeq++;
    this.used++;
    return true;
  }

  /**
   * A frame for neighbour n (known) that is ready at once: the further segments of a tunnel
   * super-frame the engine cut itself, sent by the I/O edge right after the verdict's frame
   * (takeQueued), in order. Bounded by the slots only. False when none is free.
   */
  enqueueReady(n: number, b: Uint8Array, len: number, iface: number, now: number): boolean {
    if (len > this.slotBytes || this.used === this.slots) return false;
    const free = this.owner.indexOf(FREE);
    if (free < 0) return false;
    for (let i = 0; i < len; i++) this.buf[free * this.slotBytes + i] = b[i]!;
    this.owner[free] = -2 - n;
    this.len[free] = len;
    this.offload[free] = OFFLOAD_SEGMENT;
    this.iface[free] = iface;
    this.queuedAt[free] = now;
    this.seq[free] = this.nextSeq++;
    this.used++;
    this.ready++;
    return true;
  }

  /** Neighbour n is resolved: its frames may go, in the order they came. */
  release(n: number): void {
    if (this.used === 0) return;
    for (let i = 0; i < this.slots; i++) {
      if (this.owner[i] === n) {
        this.owner[i] = -2 - n;
        this.ready++;
      }
    }
  }

  /** The oldest ready slot, or -1. Its neighbour is neighbourOf(slot). */
  nextReady(): number {
    if (this.ready === 0) return -1;
    let best = -1;
    for (let i = 0; i < this.slots; i++) {
      if (this.owner[i]! <= -2 && (best < 0 || this.seq[i]! < this.seq[best]!)) best = i;
    }
    return best;
  }

  neighbourOf(slot: number): number {
    const o = this.owner[slot]!;
    return o <= -2 ? -2 - o : o;
  }

  free(slot: number): void {
    if (this.owner[slot]! <= -2) this.ready--;
    if (this.owner[slot] !== FREE) this.used--;
    this.owner[slot] = FREE;
  }

  /** Drop frames that waited longer than timeoutMs; returns how many. */
  expire(now: number, timeoutMs: number): number {
    if (this.used === this.ready) return 0;
    let dropped = 0;
    for (let i = 0; i < this.slots; i++) {
      const o = this.owner[i]!;
      if (o >= 0 && now - this.queuedAt[i]! >= timeoutMs) {
        this.free(i);
        dropped++;
      }
    }
    return dropped;
  }
}
