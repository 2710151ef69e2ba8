/**
 * Comparison scenarios (fixtures/scenarios/*.json): one file drives both kernel IPVS
 * (in a VM) and this engine. The rules are ipvsadm command lines, run verbatim on both
 * sides in file order; client actions name source addresses and the virtual service.
 *
 * Both sides share one fixed director: its LAN side 10.0.0.2/24 (real servers, NAT
 * default route) and its client side 198.51.100.1/24 (clients, on-link). The VIP sits
 * on the director's loopback and on every real server's loopback (for -g), so one
 * scenario may mix NAT and DR servers.
 *
 * A scenario whose VIP is an IPv6 address uses the IPv6 topology instead, in the
 * documentation prefix (RFC 3849): the LAN 2001:db8:10::/64 (director 2001:db8:10::2,
 * DR router 2001:db8:10::1) and the client side 2001:db8:51::/48 (director
 * 2001:db8:51::1, DR router 2001:db8:51::fe). The client side is a /48 so that clients
 * can sit in different /64s (persistence with -M 64). One family per scenario.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseIPv4 } from '../packet/addr.js';
import { formatIPv6, parseIPv6, prefixToMask6 } from '../packet/addr6.js';

export const DIRECTOR_LAN = '10.0.0.2';
export const DIRECTOR_CLIENT_SIDE = '198.51.100.1';
/** The router DR scenarios add so that replies bypass the director. */
export const ROUTER_LAN = '10.0.0.1';
export const ROUTER_CLIENT_SIDE = '198.51.100.254';
export const LAN_PREFIX = '10.0.0.';
export const CLIENT_PREFIX = '198.51.100.';
/** The IPv6 topology (see the header): addresses and on-link prefixes. */
export const DIRECTOR_LAN6 = '2001:db8:10::2';
export const DIRECTOR_CLIENT_SIDE6 = '2001:db8:51::1';
export const ROUTER_LAN6 = '2001:db8:10::1';
export const ROUTER_CLIENT_SIDE6 = '2001:db8:51::fe';
export const LAN_NET6 = { prefix: '2001:db8:10::', len: 64 } as const;
export const CLIENT_NET6 = { prefix: '2001:db8:51::', len: 48 } as const;
/** Client ports are numbered from here, one per connection, in step order (both sides). */
export const FIRST_CLIENT_PORT = 20000;

export interface ServerDef {
  name: string;
  addr: string;
}

export interface Topology {
  /** 4 or 6: the VIP's family, which every address of the scenario shares. */
  family: 4 | 6;
  /** IPv6 addresses are kept in their canonical (inet_ntop) text. */
  vip: string;
  servers: ServerDef[];
  clients: string[];
  /** Ports the real servers listen on (the rules may map the VIP's port to these). */
  tcpPorts: number[];
  udpPorts: number[];
}

/** Short TCP connections: handshake, one request line, answer, close (server first). */
export interface ConnectStep { connect: { from: string | string[]; to: string; count?: number } }
/** A TCP connection opened and left ESTABLISHED until a later close step. */
export interface HoldStep { hold: { from: string; to: string; as: string } }
export interface CloseStep { close: string }
/** UDP datagrams, each from a new client port (a new IPVS entry). */
export interface UdpStep { udp: { from: string | string[]; to: string; count?: number } }
/** One `ipvsadm ARGS` line (without the program name). */
export interface IpvsadmStep { ipvsadm: string }
/** `ipvsadm -S -n`, `-C`, `-R` with that text: the kernel's order is lost (docs/ipvs-behaviour.md §9). */
export interface SaveRestoreStep { saveRestore: true }
/** The four listings at this point, labelled. The end of the run always takes one. */
export interface SnapshotStep { snapshot: string }
/** One short connection whose packets are captured on both sides of the director. */
export interface CaptureStep { capture: { label: string; from: string; to: string } }

