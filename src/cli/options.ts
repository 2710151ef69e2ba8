/**
 * Command-line options of `lb` (the balancer itself). Pure: argv in, options or a
 * UsageError out; the caller prints the message and exits 2.
 */
import { parseIPv6 } from '../packet/addr6.js';
import { parseIPv4 } from '../packet/addr.js';
import { SCHEDULER_NAMES, DEFAULT_SCHEDULER } from '../sched/index.js';
import { FWD_DR, FWD_FNAT, FWD_MASQ, FWD_TUNNEL } from '../lvs/fwd.js';
import { BGP_USAGE, BGP_VALUE_FLAGS, bgpOption, type BgpOptions } from '../bgp/options.js';
import { DEFENSE_DEFAULTS, DEFENSE_USAGE, defenseOption, type DefenseOptions } from '../defense/options.js';

export class UsageError extends Error {}

export interface RealServerOpt {
  addr: number;
  /** 0 = the service port. */
  port: number;
  weight: number;
  /** undefined = the --mode default. */
  fwd: number | undefined;
  text: string;
}

export interface LbOptions {
  vip: number | null;
  ports: number[];
  proto: 'tcp' | 'udp';
  udpPorts: number[];
  rs: RealServerOpt[];
  sched: string;
  mode: number;
  persist: number;
  persistMask: number;
  ops: boolean;
  ifaces: string[];
  maxConns: number;
  checksum: 'incremental' | 'full';
  /** Packet I/O backend: AF_PACKET rings (default, falls back to pcap) or libpcap. */
  io: 'auto' | 'ring' | 'pcap';
  traceSched: boolean;
  hostGuard: boolean;
  pcapDir: string | null;
  /** Path diagnostics (src/diag): NAT return path, DR real servers, loop guard. */
  doctor: boolean;
  fnatAddrs: number[];
  /** IPv6 full-NAT local addresses (four words each), for IPv6 services. */
  fnatAddrs6: Int32Array[];
  fnatPorts: [number, number];
  rulesFile: string | null;
  saveOnExit: string | null;
  config: string | null;
  socket: string;
  /** Multi-process: this process is worker k of n (capture filters split the flows). */
  worker: { k: number; n: number } | null;
  workers: number;
  shardBy: 'port' | 'addr' | null;
  /** Ring backend with workers: the PACKET_FANOUT group the workers join (set by the supervisor). */
  fanoutGroup: number | null;
  /** src/ha: `--metrics [ADDR:]PORT` (off by default). */
  metrics: string | null;
  /** src/ha connection sync: 'auto' = on when keepalived.conf has lvs_sync_daemon. */
  sync: 'auto' | 'on' | 'off';
  syncPeer: number | null;
  syncPort: number | null;
  syncId: number | null;
  /** VRRP: add the VIPs to the interface while MASTER, as keepalived does (--no-vrrp-addresses: not). */
  vrrpAddresses: boolean;
  /** `--config-test` / `-t` (keepalived) or `--check`: parse --config / --rules, report, exit. */
  configTest: boolean;
  /** Sloppy TCP (net.ipv4.vs.sloppy_tcp): 'auto' = on for mh services with --bgp (docs/scale-out.md). */
  sloppyTcp: 'auto' | 'on' | 'off';
  /** src/bgp: announce the VIPs by BGP through BIRD 2 (N active directors); null = off. */
  bgp: BgpOptions | null;
  /** src/defense: drop_entry, drop_packet, secure_tcp, amemthresh and the new-connection caps. */
  defense: DefenseOptions;
  /** `--version`: print the version and exit. */
  version: boolean;
  help: boolean;
}

