/**
 * Per-packet cases of the microbench: one call of Engine.process per op, on frames that
 * are re-used. The engine rewrites frames in place, so each op first writes back only
 * the bytes the previous op changed (found by changedBytes); a matching "restore only"
 * case measures that write-back alone so it can be subtracted. Every op's verdict is
 * checked (a counter, read after the run), so a case cannot silently measure a drop.
 */
import type { Engine } from '../../src/dataplane/engine.js';
import { NONE } from '../../src/table/conn-table.js';
import { benchEngine, changedBytes, establishFlows, ip, IP, V_DROP, V_EMIT, VERDICT_NAMES } from './engine-setup.js';
import { OFL_KNOWN } from '../../src/packet/offload.js';

/**
 * The offload word each op passes: the ring backend (the default) reports every frame's
 * offload state (OFL_KNOWN, here a complete checksum and no GSO); pcap reports none (0),
 * and the engine then checks each TCP/UDP frame for a partial checksum itself.
 */
const RING = OFL_KNOWN;
const PCAP = 0;

export interface MicroCase {
  group: 'baseline' | 'engine' | 'engine6' | 'restore' | 'table' | 'sched' | 'packet6';
  name: string;
  fn: () => void;
  /** What one op does and includes. */
  note: string;
  /** Name of the restore-only case whose cost is included in this one. */
  restoreCase?: string;
  /** After the run: null when every op did what it should, else what went wrong. */
  check?: () => string | null;
}

/**
 * Time as the engine sees it. 'fraction': ms advancing by 0.75 µs per packet, a double
 * like the runtime's performance.now(). 'int': whole ms, +1 every 1024 packets.
 */
export type ClockMode = 'fraction' | 'int';

/** One clock per engine, shared by its cases, so time never goes back between cases. */
export interface Clock {
  mode: ClockMode;
  ms: Float64Array;
  /** [packets, whole ms] */
  ticks: Int32Array;
}

/** One process() per op, after restoring the changed bytes; counts verdicts other than `want`. */
export function engineOp(engine: Engine, frame: Buffer, offs: Uint16Array, want: number, clock: Clock, bad: Uint32Array, offload = RING): () => void {
  const pristine = Buffer.from(frame);
  const n = offs.length;
  const len = frame.length;
  if (clock.mode === 'fraction') {
    const now = clock.ms;
    return () => {
      for (let k = 0; k < n; k++) {
        const o = offs[k]!;
        frame[o] = pristine[o]!;
      }
      const t = (now[0] = now[0]! + 0.00075);
      if (engine.process(frame, len, 0, t, offload) !== want) bad[0]!++;
    };
  }
  const tick = clock.ticks;
  return () => {
    for (let k = 0; k < n; k++) {
      const o = offs[k]!;
      frame[o] = pristine[o]!;
    }
    if ((++tick[0]! & 1023) === 0) tick[1]!++;
    if (engine.process(frame, len, 0, tick[1]!, offload) !== want) bad[0]!++;
  };
}

function restoreOp(frame: Buffer, offs: Uint16Array): () => void {
  const pristine = Buffer.from(frame);
  const n = offs.length;
  return () => {
    for (let k = 0; k < n; k++) {
      const o = offs[k]!;
      frame[o] = pristine[o]!;
    }
  };
}

export function verdictCheck(bad: Uint32Array, want: number): () => string | null {
  return () => (bad[0] === 0 ? null : `${bad[0]} ops did not return ${VERDICT_NAMES[want]}`);
}

/**
 * The new-connection op: a SYN for a tuple with no entry is scheduled, inserted, and
 * rewritten; then the entry is freed (unbindAndFree, what expiry does) so the table does
 * not fill. The table's free list is LIFO, so every op re-uses the same slot `e`.
 */
