/**
 * A PacketPort over libpcap through `cap`: one handle per interface for both capture
 * and transmit (a handle never sees its own sends; the filter also excludes our MAC).
 * See reference/packet-io-notes.md for the pitfalls this guards against.
 */
import capModule from 'cap';
import type { PacketPort } from './port.js';

const { Cap } = capModule;

/** Ring size in bytes: with offloads on each slot is 64 KiB, so 64 MiB = 1024 frames. */
export const DEFAULT_RING_BYTES = 64 * 1024 * 1024;

export class CapPort implements PacketPort {
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  txErrors = 0;
  lastTxError = '';
  private readonly cap = new Cap();
  /** Must stay referenced for the handle's whole life: the addon does not hold it. */
  private readonly buffer = Buffer.alloc(65535);
  private readonly ringBytes: number;
  private open = false;

  constructor(name: string, mac: Uint8Array, mtu: number, filter: string, ringBytes = DEFAULT_RING_BYTES) {
    this.name = name;
    this.mac = mac;
    this.mtu = mtu;
    this.ringBytes = ringBytes;
    this.setFilter(filter);
  }

  onFrame(handler: (frame: Buffer, len: number) => void): void {
    const buf = this.buffer;
    // `truncated` is not reliable (packet-io-notes 10): the engine checks lengths itself.
    this.cap.on('packet', (nbytes: number) => handler(buf, nbytes));
  }

  send(frame: Uint8Array, len: number): boolean {
    const b = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, len);
    try {
      this.cap.send(b, len);
      return true;
    } catch (err) {
      this.txErrors++;
      this.lastTxError = (err as Error).message;
      return false;
    }
  }

  /** cap re-opens the handle with the new filter (open() closes the old one first). */
  setFilter(filter: string): void {
    this.cap.open(this.name, filter, this.ringBytes, this.buffer);
    this.open = true;
  }

  close(): void {
    if (this.open) this.cap.close();
    this.open = false;
  }
}
