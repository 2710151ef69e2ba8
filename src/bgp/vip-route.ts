/**
 * The VIP routes BIRD announces, held so that they cannot outlive the balancer.
 *
 * The balancer opens a TUN device (/dev/net/tun, TUNSETIFF, not persistent) and keeps its file
 * descriptor. While it can serve a VIP it adds `VIP/32 dev <tun> table T proto static`, and
 * deletes it when it cannot. A non-persistent TUN device lives exactly as long as the open
 * descriptor: when the process exits — stop, crash, SIGKILL, OOM kill — the kernel closes it,
 * deletes the device and every route through it, and BIRD, which learns table T
 * (bird-conf.ts), withdraws the VIPs at once. Nothing has to run at death: no supervisor, no
 * hold timer on the local side. The descriptor is close-on-exec (libuv opens every file so),
 * so a health-check script or BIRD started by the balancer never keeps the device alive.
 * Table T has no ip rule pointing at it: the routes are never used for forwarding.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { formatIPv4 } from '../packet/addr.js';

/** What the announcer needs (a fake in tests). */
export interface VipRoutes {
  add(vip: number): void;
  del(vip: number): void;
  /** Withdraw everything at once (the device goes, and its routes with it). */
  close(): void;
}

const TUNSETIFF = 0x400454ca; // _IOW('T', 202, int)
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFREQ_SIZE = 40;

type Ioctl = (fd: number, req: number, type: string, arg: Buffer) => number;
let ioctlFn: Ioctl | null = null;
let errnoFn: (() => number) | null = null;

function ioctl(): { ioctl: Ioctl; errno: () => number } {
  if (ioctlFn === null) {
    const require = createRequire(import.meta.url);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const koffi = require('koffi') as any;
    const lib = koffi.load('libc.so.6');
    const f = lib.func('int ioctl(int, unsigned long, ...)');
    ioctlFn = (fd, req, type, arg) => f(fd, req, type, arg);
    errnoFn = () => koffi.errno() as number;
  }
  return { ioctl: ioctlFn, errno: errnoFn! };
}

export class VipRouteError extends Error {}

export class TunVipRoutes implements VipRoutes {
  private fd = -1;
  readonly ifname: string;
  readonly table: number;
  private readonly run: (args: string[]) => void;

  constructor(ifname: string, table: number, run: (args: string[]) => void = (a) => void execFileSync('ip', a, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 })) {
    this.ifname = ifname;
    this.table = table;
    this.run = run;
  }

  /** Create the device (fails if another process holds one of that name) and bring it up. */
  open(): void {
    let fd: number;
    try {
      fd = openSync('/dev/net/tun', 'r+');
    } catch (err) {
      throw new VipRouteError(`cannot open /dev/net/tun (${(err as NodeJS.ErrnoException).code}): the VIP routes need the tun module (modprobe tun) and CAP_NET_ADMIN`);
    }
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.write(this.ifname, 0, 15, 'latin1');
    ifr.writeUInt16LE(IFF_TUN | IFF_NO_PI, 16);
    const { ioctl: call, errno } = ioctl();
    if (call(fd, TUNSETIFF, 'void *', ifr) < 0) {
      const e = errno();
      closeSync(fd);
      throw new VipRouteError(`cannot create the TUN device ${this.ifname} (errno ${e}${e === 16 ? ': busy, another balancer in this namespace holds it; give --bgp-ifname' : ''})`);
    }
    this.fd = fd;
    try {
      this.run(['link', 'set', 'dev', this.ifname, 'up']);
    } catch (err) {
      this.close();
      throw new VipRouteError(`ip link set ${this.ifname} up: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
    }
  }

  add(vip: number): void {
    if (this.fd < 0) return;
    this.run(['route', 'replace', `${formatIPv4(vip)}/32`, 'dev', this.ifname, 'table', String(this.table), 'proto', 'static']);
  }

  del(vip: number): void {
    if (this.fd < 0) return;
    try {
      this.run(['route', 'del', `${formatIPv4(vip)}/32`, 'dev', this.ifname, 'table', String(this.table)]);
    } catch {
      /* already gone */
    }
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  get isOpen(): boolean {
    return this.fd >= 0;
  }
}
