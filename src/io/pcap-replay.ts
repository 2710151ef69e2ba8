/**
 * pcap in, pcap out through the real packet path (glb-director's pcap mode, tests/pcap_tests):
 * one PcapFilePort per interface stands where a capture port would, the Runtime hands its frames
 * to the engine exactly as it does live (verdict, then queued frames whose next hop became
 * known), and every frame sent is recorded with the time of the input that caused it. The
 * engine's clock is the records' time, so a replay is deterministic. No timers, no gratuitous
 * ARP, no neighbour probing: only the frames of the files.
 */
import type { Engine } from '../dataplane/engine.js';
import { encodePcap, type PcapRecord } from './pcap-file.js';
import type { PacketPort } from './port.js';
import { Runtime } from './runtime.js';

export class PcapFilePort implements PacketPort {
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly txErrors = 0;
  /** Frames sent, copied, with the replay time (s) at which they left. */
  readonly sent: { frame: Buffer; time: number }[] = [];
  private handler: ((frame: Uint8Array, len: number, offload: number) => void) | null = null;
  private readonly now: () => number;

  constructor(name: string, mac: Uint8Array, mtu: number, nowSeconds: () => number) {
    this.name = name;
    this.mac = mac;
    this.mtu = mtu;
    this.now = nowSeconds;
  }

  onFrame(handler: (frame: Uint8Array, len: number, offload: number) => void): void {
    this.handler = handler;
  }

  /** One captured record to the handler (a copy: the engine rewrites in place). Offload unknown, as from pcap. */
  deliver(r: PcapRecord): void {
    const b = Buffer.from(r.frame);
    this.handler?.(b, b.length, 0);
  }

  send(frame: Uint8Array, len: number): boolean {
    this.sent.push({ frame: Buffer.from(frame.subarray(0, len)), time: this.now() });
    return true;
  }

  setFilter(): void {}

  close(): void {}

  /** The frames sent, as a pcap file. */
  output(): Buffer {
    return encodePcap(this.sent);
  }
}

/**
 * Replay `inputs[i]` (the records captured on the engine's interface i) through the engine,
 * all interfaces merged in time order (ties: lower interface first). Returns the ports, whose
 * output() is the pcap of what each interface sent.
 */
export function replayPcaps(engine: Engine, inputs: readonly (readonly PcapRecord[])[]): PcapFilePort[] {
  if (inputs.length !== engine.ifaces.length) throw new Error(`replay: ${inputs.length} inputs for ${engine.ifaces.length} interfaces`);
  let nowS = 0;
  const ports = engine.ifaces.map((i) => new PcapFilePort(i.name, i.mac, i.mtu, () => nowS));
  const runtime = new Runtime(engine, ports, { clock: () => nowS * 1000 });
  runtime.attach();
  const all = inputs.flatMap((recs, ifi) => recs.map((r, k) => ({ r, ifi, k })));
  all.sort((a, b) => a.r.time - b.r.time || a.ifi - b.ifi || a.k - b.k);
  for (const { r, ifi } of all) {
    nowS = r.time;
    ports[ifi]!.deliver(r);
  }
  return ports;
}
