/**
 * The engine's own neighbour table (IPv4 -> MAC) for next hops it sends to:
 * real servers and gateways. Learnt from ARP replies and requests seen on the
 * wire; entries are created by the control plane when a server is added, so the
 * per-packet path only reads a slot by index.
 */
import { copy6 } from '../packet/bytes.js';

export class NeighTable {
  readonly capacity: number;
  size = 0;
  /** int32 addresses, as the data plane carries them. */
  readonly ip: Int32Array;
  readonly iface: Uint8Array;
  readonly mac: Uint8Array;
  readonly valid: Uint8Array;
  /** Time of the last ARP request we sent (ms), for a 1/s rate limit per neighbour. */
  readonly lastRequest: Float64Array;
  readonly learntAt: Float64Array;

  constructor(capacity = 4096) {
    this.capacity = capacity;
    this.ip = new Int32Array(capacity);
    this.iface = new Uint8Array(capacity);
    this.mac = new Uint8Array(capacity * 6);
    this.valid = new Uint8Array(capacity);
    this.lastRequest = new Float64Array(capacity).fill(-Infinity);
    this.learntAt = new Float64Array(capacity);
  }

  find(ip: number, iface: number): number {
    ip |= 0;
    for (let i = 0; i < this.size; i++) if (this.ip[i] === ip && this.iface[i] === iface) return i;
    return -1;
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
