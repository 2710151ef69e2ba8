/**
 * --pcap-dir: what the engine received and what it sent, per interface, as classic
 * pcap files that tcpdump and Wireshark read. Three files per interface:
 *   <if>.in.pcap   frames handed to the engine (after the capture filter),
 *   <if>.out.pcap  frames the engine emitted on that interface,
 *   <if>.pcap      both, in the order they happened (the director's view of a flow).
 * Seed 002's lesson shows here: in NAT one connection passes twice with rewritten
 * addresses; in DR only the client's half ever reaches the director.
 * Frames are written synchronously while the capture buffer is still valid
 * (docs/packet-io.md pitfall 8); this costs syscalls, so it is a debugging aid.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PcapWriter } from './pcap-file.js';

export type TapDirection = 'in' | 'out';

interface IfaceFiles {
  in: PcapWriter;
  out: PcapWriter;
  both: PcapWriter;
}

export class PcapTap {
  readonly dir: string;
  readonly files: string[] = [];
  private readonly perIface: IfaceFiles[];
  private closed = false;
  /** Frames written, per direction (for the summary line). */
  frames = { in: 0, out: 0 };

  constructor(dir: string, ifaceNames: readonly string[]) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    this.perIface = ifaceNames.map((name) => {
      const open = (suffix: string) => {
        const file = path.join(dir, `${safeName(name)}${suffix}`);
        this.files.push(file);
        return new PcapWriter(file);
      };
      return { in: open('.in.pcap'), out: open('.out.pcap'), both: open('.pcap') };
    });
  }

  /** RuntimeHooks.tap: called for every frame seen and sent. */
  readonly tap = (ifi: number, dir: TapDirection, frame: Uint8Array, len: number): void => {
    if (this.closed) return;
    const f = this.perIface[ifi];
    if (f === undefined) return;
    // Microsecond wall-clock time: Date.now() alone would give ms steps.
    const time = (performance.timeOrigin + performance.now()) / 1000;
    f[dir].write(frame, len, time);
    f.both.write(frame, len, time);
    this.frames[dir]++;
  };

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.perIface) {
      f.in.close();
      f.out.close();
      f.both.close();
    }
  }
}

/** Interface names go into file names: keep them to a safe character set. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}
