/**
 * The engine the microbench drives: the fixture table's setup (fixtures/frames/engine.json:
 * seed-000 one-arm addresses, NAT VIP:80 -> 10.0.0.185:8080, DR VIP:443, tunnel VIP:8443,
 * full-NAT VIP:81, next-hop MACs known), its cases run once in order (which establishes the
 * NAT and DR flows), and the frames of the cases tagged `bench`: one established NAT flow
 * (both directions), one established DR flow, an ARP who-has for the VIP and a malformed
 * frame; plus a SYN of a new connection. All 60-byte frames.
 */
import type { Engine } from '../../src/dataplane/engine.js';
import { V_CONSUMED, V_DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import { parseIPv4 } from '../../src/packet/addr.js';
import { tcpFrame } from '../../src/packet/builder.js';
import * as tcp from '../../src/packet/tcp.js';
import {
  buildFixtureEngine, expectedResult, loadFixtureTable, runFixtureFrame, type FixtureCase, type FixtureEngine,
} from '../../test/helpers/run-fixture.js';

export const MAC = { lb: '02:00:00:00:00:02', router: '02:00:00:00:00:01' };
export const IP = { vip: '10.0.0.127', client: '198.51.100.10' };
export const VERDICT_NAMES = ['V_DROP', 'V_EMIT', 'V_CONSUMED'];
export { V_CONSUMED, V_DROP, V_EMIT };

export function ip(s: string): number {
  const n = parseIPv4(s);
  if (n === null) throw new Error(`bad address ${s}`);
  return n | 0;
}

const table = loadFixtureTable();
const fixtures = new WeakMap<Engine, FixtureEngine>();

/** An engine built from the fixture table's setup; capacity as given (the engine default is 2^20). */
export function benchEngine(maxConns = 1 << 20): Engine {
  const fx = buildFixtureEngine(table.setup, maxConns);
  fixtures.set(fx.engine, fx);
  return fx.engine;
}

const PAYLOAD = Buffer.from('abcdef'); // 14 + 20 + 20 + 6 = 60-byte frames

export function clientSegment(sport: number, dport: number, flags: number, client = IP.client): Buffer {
  return tcpFrame({ srcMac: MAC.router, dstMac: MAC.lb, src: client, dst: IP.vip, sport, dport, flags, seq: 1000, ack: 1, ttl: 64, payload: PAYLOAD });
}

export interface BenchFrames {
  /** client -> VIP:80, ESTABLISHED NAT flow (PSH|ACK). */
  natIn: Buffer;
  /** real server -> client, the same flow's return traffic. */
  natOut: Buffer;
  /** client -> VIP:443, ESTABLISHED DR flow. */
  drIn: Buffer;
  /** SYN client -> VIP:80 of a tuple with no entry (the case frees the entry after each op). */
  syn: Buffer;
  /** ARP who-has VIP from the router. */
  arpWhoHas: Buffer;
  /** client -> VIP:80 with a corrupt IP header checksum. */
  malformed: Buffer;
}

/** Run the fixture table's cases once (each must give its expected verdict) and take the bench frames. */
export function establishFlows(engine: Engine): BenchFrames {
  const fx = fixtures.get(engine);
  if (!fx) throw new Error('bench setup: the engine was not built by benchEngine');
  const tagged = new Map<NonNullable<FixtureCase['bench']>, Buffer>();
  for (const c of table.cases) {
    const got = runFixtureFrame(fx, Buffer.from(c.input, 'hex'), c.ingress, c.timeMs);
    const want = expectedResult(c);
    if (got.verdict !== want.verdict || got.drop !== want.drop) {
      throw new Error(`bench setup: fixture ${c.name} gave ${got.verdict} ${got.drop ?? ''}, expected ${want.verdict} ${want.drop ?? ''}`);
    }
    if (c.bench) tagged.set(c.bench, Buffer.from(c.input, 'hex'));
  }
  const frame = (k: NonNullable<FixtureCase['bench']>): Buffer => {
    const f = tagged.get(k);
    if (!f) throw new Error(`bench setup: no fixture case tagged ${k}`);
    return f;
  };
  return {
    natIn: frame('natIn'),
    natOut: frame('natOut'),
    drIn: frame('drIn'),
    syn: clientSegment(50000, 80, tcp.SYN, '198.51.100.20'),
    arpWhoHas: frame('arpWhoHas'),
    malformed: frame('malformed'),
  };
}

/**
 * Offsets of the bytes the engine changes in `frame` when it runs `op` (the union over
 * `rounds` runs, so every server rr picks is covered). The frame is left pristine.
 */
export function changedBytes(frame: Buffer, op: () => void, rounds = 8): Uint16Array {
  const pristine = Buffer.from(frame);
  const changed = new Set<number>();
  for (let r = 0; r < rounds; r++) {
    op();
    for (let i = 0; i < frame.length; i++) if (frame[i] !== pristine[i]) changed.add(i);
    frame.set(pristine);
  }
  return Uint16Array.from([...changed].sort((a, b) => a - b));
}
