/**
 * A PacketPort over AF_PACKET: a receive ring (rx-ring.ts) and a second socket for batched
 * transmit (sendmmsg), both with PACKET_VNET_HDR so that every frame keeps its offload
 * state: partial checksums and GSO super-frames pass through as the kernel forwards them
 * (net/packet/af_packet.c packet_snd completes the checksum and segments).
 *
 * A frame the engine emits in place is sent from its ring slot (an iovec pointing at vnet
 * header + frame); slots are given back to the kernel only after the batch that may point
 * into them was sent (RingDriver orders this). Other frames are copied into staging.
 *
 * With --workers on this backend the ports of all workers join one PACKET_FANOUT group whose
 * program (fanout-bpf.ts) splits the flows; ARP then comes through a small ring of its own
 * outside the group, since every worker needs the replies to learn its next hops (and
 * Neighbour Discovery too once IPv6 services exist: setNeighbourFilter).
 */
import type { PacketPort } from '../port.js';
import { libc, mapAnonymous, type Libc } from './libc.js';
import * as L from './layout.js';
import { vnetFor } from './vnet.js';
import { ND_FRAMES } from '../bpf.js';
import { RingError, RxRing, setInt, sysError, type FrameHandler } from './rx-ring.js';

export { RingError } from './rx-ring.js';
export const DEFAULT_RING_FRAMES = 510;
const ARP_RING_FRAMES = 15;
/** Frames per sendmmsg() call, and staging slots for frames that are not in a ring. */
const TX_BATCH = 256;
const STAGE_SLOT = 2048;
const STAGE_SLOTS = 128;

/** Every open ring, so a port can tell whether a frame lies in some port's ring. */
const rings: RxRing[] = [];

export interface FanoutJoin {
  group: number;
  program: Buffer;
}

export class RingPort implements PacketPort {
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly ifindex: number;
  txErrors = 0;
  lastTxError = '';
  readonly rx: RxRing;
  /** Fanout mode: ARP frames, received by every worker. */
  readonly arpRx: RxRing | null = null;
  private readonly txFd: number;
  private readonly c: Libc;
  private readonly txAddr: number;
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

  constructor(name: string, mac: Uint8Array, mtu: number, filter: string, frames = DEFAULT_RING_FRAMES, fanout: FanoutJoin | null = null) {
    const c = libc();
    if (c === null) throw new RingError('the ring backend needs koffi (npm ci) and libc');
    this.c = c;
    this.name = name;
    this.mac = mac;
    this.mtu = mtu;
    this.ifindex = c.ifNameToIndex(name);
    if (this.ifindex === 0) throw new RingError(`interface '${name}' does not exist`);
    this.rx = new RxRing(c, name, this.ifindex, filter, frames);
    let txFd = -1;
    try {
      if (fanout) {
        this.rx.joinFanout(fanout.group, fanout.program);
        this.arpRx = new RxRing(c, name, this.ifindex, neighbourFilter(mac, false), ARP_RING_FRAMES);
      }
      // TX: its own socket (a socket with a ring does not send plain sendmmsg batches),
      // protocol 0 so it receives nothing; the kernel takes the EtherType from each frame.
      txFd = c.socket(L.AF_PACKET, L.SOCK_RAW | L.SOCK_CLOEXEC | L.SOCK_NONBLOCK, 0);
      if (txFd < 0) throw sysError(c, 'socket(AF_PACKET) for transmit', name);
      setInt(c, txFd, L.SOL_PACKET, L.PACKET_VNET_HDR, 1, 'PACKET_VNET_HDR (tx)', name);
      setInt(c, txFd, L.SOL_SOCKET, L.SO_SNDBUF, 4 << 20, 'SO_SNDBUF', name);
      if (c.bind(txFd, L.sockaddrLl(0, this.ifindex), L.SOCKADDR_LL_SIZE) !== 0) throw sysError(c, 'bind for transmit', name);
      this.txFd = txFd;
      // mmsghdr[TX_BATCH] | iovec[TX_BATCH] | staging slots [vnet hdr + frame]
      const txLen = TX_BATCH * (L.MMSG.size + L.IOVEC_SIZE) + STAGE_SLOTS * STAGE_SLOT;
      const { addr: txAddr, mem: tab } = mapAnonymous(c, txLen, `tx on ${name}`);
      this.txAddr = txAddr;
      this.tx = new Uint8Array(tab);
      this.txU32 = new Uint32Array(tab);
      this.iovBase = TX_BATCH * L.MMSG.size;
      this.stageBase = this.iovBase + TX_BATCH * L.IOVEC_SIZE;
      for (let i = 0; i < TX_BATCH; i++) {
        const m = i * L.MMSG.size;
        putAddr(this.txU32, (m + L.MMSG.iov) >> 2, txAddr + this.iovBase + i * L.IOVEC_SIZE);
        this.txU32[(m + L.MMSG.iovlen) >> 2] = 1;
      }
    } catch (err) {
      this.rx.close();
      this.arpRx?.close();
      if (txFd >= 0) c.close(txFd);
      throw err;
    }
    rings.push(this.rx);
    if (this.arpRx) rings.push(this.arpRx);
  }

