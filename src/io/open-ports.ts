/**
 * Opens one PacketPort per interface on the chosen backend: `ring` (AF_PACKET rings with
 * virtio-net headers: offload state kept, batched transmit) or `pcap` (libpcap via `cap`).
 * `auto` (the default) takes the ring backend and falls back to pcap, saying why.
 */
import type { PacketPort } from './port.js';
import { CapPort } from './cap-port.js';
import { RingPort, RingError, type FanoutJoin } from './ring/ring-port.js';
import { libc, libcLoadError } from './ring/libc.js';

export type IoKind = 'ring' | 'pcap';

export interface PortSpec {
  name: string;
  mac: Uint8Array;
  mtu: number;
  filter: string;
}

export interface OpenedPorts {
  ports: PacketPort[];
  kind: IoKind;
  /** Why this backend, for the start-up summary. */
  why: string;
}

export class IoError extends Error {}

export function openPorts(want: IoKind | 'auto', specs: PortSpec[], fanout: FanoutJoin | null = null, ringFrames?: number): OpenedPorts {
  if (want !== 'pcap') {
    const opened: RingPort[] = [];
    try {
      if (libc() === null) throw new RingError(`koffi could not be loaded (${libcLoadError()}); run npm ci`);
      // A fanout group belongs to one device (fanout_add): interface i uses group id + i.
      specs.forEach((s, i) => opened.push(new RingPort(s.name, s.mac, s.mtu, s.filter, ringFrames, fanout && { group: (fanout.group + i) & 0xffff, program: fanout.program })));
      return {
        ports: opened,
        kind: 'ring',
        why: want === 'ring' ? 'asked for (--io ring)' : 'default: AF_PACKET rings keep checksum/GSO offload state and send in batches',
      };
    } catch (err) {
      for (const p of opened) p.close();
      const msg = (err as Error).message;
      if (want === 'ring') throw new IoError(`--io ring: ${msg}`);
      try {
        return { ports: specs.map((s) => new CapPort(s.name, s.mac, s.mtu, s.filter)), kind: 'pcap', why: `the ring backend could not open (${msg})` };
      } catch (err2) {
        throw new IoError(`no packet I/O backend could open: ring: ${msg}; pcap: ${(err2 as Error).message}`);
      }
    }
  }
  try {
    return { ports: specs.map((s) => new CapPort(s.name, s.mac, s.mtu, s.filter)), kind: 'pcap', why: 'asked for (--io pcap)' };
  } catch (err) {
    throw new IoError(`--io pcap: ${(err as Error).message}`);
  }
}
