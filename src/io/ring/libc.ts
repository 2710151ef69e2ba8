/**
 * The libc calls the AF_PACKET ring backend needs, through koffi (FFI). Loaded lazily so
 * that `--io pcap`, the unit tests and the control plane never need it. Pointers into
 * memory we manage (rings, message vectors) are passed as plain numbers (intptr_t):
 * user-space addresses on x86-64 fit in 47 bits, so a double holds them exactly and no
 * BigInt or pointer object is made per call.
 */
import { createRequire } from 'node:module';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './layout.js';

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

/** The koffi module (throws when it is not installed). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function koffi(): any {
  return createRequire(import.meta.url)('koffi');
}

/** koffi.view needs a pointer value: decode one from an address (once per mapping). */
export function viewAt(addr: number, len: number): ArrayBuffer {
  const k = koffi();
  return k.view(k.decode(Buffer.from(new BigUint64Array([BigInt(addr)]).buffer), 'void *'), len) as ArrayBuffer;
}

let cached: Libc | null = null;
let loadError = '';

/** The bindings, or null with the reason in libcLoadError(). */
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
  const k = koffi();
  const lib = k.load('libc.so.6');
  const mmap = lib.func('intptr_t mmap(intptr_t, size_t, int, int, int, int64_t)');
  const poll = lib.func('int poll(intptr_t, uint64_t, int)');
  const sendto = lib.func('intptr_t sendto(int, void *, size_t, int, void *, uint32_t)');
  return {
    socket: lib.func('int socket(int, int, int)'),
    bind: lib.func('int bind(int, void *, uint32_t)'),
    setsockopt: lib.func('int setsockopt(int, int, int, void *, uint32_t)'),
    getsockopt: lib.func('int getsockopt(int, int, int, void *, void *)'),
    // intptr_t may come back as a BigInt: the callers want numbers.
    mmap: (a, l, p, f, fd, o) => Number(mmap(a, l, p, f, fd, o)),
    munmap: lib.func('int munmap(intptr_t, size_t)'),
    close: lib.func('int close(int)'),
    poll,
    pollAsync: (fds, n, t, cb) => poll.async(fds, n, t, cb),
    sendmmsg: lib.func('int sendmmsg(int, intptr_t, uint32_t, int)'),
    sendto: (fd, b, l, f, a, al) => Number(sendto(fd, b, l, f, a, al)),
    ifNameToIndex: lib.func('uint32_t if_nametoindex(const char *)'),
    view: viewAt,
    addressOf: (b) => Number(k.address(b)),
    errno: () => k.errno() as number,
    strerror: lib.func('const char *strerror(int)'),
  };
}

/** An anonymous private read/write mapping (message vectors, pollfds): its address and a view. */
export function mapAnonymous(c: Libc, len: number, what: string): { addr: number; mem: ArrayBuffer } {
  const addr = c.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (addr === -1) throw new Error(`mmap(${what}): ${c.strerror(c.errno())}`);
  return { addr, mem: c.view(addr, len) };
}
