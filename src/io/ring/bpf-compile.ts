/**
 * Compile a pcap filter expression to classic BPF with the system libpcap (the library
 * `cap` links too), through koffi: pcap_open_dead(DLT_EN10MB) + pcap_compile, the way
 * libpcap itself prepares a filter before attaching it with SO_ATTACH_FILTER.
 */
import { SOCK_FILTER_SIZE } from './layout.js';
import { koffi, viewAt } from './libc.js';

const DLT_EN10MB = 1;
const SNAPLEN = 262144;
const PCAP_NETMASK_UNKNOWN = 0xffffffff;

interface Pcap {
  openDead(linktype: number, snaplen: number): unknown;
  compile(p: unknown, prog: Buffer, expr: string, optimize: number, netmask: number): number;
  geterr(p: unknown): string;
  freecode(prog: Buffer): void;
  close(p: unknown): void;
  view(addr: number, len: number): ArrayBuffer;
}

let pcap: Pcap | null = null;

function load(): Pcap {
  if (pcap) return pcap;
  const k = koffi();
  let lib;
  try {
    lib = k.load('libpcap.so.0.8');
  } catch {
    lib = k.load('libpcap.so.1');
  }
  const openDead = lib.func('void *pcap_open_dead(int, int)');
  const compile = lib.func('int pcap_compile(void *, void *, const char *, int, uint32_t)');
  const geterr = lib.func('const char *pcap_geterr(void *)');
  const freecode = lib.func('void pcap_freecode(void *)');
  const close = lib.func('void pcap_close(void *)');
  pcap = { openDead, compile, geterr, freecode, close, view: viewAt };
  return pcap;
}

/** The program as struct sock_filter[] bytes (8 bytes an instruction). Throws with libpcap's message. */
export function compileFilter(expr: string): Buffer {
  const p = load();
  const handle = p.openDead(DLT_EN10MB, SNAPLEN);
  const prog = Buffer.alloc(16); // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; }
  try {
    if (p.compile(handle, prog, expr, 1, PCAP_NETMASK_UNKNOWN) !== 0) {
      throw new Error(`bad capture filter: ${p.geterr(handle)}`);
    }
    const count = prog.readUInt32LE(0);
    const addr = Number(prog.readBigUInt64LE(8));
    const insns = Buffer.from(new Uint8Array(p.view(addr, count * SOCK_FILTER_SIZE)));
    p.freecode(prog);
    return insns;
  } finally {
    p.close(handle);
  }
}
