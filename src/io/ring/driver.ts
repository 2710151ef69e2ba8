/**
 * Runs the receive side of a set of RingPorts on the event loop. While frames are ready it
 * drains them in cycles (each port up to BUDGET frames, then every port's TX batch is sent,
 * then the RX slots are given back: a frame sent in place must still be in its slot when
 * sendmmsg reads it). After MAX_CYCLES cycles in a row it yields with setImmediate so that
 * timers, health checks, VRRP and the control socket keep running under a flood. When the
 * rings are empty it waits in poll() on a koffi worker thread, never on the event loop.
 */
import { libc, mapAnonymous, type Libc } from './libc.js';
import * as L from './layout.js';
import type { RingPort } from './ring-port.js';

const BUDGET = 64;
const MAX_CYCLES = 16;
const POLL_TIMEOUT_MS = 200;

export class RingDriver {
  private readonly ports: RingPort[];
  private readonly c: Libc;
  private readonly pollAddr: number;
  private readonly pollMem: Uint8Array;
  private readonly nfds: number;
  private running = false;
  private waiting = false;
  private readonly beforeCycle: () => void;
  private readonly afterCycle: () => void;
  private readonly onPoll: (err: unknown, n: number) => void;
  private readonly onTurn: () => void;
  /** Wake-ups from poll() and cycles run: how the load looked (printed by the report). */
  wakeups = 0;
  cycles = 0;
  yields = 0;

  constructor(ports: RingPort[], beforeCycle: () => void, afterCycle: () => void = () => {}) {
    const c = libc();
    if (c === null) throw new Error('ring driver without libc');
    this.c = c;
    this.ports = ports;
    this.beforeCycle = beforeCycle;
    this.afterCycle = afterCycle;
    const { addr, mem } = mapAnonymous(c, 4096, 'pollfd');
    this.pollAddr = addr;
    this.pollMem = new Uint8Array(mem);
    const dv = new DataView(this.pollMem.buffer);
    const fds = ports.flatMap((p) => p.rxFds());
    this.nfds = fds.length;
    fds.forEach((fd, i) => {
      dv.setInt32(i * L.POLLFD.size + L.POLLFD.fd, fd, true);
      dv.setInt16(i * L.POLLFD.size + L.POLLFD.events, L.POLLIN, true);
    });
    this.onPoll = () => {
      this.waiting = false;
      this.wakeups++;
      this.turn();
    };
    this.onTurn = () => this.turn();
  }

  start(): void {
    this.running = true;
    this.turn();
  }

  stop(): void {
    this.running = false;
  }

  /** One drain cycle over every port; returns the frames handled. */
  cycle(): number {
    const ports = this.ports;
    this.beforeCycle();
    for (let i = 0; i < ports.length; i++) ports[i]!.inCycle = true;
    let n = 0;
    for (let i = 0; i < ports.length; i++) n += ports[i]!.drain(BUDGET);
    this.afterCycle();
    for (let i = 0; i < ports.length; i++) ports[i]!.flush();
    for (let i = 0; i < ports.length; i++) {
      ports[i]!.release();
      ports[i]!.inCycle = false;
    }
    this.cycles++;
    return n;
  }

  private turn(): void {
    if (!this.running) return;
    for (let k = 0; k < MAX_CYCLES; k++) {
      if (this.cycle() === 0) {
        this.wait();
        return;
      }
    }
    this.yields++;
    setImmediate(this.onTurn);
  }

  private wait(): void {
    if (this.waiting || !this.running) return;
    for (const p of this.ports) {
      if (p.ready()) {
        setImmediate(this.onTurn);
        return;
      }
    }
    this.waiting = true;
    this.c.pollAsync(this.pollAddr, this.nfds, POLL_TIMEOUT_MS, this.onPoll);
  }
}
