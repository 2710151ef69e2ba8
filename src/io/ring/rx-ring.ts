/**
 * One AF_PACKET receive socket with an mmap'd TPACKET_V2 ring and PACKET_VNET_HDR
 * (Documentation/networking/packet_mmap.rst; net/packet/af_packet.c tpacket_rcv). Frames
 * are read in place: the handler gets a view of the ring slot, valid until release().
 * V2 rather than V3: a V3 block is handed over only when it fills or its timer (>= 1 ms)
 * retires it, which delays frames at light load.
 */
import type { Libc } from './libc.js';
import { compileFilter } from './bpf-compile.js';
import * as L from './layout.js';
import { offloadFromVnet } from './vnet.js';

/** Slot size: holds a 64 KiB GSO frame after the ring headers (macoff 76 + 65549). */
export const RING_FRAME_SIZE = 69632; // 17 pages
const FRAMES_PER_BLOCK = 15; // 255 pages: one order-8 allocation wastes a single page

export class RingError extends Error {}

export type FrameHandler = (frame: Uint8Array, len: number, offload: number) => void;

export class RxRing {
  readonly fd: number;
  readonly addr: number;
  readonly ring: Uint8Array;
  frames = 0;
  private readonly c: Libc;
  private readonly name: string;
  private readonly u32: Uint32Array;
  private readonly frameNr: number;
  private readonly slotOff: Int32Array;
  private readonly slotViews: Uint8Array[];
  private readonly macOff = L.expectedMacOffset();
  private head = 0;
  /** Slots handed to the handler since the last release(). */
  private held = 0;
  private readonly copyBuf = new Uint8Array(RING_FRAME_SIZE);

  constructor(c: Libc, name: string, ifindex: number, filter: string, frames: number) {
    this.c = c;
    this.name = name;
    const blocks = Math.max(1, Math.ceil(frames / FRAMES_PER_BLOCK));
    this.frameNr = blocks * FRAMES_PER_BLOCK;
    const blockSize = RING_FRAME_SIZE * FRAMES_PER_BLOCK;
    const len = blockSize * blocks;
    // Protocol 0 receives nothing until bind(), so no frame passes before the filter is on.
    const fd = c.socket(L.AF_PACKET, L.SOCK_RAW | L.SOCK_CLOEXEC | L.SOCK_NONBLOCK, 0);
    if (fd < 0) throw sysError(c, 'socket(AF_PACKET)', name);
    this.fd = fd;
    try {
      setInt(c, fd, L.SOL_PACKET, L.PACKET_VNET_HDR, 1, 'PACKET_VNET_HDR', name); // before the ring: EBUSY after
      setInt(c, fd, L.SOL_PACKET, L.PACKET_VERSION, L.TPACKET_V2, 'PACKET_VERSION', name);
      this.attach(filter);
      // Our own transmissions and the host's never reach the ring (Linux >= 4.20).
      setInt(c, fd, L.SOL_PACKET, L.PACKET_IGNORE_OUTGOING, 1, 'PACKET_IGNORE_OUTGOING', name);
      const req = L.tpacketReq(blockSize, blocks, RING_FRAME_SIZE, this.frameNr);
      if (c.setsockopt(fd, L.SOL_PACKET, L.PACKET_RX_RING, req, req.length) !== 0) throw sysError(c, 'PACKET_RX_RING', name);
      const addr = c.mmap(0, len, L.PROT_READ | L.PROT_WRITE, L.MAP_SHARED, fd, 0);
      if (addr === -1) throw sysError(c, 'mmap(ring)', name);
      this.addr = addr;
      const ab = c.view(addr, len);
      this.ring = new Uint8Array(ab);
      this.u32 = new Uint32Array(ab);
      this.slotOff = new Int32Array(this.frameNr);
      this.slotViews = [];
      for (let i = 0; i < this.frameNr; i++) {
        const off = Math.floor(i / FRAMES_PER_BLOCK) * blockSize + (i % FRAMES_PER_BLOCK) * RING_FRAME_SIZE;
        this.slotOff[i] = off;
        this.slotViews.push(new Uint8Array(ab, off + this.macOff, RING_FRAME_SIZE - this.macOff));
      }
      if (c.bind(fd, L.sockaddrLl(L.ETH_P_ALL, ifindex), L.SOCKADDR_LL_SIZE) !== 0) throw sysError(c, 'bind', name);
    } catch (err) {
      c.close(fd);
      throw err;
    }
  }

