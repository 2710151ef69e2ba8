/**
 * A PacketPort over libpcap through `cap`: one handle per interface for both capture
 * and transmit (a handle never sees its own sends; the filter also excludes our MAC).
 * See docs/packet-io.md for the pitfalls this guards against.
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
  private cap: InstanceType<typeof Cap> | null = null;
  /** Must stay referenced for the handle's whole life: the addon does not hold it. */
  private buffer = Buffer.alloc(65535);
  /** Closed handles and their buffers, kept referenced (see above); bounded. */
  private readonly retired: [InstanceType<typeof Cap>, Buffer][] = [];
  private readonly ringBytes: number;
  private handler: ((frame: Uint8Array, len: number, offload: number) => void) | null = null;

  constructor(name: string, mac: Uint8Array, mtu: number, filter: string, ringBytes = DEFAULT_RING_BYTES) {
    this.name = name;
    this.mac = mac;
    this.mtu = mtu;
    this.ringBytes = ringBytes;
    this.setFilter(filter);
  }

  onFrame(handler: (frame: Uint8Array, len: number, offload: number) => void): void {
    this.handler = handler;
    this.listen(this.cap!, this.buffer);
  }

  private listen(cap: InstanceType<typeof Cap>, buf: Buffer): void {
    const handler = this.handler;
    // `truncated` is not reliable (docs/packet-io.md pitfall 10): the engine checks lengths itself.
    if (handler) cap.on('packet', (nbytes: number) => handler(buf, nbytes, 0));
  }

  send(frame: Uint8Array, len: number): boolean {
    const b = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, len);
    try {
      this.cap!.send(b, len);
      return true;
    } catch (err) {
      this.txErrors++;
      this.lastTxError = (err as Error).message;
      return false;
    }
  }

  /**
   * A new filter means a new handle: re-opening a cap handle in place stops its
   * capture (observed: no packet after the second open()) and crashed the process.
   * The new handle is open before the old one closes, so no frame is lost between.
   */
  setFilter(filter: string): void {
    const cap = new Cap();
    const buf = Buffer.alloc(65535);
    cap.open(this.name, filter, this.ringBytes, buf);
    this.listen(cap, buf);
    const old = this.cap;
    if (old) {
      old.removeAllListeners('packet');
      old.close();
      this.retired.push([old, this.buffer]);
      if (this.retired.length > 8) this.retired.shift();
    }
    this.cap = cap;
    this.buffer = buf;
  }

  close(): void {
    this.cap?.removeAllListeners('packet');
    this.cap?.close();
    if (this.cap) this.retired.push([this.cap, this.buffer]);
    this.cap = null;
  }
}
