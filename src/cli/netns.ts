/**
 * The default control socket of this network namespace. /run is shared by the network
 * namespaces of one host (`ip netns exec` only remounts /sys), so one fixed path would
 * let the balancer of one namespace take the socket of another. The path carries the
 * namespace instead: the host's own namespace keeps /run/tslb.sock, a named one
 * (`ip netns add NS`, the name `ip netns identify` prints) gets /run/tslb.NS.sock, any
 * other (unshare -n, a container without its own /run) /run/tslb.netINODE.sock, INODE
 * being that of /proc/self/ns/net. `lb ipvsadm` computes the same path in its namespace,
 * so it finds the balancer of its own namespace.
 *
 * "The host's own" is known from /proc/1/ns/net, which only root (CAP_SYS_PTRACE) may
 * read, and not even root in some sandboxes: when it cannot be read the namespace counts
 * as another one (netINODE), and a client also tries /run/tslb.sock (clientSocketPaths).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';

export interface NetnsIdentity {
  /** Inode of /proc/self/ns/net (0 when unknown). */
  ino: number;
  /** Name under /run/netns (ip netns identify), or null. */
  name: string | null;
  /** The namespace of pid 1 (the host's own)? null when that cannot be read (not root). */
  host: boolean | null;
}

export const SOCKET_DIR = '/run';

/** Pure: the default control socket for a namespace. */
export function socketPathFor(ns: NetnsIdentity, dir = SOCKET_DIR): string {
  if (ns.name !== null) return `${dir}/tslb.${ns.name}.sock`;
  if (ns.host === true || ns.ino === 0) return `${dir}/tslb.sock`;
  return `${dir}/tslb.net${ns.ino}.sock`;
}

type NsStat = (path: string) => { dev: number; ino: number } | null;

function nsStat(path: string): { dev: number; ino: number } | null {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino };
  } catch {
    return null;
  }
}

/** This process's network namespace, as `ip netns identify` finds it (same device and inode). */
export function currentNetns(netnsDir = '/run/netns', stat: NsStat = nsStat, list: (dir: string) => string[] = readdirSync): NetnsIdentity {
  const self = stat('/proc/self/ns/net');
  if (self === null) return { ino: 0, name: null, host: null };
  let name: string | null = null;
  try {
    for (const n of list(netnsDir).sort()) {
      const s = stat(`${netnsDir}/${n}`);
      if (s && s.dev === self.dev && s.ino === self.ino) {
        name = n;
        break;
      }
    }
  } catch {
    /* no named namespaces */
  }
  const init = stat('/proc/1/ns/net');
  return { ino: self.ino, name, host: init === null ? null : init.dev === self.dev && init.ino === self.ino };
}

export function defaultSocketPath(): string {
  return socketPathFor(currentNetns());
}

/**
 * Where `lb ipvsadm` looks: the path of this namespace; when it cannot tell whether this
 * is the host's namespace (pid 1 unreadable), and that path does not exist, /run/tslb.sock,
 * which a balancer that could tell uses in the host's namespace.
 */
export function clientSocketPath(ns: NetnsIdentity = currentNetns(), exists: (p: string) => boolean = existsSync, dir = SOCKET_DIR): string {
  const own = socketPathFor(ns, dir);
  if (ns.host === null && ns.name === null && !exists(own) && exists(`${dir}/tslb.sock`)) return `${dir}/tslb.sock`;
  return own;
}
