/**
 * A PacketPort over an AF_PACKET socket with an mmap'd TPACKET_V2 receive ring and a
 * second socket for batched transmit (sendmmsg), both with PACKET_VNET_HDR so that every
 * frame keeps its offload state: partial checksums and GSO super-frames pass through as
 * the kernel forwards them (Documentation/networking/packet_mmap.rst; net/packet/af_packet.c
 * tpacket_rcv, packet_snd). V2 rather than V3: a V3 block is handed over only when it
 * fills or its timer (>= 1 ms) retires it, which delays frames at light load.
 *
 * Frames are read in place: the handler gets a view of the ring slot. A frame the engine
 * emits in place is sent from the slot itself (an iovec pointing at vnet header + frame);
 * slots are given back to the kernel only after the batch that may point into them is
 * sent (RingDriver orders this). Other frames are copied into a staging area.
 */
import type { PacketPort } from '../port.js';
import { libc, type Libc } from './libc.js';
import { compileFilter } from './bpf-compile.js';
import * as L from './layout.js';
import { offloadFromVnet, writeVnet } from './vnet.js';
import { OFL_CSUM_PARTIAL } from '../../packet/offload.js';

/** Slot size: holds a 64 KiB GSO frame after the ring headers (macoff 76 + 65549). */
export const RING_FRAME_SIZE = 69632; // 17 pages
const FRAMES_PER_BLOCK = 15; // 255 pages: one order-8 allocation wastes a single page
export const DEFAULT_RING_FRAMES = 510;
/** Frames per sendmmsg() call, and staging slots for frames that are not in a ring. */
const TX_BATCH = 256;
const STAGE_SLOT = 2048;
const STAGE_SLOTS = 128;

export class RingError extends Error {}

/** Every open ring, so a port can tell whether a frame lies in some port's ring. */
const rings: RingPort[] = [];

export type FrameHandler = (frame: Uint8Array, len: number, offload: number) => void;

export class RingPort implements PacketPort {
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly ifindex: number;
  txErrors = 0;
  lastTxError = '';
  /** Frames received, and how many of them were partial / GSO. */
  rxFrames = 0;
  /** Frames the kernel dropped because the ring was full (PACKET_STATISTICS, accumulated). */
  kernelDrops = 0;
  readonly rxFd: number;
  private readonly txFd: number;
  private readonly c: Libc;
  // RX ring
  private readonly ringAddr: number;
  private readonly ringLen: number;
  readonly ring: Uint8Array;
  private readonly ringU32: Uint32Array;
  private readonly frameNr: number;
  private readonly slotOff: Int32Array;
  private readonly slotViews: Uint8Array[];
  private readonly macOff = L.expectedMacOffset();
  private head = 0;
  /** Slots handed to the handler in this cycle, not yet given back. */
  private held = 0;
  private readonly copyBuf = new Uint8Array(RING_FRAME_SIZE);
  // TX
  private readonly txAddr: number;
  private readonly txLen: number;
  private readonly tx: Uint8Array;
  private readonly txU32: Uint32Array;
  private readonly iovBase: number;
  private readonly stageBase: number;
  private txCount = 0;
  private stageUsed = 0;
  private handler: FrameHandler | null = null;
  /** Set by the driver while it runs a cycle: sends are then batched until flush(). */
  inCycle = false;
  private closed = false;

