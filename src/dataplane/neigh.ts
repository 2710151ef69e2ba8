/**
 * The engine's own neighbour table (IPv4 or IPv6 -> MAC) for next hops it sends to:
 * real servers and gateways. Learnt from ARP replies and requests (IPv4) or Neighbour
 * Advertisements and the source link-layer option of Solicitations (IPv6, RFC 4861
 * 7.2.5, 7.2.3) seen on the wire; entries are created by the control plane when a server
 * is added, so the per-packet path only reads a slot by index. One slot space for both
 * families: a transmitter sends to slot n whatever its family.
 */
import { copy6 } from '../packet/bytes.js';
import { equalAddr6, sameAddr6 } from '../packet/addr6.js';

export class NeighTable {
  readonly capacity: number;
  size = 0;
  /** int32 addresses, as the data plane carries them. */
  readonly ip: Int32Array;
  /** 1 for an IPv6 neighbour, whose address is ip6[n*4 .. n*4+3]. */
  readonly v6: Uint8Array;
  readonly ip6: Int32Array;
  readonly iface: Uint8Array;
  readonly mac: Uint8Array;
  readonly valid: Uint8Array;
  /** Time of the last ARP request we sent (ms), for a 1/s rate limit per neighbour. */
  readonly lastRequest: Float64Array;
  readonly learntAt: Float64Array;

  constructor(capacity = 4096) {
    this.capacity = capacity;
    this.ip = new Int32Array(capacity);
    this.v6 = new Uint8Array(capacity);
    this.ip6 = new Int32Array(capacity * 4);
    this.iface = new Uint8Array(capacity);
    this.mac = new Uint8Array(capacity * 6);
    this.valid = new Uint8Array(capacity);
    this.lastRequest = new Float64Array(capacity).fill(-Infinity);
    this.learntAt = new Float64Array(capacity);
  }

  find(ip: number, iface: number): number {
    ip |= 0;
    for (let i = 0; i < this.size; i++) if (this.ip[i] === ip && this.iface[i] === iface && this.v6[i] === 0) return i;
    return -1;
  }

  /** The IPv6 neighbour whose address is at b[off..off+16) on iface, or -1 (ND input). */
  find6At(b: Uint8Array, off: number, iface: number): number {
    for (let i = 0; i < this.size; i++) if (this.v6[i] === 1 && this.iface[i] === iface && equalAddr6(b, off, this.ip6, i)) return i;
    return -1;
  }

  /** Slot for the IPv6 address at w[slot*4..] on iface, created unresolved when new. Control plane only. */
  ensure6(w: Int32Array, slot: number, iface: number): number {
    for (let i = 0; i < this.size; i++) if (this.v6[i] === 1 && this.iface[i] === iface && sameAddr6(this.ip6, i, w, slot)) return i;
    if (this.size === this.capacity) throw new Error('neighbour table full');
    const n = this.size++;
    this.v6[n] = 1;
    this.ip6.set(w.subarray(slot * 4, slot * 4 + 4), n * 4);
    this.iface[n] = iface;
    return n;
  }

  /** Slot for (ip, iface), created unresolved when new. Control plane only. */
  ensure(ip: number, iface: number): number {
    const i = this.find(ip, iface);
    if (i >= 0) return i;
    if (this.size === this.capacity) throw new Error('neighbour table full');
    const n = this.size++;
    this.ip[n] = ip;
    this.iface[n] = iface;
    return n;
  }

  learn(n: number, src: Uint8Array, off: number, now: number): void {
    copy6(this.mac, n * 6, src, off);
    this.valid[n] = 1;
    this.learntAt[n] = now;
  }

  /** Pin a MAC given by the operator or read from the kernel's neighbour table. */
  set(n: number, mac: Uint8Array, now: number): void {
    this.learn(n, mac, 0, now);
  }
}
