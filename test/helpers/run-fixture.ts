/**
 * The one place that knows how a fixture-table case (fixtures/frames/*.json) meets the engine:
 * build the engine from the table's setup, feed one input frame, read the verdict back.
 * test/engine/fixtures.test.ts, test/io/pcap-replay.test.ts and bench/micro use it, so a change of
 * the engine's construction or verdict API is made here only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../src/dataplane/engine.js';
import { ServiceRegistry } from '../../src/control/service-registry.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { DROP_REASONS, V_CONSUMED, V_DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import { i32, parseIPv4 } from '../../src/lvs/addr.js';
import { fwdFromName, type ForwardMethod } from '../../src/lvs/fwd.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/lvs/proto.js';
import { parseMac } from '../../src/packet/addr.js';

export type FixtureVerdict = 'emit' | 'drop' | 'consumed';

export interface FixtureSetup {
  ifaces: { name: string; mac: string; ip: string; mtu: number }[];
  /** "a.b.c.d/len" on an interface, with a gateway or on-link. */
  routes: { dst: string; iface: string; gateway?: string }[];
  /** Next hops whose MAC is known from the start (as if they had answered ARP). */
  neighbours: Record<string, string>;
  fnat?: { addrs: string[]; portMin: number; portMax: number };
  /** Services with their servers, added in order (servers as successive ipvsadm -a). */
  services: {
    proto: 'TCP' | 'UDP'; addr: string; port: number; scheduler: string;
    dests: { addr: string; port: number; fwd: ForwardMethod; weight?: number }[];
  }[];
}

export interface FixtureCase {
  name: string;
  /** Which rule gives the expected bytes. */
  why: string;
  ingress: string;
  /** Engine clock for this frame, ms. */
  timeMs: number;
  input: string;
  verdict: FixtureVerdict;
  /** For 'drop': the counter name (engine/verdict.ts DROP_REASONS). */
  drop?: string;
  /** For 'emit': the interface and the whole frame sent. */
  egress?: string;
  output?: string;
  /** The microbench's name for this frame, if it uses it. */
  bench?: 'natIn' | 'natOut' | 'drIn' | 'arpWhoHas' | 'malformed';
}

export interface FixtureTable {
  about: string;
  setup: FixtureSetup;
  cases: FixtureCase[];
}

export interface FixtureResult {
  verdict: FixtureVerdict;
  /** Drop counter name, null unless dropped. */
  drop: string | null;
  egress: string | null;
  /** A copy of the frame sent, null unless emitted. */
  output: Buffer | null;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function fixturePath(...parts: string[]): string {
  return path.join(ROOT, 'fixtures', ...parts);
}

export function loadFixtureTable(name = 'engine.json'): FixtureTable {
  return JSON.parse(readFileSync(fixturePath('frames', name), 'utf8')) as FixtureTable;
}

function addr(text: string): number {
  const a = parseIPv4(text);
  if (a === null) throw new Error(`fixture: bad address ${text}`);
  return i32(a);
}

function mac(text: string): Uint8Array {
  const m = parseMac(text);
  if (m === null) throw new Error(`fixture: bad MAC ${text}`);
  return m;
}

export interface FixtureEngine {
  engine: Engine;
  registry: ServiceRegistry;
  ifaceIndex(name: string): number;
  ifaceName(index: number): string;
}

/** The engine the table's setup describes (maxConns: the table capacity). */
export function buildFixtureEngine(setup: FixtureSetup, maxConns = 1024): FixtureEngine {
  const names = setup.ifaces.map((i) => i.name);
  const ifaceIndex = (name: string): number => {
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`fixture: no interface ${name}`);
    return i;
  };
  const engine = new Engine({ ifaces: setup.ifaces.map((i) => ({ name: i.name, mac: mac(i.mac), mtu: i.mtu, ip: addr(i.ip) })), maxConns });
  const routing = new RoutingTable(setup.routes.map((r) => {
    const [dst, len] = r.dst.split('/');
    return { dst: addr(dst!), prefixLen: Number(len), iface: ifaceIndex(r.iface), gateway: r.gateway ? addr(r.gateway) : 0 };
  }));
  const registry = new ServiceRegistry(engine, routing);
  if (setup.fnat) engine.fnat.configure(setup.fnat.addrs.map(addr), setup.fnat.portMin, setup.fnat.portMax);
  for (const s of setup.services) {
    const key = { proto: s.proto === 'UDP' ? IPPROTO_UDP : IPPROTO_TCP, addr: addr(s.addr), port: s.port };
    registry.addService({ ...key, scheduler: s.scheduler, persistent: 0, netmask: -1, ops: false, schedFlags: 0 });
    for (const d of s.dests) {
      registry.addDest(key, { addr: addr(d.addr), port: d.port, weight: d.weight ?? 1, fwd: fwdFromName(d.fwd), uThreshold: 0, lThreshold: 0 });
    }
  }
  registry.refreshVips();
  const known = new Map(Object.entries(setup.neighbours).map(([ip, m]) => [addr(ip), mac(m)]));
  for (let n = 0; n < engine.neigh.size; n++) {
    const m = known.get(engine.neigh.ip[n]! | 0);
    if (m) engine.neigh.set(n, m, 0);
  }
  return { engine, registry, ifaceIndex, ifaceName: (i) => names[i]! };
}

/** Feed one frame (a copy: the engine rewrites in place) and read the verdict. */
export function runFixtureFrame(fx: FixtureEngine, frame: Uint8Array, ingress: string, timeMs: number): FixtureResult {
  const e = fx.engine;
  const b = Buffer.from(frame);
  const v = e.process(b, b.length, fx.ifaceIndex(ingress), timeMs);
  if (v === V_EMIT) return { verdict: 'emit', drop: null, egress: fx.ifaceName(e.verdict.iface), output: Buffer.from(e.verdict.buf.subarray(0, e.verdict.len)) };
  if (v === V_DROP) return { verdict: 'drop', drop: DROP_REASONS[e.verdict.reason] ?? `#${e.verdict.reason}`, egress: null, output: null };
  if (v === V_CONSUMED) return { verdict: 'consumed', drop: null, egress: null, output: null };
  throw new Error(`fixture: unknown verdict ${v}`);
}

/** Run a table's cases in order; returns each result (the engine keeps their connections). */
export function runFixtureTable(fx: FixtureEngine, table: FixtureTable): FixtureResult[] {
  return table.cases.map((c) => runFixtureFrame(fx, Buffer.from(c.input, 'hex'), c.ingress, c.timeMs));
}

/** What a case expects, in FixtureResult's shape. */
export function expectedResult(c: FixtureCase): FixtureResult {
  return {
    verdict: c.verdict,
    drop: c.drop ?? null,
    egress: c.egress ?? null,
    output: c.output !== undefined ? Buffer.from(c.output, 'hex') : null,
  };
}
