/**
 * The VRRP receive side on a real interface: a cap (libpcap) handle of its own, filtered to
 * `ip proto 112 and not ether src <our MAC>` (with IPv6 instances on the interface also
 * `ip6 and ip6[6] = 112`: next header VRRP in the fixed header, as RFC 9568 adverts carry
 * no extension headers), so the engine's capture never sees VRRP and the
 * adverts we send (through the runtime's port, another handle) never come back to us
 * (docs/packet-io.md pitfalls 4 and 5). The capture Buffer is kept referenced for the handle's
 * whole life: the addon does not hold it (pitfall 1).
 *
 * Also the link watcher: keepalived learns link changes from netlink; we poll
 * /sys/class/net/IF/operstate (ip netns exec mounts the namespace's own sysfs).
 */
import { readFileSync } from 'node:fs';
import capModule from 'cap';
import { formatMac } from '../packet/addr.js';

const { Cap } = capModule;
/** VRRP traffic is a few frames per second: a small ring is plenty even with 64 KiB slots. */
const RING_BYTES = 4 * 1024 * 1024;

/** Which families' adverts an interface's capture takes (its instances' families). */
export interface VrrpFamilies {
  ipv4: boolean;
  ipv6: boolean;
}

/** The capture filter for VRRP adverts of the given families, never our own frames. */
export function vrrpCaptureFilter(mac: Uint8Array, families: VrrpFamilies = { ipv4: true, ipv6: false }): string {
  const parts: string[] = [];
  if (families.ipv4 || !families.ipv6) parts.push('ip proto 112');
  if (families.ipv6) parts.push('(ip6 and ip6[6] = 112)');
  const what = parts.length === 1 ? parts[0]! : `(${parts.join(' or ')})`;
  return `${what} and not ether src ${formatMac(mac)}`;
}

export class VrrpCapture {
  readonly name: string;
  private cap: InstanceType<typeof Cap> | null;
  /** Referenced for the whole life of the handle (and after close, see CapPort). */
  private readonly buffer = Buffer.alloc(65535);

  constructor(ifName: string, mac: Uint8Array, onFrame: (frame: Buffer, len: number) => void, families?: VrrpFamilies) {
    this.name = ifName;
    const cap = new Cap();
    cap.open(ifName, vrrpCaptureFilter(mac, families), RING_BYTES, this.buffer);
    cap.on('packet', (nbytes: number) => onFrame(this.buffer, nbytes));
    this.cap = cap;
  }

  close(): void {
    if (!this.cap) return;
    this.cap.removeAllListeners('packet');
    this.cap.close();
    this.cap = null;
  }
}

/** operstate of an interface: true for "up" (or "unknown", which veth/tun report when fine). */
export function linkIsUp(ifName: string): boolean {
  try {
    const s = readFileSync(`/sys/class/net/${ifName}/operstate`, 'utf8').trim();
    return s === 'up' || s === 'unknown';
  } catch {
    return false;
  }
}

/** Poll link state every `intervalMs` and report changes. Returns a stop function. */
export function watchLinks(names: readonly string[], onChange: (index: number, up: boolean) => void, intervalMs = 250): () => void {
  const last = names.map((n) => linkIsUp(n));
  const timer = setInterval(() => {
    names.forEach((n, i) => {
      const up = linkIsUp(n);
      if (up !== last[i]) {
        last[i] = up;
        onChange(i, up);
      }
    });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