  /** Frames are handed to the handler by drain(), which the RingDriver calls. */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
  }

  /** The receive sockets, for poll(). */
  rxFds(): number[] {
    return this.arpRx ? [this.rx.fd, this.arpRx.fd] : [this.rx.fd];
  }

  ready(): boolean {
    return this.rx.ready() || (this.arpRx !== null && this.arpRx.ready());
  }

  /** Hand up to `budget` ready frames to the handler; the slots stay ours until release(). */
  drain(budget: number): number {
    const h = this.handler;
    if (h === null) return 0;
    let n = this.arpRx !== null ? this.arpRx.drain(h, budget) : 0;
    n += this.rx.drain(h, budget);
    return n;
  }

  release(): void {
    this.rx.release();
    this.arpRx?.release();
  }

  /** Frames the kernel dropped because a ring was full, since the port opened (PACKET_STATISTICS). */
  readDrops(): number {
    if (!this.closed) this.kernelDrops += this.rx.readDrops() + (this.arpRx?.readDrops() ?? 0);
    return this.kernelDrops;
  }

  private kernelDrops = 0;

  get rxFrames(): number {
    return this.rx.frames + (this.arpRx?.frames ?? 0);
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
      const ring = rings[r]!;
      if (ring.ring.buffer === buf) {
        this.queue(ring.addr + frame.byteOffset - L.VNET_HDR_LEN, len + L.VNET_HDR_LEN);
        if (!this.inCycle) this.flush();
        return true;
      }
    }
    if (len + L.VNET_HDR_LEN > STAGE_SLOT || this.stageUsed === STAGE_SLOTS) return this.sendDirect(frame, len, offload);
    const s = this.stageBase + this.stageUsed++ * STAGE_SLOT;
    this.tx.set(frame.subarray(0, len), s + L.VNET_HDR_LEN);
    vnetFor(this.tx, s, s + L.VNET_HDR_LEN, len, offload);
    this.queue(this.txAddr + s, len + L.VNET_HDR_LEN);
    if (!this.inCycle) this.flush();
    return true;
  }

  /** A frame too large for staging (rare): one sendto from a Buffer of its own. */
  private sendDirect(frame: Uint8Array, len: number, offload: number): boolean {
    const b = Buffer.alloc(len + L.VNET_HDR_LEN);
    b.set(frame.subarray(0, len), L.VNET_HDR_LEN);
    vnetFor(b, 0, L.VNET_HDR_LEN, len, offload);
    if (this.c.sendto(this.txFd, b, b.length, L.MSG_DONTWAIT, null, 0) < 0) {
      this.txError();
      return false;
    }
    return true;
  }

  private queue(addr: number, len: number): void {
    const iov = (this.iovBase + this.txCount * L.IOVEC_SIZE) >> 2;
    putAddr(this.txU32, iov, addr);
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
    if (this.txErrors <= 1 || this.txErrors % 1000 === 0) this.lastTxError = this.c.strerror(this.c.errno());
  }

  setFilter(filter: string): void {
    if (!this.closed) this.rx.attach(filter);
  }

  /** Fanout mode: the ARP ring also takes NS/NA (nd) or not; a no-op without fanout. */
  setNeighbourFilter(nd: boolean): void {
    if (this.closed || this.arpRx === null || this.nd === nd) return;
    this.arpRx.attach(neighbourFilter(this.mac, nd));
    this.nd = nd;
  }

  private nd = false;

  setFanoutProgram(program: Buffer): void {
    if (!this.closed) this.rx.setFanoutProgram(program);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of [this.rx, this.arpRx]) {
      if (!r) continue;
      const k = rings.indexOf(r);
      if (k >= 0) rings.splice(k, 1);
      r.close();
    }
    this.c.close(this.txFd);
  }
}

function putAddr(u32: Uint32Array, idx: number, addr: number): void {
  u32[idx] = addr % 0x100000000;
  u32[idx + 1] = Math.floor(addr / 0x100000000);
}

/** The ARP ring's filter: ARP, with nd also NS/NA (io/bpf.ts ND_FRAMES), never our own frames. */
export function neighbourFilter(mac: Uint8Array, nd: boolean): string {
  return `${nd ? `(arp or ${ND_FRAMES})` : 'arp'} and not ether src ${macText(mac)}`;
}

function macText(m: Uint8Array): string {
  return Array.from(m, (x) => x.toString(16).padStart(2, '0')).join(':');
}