function newConnOp(engine: Engine, frame: Buffer, clock: Clock, bad: Uint32Array): { fn: () => void; offs: Uint16Array } {
  const t = engine.table;
  const key = [6, ip('198.51.100.20'), 50000, ip(IP.vip), 80] as const;
  let e = NONE;
  const once = () => {
    if (engine.process(frame, frame.length, 0, 1000) !== V_EMIT) throw new Error('bench setup: SYN not forwarded');
    e = t.findForward(key[0], key[1], key[2], key[3], key[4], false);
    engine.conns.unbindAndFree(e);
  };
  const offs = changedBytes(frame, once);
  const process = engineOp(engine, frame, offs, V_EMIT, clock, bad);
  const slot = e;
  const fn = () => {
    process();
    if (t.live[slot] === 1) engine.conns.unbindAndFree(slot);
    else bad[0]!++;
  };
  return { fn, offs };
}

/** The engine cases (and their restore-only twins) on one engine with 2^20 capacity. */
export function engineCases(mode: ClockMode = 'fraction'): MicroCase[] {
  const engine = benchEngine();
  const f = establishFlows(engine);
  const clock: Clock = { mode, ms: new Float64Array([1000]), ticks: new Int32Array([0, 1000]) };
  const cases: MicroCase[] = [];
  const add = (name: string, frame: Buffer, want: number, note: string, offload = RING, restoreOf = name) => {
    const offs = changedBytes(frame, () => engine.process(frame, frame.length, 0, 1000, offload));
    const bad = new Uint32Array(1);
    const restoreName = `restore only: ${offs.length} bytes (${restoreOf})`;
    cases.push({ group: 'engine', name, fn: engineOp(engine, frame, offs, want, clock, bad, offload), note: `${note}; includes restoring ${offs.length} bytes`, restoreCase: offs.length > 0 ? restoreName : undefined, check: verdictCheck(bad, want) });
    if (offs.length > 0 && restoreOf === name) cases.push({ group: 'restore', name: restoreName, fn: restoreOp(frame, offs), note: `writes back the ${offs.length} bytes "${name}" changes` });
  };
  add('NAT established, client->server', f.natIn, V_EMIT, 'ESTABLISHED flow, 60-byte PSH|ACK to VIP:80: lookup, state, stats, timer, DNAT + incremental checksums, TTL, MACs');
  add('NAT established, client->server, pcap (offload unknown)', f.natIn, V_EMIT, 'the same op as the engine sees it from the pcap backend: plus the partial-checksum check', PCAP, 'NAT established, client->server');
  add('NAT established, server->client', f.natOut, V_EMIT, 'return traffic of that flow: reverse lookup, state, SNAT back to VIP:80, TTL, MACs');
  add('DR established', f.drIn, V_EMIT, 'ESTABLISHED flow to VIP:443 (DR): lookup, state, stats, timer, TTL, MACs only');
  {
    const bad = new Uint32Array(1);
    const { fn, offs } = newConnOp(engine, f.syn, clock, bad);
    const restoreName = `restore only: ${offs.length} bytes (new connection)`;
    cases.push({ group: 'engine', name: 'new TCP connection (+ free)', fn, note: `SYN to VIP:80: failed lookup, rr pick, insert (both indexes), state, timer, DNAT; then unbindAndFree of the entry; includes restoring ${offs.length} bytes`, restoreCase: restoreName, check: verdictCheck(bad, V_EMIT) });
    cases.push({ group: 'restore', name: restoreName, fn: restoreOp(f.syn, offs), note: `writes back the ${offs.length} bytes a new-connection op changes` });
  }
  add('ARP who-has VIP answered', f.arpWhoHas, V_EMIT, 'ARP request for the VIP turned into the reply in place');
  add('malformed frame dropped', f.malformed, V_DROP, 'IPv4 frame with a corrupt header checksum: validated and counted (ip_bad_checksum)');
  return cases;
}

/** The baseline: read the frame's destination address bytes (nothing else), xor into a sink. */
export function baselineCase(): MicroCase {
  const frame = Buffer.alloc(60);
  frame[30] = 10; frame[33] = 127;
  const sink = new Int32Array(1);
  return {
    group: 'baseline',
    name: 'baseline: read dst address',
    note: 'bare loop body: 4 byte reads of the IPv4 destination, xor into a typed-array sink',
    fn: () => {
      sink[0] = sink[0]! ^ ((frame[30]! << 24) | (frame[31]! << 16) | (frame[32]! << 8) | frame[33]!);
    },
  };
}
