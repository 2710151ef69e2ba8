/**
 * The doctor's timers and I/O: once a second it observes the engine and logs what
 * PathDoctor finds; before explaining a NAT server that never answers it tries a TCP
 * connection of its own to the server (alive but silent through us = a return-path
 * problem); every few seconds it asks "who-has VIP" on the interfaces of DR services,
 * so a real server that answers ARP for the VIP shows up even before a router is fooled.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Engine } from '../dataplane/engine.js';
import { arpRequest } from '../dataplane/frames.js';
import { formatIPv4 } from '../packet/addr.js';
import { PathDoctor, type DoctorConfig } from './doctor.js';
import { describe, type ProbeResult } from './messages.js';
import { observe, observeDests } from './observe.js';
import { FWD_DR } from '../lvs/fwd.js';
import type { Finding } from './types.js';

export interface DoctorPort {
  send(frame: Buffer, len: number): unknown;
}

export interface DoctorRuntime {
  engine: Engine;
  ports: readonly DoctorPort[];
}

export interface DoctorOptions {
  intervalMs?: number;
  /** 0 = no active ARP probes for the VIPs of DR services. */
  arpProbeEveryMs?: number;
  probeTimeoutMs?: number;
  config?: Partial<DoctorConfig>;
  /** Replaceable for tests. */
  probe?: (addr: string, port: number, timeoutMs: number) => Promise<ProbeResult>;
}

/** A TCP connection from the director itself: does the server answer us directly? */
export function tcpProbe(addr: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host: addr, port });
    const done = (r: ProbeResult) => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    s.once('connect', () => done('open'));
    s.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'timeout'));
  });
}

export class DoctorRunner {
  readonly doctor: PathDoctor;
  private readonly rt: DoctorRuntime;
  private readonly log: (s: string) => void;
  private readonly opts: Required<Omit<DoctorOptions, 'config'>>;
  private timer: NodeJS.Timeout | null = null;
  private lastArpProbe = -Infinity;
  private stopped = false;

  constructor(rt: DoctorRuntime, log: (s: string) => void, opts: DoctorOptions = {}) {
    this.rt = rt;
    this.log = log;
    this.doctor = new PathDoctor(opts.config);
    this.opts = {
      intervalMs: opts.intervalMs ?? 1000,
      arpProbeEveryMs: opts.arpProbeEveryMs ?? 5000,
      probeTimeoutMs: opts.probeTimeoutMs ?? 1000,
      probe: opts.probe ?? tcpProbe,
    };
  }

  start(): this {
    // A first sample now: traffic right after start-up must fall inside the first window.
    this.tick(performance.now());
    this.timer = setInterval(() => this.tick(performance.now()), this.opts.intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One round (public for tests): observe, report, maybe probe ARP. */
  tick(now: number): Finding[] {
    const e = this.rt.engine;
    const dests = observeDests(e);
    const scan = this.doctor.wantsHandshakeScan(dests);
    const findings = this.doctor.observe(observe(e, now, dests, scan));
    for (const f of findings) this.report(f, f.kind === 'nat-no-replies' ? (dests.find((d) => d.id === f.dest.id)?.mac ?? null) : null);
    if (this.opts.arpProbeEveryMs > 0 && now - this.lastArpProbe >= this.opts.arpProbeEveryMs) {
      this.lastArpProbe = now;
      this.probeVipArp();
    }
    return findings;
  }

  private report(f: Finding, mac: string | null): void {
    if (f.kind !== 'nat-no-replies') {
      this.log(describe(f));
      return;
    }
    const addr = formatIPv4(f.dest.addr);
    this.opts.probe(addr, f.dest.port, this.opts.probeTimeoutMs).then(
      (r) => { if (!this.stopped) this.log(describe(f, r, mac)); },
      () => { if (!this.stopped) this.log(describe(f, 'skipped', mac)); },
    );
  }

  /** who-has VIP from the director's own address, on every interface that serves a DR server of that VIP. */
  private probeVipArp(): void {
    const e = this.rt.engine;
    const sent = new Set<string>();
    for (const s of e.services) {
      for (const d of s.dests) {
        if (d.fwd !== FWD_DR) continue;
        const ifi = d.iface;
        const iface = e.ifaces[ifi];
        const key = `${s.addr}/${ifi}`;
        if (iface === undefined || iface.ip === 0 || sent.has(key)) continue;
        sent.add(key);
        const buf = Buffer.alloc(60);
        const len = arpRequest(buf, iface.mac, iface.ip, s.addr);
        this.rt.ports[ifi]?.send(buf, len);
      }
    }
  }
}