export const USAGE = `Usage: lb [options]                     run the load balancer (as root)
       lb --config FILE --config-test       check keepalived.conf (alias -t); lb --rules FILE --check likewise
       lb --version                        print the version
       lb ipvsadm ARGS...                  ipvsadm commands against a running balancer
       lb reload                           re-read --config / --rules of a running balancer
       lb sysctl [-a | NAME... | [-w] NAME=VALUE...]   IPVS sysctls of a running balancer (net.ipv4.vs.*)
       lb top [--interval S] [--once]       live view of a running balancer (ipvsadm -L -n --rate, VRRP, sync)

Service:
  --vip ADDR              virtual IP (not assigned to any interface; the balancer answers ARP for it);
                          alone, a balancer for that VIP with no services yet (add them with lb ipvsadm -A / -a)
  --port N                service port (default 80; repeat for several services)
  --proto tcp|udp         protocol of the --port services (default tcp)
  --udp-port N            also a UDP service on VIP:N with the same real servers on port N (repeatable)
  --rs IP[:PORT][@W][/M]  real server, weight W (default 1), method M nat|dr|tun|fnat; repeat, in ipvsadm -a order
  --sched NAME            ${SCHEDULER_NAMES.join(' | ')} (default ${DEFAULT_SCHEDULER})
  --mode nat|dr|tun|fnat  default forwarding method (default nat, ipvsadm -m; tun = -i)
  --persist SECONDS       persistence timeout (ipvsadm -p, 1..2678400)
  --persist-mask MASK     persistence netmask (ipvsadm -M, default 255.255.255.255)
  --ops                   one-packet scheduling for UDP (ipvsadm -o)
  --sloppy-tcp            schedule a TCP segment without SYN that has no connection entry, for every
                          service (sysctl net.ipv4.vs.sloppy_tcp=1); default: on for mh services with --bgp
  --no-sloppy-tcp         off, also for mh with --bgp (a keepalived.conf virtual_server's own sloppy_tcp still applies)
Rules and control:
  --rules FILE            load rules in ipvsadm-save format at start
  --save-on-exit FILE     write the live rules (ipvsadm -S -n) on shutdown
  --config FILE           keepalived.conf (virtual_server blocks and health checks)
  --config-test, -t       parse --config (and --rules), print every error and warning, exit 0 if it would start, else 1
  --check                 the same for --rules FILE (no root, no network, nothing started)
  --socket PATH           control socket (default, per network namespace: /run/tslb.sock in the host's,
                          /run/tslb.NS.sock in a named one NS, else /run/tslb.netINODE.sock)
High availability (vrrp_instance blocks of --config; see docs/ha.md):
  --sync                  connection sync to the backup (default: on when --config has lvs_sync_daemon);
                          with --bgp and no vrrp_instance: among the active directors (docs/scale-out.md)
  --no-sync               no connection sync
  --sync-peer ADDR        sync by unicast to ADDR instead of multicast 224.0.0.81 (implies --sync)
  --sync-port N           sync UDP port (default 8848)
  --sync-id N             sync id 0..255 (default 0 = a backup accepts any)
  --metrics [ADDR:]PORT   Prometheus text endpoint /metrics (off by default; ADDR default 127.0.0.1)
  --no-vrrp-addresses     VRRP: keep the VIPs off the interface (default: added while MASTER, as keepalived)
${BGP_USAGE}
${DEFENSE_USAGE}
Packet path:
  --iface IF              capture/transmit interface (repeatable; default: from the routing table)
  --max-conns N           connection table capacity (default 1048576)
  --checksum incremental|full   L4 checksum update on rewrite (default incremental, RFC 1624)
  --io ring|pcap          packet I/O: AF_PACKET rings with offload state and batched sends
                          (default; falls back to pcap if it cannot open) or libpcap
  --fnat-addr ADDR        full-NAT local address, IPv4 or IPv6 (repeatable; IPv6 ones serve IPv6 services)
  --fnat-ports LO-HI      full-NAT local port range (default 1024-65535)
  --no-host-guard         do not install the nftables netdev drop rules
  --pcap-dir DIR          write what the engine received and sent, per interface, as pcap
                          (DIR/IF.in.pcap, DIR/IF.out.pcap, DIR/IF.pcap = both; tcpdump -r reads them)
  --no-doctor             no path diagnostics (NAT return path, DR real servers, loop guard)
  --trace-sched           log each scheduling decision with its inputs
  --workers N             run N engine processes (one per core), flows split by capture filters
  --shard-by port|addr    how workers split flows (default: addr with --persist or sh, else port)
  --worker K/N            (internal) run as worker K of N
  --version
  --help`;

function intIn(name: string, v: string, lo: number, hi: number): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`invalid value for ${name}: '${v}' (expected an integer ${lo}..${hi})`);
  const n = Number(v);
  if (n < lo || n > hi) throw new UsageError(`invalid value for ${name}: '${v}' (expected ${lo}..${hi})`);
  return n;
}

function addr(name: string, v: string): number {
  const a = parseIPv4(v);
  if (a === null) throw new UsageError(`invalid value for ${name}: '${v}' (expected a dotted IPv4 address)`);
  return a;
}

const MODES: Record<string, number> = { nat: FWD_MASQ, dr: FWD_DR, tun: FWD_TUNNEL, fnat: FWD_FNAT };

function mode(name: string, v: string): number {
  const m = MODES[v];
  if (m === undefined) throw new UsageError(`invalid value for ${name}: '${v}' (expected nat, dr, tun or fnat)`);
  return m;
}

