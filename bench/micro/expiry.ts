/**
 * Connection expiry, per entry: fill the engine with N new connections (SYNs spread over
 * one second, so they sit in ~10 wheel slots), then one Engine.tick() far enough ahead
 * that every entry's SYN_RECV timeout (60 s) has passed. The tick visits the slots,
 * expires each entry (ip_vs_conn_expire -> unbind, both index unlinks, free list) and is
 * timed as a whole; ns/entry = elapsed / N. benchmark.js cannot time this (its setup
 * runs once per cycle, not per op), so it is timed by hand: median of several rounds.
 */
import { performance } from 'node:perf_hooks';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import { benchEngine, clientSegment, V_EMIT } from './engine-setup.js';

export interface ExpiryResult {
  entries: number;
  rounds: number;
  nsPerEntry: number;
  /** ns per entry of every round, in order. */
  perRound: number[];
}

export function measureExpiry(entries = 100_000, rounds = 7): ExpiryResult {
  const engine = benchEngine(1 << 17);
  const pristine = clientSegment(1024, 80, tcp.SYN);
  const frame = Buffer.from(pristine);
  const perRound: number[] = [];
  let now = 1000;
  for (let r = 0; r < rounds; r++) {
    const start = now;
    for (let i = 0; i < entries; i++) {
      frame.set(pristine);
      // A distinct client per entry: 64512 ports per address, then the next address.
      frame[14 + 15] = 10 + Math.floor(i / 64512);
      frame[34] = (1024 + (i % 64512)) >>> 8;
      frame[35] = (1024 + (i % 64512)) & 0xff;
      ipv4.fillChecksum(frame, 14);
      if (engine.process(frame, frame.length, 0, start + (i * 1000) / entries) !== V_EMIT) throw new Error('expiry setup: SYN not forwarded');
    }
    if (engine.table.count !== entries) throw new Error(`expiry setup: ${engine.table.count} entries, expected ${entries}`);
    now = start + 1000 + 120_000;
    const t0 = performance.now();
    engine.tick(now);
    const elapsed = performance.now() - t0;
    if (engine.table.count !== 0) throw new Error(`expiry: ${engine.table.count} entries left after the tick`);
    perRound.push((elapsed * 1e6) / entries);
  }
  const sorted = [...perRound].sort((a, b) => a - b);
  return { entries, rounds, nsPerEntry: sorted[Math.floor(sorted.length / 2)]!, perRound };
}