  /** Compile and attach a classic BPF filter (replaces the previous one atomically). */
  attach(filter: string): void {
    const insns = compileFilter(filter);
    this.attachProgram(L.SOL_SOCKET, L.SO_ATTACH_FILTER, insns, 'SO_ATTACH_FILTER');
  }

  /**
   * Join fanout group `group` with a classic BPF program that returns the member index
   * (fanout_demux_bpf: the result modulo the number of members picks the socket).
   */
  joinFanout(group: number, program: Buffer): void {
    setInt(this.c, this.fd, L.SOL_PACKET, L.PACKET_FANOUT, L.fanoutArg(group, L.PACKET_FANOUT_CBPF), 'PACKET_FANOUT', this.name);
    this.setFanoutProgram(program);
  }

  /** Replace the group's program (any member may, PACKET_FANOUT_DATA). */
  setFanoutProgram(program: Buffer): void {
    this.attachProgram(L.SOL_PACKET, L.PACKET_FANOUT_DATA, program, 'PACKET_FANOUT_DATA');
  }

  private attachProgram(level: number, opt: number, insns: Buffer, what: string): void {
    // insns stays referenced during the call; the kernel copies the program (sk_attach_filter).
    const fprog = L.sockFprog(insns.length / L.SOCK_FILTER_SIZE, this.c.addressOf(insns));
    if (this.c.setsockopt(this.fd, level, opt, fprog, fprog.length) !== 0) throw sysError(this.c, what, this.name);
  }

  /** True when the next slot holds a frame. */
  ready(): boolean {
    return (this.u32[this.slotOff[this.head]! >> 2]! & L.TP_STATUS_USER) !== 0;
  }

  /** Hand up to `budget` ready frames to h; returns how many. Slots stay ours until release(). */
  drain(h: FrameHandler, budget: number): number {
    const u32 = this.u32;
    const ring = this.ring;
    let n = 0;
    while (n < budget && this.held < this.frameNr) {
      const i = this.head;
      const off = this.slotOff[i]!;
      if ((u32[off >> 2]! & L.TP_STATUS_USER) === 0) break;
      // A frame cut by the slot (tp_len above tp_snaplen) reaches the engine as it is:
      // its IP length check drops it as ip_truncated.
      const len = u32[(off + L.TP2.snaplen) >> 2]!;
      const mac = ring[off + L.TP2.mac]! | (ring[off + L.TP2.mac + 1]! << 8);
      const offload = offloadFromVnet(ring, off + mac - L.VNET_HDR_LEN);
      this.head = i + 1 === this.frameNr ? 0 : i + 1;
      this.held++;
      n++;
      if (mac === this.macOff) {
        h(this.slotViews[i]!, len, offload);
      } else {
        // Another link-layer length (e.g. an in-band VLAN tag): copy, rare.
        const cb = this.copyBuf;
        const l = Math.min(len, cb.length);
        cb.set(ring.subarray(off + mac, off + mac + l), 0);
        h(cb, l, offload);
      }
    }
    this.frames += n;
    return n;
  }

  /** Give the slots of the last drains back to the kernel. */
  release(): void {
    let k = this.head;
    const u32 = this.u32;
    for (let n = this.held; n > 0; n--) {
      k = k === 0 ? this.frameNr - 1 : k - 1;
      u32[this.slotOff[k]! >> 2] = L.TP_STATUS_KERNEL;
    }
    this.held = 0;
  }

  /** Frames the kernel dropped for a full ring since the last call (the read clears them). */
  readDrops(): number {
    const b = Buffer.alloc(L.TPACKET_STATS_SIZE);
    const l = Buffer.alloc(4);
    l.writeUInt32LE(L.TPACKET_STATS_SIZE, 0);
    return this.c.getsockopt(this.fd, L.SOL_PACKET, L.PACKET_STATISTICS, b, l) === 0 ? b.readUInt32LE(4) : 0;
  }

  close(): void {
    this.c.close(this.fd);
    // The mapping stays: a view handed out earlier must never point at unmapped memory.
  }
}

export function sysError(c: Libc, what: string, name: string): RingError {
  return new RingError(`${what} on ${name}: ${c.strerror(c.errno())}`);
}

export function setInt(c: Libc, fd: number, level: number, opt: number, v: number, what: string, name: string): void {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  if (c.setsockopt(fd, level, opt, b, 4) !== 0) throw sysError(c, what, name);
}
