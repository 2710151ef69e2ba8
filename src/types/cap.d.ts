// Minimal typings for the `cap` libpcap binding (no @types package exists).
declare module 'cap' {
  import { EventEmitter } from 'node:events';
  class Cap extends EventEmitter {
    open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
    send(buffer: Buffer, nbytes?: number): void;
    close(): void;
    on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): this;
    static findDevice(ip?: string): string | undefined;
    static deviceList(): { name: string; addresses: { addr: string }[] }[];
  }
  const cap: { Cap: typeof Cap };
  export default cap;
}