export type Step = ConnectStep | HoldStep | CloseStep | UdpStep | IpvsadmStep | SaveRestoreStep | SnapshotStep | CaptureStep;

export interface Scenario {
  name: string;
  title: string;
  /** What to look at (shown in the report). */
  notes: string;
  topology: Topology;
  steps: Step[];
}

/** One client action expanded: the client port is fixed here so both sides use it. */
export interface ClientAction {
  kind: 'short' | 'hold' | 'udp' | 'capture';
  step: number;
  id: string;
  from: string;
  port: number;
  vip: string;
  vport: number;
  label?: string;
}

export class ScenarioError extends Error {}

const SCENARIO_KEYS = ['name', 'title', 'notes', 'topology', 'steps'];
const STEP_KINDS = ['connect', 'hold', 'close', 'udp', 'ipvsadm', 'saveRestore', 'snapshot', 'capture'] as const;

function fail(where: string, msg: string): never {
  throw new ScenarioError(`${where}: ${msg}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') fail(where, 'expected a non-empty string');
  return v;
}

function ipv4(v: unknown, where: string, prefix?: string): string {
  const s = str(v, where);
  if (parseIPv4(s) === null) fail(where, `"${s}" is not an IPv4 address`);
  if (prefix !== undefined && !s.startsWith(prefix)) fail(where, `"${s}" must be in ${prefix}0/24`);
  return s;
}

/** The first len bits of a and p (IPv6 texts) are equal. */
export function inPrefix6(a: string, p: string, len: number): boolean {
  const x = parseIPv6(a), y = parseIPv6(p), m = prefixToMask6(len);
  if (x === null || y === null) return false;
  for (let k = 0; k < 4; k++) if ((x[k]! & m[k]!) !== (y[k]! & m[k]!)) return false;
  return true;
}

/** An IPv6 address in its canonical text; within net when given. */
function ipv6(v: unknown, where: string, net?: { prefix: string; len: number }): string {
  const s = str(v, where);
  const w = parseIPv6(s);
  if (w === null) fail(where, `"${s}" is not an IPv6 address`);
  const c = formatIPv6(w);
  if (net !== undefined && !inPrefix6(c, net.prefix, net.len)) fail(where, `"${s}" must be in ${net.prefix}/${net.len}`);
  return c;
}

/** An address of the scenario's family. */
function addrOf(v: unknown, where: string, family: 4 | 6): string {
  return family === 6 ? ipv6(v, where) : ipv4(v, where);
}

/** "ADDR:PORT" as ipvsadm prints it: IPv6 addresses in brackets. */
export function endpointText(addr: string, p: number): string {
  return addr.includes(':') ? `[${addr}]:${p}` : `${addr}:${p}`;
}

function port(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) fail(where, 'expected a port 1..65535');
  return v;
}

/** "A.B.C.D:PORT" or "[IPv6]:PORT" of the scenario's family, in canonical text. */
function endpoint(v: unknown, where: string, family: 4 | 6 = 4): string {
  const s = str(v, where);
  const m = family === 6 ? /^\[([^\]]+)\]:(\d+)$/.exec(s) : /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(s);
  if (!m) fail(where, `"${s}" is not ${family === 6 ? '[ADDR]:PORT (an IPv6 address, as the VIP)' : 'ADDR:PORT'}`);
  return endpointText(addrOf(m[1], where, family), port(Number(m[2]), where));
}

function topology(v: unknown): Topology {
  if (!isObject(v)) fail('topology', 'expected an object');
  const family: 4 | 6 = typeof v['vip'] === 'string' && v['vip'].includes(':') ? 6 : 4;
  const vip = addrOf(v['vip'], 'topology.vip', family);
  if (!Array.isArray(v['servers']) || v['servers'].length === 0) fail('topology.servers', 'expected a non-empty list');
  const servers = v['servers'].map((s, i): ServerDef => {
    if (!isObject(s)) fail(`topology.servers[${i}]`, 'expected {name, addr}');
    const name = str(s['name'], `topology.servers[${i}].name`);
    if (!/^[a-z][a-z0-9]{0,7}$/.test(name) || ['cli', 'br0', 'lo', 'rtr'].includes(name)) {
      fail(`topology.servers[${i}].name`, 'use a short lower-case name other than cli, br0, lo, rtr (it names a namespace and an interface)');
    }
    const where = `topology.servers[${i}].addr`;
    return { name, addr: family === 6 ? ipv6(s['addr'], where, LAN_NET6) : ipv4(s['addr'], where, LAN_PREFIX) };
  });
  if (!Array.isArray(v['clients']) || v['clients'].length === 0) fail('topology.clients', 'expected a non-empty list');
  const clients = v['clients'].map((c, i) =>
    family === 6 ? ipv6(c, `topology.clients[${i}]`, CLIENT_NET6) : ipv4(c, `topology.clients[${i}]`, CLIENT_PREFIX));
  const ports = (key: string, dflt: number[]): number[] => {
    const p = v[key];
    if (p === undefined) return dflt;
    if (!Array.isArray(p)) fail(`topology.${key}`, 'expected a list of ports');
    return p.map((x, i) => port(x, `topology.${key}[${i}]`));
  };
  const fixed = family === 6
    ? [DIRECTOR_LAN6, DIRECTOR_CLIENT_SIDE6, ROUTER_LAN6, ROUTER_CLIENT_SIDE6]
    : [DIRECTOR_LAN, DIRECTOR_CLIENT_SIDE, ROUTER_LAN, ROUTER_CLIENT_SIDE];
  const taken = new Set([...fixed, vip]);
  for (const a of [...servers.map((s) => s.addr), ...clients]) {
    if (taken.has(a)) fail('topology', `address ${a} is used twice (the director has ${fixed[0]} and ${fixed[1]}, the DR router ${fixed[2]} and ${fixed[3]})`);
    taken.add(a);
  }
  return { family, vip, servers, clients, tcpPorts: ports('tcpPorts', [80]), udpPorts: ports('udpPorts', []) };
}

function fromList(v: unknown, where: string, topo: Topology): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) fail(where, 'expected at least one client address');
  return list.map((a, i) => {
    const s = addrOf(a, `${where}[${i}]`, topo.family);
    if (!topo.clients.includes(s)) fail(where, `${s} is not in topology.clients`);
    return s;
  });
}

function count(v: unknown, where: string): number {
  if (v === undefined) return 1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 200) fail(where, 'expected a count 1..200');
  return v;
}

function step(v: unknown, i: number, topo: Topology, held: Set<string>): Step {
  const where = `steps[${i}]`;
  if (!isObject(v)) fail(where, 'expected an object');
  const keys = Object.keys(v);
  if (keys.length !== 1 || !(STEP_KINDS as readonly string[]).includes(keys[0]!)) {
    fail(where, `expected exactly one of ${STEP_KINDS.join(', ')}`);
  }
  const kind = keys[0] as (typeof STEP_KINDS)[number];
  const body = v[kind];
  switch (kind) {
    case 'ipvsadm': {
      const line = str(body, where);
      if (/['"\\$`;|&<>]/.test(line)) fail(where, 'ipvsadm lines are split on spaces: no quotes or shell characters');
      return { ipvsadm: line.trim() };
    }
    case 'saveRestore':
      if (body !== true) fail(where, 'saveRestore takes true');
      return { saveRestore: true };
    case 'snapshot':
      return { snapshot: str(body, where) };
    case 'close': {
      const id = str(body, where);
      if (!held.delete(id)) fail(where, `no held connection "${id}" is open here`);
      return { close: id };
    }
    case 'connect':
    case 'udp': {
      if (!isObject(body)) fail(where, 'expected {from, to, count?}');
      const to = endpoint(body['to'], `${where}.to`, topo.family);
      const s = { from: fromList(body['from'], `${where}.from`, topo), to, count: count(body['count'], `${where}.count`) };
      return kind === 'connect' ? { connect: s } : { udp: s };
    }
    case 'hold': {
      if (!isObject(body)) fail(where, 'expected {from, to, as}');
      const as = str(body['as'], `${where}.as`);
      if (!/^[a-z][a-z0-9]*$/.test(as)) fail(`${where}.as`, 'use lower-case letters and digits, starting with a letter');
      if (held.has(as)) fail(where, `"${as}" is already held`);
      held.add(as);
      const to = endpoint(body['to'], `${where}.to`, topo.family);
      return { hold: { from: fromList(body['from'], `${where}.from`, topo)[0]!, to, as } };
    }
    case 'capture': {
      if (!isObject(body)) fail(where, 'expected {label, from, to}');
      const to = endpoint(body['to'], `${where}.to`, topo.family);
      const label = str(body['label'], `${where}.label`);
      if (!/^[a-z0-9-]+$/.test(label)) fail(`${where}.label`, 'use lower-case letters, digits and -');
      return { capture: { label, from: fromList(body['from'], `${where}.from`, topo)[0]!, to } };
    }
  }
}

