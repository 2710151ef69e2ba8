/**
 * Replays a scenario through this engine in-process (no root, no namespaces): the
 * ipvsadm lines go through ControlSession, client actions become synthetic frames fed
 * to Engine.process on the director's two interfaces, and the real servers' side of
 * each NAT conversation is answered here. The packet order follows what the VM's
 * clients and servers do (src/compare/vm-script.ts): the client sends one line and
 * half-closes, the server answers and closes. TCP and UDP frames come as a veth with TX
 * checksum offload (the VM's default) hands them to a ring port: the checksum field holds
 * the pseudo-header seed and the offload word says CHECKSUM_PARTIAL. An IPv6 scenario runs
 * the same exchange over IPv6 frames (builder6.ts) on the IPv6 topology of scenario.ts,
 * its entries in engine.table6.
 */
import { Engine } from '../dataplane/engine.js';
import { ServiceRegistry } from '../control/service-registry.js';
import { RoutingTable } from '../dataplane/routing.js';
import { repliesBypass } from '../lvs/fwd.js';
import { V_EMIT } from '../dataplane/verdict.js';
import { ControlSession } from '../control/session.js';
import { RateEstimator } from '../control/estimator.js';
import { formatIPv4, parseIPv4, parseMac } from '../packet/addr.js';
import { tcpFrame, udpFrame } from '../packet/builder.js';
import { tcp6Frame, udp6Frame } from '../packet/builder6.js';
import { formatIPv6, ipv6Bytes, parseIPv6 } from '../packet/addr6.js';
import { NEXTHDR_UDP, payloadLength } from '../packet/ipv6.js';
import * as tcp from '../packet/tcp.js';
import { PROTO_TCP, PROTO_UDP } from '../packet/ipv4.js';
import {
  CLIENT_NET6, CLIENT_PREFIX, DIRECTOR_CLIENT_SIDE, DIRECTOR_LAN, FIRST_CLIENT_PORT, LAN_NET6, LAN_PREFIX, clientActions, endpointText, inPrefix6,
  splitArgs,
} from './scenario.js';
import type { ClientAction, Scenario } from './scenario.js';
import type { ConnRecord, Listing, RewriteSample, SideResult } from './result.js';
import { pickFromListing } from './result.js';
import { frameFields } from './rewrite.js';
import { OFL_CSUM_PARTIAL, OFL_KNOWN } from '../packet/offload.js';
import { partialSeed, partialSeed6 } from '../packet/partial-csum.js';
import { AF_INET6 } from '../lvs/af.js';

/** The offload word of a frame as a veth with TX checksum offload delivers it. */
const VETH_PARTIAL = OFL_KNOWN | OFL_CSUM_PARTIAL;

/** Replace the L4 checksum of an Ethernet/IPv4 frame by its partial seed (what such a veth carries). */
export function asPartial(frame: Uint8Array, proto: number): Uint8Array {
  const l3 = 14;
  const l4len = ((frame[l3 + 2]! << 8) | frame[l3 + 3]!) - ((frame[l3]! & 0x0f) << 2);
  const at = l3 + ((frame[l3]! & 0x0f) << 2) + (proto === PROTO_UDP ? 6 : 16);
  const seed = partialSeed(frame, l3, proto, l4len);
  frame[at] = seed >>> 8;
  frame[at + 1] = seed & 0xff;
  return frame;
}

/** asPartial for an Ethernet/IPv6 frame with no extension headers (what the scenarios send). */
export function asPartial6(frame: Uint8Array, proto: number): Uint8Array {
  const l3 = 14;
  const l4len = payloadLength(frame, l3);
  const at = l3 + 40 + (proto === NEXTHDR_UDP ? 6 : 16);
  const seed = partialSeed6(frame, l3, proto, l4len);
  frame[at] = seed >>> 8;
  frame[at + 1] = seed & 0xff;
  return frame;
}

const IF_LAN = 0;
const IF_CLIENT = 1;
const MAC_LAN = '02:00:00:00:00:02';
const MAC_CLIENT_SIDE = '02:00:00:00:01:01';
/** All client addresses live on one host (one namespace in the VM). */
const MAC_CLIENT_HOST = '02:00:00:00:0c:01';
const CLIENT_ISN = 1000;
const SERVER_ISN = 5000;