  constructor(name: string, mac: Uint8Array, mtu: number, filter: string, frames = DEFAULT_RING_FRAMES) {
    const c = libc();
    if (c === null) throw new RingError('the ring backend needs koffi (npm ci) and libc');
    this.c = c;
    this.name = name;
    this.mac = mac;
    this.mtu = mtu;
    this.ifindex = c.ifNameToIndex(name);
    if (this.ifindex === 0) throw new RingError(`interface '${name}' does not exist`);
    const blocks = Math.max(1, Math.ceil(frames / FRAMES_PER_BLOCK));
    this.frameNr = blocks * FRAMES_PER_BLOCK;
    const blockSize = RING_FRAME_SIZE * FRAMES_PER_BLOCK;
    this.ringLen = blockSize * blocks;

    // RX: protocol 0 receives nothing until bind(), so no frame passes before the filter is on.
    const fd = c.socket(L.AF_PACKET, L.SOCK_RAW | L.SOCK_CLOEXEC | L.SOCK_NONBLOCK, 0);
    if (fd < 0) throw this.sysError('socket(AF_PACKET)');
    this.rxFd = fd;
    let txFd = -1;
    try {
      this.setInt(fd, L.SOL_PACKET, L.PACKET_VNET_HDR, 1, 'PACKET_VNET_HDR'); // before the ring: EBUSY after
      this.setInt(fd, L.SOL_PACKET, L.PACKET_VERSION, L.TPACKET_V2, 'PACKET_VERSION');
      this.attach(fd, filter);
      // Our own transmissions and the host's never reach the ring (Linux >= 4.20).
      this.setInt(fd, L.SOL_PACKET, L.PACKET_IGNORE_OUTGOING, 1, 'PACKET_IGNORE_OUTGOING');
      const req = L.tpacketReq(blockSize, blocks, RING_FRAME_SIZE, this.frameNr);
      if (c.setsockopt(fd, L.SOL_PACKET, L.PACKET_RX_RING, req, req.length) !== 0) throw this.sysError('PACKET_RX_RING');
      const addr = c.mmap(0, this.ringLen, L.PROT_READ | L.PROT_WRITE, L.MAP_SHARED, fd, 0);
      if (addr === -1) throw this.sysError('mmap(ring)');
      this.ringAddr = addr;
      const ab = c.view(addr, this.ringLen);
      this.ring = new Uint8Array(ab);
      this.ringU32 = new Uint32Array(ab);
      this.slotOff = new Int32Array(this.frameNr);
      this.slotViews = [];
      for (let i = 0; i < this.frameNr; i++) {
        const off = Math.floor(i / FRAMES_PER_BLOCK) * blockSize + (i % FRAMES_PER_BLOCK) * RING_FRAME_SIZE;
        this.slotOff[i] = off;
        this.slotViews.push(new Uint8Array(ab, off + this.macOff, RING_FRAME_SIZE - this.macOff));
      }
      if (c.bind(fd, L.sockaddrLl(L.ETH_P_ALL, this.ifindex), L.SOCKADDR_LL_SIZE) !== 0) throw this.sysError(`bind(${name})`);

      // TX: its own socket (a socket with a ring does not send plain sendmmsg batches),
      // protocol 0 so it receives nothing; the kernel takes the EtherType from each frame.
      txFd = c.socket(L.AF_PACKET, L.SOCK_RAW | L.SOCK_CLOEXEC | L.SOCK_NONBLOCK, 0);
      if (txFd < 0) throw this.sysError('socket(AF_PACKET) for transmit');
      this.setInt(txFd, L.SOL_PACKET, L.PACKET_VNET_HDR, 1, 'PACKET_VNET_HDR (tx)');
      this.setInt(txFd, L.SOL_SOCKET, L.SO_SNDBUF, 4 << 20, 'SO_SNDBUF');
      if (c.bind(txFd, L.sockaddrLl(0, this.ifindex), L.SOCKADDR_LL_SIZE) !== 0) throw this.sysError(`bind(${name}) for transmit`);
      this.txFd = txFd;
      // mmsghdr[TX_BATCH] | iovec[TX_BATCH] | staging slots [vnet hdr + frame]
      this.txLen = TX_BATCH * (L.MMSG.size + L.IOVEC_SIZE) + STAGE_SLOTS * STAGE_SLOT;
      const txAddr = c.mmap(0, this.txLen, L.PROT_READ | L.PROT_WRITE, L.MAP_PRIVATE | L.MAP_ANONYMOUS, -1, 0);
      if (txAddr === -1) throw this.sysError('mmap(tx)');
      this.txAddr = txAddr;
      const tab = c.view(txAddr, this.txLen);
      this.tx = new Uint8Array(tab);
      this.txU32 = new Uint32Array(tab);
      this.iovBase = TX_BATCH * L.MMSG.size;
      this.stageBase = this.iovBase + TX_BATCH * L.IOVEC_SIZE;
      for (let i = 0; i < TX_BATCH; i++) {
        const m = i * L.MMSG.size;
        this.putAddr(this.txU32, (m + L.MMSG.iov) >> 2, txAddr + this.iovBase + i * L.IOVEC_SIZE);
        this.txU32[(m + L.MMSG.iovlen) >> 2] = 1;
      }
    } catch (err) {
      c.close(fd);
      if (txFd >= 0) c.close(txFd);
      throw err;
    }
    rings.push(this);
  }