/** Check a parsed JSON value; the error names the offending field. */
export function validateScenario(v: unknown, fallbackName = 'scenario'): Scenario {
  if (!isObject(v)) fail(fallbackName, 'expected a JSON object');
  for (const k of Object.keys(v)) if (!SCENARIO_KEYS.includes(k)) fail(fallbackName, `unknown field "${k}"`);
  const name = v['name'] === undefined ? fallbackName : str(v['name'], 'name');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) fail('name', 'use lower-case letters, digits and -');
  const topo = topology(v['topology']);
  if (!Array.isArray(v['steps']) || v['steps'].length === 0) fail('steps', 'expected a non-empty list');
  const held = new Set<string>();
  const steps = v['steps'].map((s, i) => step(s, i, topo, held));
  return {
    name,
    title: v['title'] === undefined ? name : str(v['title'], 'title'),
    notes: v['notes'] === undefined ? '' : str(v['notes'], 'notes'),
    topology: topo,
    steps,
  };
}

export function loadScenario(path: string): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ScenarioError(`${path}: ${(err as Error).message}`);
  }
  return validateScenario(json, basename(path).replace(/\.json$/, ''));
}

/** An ipvsadm line as argv (the format forbids quoting, so spaces split). */
export function splitArgs(line: string): string[] {
  return line.split(/\s+/).filter((s) => s !== '');
}

/**
 * Client actions of one step with their fixed client ports. `next` is the next free
 * port; the function returns the actions and the port after them.
 */
export function clientActions(s: Step, stepIndex: number, next: number): { actions: ClientAction[]; next: number } {
  const actions: ClientAction[] = [];
  const add = (kind: ClientAction['kind'], from: string, to: string, id?: string, label?: string): void => {
    const m = /^\[?(.*?)\]?:(\d+)$/.exec(to)!;
    const a: ClientAction = { kind, step: stepIndex, id: id ?? `c${next}`, from, port: next, vip: m[1]!, vport: Number(m[2]) };
    if (label !== undefined) a.label = label;
    actions.push(a);
    next++;
  };
  if ('connect' in s || 'udp' in s) {
    const body = 'connect' in s ? s.connect : s.udp;
    const froms = Array.isArray(body.from) ? body.from : [body.from];
    for (let r = 0; r < (body.count ?? 1); r++) for (const f of froms) add('connect' in s ? 'short' : 'udp', f, body.to);
  } else if ('hold' in s) {
    add('hold', s.hold.from, s.hold.to, s.hold.as);
  } else if ('capture' in s) {
    add('capture', s.capture.from, s.capture.to, undefined, s.capture.label);
  }
  return { actions, next };
}
