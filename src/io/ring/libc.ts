/**
 * The libc calls the AF_PACKET ring backend needs, through koffi (FFI). Loaded lazily so
 * that `--io pcap`, the unit tests and the control plane never need it. Pointers into
 * memory we manage (rings, message vectors) are passed as plain numbers (intptr_t):
 * user-space addresses on x86-64 fit in 47 bits, so a double holds them exactly and no
 * BigInt or pointer object is made per call.
 */
import { createRequire } from 'node:module';

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  setsockopt(fd: number, level: number, name: number, val: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, val: Buffer, len: Buffer): number;
  /** Returns the address as a number, or -1 (MAP_FAILED). */
  mmap(addr: number, len: number, prot: number, flags: number, fd: number, off: number): number;
  munmap(addr: number, len: number): number;
  close(fd: number): number;
  poll(fds: number, nfds: number, timeoutMs: number): number;
  pollAsync(fds: number, nfds: number, timeoutMs: number, cb: (err: unknown, n: number) => void): void;
  sendmmsg(fd: number, msgvec: number, vlen: number, flags: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: null, alen: number): number;
  ifNameToIndex(name: string): number;
  /** An ArrayBuffer over [addr, addr+len) without copying. */
  view(addr: number, len: number): ArrayBuffer;
  /** Address of a Buffer's memory (valid while the Buffer is referenced). */
  addressOf(b: Buffer): number;
  errno(): number;
  strerror(errno: number): string;
}

let cached: Libc | null = null;
let loadError = '';

/** The bindings, or null with the reason in ringUnavailable(). */
export function libc(): Libc | null {
  if (cached !== null || loadError !== '') return cached;
  try {
    cached = load();
  } catch (err) {
    loadError = (err as Error).message.split('\n')[0]!;
  }
  return cached;
}

/** Why the FFI could not be loaded ('' when it was, or was not tried yet). */
export function libcLoadError(): string {
  return loadError;
}

function load(): Libc {
  const require = createRequire(import.meta.url);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const koffi = require('koffi') as any;
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int, int, int)');
  const bind = lib.func('int bind(int, void *, uint32_t)');
  const setsockopt = lib.func('int setsockopt(int, int, int, void *, uint32_t)');
  const getsockopt = lib.func('int getsockopt(int, int, int, void *, void *)');
  const mmap = lib.func('intptr_t mmap(intptr_t, size_t, int, int, int, int64_t)');
  const munmap = lib.func('int munmap(intptr_t, size_t)');
  const close = lib.func('int close(int)');
  const poll = lib.func('int poll(intptr_t, uint64_t, int)');
  const sendmmsg = lib.func('int sendmmsg(int, intptr_t, uint32_t, int)');
  const sendto = lib.func('intptr_t sendto(int, void *, size_t, int, void *, uint32_t)');
  const ifNameToIndex = lib.func('uint32_t if_nametoindex(const char *)');
  const strerror = lib.func('const char *strerror(int)');
  // koffi.view needs a pointer value: decode one from the address once per mapping.
  const asPointer = (addr: number) => koffi.decode(Buffer.from(new BigUint64Array([BigInt(addr)]).buffer), 'void *');
  return {
    socket: (d, t, p) => socket(d, t, p),
    bind: (fd, a, l) => bind(fd, a, l),
    setsockopt: (fd, lv, n, v, l) => setsockopt(fd, lv, n, v, l),
    getsockopt: (fd, lv, n, v, l) => getsockopt(fd, lv, n, v, l),
    mmap: (a, l, p, f, fd, o) => Number(mmap(a, l, p, f, fd, o)),
    munmap: (a, l) => munmap(a, l),
    close: (fd) => close(fd),
    poll: (fds, n, t) => poll(fds, n, t),
    pollAsync: (fds, n, t, cb) => poll.async(fds, n, t, cb),
    sendmmsg: (fd, v, n, f) => sendmmsg(fd, v, n, f),
    sendto: (fd, b, l, f, a, al) => Number(sendto(fd, b, l, f, a, al)),
    ifNameToIndex: (name) => ifNameToIndex(name),
    view: (addr, len) => koffi.view(asPointer(addr), len) as ArrayBuffer,
    addressOf: (b) => Number(koffi.address(b)),
    errno: () => koffi.errno() as number,
    strerror: (e) => strerror(e) as string,
  };
}