  private sysError(what: string): RingError {
    const e = this.c.errno();
    return new RingError(`${what} on ${this.name}: ${this.c.strerror(e)}`);
  }

  private setInt(fd: number, level: number, opt: number, v: number, what: string): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v, 0);
    if (this.c.setsockopt(fd, level, opt, b, 4) !== 0) throw this.sysError(what);
  }

  /** Compile and attach a classic BPF filter (replaces the previous one atomically). */
  private attach(fd: number, filter: string): void {
    const insns = compileFilter(filter);
    // insns stays referenced during the call; the kernel copies the program (sk_attach_filter).
    const fprog = L.sockFprog(insns.length / L.SOCK_FILTER_SIZE, this.c.addressOf(insns));
    if (this.c.setsockopt(fd, L.SOL_SOCKET, L.SO_ATTACH_FILTER, fprog, fprog.length) !== 0) throw this.sysError('SO_ATTACH_FILTER');
  }

  private putAddr(u32: Uint32Array, idx: number, addr: number): void {
    u32[idx] = addr % 0x100000000;
    u32[idx + 1] = Math.floor(addr / 0x100000000);
  }

  /** Frames are handed to the handler by drain(), which the RingDriver calls. */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
  }

  /** True when the next ring slot holds a frame. */
  ready(): boolean {
    return (this.ringU32[this.slotOff[this.head]! >> 2]! & L.TP_STATUS_USER) !== 0;
  }

  /**
   * Hand up to `budget` ready frames to the handler; returns how many. The slots stay
   * ours until release(): a frame sent in place is read from its slot by sendmmsg.
   */
  drain(budget: number): number {
    const h = this.handler;
    const u32 = this.ringU32;
    let n = 0;
    while (n < budget && this.held < this.frameNr) {
      const i = this.head;
      const off = this.slotOff[i]!;
      const status = u32[off >> 2]!;
      if ((status & L.TP_STATUS_USER) === 0) break;
      const len = u32[(off + L.TP2.snaplen) >> 2]!;
      const mac = this.ring[off + L.TP2.mac]! | (this.ring[off + L.TP2.mac + 1]! << 8);
      const offload = offloadFromVnet(this.ring, off + mac - L.VNET_HDR_LEN);
      this.head = i + 1 === this.frameNr ? 0 : i + 1;
      this.held++;
      n++;
      this.rxFrames++;
      if (h === null) continue;
      // A frame cut by the slot (tp_len above tp_snaplen) reaches the engine as it is:
      // its IP length check drops it as ip_truncated.
      if (mac === this.macOff) {
        h(this.slotViews[i]!, len, offload);
      } else {
        // Another link-layer length (e.g. an in-band VLAN tag): copy, rare.
        const cb = this.copyBuf;
        const l = Math.min(len, cb.length);
        cb.set(this.ring.subarray(off + mac, off + mac + l), 0);
        h(cb, l, offload);
      }
    }
    return n;
  }

  /** Give the slots of the last drain back to the kernel (after the TX batch went out). */
  release(): void {
    let k = this.head;
    const u32 = this.ringU32;
    for (let n = this.held; n > 0; n--) {
      k = k === 0 ? this.frameNr - 1 : k - 1;
      u32[this.slotOff[k]! >> 2] = L.TP_STATUS_KERNEL;
    }
    this.held = 0;
  }

  /**
   * Queue a frame. A frame lying in a ring (any port's) goes out from there with the vnet
   * header the kernel wrote before it; any other frame is copied to staging, with a vnet
   * header made from `offload` (all zero when offload < 0: a complete frame).
   */
  send(frame: Uint8Array, len: number, offload = -1): boolean {
    if (this.closed) return false;
    if (this.txCount === TX_BATCH) this.flush();
    const buf = frame.buffer;
    for (let r = 0; r < rings.length; r++) {
      const p = rings[r]!;
      if (p.ring.buffer === buf) {
        this.queue(p.ringAddr + frame.byteOffset - L.VNET_HDR_LEN, len + L.VNET_HDR_LEN);
        if (!this.inCycle) this.flush();
        return true;
      }
    }
    if (len + L.VNET_HDR_LEN > STAGE_SLOT || this.stageUsed === STAGE_SLOTS) return this.sendDirect(frame, len, offload);
    const s = this.stageBase + this.stageUsed++ * STAGE_SLOT;
    this.tx.set(frame.subarray(0, len), s + L.VNET_HDR_LEN);
    this.vnetFor(this.tx, s, s + L.VNET_HDR_LEN, len, offload);
    this.queue(this.txAddr + s, len + L.VNET_HDR_LEN);
    if (!this.inCycle) this.flush();
    return true;
  }

  private vnetFor(b: Uint8Array, o: number, f: number, len: number, offload: number): void {
    if (offload < 0 || !(offload & OFL_CSUM_PARTIAL) || len < 34) {
      b.fill(0, o, o + L.VNET_HDR_LEN);
      return;
    }
    const l3 = 14;
    const l4 = l3 + ((b[f + l3]! & 0x0f) << 2);
    const isUdp = b[f + l3 + 9] === 17;
    const l4h = isUdp ? 8 : (b[f + l4 + 12]! >>> 4) << 2;
    writeVnet(b, o, offload, l4, isUdp, l4h);
  }

  /** A frame too large for staging (rare): one sendto from a Buffer of its own. */
  private sendDirect(frame: Uint8Array, len: number, offload: number): boolean {
    const b = Buffer.alloc(len + L.VNET_HDR_LEN);
    b.set(frame.subarray(0, len), L.VNET_HDR_LEN);
    this.vnetFor(b, 0, L.VNET_HDR_LEN, len, offload);
    if (this.c.sendto(this.txFd, b, b.length, L.MSG_DONTWAIT, null, 0) < 0) {
      this.txError();
      return false;
    }
    return true;
  }

  private queue(addr: number, len: number): void {
    const iov = (this.iovBase + this.txCount * L.IOVEC_SIZE) >> 2;
    this.putAddr(this.txU32, iov, addr);
    this.txU32[iov + 2] = len;
    this.txU32[iov + 3] = 0;
    this.txCount++;
  }

  /** Send the queued batch: one sendmmsg() call, more only if the kernel takes part of it. */
  flush(): void {
    let i = 0;
    const n = this.txCount;
    while (i < n) {
      const sent = this.c.sendmmsg(this.txFd, this.txAddr + i * L.MMSG.size, n - i, L.MSG_DONTWAIT);
      if (sent > 0) {
        i += sent;
        continue;
      }
      // The message at i failed (EMSGSIZE, ENOBUFS, EINVAL for a bad vnet header...): count it, go on.
      this.txError();
      i++;
    }
    this.txCount = 0;
    this.stageUsed = 0;
  }

  private txError(): void {
    this.txErrors++;
    const e = this.c.errno();
    if (this.txErrors <= 1 || this.txErrors % 1000 === 0) this.lastTxError = this.c.strerror(e);
  }

  setFilter(filter: string): void {
    if (!this.closed) this.attach(this.rxFd, filter);
  }

  /** Frames the kernel dropped for a full ring since the last call (read clears them). */
  readDrops(): number {
    const b = Buffer.alloc(L.TPACKET_STATS_SIZE);
    const l = Buffer.alloc(4);
    l.writeUInt32LE(L.TPACKET_STATS_SIZE, 0);
    if (this.c.getsockopt(this.rxFd, L.SOL_PACKET, L.PACKET_STATISTICS, b, l) === 0) this.kernelDrops += b.readUInt32LE(4);
    return this.kernelDrops;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const k = rings.indexOf(this);
    if (k >= 0) rings.splice(k, 1);
    this.c.close(this.rxFd);
    this.c.close(this.txFd);
    // The mappings stay: a view handed out earlier must never point at unmapped memory,
    // and the process is about to exit (or the port is replaced once per reload).
  }
}
