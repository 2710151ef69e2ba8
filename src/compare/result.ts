/**
 * What one side (kernel IPVS in the VM, or this engine) produced for a scenario, in
 * one shape so the report can put them side by side. Picks are read the same way on
 * both sides: from the `ipvsadm -L -n -c` text taken right after each client action.
 */

export interface CommandRecord {
  step: number;
  line: string;
  status: number;
  stderr: string;
}

export interface ConnRecord {
  step: number;
  id: string;
  kind: 'short' | 'hold' | 'udp' | 'capture';
  proto: 'TCP' | 'UDP';
  client: string;
  vip: string;
  /** "ADDR:PORT" of the real server the entry points to, or null when none was made. */
  dest: string | null;
  /** The entry's state column right after the action (e.g. TIME_WAIT, ESTABLISHED). */
  state: string | null;
}

export interface Listing {
  label: string;
  list: string;
  stats: string;
  conns: string;
  save: string;
}

/** A header field's value in the frame before and after the director. */
export interface FrameFields {
  [field: string]: string;
}

export interface RewriteSample {
  label: string;
  direction: 'client-to-server' | 'server-to-client';
  before: FrameFields;
  after: FrameFields;
}

export interface SideResult {
  side: 'kernel' | 'engine';
  scenario: string;
  /** `uname -r` and `ipvsadm -v` in the VM, or the engine's name. */
  version: string;
  commands: CommandRecord[];
  conns: ConnRecord[];
  listings: Listing[];
  rewrites: RewriteSample[];
}

export interface ConnLine {
  proto: string;
  expire: string;
  state: string;
  client: string;
  vip: string;
  dest: string;
}

/** Rows of `ipvsadm -L -n -c` (print_conn), header lines skipped. */
export function parseConnListing(text: string): ConnLine[] {
  const out: ConnLine[] = [];
  for (const raw of text.split('\n')) {
    const f = raw.trim().split(/\s+/);
    if (f.length < 6 || !/^\d+:\d+$/.test(f[1]!)) continue;
    out.push({ proto: f[0]!, expire: f[1]!, state: f[2]!, client: f[3]!, vip: f[4]!, dest: f[5]! });
  }
  return out;
}

/** The entry of one client connection (not its persistence template, whose client port is 0). */
export function pickFromListing(text: string, proto: 'TCP' | 'UDP', client: string, vip: string): { dest: string | null; state: string | null } {
  const line = parseConnListing(text).find((c) => c.proto === proto && c.client === client && c.vip === vip);
  return line ? { dest: line.dest, state: line.state } : { dest: null, state: null };
}

/** The `-c` listing with the expiry column masked (it depends on wall-clock timing). */
export function maskExpiry(text: string): string {
  return text.split('\n').map((l) => l.replace(/^(\S+\s+)\d+:\d+(\s)/, (_m, a: string, b: string) => `${a}--:--${b}`)).join('\n');
}

/** `-c` rows sorted: the kernel prints its hash-table order, the engine its slot order. */
export function sortConnRows(text: string): string {
  const lines = text.split('\n');
  const head = lines.filter((l) => !/^\S+\s+(\d+|--):(\d+|--)\s/.test(l) && l !== '');
  const rows = lines.filter((l) => /^\S+\s+(\d+|--):(\d+|--)\s/.test(l)).sort();
  return [...head, ...rows].join('\n') + '\n';
}