function ip32(s: string): number {
  const n = parseIPv4(s);
  if (n === null) throw new Error(`bad address ${s}`);
  return n | 0;
}

/** A real server's MAC from its address (02:00 + the four bytes; for IPv6 its last four). */
export function serverMac(addr: string): string {
  if (addr.includes(':')) {
    const b = ipv6Bytes(addr)!;
    return ['02', '00', ...[...b.subarray(12)].map((x) => x.toString(16).padStart(2, '0'))].join(':');
  }
  return ['02', '00', ...addr.split('.').map((x) => Number(x).toString(16).padStart(2, '0'))].join(':');
}

function words6(s: string): Int32Array {
  const w = parseIPv6(s);
  if (w === null) throw new Error(`bad address ${s}`);
  return w;
}

/** The interfaces' link-local addresses of the IPv6 topology (the source of our neighbour solicitations). */
const LL6_LAN = 'fe80::2';
const LL6_CLIENT_SIDE = 'fe80::101';

interface Flow {
  action: ClientAction;
  proto: number;
  /** Where the engine sent the first packet (from the entry), null if it did not. */
  dest: { addr: string; port: number } | null;
  dr: boolean;
  cseq: number;
  sseq: number;
}

export class EngineSide {
  readonly engine: Engine;
  readonly registry: ServiceRegistry;
  readonly session: ControlSession;
  private now = 1_000_000;
  private readonly result: SideResult;
  private readonly held = new Map<string, Flow>();
  private capture: { label: string; samples: RewriteSample[] } | null = null;

  private readonly v6: boolean;

  constructor(private readonly scenario: Scenario) {
    this.v6 = scenario.topology.family === 6;
    const lan = { name: 'lan', mac: parseMac(MAC_LAN)!, mtu: 1500, ip: ip32(DIRECTOR_LAN) };
    const cli = { name: 'cli', mac: parseMac(MAC_CLIENT_SIDE)!, mtu: 1500, ip: ip32(DIRECTOR_CLIENT_SIDE) };
    this.engine = new Engine({
      ifaces: this.v6 ? [{ ...lan, ll6: ipv6Bytes(LL6_LAN)! }, { ...cli, ll6: ipv6Bytes(LL6_CLIENT_SIDE)! }] : [lan, cli],
      maxConns: 1 << 14,
    });
    const routing = new RoutingTable([
      { dst: ip32(`${LAN_PREFIX}0`), prefixLen: 24, iface: IF_LAN, gateway: 0 },
      { dst: ip32(`${CLIENT_PREFIX}0`), prefixLen: 24, iface: IF_CLIENT, gateway: 0 },
    ], this.v6 ? [
      { dst: words6(LAN_NET6.prefix), prefixLen: LAN_NET6.len, iface: IF_LAN, gateway: null },
      { dst: words6(CLIENT_NET6.prefix), prefixLen: CLIENT_NET6.len, iface: IF_CLIENT, gateway: null },
    ] : []);
    this.registry = new ServiceRegistry(this.engine, routing);
    this.session = new ControlSession(this.registry, new RateEstimator(), {}, () => this.learnNeighbours(), () => this.now);
    this.result = { side: 'engine', scenario: scenario.name, version: 'tslb engine (in-process)', commands: [], conns: [], listings: [], rewrites: [] };
  }

  run(): SideResult {
    let port = FIRST_CLIENT_PORT;
    this.scenario.steps.forEach((s, i) => {
      this.now += 100;
      if ('ipvsadm' in s) {
        const out = this.session.run(splitArgs(s.ipvsadm));
        this.result.commands.push({ step: i, line: s.ipvsadm, status: out.status, stderr: out.stderr });
      } else if ('saveRestore' in s) {
        const saved = this.session.run(['-S', '-n']).stdout;
        this.session.run(['-C']);
        const out = this.session.restore(saved);
        this.result.commands.push({ step: i, line: '-S -n | -C | -R', status: out.status, stderr: out.stderr });
      } else if ('snapshot' in s) {
        this.result.listings.push(this.listing(s.snapshot));
      } else if ('close' in s) {
        const f = this.held.get(s.close)!;
        this.held.delete(s.close);
        this.closeHeld(f);
      } else {
        const { actions, next } = clientActions(s, i, port);
        port = next;
        for (const a of actions) this.client(a);
      }
    });
    this.result.listings.push(this.listing('end'));
    return this.result;
  }

