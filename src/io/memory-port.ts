/**
 * In-memory ports for tests: frames injected with `inject` reach the handler,
 * frames the engine sends are recorded (copied, since engine buffers are reused).
 */
import type { PacketPort } from './port.js';

export class MemoryPort implements PacketPort {
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly sent: Buffer[] = [];
  filter = '';
  txErrors = 0;
  closed = false;
  private handler: ((frame: Uint8Array, len: number, offload: number) => void) | null = null;
  /** Offload word of each sent frame (-1: complete checksums). */
  readonly sentOffload: number[] = [];

  constructor(name: string, mac: Uint8Array, mtu = 1500) {
    this.name = name;
    this.mac = mac;
    this.mtu = mtu;
  }

  onFrame(handler: (frame: Uint8Array, len: number, offload: number) => void): void {
    this.handler = handler;
  }

  inject(frame: Uint8Array, offload = 0): void {
    const b = Buffer.from(frame); // the real port hands out its own buffer too
    this.handler?.(b, b.length, offload);
  }

  send(frame: Uint8Array, len: number, offload = -1): boolean {
    this.sentOffload.push(offload);
    if (len > this.mtu + 18) {
      this.txErrors++;
      return false;
    }
    this.sent.push(Buffer.from(frame.subarray(0, len)));
    return true;
  }

  setFilter(filter: string): void {
    this.filter = filter;
  }

  close(): void {
    this.closed = true;
  }
}
