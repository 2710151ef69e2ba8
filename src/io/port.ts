/**
 * The I/O edge of the engine: one port per network interface. Frames are delivered
 * synchronously and are valid only during the callback (the capture buffer is reused).
 */
export interface PacketPort {
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  /**
   * Register the single frame handler. `offload` is the frame's offload word
   * (packet/offload.ts), 0 when the backend cannot tell (pcap).
   */
  onFrame(handler: (frame: Uint8Array, len: number, offload: number) => void): void;
  /**
   * Send a frame; false (and a counted error) when the kernel refuses it. `offload` is the
   * frame's offload word, -1 (or absent) for a frame with complete checksums.
   */
  send(frame: Uint8Array, len: number, offload?: number): boolean;
  /** Replace the capture filter (rules changed). */
  setFilter(filter: string): void;
  close(): void;
  readonly txErrors: number;
  /** Frames the kernel dropped before we could read them (a full ring), when the backend can tell. */
  readDrops?(): number;
}