  private listing(label: string): Listing {
    const text = (argv: string[]): string => {
      const o = this.session.run(argv);
      return o.stdout + o.stderr;
    };
    return { label, list: text(['-L', '-n']), stats: text(['-L', '-n', '--stats']), conns: text(['-L', '-n', '-c']), save: text(['-S', '-n']) };
  }

  /** What ARP would learn: every neighbour slot gets its host's MAC. */
  private learnNeighbours(): void {
    const n = this.engine.neigh;
    for (let i = 0; i < n.size; i++) {
      if (n.valid[i]) continue;
      if (n.v6[i]) {
        const text = formatIPv6(n.ip6, i);
        n.set(i, parseMac(inPrefix6(text, CLIENT_NET6.prefix, CLIENT_NET6.len) ? MAC_CLIENT_HOST : serverMac(text))!, this.now);
        continue;
      }
      const a = n.ip[i]!;
      const text = formatIPv4(a >>> 0);
      n.set(i, parseMac(text.startsWith(CLIENT_PREFIX) ? MAC_CLIENT_HOST : serverMac(text))!, this.now);
    }
  }

  private client(a: ClientAction): void {
    const f: Flow = { action: a, proto: a.kind === 'udp' ? PROTO_UDP : PROTO_TCP, dest: null, dr: false, cseq: CLIENT_ISN, sseq: SERVER_ISN };
    this.capture = a.kind === 'capture' ? { label: a.label!, samples: [] } : null;
    if (a.kind === 'udp') {
      this.fromClient(f, 0, new TextEncoder().encode('hi\n'));
      this.fromServer(f, 0, new TextEncoder().encode('reply\n'));
    } else {
      this.fromClient(f, tcp.SYN);
      f.cseq++;
      this.fromServer(f, tcp.SYN | tcp.ACK);
      f.sseq++;
      this.fromClient(f, tcp.ACK);
      if (a.kind === 'hold') {
        this.held.set(a.id, f);
      } else {
        this.fromClient(f, tcp.ACK | tcp.PSH, new TextEncoder().encode('hi\n'));
        this.fromClient(f, tcp.ACK | tcp.FIN);
        f.cseq++;
        this.fromServer(f, tcp.ACK | tcp.PSH, new TextEncoder().encode('rs\n'));
        this.fromServer(f, tcp.ACK | tcp.FIN);
        f.sseq++;
        this.fromClient(f, tcp.ACK);
      }
    }
    if (this.capture) this.result.rewrites.push(...this.capture.samples);
    this.capture = null;
    this.record(f);
  }

  /** The client closes a held connection; the server's read ends and it closes too. */
  private closeHeld(f: Flow): void {
    this.fromClient(f, tcp.ACK | tcp.FIN);
    f.cseq++;
    this.fromServer(f, tcp.ACK | tcp.FIN);
    f.sseq++;
    this.fromClient(f, tcp.ACK);
  }

  private record(f: Flow): void {
    const a = f.action;
    const proto = f.proto === PROTO_UDP ? 'UDP' : 'TCP';
    const client = endpointText(a.from, a.port);
    const vip = endpointText(a.vip, a.vport);
    const pick = pickFromListing(this.session.run(['-L', '-n', '-c']).stdout, proto, client, vip);
    const rec: ConnRecord = { step: a.step, id: a.id, kind: a.kind, proto, client, vip, dest: pick.dest, state: pick.state };
    this.result.conns.push(rec);
  }

