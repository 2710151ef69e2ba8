/**
 * An engine wired like the seed 000 one-arm topology, for unit tests: one interface
 * on 10.0.0.0/24, VIP 10.0.0.127:80, real servers 10.0.0.185 and 10.0.0.86 whose
 * MACs are known, clients behind the router 10.0.0.1.
 */
import { Engine, type EngineOptions } from '../../src/dataplane/engine.js';
import { ServiceRegistry, type DestSpec, type ServiceSpec } from '../../src/control/service-registry.js';
import { RoutingTable } from '../../src/dataplane/routing.js';
import { FWD_MASQ } from '../../src/lvs/fwd.js';
import { parseIPv4, parseMac } from '../../src/packet/addr.js';
import { PROTO_TCP } from '../../src/packet/ipv4.js';

export const MAC = {
  lb: '02:00:00:00:00:02',
  router: '02:00:00:00:00:01',
  rs1: '02:00:00:00:01:85',
  rs2: '02:00:00:00:00:86',
  lbPriv: '02:00:00:00:01:02',
};
export const IP = { vip: '10.0.0.127', lb: '10.0.0.2', router: '10.0.0.1', rs1: '10.0.0.185', rs2: '10.0.0.86', client: '198.51.100.10' };

export function ip(s: string): number {
  const n = parseIPv4(s);
  if (n === null) throw new Error(`bad ip ${s}`);
  return n | 0; // the data plane's int32 form (see packet/bytes.readI32)
}

export function svcSpec(over: Partial<ServiceSpec> = {}): ServiceSpec {
  return { proto: PROTO_TCP, addr: ip(IP.vip), port: 80, scheduler: 'rr', persistent: 0, netmask: 0xffffffff, ops: false, schedFlags: 0, ...over };
}

export function destSpec(addr: string, over: Partial<DestSpec> = {}): DestSpec {
  return { addr: ip(addr), port: 80, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0, ...over };
}

export interface OneArm {
  engine: Engine;
  registry: ServiceRegistry;
}

/** Engine + registry; servers added in the order given (rs1 then rs2 unless told otherwise). */
export function oneArm(opts: Partial<EngineOptions> = {}, svc: Partial<ServiceSpec> = {}, dests: DestSpec[] | null = null): OneArm {
  const engine = new Engine({
    ifaces: [{ name: 'eth0', mac: parseMac(MAC.lb)!, mtu: 1500, ip: ip(IP.lb) }],
    maxConns: 1024,
    ...opts,
  });
  const routing = new RoutingTable([
    { dst: ip('10.0.0.0'), prefixLen: 24, iface: 0, gateway: 0 },
    { dst: 0, prefixLen: 0, iface: 0, gateway: ip(IP.router) },
  ]);
  const registry = new ServiceRegistry(engine, routing);
  registry.addService(svcSpec(svc));
  for (const d of dests ?? [destSpec(IP.rs1), destSpec(IP.rs2)]) registry.addDest(svcSpec(svc), d);
  const known: Record<string, string> = { [IP.rs1]: MAC.rs1, [IP.rs2]: MAC.rs2, [IP.router]: MAC.router };
  for (let n = 0; n < engine.neigh.size; n++) {
    const a = engine.neigh.ip[n]!;
    const name = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    const mac = known[name];
    if (mac) engine.neigh.set(n, parseMac(mac)!, 0);
  }
  return { engine, registry };
}
