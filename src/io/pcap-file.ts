/**
 * Classic pcap files (the libpcap savefile format, link type 1 = Ethernet) that
 * tcpdump and Wireshark read: a reader for fixtures and a writer for --pcap-dir.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
export const LINKTYPE_ETHERNET = 1;

export interface PcapRecord {
  /** Seconds since the epoch, with fraction. */
  time: number;
  frame: Buffer;
  /** Length on the wire (>= frame.length when the capture was cut by the snap length). */
  origLen: number;
}

export function readPcap(path: string): PcapRecord[] {
  return parsePcap(readFileSync(path), path);
}

export function parsePcap(b: Buffer, name = 'pcap'): PcapRecord[] {
  if (b.length < 24) throw new Error(`${name}: not a pcap file (too short)`);
  let le: boolean;
  let nano: boolean;
  const m = b.readUInt32LE(0);
  if (m === MAGIC_US || m === MAGIC_NS) { le = true; nano = m === MAGIC_NS; }
  else if (b.readUInt32BE(0) === MAGIC_US || b.readUInt32BE(0) === MAGIC_NS) { le = false; nano = b.readUInt32BE(0) === MAGIC_NS; }
  else throw new Error(`${name}: not a pcap file (bad magic)`);
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (u32(20) !== LINKTYPE_ETHERNET) throw new Error(`${name}: link type ${u32(20)} is not Ethernet`);
  const out: PcapRecord[] = [];
  let o = 24;
  while (o + 16 <= b.length) {
    const sec = u32(o), frac = u32(o + 4), incl = u32(o + 8), orig = u32(o + 12);
    if (o + 16 + incl > b.length) throw new Error(`${name}: record at byte ${o} is truncated`);
    out.push({ time: sec + frac / (nano ? 1e9 : 1e6), frame: Buffer.from(b.subarray(o + 16, o + 16 + incl)), origLen: orig });
    o += 16 + incl;
  }
  return out;
}

export function encodePcap(records: { frame: Uint8Array; time?: number }[]): Buffer {
  const parts: Buffer[] = [globalHeader()];
  for (const r of records) parts.push(recordHeader(r.time ?? 0, r.frame.length), Buffer.from(r.frame));
  return Buffer.concat(parts);
}

function globalHeader(): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(MAGIC_US, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  return h;
}

function recordHeader(time: number, len: number): Buffer {
  const h = Buffer.alloc(16);
  const us = Math.round(time * 1e6); // rounded: 1.001 s is 1 s + 1000 µs, not 999
  h.writeUInt32LE(Math.floor(us / 1e6), 0);
  h.writeUInt32LE(us % 1e6, 4);
  h.writeUInt32LE(len, 8);
  h.writeUInt32LE(len, 12);
  return h;
}

/** Appends frames to a pcap file as they pass (synchronous writes: called off the fast path only when enabled). */
export class PcapWriter {
  private fd: number;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, globalHeader());
  }

  write(frame: Uint8Array, len: number, time = Date.now() / 1000): void {
    if (this.fd < 0) return;
    writeSync(this.fd, recordHeader(time, len));
    writeSync(this.fd, frame, 0, len);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