/** IP[:PORT][@WEIGHT][/METHOD] */
export function parseRealServer(v: string): RealServerOpt {
  const m = /^([0-9.]+)(?::([^@/]*))?(?:@([^/]*))?(?:\/(.*))?$/.exec(v);
  if (!m) throw new UsageError(`invalid value for --rs: '${v}' (expected IP[:PORT][@WEIGHT][/nat|dr|tun|fnat])`);
  const a = parseIPv4(m[1]!);
  if (a === null) throw new UsageError(`invalid value for --rs: '${v}' (bad address '${m[1]}')`);
  const port = m[2] === undefined ? 0 : intIn('--rs port', m[2], 1, 65535);
  const weight = m[3] === undefined ? 1 : intIn('--rs weight', m[3], 0, 65535);
  const fwd = m[4] === undefined ? undefined : mode('--rs method', m[4]);
  return { addr: a, port, weight, fwd, text: v };
}

export interface OptionDefaults {
  /** The default control socket (lb.ts: the one of this network namespace, see netns.ts). */
  socket?: string;
}

export function parseOptions(argv: string[], defaults: OptionDefaults = {}): LbOptions {
  const o: LbOptions = {
    vip: null, ports: [], proto: 'tcp', udpPorts: [], rs: [], sched: DEFAULT_SCHEDULER, mode: FWD_MASQ,
    persist: 0, persistMask: 0xffffffff, ops: false, ifaces: [], maxConns: 1 << 20, checksum: 'incremental', io: 'auto',
    traceSched: false, hostGuard: true, pcapDir: null, doctor: true, fnatAddrs: [], fnatAddrs6: [], fnatPorts: [1024, 65535],
    rulesFile: null, saveOnExit: null, config: null, socket: defaults.socket ?? '/run/tslb.sock', worker: null, workers: 1, shardBy: null, fanoutGroup: null,
    help: false, metrics: null, sync: 'auto', syncPeer: null, syncPort: null, syncId: null, vrrpAddresses: true, configTest: false, version: false,
    sloppyTcp: 'auto', bgp: null, defense: { ...DEFENSE_DEFAULTS },
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`option ${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--vip': {
        const v = value();
        if (v.includes(':')) {
          throw new UsageError(`invalid value for --vip: '${v}' (--vip takes an IPv4 address; add IPv6 services with lb ipvsadm -A -t [ADDR]:PORT, a --rules file or --config)`);
        }
        o.vip = addr(name, v);
        break;
      }
      case '--port': o.ports.push(intIn(name, value(), 0, 65535)); break;
      case '--proto': {
        const v = value();
        if (v !== 'tcp' && v !== 'udp') throw new UsageError(`invalid value for --proto: '${v}' (expected tcp or udp)`);
        o.proto = v;
        break;
      }
      case '--udp-port': o.udpPorts.push(intIn(name, value(), 1, 65535)); break;
      case '--rs': o.rs.push(parseRealServer(value())); break;
      case '--sched': {
        const v = value();
        if (!(SCHEDULER_NAMES as readonly string[]).includes(v)) {
          throw new UsageError(`invalid value for --sched: '${v}' (expected one of ${SCHEDULER_NAMES.join(', ')})`);
        }
        o.sched = v;
        break;
      }
      case '--mode': o.mode = mode(name, value()); break;
      case '--persist': o.persist = intIn(name, value(), 1, 2678400); break;
      case '--persist-mask': o.persistMask = addr(name, value()); break;
      case '--ops': o.ops = true; break;
      case '--sloppy-tcp': o.sloppyTcp = 'on'; break;
      case '--no-sloppy-tcp': o.sloppyTcp = 'off'; break;
      case '--iface': o.ifaces.push(value()); break;
      case '--max-conns': o.maxConns = intIn(name, value(), 1, 1 << 24); break;
      case '--checksum': {
        const v = value();
        if (v !== 'incremental' && v !== 'full') throw new UsageError(`invalid value for --checksum: '${v}' (expected incremental or full)`);
        o.checksum = v;
        break;
      }
      case '--io': {
        const v = value();
        if (v !== 'ring' && v !== 'pcap') throw new UsageError(`invalid value for --io: '${v}' (expected ring or pcap)`);
        o.io = v;
        break;
      }
      case '--trace-sched': o.traceSched = true; break;
      case '--no-host-guard': o.hostGuard = false; break;
      case '--pcap-dir': o.pcapDir = value(); break;
      case '--no-doctor': o.doctor = false; break;
      case '--fnat-addr': {
        const v = value();
        const a6 = v.includes(':') ? parseIPv6(v) : null;
        if (a6 !== null) o.fnatAddrs6.push(a6);
        else if (v.includes(':')) throw new UsageError(`invalid value for ${name}: '${v}' (expected an IPv4 or IPv6 address)`);
        else o.fnatAddrs.push(addr(name, v));
        break;
      }
      case '--fnat-ports': {
        const v = value();
        const m = /^(\d+)-(\d+)$/.exec(v);
        const lo = m ? Number(m[1]) : NaN, hi = m ? Number(m[2]) : NaN;
        if (!m || lo < 1 || hi > 65535 || lo > hi) throw new UsageError(`invalid value for --fnat-ports: '${v}' (expected LO-HI within 1-65535)`);
        o.fnatPorts = [lo, hi];
        break;
      }
      case '--rules': o.rulesFile = value(); break;
      case '--save-on-exit': o.saveOnExit = value(); break;
      case '--config': o.config = value(); break;
      case '--socket': o.socket = value(); break;
      case '--metrics': {
        const v = value();
        if (!/^(?:\d{1,3}(?:\.\d{1,3}){3}:)?\d{1,5}$/.test(v)) throw new UsageError(`invalid value for --metrics: '${v}' (expected [ADDR:]PORT)`);
        o.metrics = v;
        break;
      }
      case '--sync': o.sync = 'on'; break;
      case '--no-sync': o.sync = 'off'; break;
      case '--sync-peer': o.syncPeer = addr(name, value()); if (o.sync === 'auto') o.sync = 'on'; break;
      case '--sync-port': o.syncPort = intIn(name, value(), 1, 65535); break;
      case '--sync-id': o.syncId = intIn(name, value(), 0, 255); break;
      case '--workers': o.workers = intIn(name, value(), 1, 64); break;
      case '--no-vrrp-addresses': o.vrrpAddresses = false; break;
      case '--fanout-group': o.fanoutGroup = intIn(name, value(), 0, 0xffff); break;
      case '--worker': {
        const v = value();
        const m = /^(\d+)\/(\d+)$/.exec(v);
        if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new UsageError(`invalid value for --worker: '${v}' (expected K/N with 0 <= K < N)`);
        o.worker = { k: Number(m[1]), n: Number(m[2]) };
        break;
      }
      case '--shard-by': {
        const v = value();
        if (v !== 'port' && v !== 'addr') throw new UsageError(`invalid value for --shard-by: '${v}' (expected port or addr)`);
        o.shardBy = v;
        break;
      }
      case '--config-test': case '-t': case '--check': o.configTest = true; break;
      case '--bgp': case '--bgp-peer': case '--bgp-as': case '--bgp-peer-as': case '--bgp-router-id': case '--bgp-dir':
      case '--bgp-hold': case '--bgp-bfd': case '--bgp-bfd-multiplier': case '--bgp-table': case '--bgp-ifname':
        o.bgp = bgpOption(o.bgp, name, BGP_VALUE_FLAGS.has(name) ? value() : '', (m) => { throw new UsageError(m); });
        break;
      case '--drop-entry': case '--drop-packet': case '--secure-tcp': case '--amemthresh': case '--am-droprate':
      case '--secure-syn-recv-timeout': case '--svc-conn-rate': case '--client-conn-rate': case '--client-prefix-len':
        defenseOption(o.defense, name, value(), (m) => { throw new UsageError(m); });
        break;
      case '--version': o.version = true; break;
      case '--help': case '-h': o.help = true; break;
      default:
        throw new UsageError(`unknown option '${arg}' (see lb --help)`);
    }
  }
  // --port 80 is the default for --rs servers; a bare --vip has no service until one is added.
  if (o.ports.length === 0 && o.rs.length > 0) o.ports.push(80);
  if (o.help || o.version) return o;
  if (o.configTest && o.config === null && o.rulesFile === null) throw new UsageError('--config-test needs --config FILE or --rules FILE to check');
  if (o.vip === null && o.rs.length > 0) throw new UsageError('missing --vip: --rs servers need a virtual IP');
  // --vip alone: a balancer for that VIP with no services yet, as a fresh IPVS (run.ts prints how to add them).
  if (o.ops && o.proto !== 'udp' && o.udpPorts.length === 0) throw new UsageError('--ops: One-Packet Scheduling is only for UDP virtual services');
  if (o.persist === 0 && o.ports.includes(0)) throw new UsageError('--port 0: Zero port specified for non-persistent service');
  if (o.bgp !== null && o.bgp.peers.length === 0) throw new UsageError('--bgp needs at least one --bgp-peer ADDR (the router to announce the VIPs to)');
  if (o.bgp !== null && (o.workers > 1 || o.worker !== null)) throw new UsageError('--bgp with --workers: not supported (one BGP speaker per director)');
  const usesFnat = o.mode === FWD_FNAT || o.rs.some((r) => r.fwd === FWD_FNAT);
  // The IPv4 services of --vip need an IPv4 local address; IPv6 ones added by ipvsadm an IPv6 one (checked when added).
  if (usesFnat && o.fnatAddrs.length === 0) throw new UsageError('full-NAT needs at least one --fnat-addr (a local address the real servers route back to)');
  return o;
}