  private fromClient(f: Flow, flags: number, payload?: Uint8Array): void {
    const a = f.action;
    const hdr = { srcMac: MAC_CLIENT_HOST, dstMac: MAC_CLIENT_SIDE, src: a.from, dst: a.vip };
    const frame = this.frame(f.proto, hdr, {
      sport: a.port, dport: a.vport, flags, seq: f.cseq, ack: flags & tcp.ACK ? f.sseq : 0, payload: payload ?? new Uint8Array(0),
    });
    const before = this.capture ? frameFields(frame) : null;
    this.now += 1;
    const v = this.engine.process(frame, frame.length, IF_CLIENT, this.now, VETH_PARTIAL);
    if (payload) f.cseq += payload.length;
    if (f.dest === null) this.learnDest(f);
    if (v === V_EMIT && before && this.isFirst(f, flags)) {
      const after = frameFields(this.engine.verdict.buf.subarray(0, this.engine.verdict.len));
      if (after) this.capture!.samples.push({ label: this.capture!.label, direction: 'client-to-server', before, after });
    }
  }

  /** NAT only: under DR the server answers the client directly, past the director. */
  private fromServer(f: Flow, flags: number, payload?: Uint8Array): void {
    if (f.dest === null || f.dr) return;
    const a = f.action;
    const d = f.dest;
    const hdr = { srcMac: serverMac(d.addr), dstMac: MAC_LAN, src: d.addr, dst: a.from };
    const frame = this.frame(f.proto, hdr, { sport: d.port, dport: a.port, flags, seq: f.sseq, ack: f.cseq, payload: payload ?? new Uint8Array(0) });
    const before = this.capture ? frameFields(frame) : null;
    this.now += 1;
    const v = this.engine.process(frame, frame.length, IF_LAN, this.now, VETH_PARTIAL);
    if (payload) f.sseq += payload.length;
    if (v === V_EMIT && before && this.isFirst(f, flags)) {
      const after = frameFields(this.engine.verdict.buf.subarray(0, this.engine.verdict.len));
      if (after) this.capture!.samples.push({ label: this.capture!.label, direction: 'server-to-client', before, after });
    }
  }

  /** A TCP or UDP frame of the scenario's family, TTL / hop limit 64, its checksum as a partial seed. */
  private frame(
    proto: number, hdr: { srcMac: string; dstMac: string; src: string; dst: string },
    l4: { sport: number; dport: number; flags: number; seq: number; ack: number; payload: Uint8Array },
  ): Uint8Array {
    if (this.v6) {
      const h = { ...hdr, hopLimit: 64 };
      return asPartial6(proto === PROTO_UDP
        ? udp6Frame({ ...h, sport: l4.sport, dport: l4.dport, payload: l4.payload })
        : tcp6Frame({ ...h, ...l4 }), proto);
    }
    const h = { ...hdr, ttl: 64 };
    return asPartial(proto === PROTO_UDP
      ? udpFrame({ ...h, sport: l4.sport, dport: l4.dport, payload: l4.payload })
      : tcpFrame({ ...h, ...l4 }), proto);
  }

  /** The sample is the first packet each way: the SYN and SYN-ACK, or the datagram and its answer. */
  private isFirst(f: Flow, flags: number): boolean {
    return f.proto === PROTO_UDP || (flags & tcp.SYN) !== 0;
  }

  private learnDest(f: Flow): void {
    const a = f.action;
    if (this.v6) {
      const t6 = this.engine.table6;
      const e6 = t6.findForward(f.proto, words6(a.from), 0, a.port, words6(a.vip), 0, a.vport, false);
      if (e6 < 0 || !t6.live[e6]) return;
      f.dest = { addr: t6.daf[e6] === AF_INET6 ? formatIPv6(t6.daddr, e6) : formatIPv4(t6.daddr[e6 * 4 + 3]! >>> 0), port: t6.dport[e6]! };
      f.dr = repliesBypass(t6.fwd[e6]!);
      return;
    }
    const t = this.engine.table;
    const e = t.findForward(f.proto, ip32(a.from), a.port, ip32(a.vip), a.vport, false);
    if (e < 0 || !t.live[e]) return;
    const d = t.daddr[e]!;
    f.dest = { addr: formatIPv4(d >>> 0), port: t.dport[e]! };
    f.dr = repliesBypass(t.fwd[e]!);
  }
}

export function runOnEngine(s: Scenario): SideResult {
  return new EngineSide(s).run();
}
