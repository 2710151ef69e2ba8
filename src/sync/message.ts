/**
 * IPVS connection sync message, version 1 (ip_vs_sync.c: struct ip_vs_sync_mesg, ip_vs_sync_v4,
 * ip_vs_sync_v6, ip_vs_sync_conn; receive side ip_vs_process_message / ip_vs_proc_sync_conn).
 * IPv6 entries (72 bytes: the same fields, addresses of 16 bytes at 24, 40, 56) are decoded
 * into `conns6` with text addresses (ha/sync-codec.ts applies them to the IPv6 table); the
 * master writes them from its table's words with encodeEntry6Words. They carry no options
 * here: the full-NAT option below holds an IPv4 local address only.
 *
 *   header (8):  reserved=0 | syncid | size (be16, whole message) | nr_conns | version=1 | spare (2) = 0
 *   entry (36):  type (bit0 = IPv6) | protocol | ver_size (be16: version<<12 | entry size incl. options)
 *                flags (be32, without HASHED) | state (be16) | cport | vport | dport (be16)
 *                fwmark (be32) | timeout (be32, seconds) | caddr | vaddr | daddr
 *   options:     { type (1) | length (1) | data } ...
 *                1 = sequence adjust data (24 bytes: in/out {init_seq, delta, previous_delta})
 *                2 = persistence-engine data (<= 255), 3 = persistence-engine name (<= 16)
 *                type | 0x40 (IPVS_OPT_F_PARAM) = optional: receivers skip types they do not know.
 *   The next entry starts at the next 4-byte boundary (the sender pads before it, not after the last).
 *
 * Our extension (tslb only): option 0x48 = IPVS_OPT_F_PARAM | 8, 6 bytes {laddr be32, lport be16},
 * the local (source-NAT) address of a full-NAT connection. It is optional by construction, so a
 * mainline kernel backup skips it (and keeps the rest of the entry).
 *
 * Error policy of decode, as the kernel: a structural error anywhere (size field, an entry running
 * past the end, unknown entry version or type, bad option length, duplicated option) throws, so the
 * whole message is dropped. An unknown *mandatory* option only marks that entry `unsupported`.
 */
import { readU16, readU32, writeU16, writeU32 } from '../packet/bytes.js';
import { CONN_F_HASHED, SYNC_PROTO_VER } from './constants.js';
import { formatIPv6Bytes, ipv6Bytes, writeAddr6 } from '../packet/addr6.js';

export const SYNC_HEADER_LEN = 8;
export const SYNC_V4_ENTRY_LEN = 36;
export const SYNC_V6_ENTRY_LEN = 72;
const STYPE_F_INET6 = 1;
const SVER_SHIFT = 12;
const SVER_MASK = 0x0fff;
export const IPVS_OPT_SEQ_DATA = 1;
export const IPVS_OPT_PE_DATA = 2;
export const IPVS_OPT_PE_NAME = 3;
export const IPVS_OPT_F_PARAM = 0x40;
/** tslb extension: full-NAT local address and port. */
export const TSLB_OPT_FULLNAT = IPVS_OPT_F_PARAM | 8;
const SEQ_OPT_LEN = 24;
const FULLNAT_OPT_LEN = 6;
const PE_DATA_MAXLEN = 255;
const PE_NAME_MAXLEN = 16;

/** struct ip_vs_seq */
export interface SeqAdjust {
  initSeq: number;
  delta: number;
  previousDelta: number;
}

export interface SyncConnEntry {
  protocol: number;
  /** IP_VS_CONN_F_* bits; HASHED is cleared on the wire. */
  flags: number;
  state: number;
  cport: number;
  vport: number;
  dport: number;
  fwmark: number;
  /** Seconds. 0 means "use the protocol's timeout for the state" on the receiver. */
  timeout: number;
  caddr: number;
  vaddr: number;
  daddr: number;
  seq?: { in: SeqAdjust; out: SeqAdjust };
  peData?: Uint8Array;
  peName?: string;
  /** tslb full-NAT extension. */
  fullnat?: { laddr: number; lport: number };
  /**
   * Set by decode only (encode ignores it): the entry carried an unknown mandatory option, and
   * the kernel skips such an entry (ip_vs_proc_sync_conn).
   */
  unsupported?: string;
}

export interface SyncMessage {
  syncid: number;
  conns: SyncConnEntry[];
}

/** An IPv6 entry (struct ip_vs_sync_v6): addresses as inet_ntop text. */
export interface Sync6ConnEntry extends Omit<SyncConnEntry, 'caddr' | 'vaddr' | 'daddr' | 'fullnat'> {
  caddr: string;
  vaddr: string;
  daddr: string;
}

export interface DecodedSyncMessage {
  syncid: number;
  /** IPv4 entries, in message order. */
  conns: SyncConnEntry[];
  /** IPv6 entries, in message order. */
  conns6: Sync6ConnEntry[];
  /** How many IPv6 entries there were (= conns6.length): what a receiver without IPv6 skipped. */
  skippedIpv6: number;
}

/** Bytes of one entry including its options (the value of ver_size's size field). */
export function entryLength(e: SyncConnEntry): number {
  let len = SYNC_V4_ENTRY_LEN;
  if (e.seq) len += 2 + SEQ_OPT_LEN;
  // The kernel sends the PE name only together with PE data.
  if (e.peData) len += 2 + e.peData.length + (e.peName ? 2 + new TextEncoder().encode(e.peName).length : 0);
  if (e.fullnat) len += 2 + FULLNAT_OPT_LEN;
  return len;
}

function checkU(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new Error(`sync entry ${name} must be 0..${max}, got ${v}`);
}

function validateEntry(e: SyncConnEntry): void {
  checkU('protocol', e.protocol, 0xff);
  checkU('flags', e.flags, 0xffffffff);
  checkU('state', e.state, 0xffff);
  for (const k of ['cport', 'vport', 'dport'] as const) checkU(k, e[k], 0xffff);
  for (const k of ['fwmark', 'timeout', 'caddr', 'vaddr', 'daddr'] as const) checkU(k, e[k], 0xffffffff);
  if (e.peData && (e.peData.length === 0 || e.peData.length > PE_DATA_MAXLEN)) throw new Error('PE data must be 1..255 bytes');
  if (e.peName !== undefined) {
    const n = new TextEncoder().encode(e.peName).length;
    if (n === 0 || n > PE_NAME_MAXLEN) throw new Error('PE name must be 1..16 bytes');
    if (!e.peData) throw new Error('PE name is only sent together with PE data');
  }
  if (entryLength(e) > SVER_MASK) throw new Error('sync entry too long for its 12-bit size');
}

function writeSeq(buf: Uint8Array, p: number, s: SeqAdjust): void {
  writeU32(buf, p, s.initSeq);
  writeU32(buf, p + 4, s.delta);
  writeU32(buf, p + 8, s.previousDelta);
}

function readSeq(buf: Uint8Array, p: number): SeqAdjust {
  return { initSeq: readU32(buf, p), delta: readU32(buf, p + 4), previousDelta: readU32(buf, p + 8) };
}

/**
 * The first 24 bytes both entry kinds share (struct ip_vs_sync_v4 / _v6 up to the addresses):
 * type, protocol, ver_size (entry version 0 in the top bits), flags without HASHED, state,
 * ports, fwmark, timeout.
 */
function writeEntryHead(buf: Uint8Array, off: number, type: number, size: number, e: Omit<SyncConnEntry, 'caddr' | 'vaddr' | 'daddr'>): void {
  buf[off] = type;
  buf[off + 1] = e.protocol;
  writeU16(buf, off + 2, size & SVER_MASK);
  writeU32(buf, off + 4, (e.flags & ~CONN_F_HASHED) >>> 0);
  writeU16(buf, off + 8, e.state);
  writeU16(buf, off + 10, e.cport);
  writeU16(buf, off + 12, e.vport);
  writeU16(buf, off + 14, e.dport);
  writeU32(buf, off + 16, e.fwmark);
  writeU32(buf, off + 20, e.timeout);
}

/** Write one entry at buf[off]; returns its length. Used by encode and by the batcher. */
export function encodeEntry(e: SyncConnEntry, buf: Uint8Array, off: number): number {
  validateEntry(e);
  const len = entryLength(e);
  if (off + len > buf.length) throw new RangeError(`sync entry needs ${len} bytes at ${off}`);
  writeEntryHead(buf, off, 0 /* IPv4 */, len, e);
  writeU32(buf, off + 24, e.caddr);
  writeU32(buf, off + 28, e.vaddr);
  writeU32(buf, off + 32, e.daddr);
  let p = off + SYNC_V4_ENTRY_LEN;
  if (e.seq) {
    buf[p++] = IPVS_OPT_SEQ_DATA;
    buf[p++] = SEQ_OPT_LEN;
    writeSeq(buf, p, e.seq.in);
    writeSeq(buf, p + 12, e.seq.out);
    p += SEQ_OPT_LEN;
  }
  if (e.peData) {
    buf[p++] = IPVS_OPT_PE_DATA;
    buf[p++] = e.peData.length;
    buf.set(e.peData, p);
    p += e.peData.length;
    if (e.peName) {
      const name = new TextEncoder().encode(e.peName);
      buf[p++] = IPVS_OPT_PE_NAME;
      buf[p++] = name.length;
      buf.set(name, p);
      p += name.length;
    }
  }
  if (e.fullnat) {
    buf[p++] = TSLB_OPT_FULLNAT;
    buf[p++] = FULLNAT_OPT_LEN;
    writeU32(buf, p, e.fullnat.laddr);
    writeU16(buf, p + 4, e.fullnat.lport);
    p += FULLNAT_OPT_LEN;
  }
  return len;
}

/**
 * Write one IPv6 entry (no options: sequence data and PE data are IPv4-only here) at
 * buf[off]; returns its length, SYNC_V6_ENTRY_LEN.
 */
export function encodeEntry6(e: Sync6ConnEntry, buf: Uint8Array, off: number): number {
  checkU('protocol', e.protocol, 0xff);
  checkU('flags', e.flags, 0xffffffff);
  checkU('state', e.state, 0xffff);
  for (const k of ['cport', 'vport', 'dport'] as const) checkU(k, e[k], 0xffff);
  for (const k of ['fwmark', 'timeout'] as const) checkU(k, e[k], 0xffffffff);
  const addrs = [e.caddr, e.vaddr, e.daddr].map((a) => ipv6Bytes(a) ?? fail6(a));
  if (off + SYNC_V6_ENTRY_LEN > buf.length) throw new RangeError(`sync entry needs ${SYNC_V6_ENTRY_LEN} bytes at ${off}`);
  writeEntryHead(buf, off, STYPE_F_INET6, SYNC_V6_ENTRY_LEN, e);
  addrs.forEach((a, i) => buf.set(a, off + 24 + 16 * i));
  return SYNC_V6_ENTRY_LEN;
}

/**
 * An IPv6 entry as the master's table holds it: the 24-byte head's fields and the three
 * addresses as words (packet/addr6.ts), caddr at slot 0, vaddr at slot 1, daddr at slot 2
 * of `addrs` (12 words), so the sender writes it without text or allocation.
 */
export interface Sync6WordsEntry extends Omit<SyncConnEntry, 'caddr' | 'vaddr' | 'daddr' | 'fullnat' | 'seq' | 'peData' | 'peName' | 'unsupported'> {
  addrs: Int32Array;
}

/** encodeEntry6 for an entry whose addresses are words; the same 72 bytes. */
export function encodeEntry6Words(e: Sync6WordsEntry, buf: Uint8Array, off: number): number {
  checkU('protocol', e.protocol, 0xff);
  checkU('flags', e.flags, 0xffffffff);
  checkU('state', e.state, 0xffff);
  checkU('cport', e.cport, 0xffff);
  checkU('vport', e.vport, 0xffff);
  checkU('dport', e.dport, 0xffff);
  checkU('fwmark', e.fwmark, 0xffffffff);
  checkU('timeout', e.timeout, 0xffffffff);
  if (e.addrs.length < 12) throw new Error('sync entry addresses need 12 words');
  if (off + SYNC_V6_ENTRY_LEN > buf.length) throw new RangeError(`sync entry needs ${SYNC_V6_ENTRY_LEN} bytes at ${off}`);
  writeEntryHead(buf, off, STYPE_F_INET6, SYNC_V6_ENTRY_LEN, e);
  writeAddr6(buf, off + 24, e.addrs, 0);
  writeAddr6(buf, off + 40, e.addrs, 1);
  writeAddr6(buf, off + 56, e.addrs, 2);
  return SYNC_V6_ENTRY_LEN;
}

function fail6(a: string): never {
  throw new Error(`sync entry address must be IPv6, got '${a}'`);
}

/** Write the 8-byte header. */
export function writeHeader(buf: Uint8Array, off: number, syncid: number, size: number, nrConns: number): void {
  checkU('syncid', syncid, 0xff);
  buf[off] = 0; // reserved: makes v0 receivers drop the message
  buf[off + 1] = syncid;
  writeU16(buf, off + 2, size);
  buf[off + 4] = nrConns;
  buf[off + 5] = SYNC_PROTO_VER;
  writeU16(buf, off + 6, 0);
}

export function encodingLength(msg: SyncMessage): number {
  let size = SYNC_HEADER_LEN;
  for (const e of msg.conns) size = ((size + 3) & ~3) + entryLength(e);
  return size;
}

function encodeImpl(msg: SyncMessage, buf?: Uint8Array, offset = 0): Uint8Array {
  if (msg.conns.length > 255) throw new Error(`at most 255 connections per message, got ${msg.conns.length}`);
  const size = encodingLength(msg);
  if (size > 0xffff) throw new Error(`sync message of ${size} bytes exceeds 65535`);
  const out = buf ?? new Uint8Array(offset + size);
  if (offset < 0 || offset + size > out.length) throw new RangeError(`sync message needs ${size} bytes at offset ${offset}`);
  writeHeader(out, offset, msg.syncid, size, msg.conns.length);
  let used = SYNC_HEADER_LEN;
  for (const e of msg.conns) {
    const pad = (4 - used) & 3;
    out.fill(0, offset + used, offset + used + pad);
    used += pad;
    used += encodeEntry(e, out, offset + used);
  }
  encode.bytes = size;
  return out;
}

export const encode = Object.assign(encodeImpl, { bytes: 0 });

/** Parse the options of one entry in buf[p, end) into `e` (ip_vs_proc_sync_conn's option loop). */
function decodeOptions(buf: Uint8Array, p: number, end: number, e: SyncConnEntry): void {
  const seen = new Set<number>();
  while (p < end) {
    if (p + 2 > end) throw new Error('sync option header runs past its entry');
    const ptype = buf[p]!;
    const plen = buf[p + 1]!;
    p += 2;
    if (plen === 0 || p + plen > end) throw new Error(`sync option ${ptype} has bad length ${plen}`);
    const kind = ptype & ~IPVS_OPT_F_PARAM;
    if (kind === IPVS_OPT_SEQ_DATA || kind === IPVS_OPT_PE_DATA || kind === IPVS_OPT_PE_NAME) {
      if (seen.has(kind)) throw new Error(`sync option ${kind} found twice`);
      seen.add(kind);
    }
    if (kind === IPVS_OPT_SEQ_DATA) {
      if (plen !== SEQ_OPT_LEN) throw new Error(`sequence option length ${plen}, expected ${SEQ_OPT_LEN}`);
      e.seq = { in: readSeq(buf, p), out: readSeq(buf, p + 12) };
    } else if (kind === IPVS_OPT_PE_DATA) {
      e.peData = buf.slice(p, p + plen); // plen <= 255 always fits PE_DATA_MAXLEN
    } else if (kind === IPVS_OPT_PE_NAME) {
      if (plen > PE_NAME_MAXLEN) throw new Error(`PE name length ${plen} exceeds ${PE_NAME_MAXLEN}`);
      e.peName = new TextDecoder().decode(buf.subarray(p, p + plen));
    } else if (ptype === TSLB_OPT_FULLNAT && plen === FULLNAT_OPT_LEN) {
      e.fullnat = { laddr: readU32(buf, p), lport: readU16(buf, p + 4) };
    } else if (!(ptype & IPVS_OPT_F_PARAM)) {
      e.unsupported = `unknown mandatory option ${ptype}`;
    }
    p += plen;
  }
  if (e.peName !== undefined && !e.peData) e.unsupported ??= 'PE name without PE data';
}

function decodeImpl(buf: Uint8Array, offset = 0, len?: number): DecodedSyncMessage {
  const buflen = len ?? buf.length - offset;
  if (offset < 0 || offset + buflen > buf.length) throw new RangeError('sync decode range is outside the buffer');
  if (buflen < 4) throw new Error('sync message header too short');
  const size = readU16(buf, offset + 2);
  if (size !== buflen) throw new Error(`sync message size field ${size} does not match ${buflen} received bytes`);
  if (buflen < SYNC_HEADER_LEN || buf[offset]! !== 0 || buf[offset + 5]! !== SYNC_PROTO_VER || readU16(buf, offset + 6) !== 0) {
    throw new Error('not a version 1 sync message (version 0 is not supported)');
  }
  const nr = buf[offset + 4]!;
  const end = offset + buflen;
  const out: DecodedSyncMessage = { syncid: buf[offset + 1]!, conns: [], conns6: [], skippedIpv6: 0 };
  let p = offset + SYNC_HEADER_LEN;
  for (let i = 0; i < nr; i++) {
    if (p + SYNC_V4_ENTRY_LEN > end) throw new Error(`sync entry ${i} is truncated`);
    const verSize = readU16(buf, p + 2);
    const entryLen = verSize & SVER_MASK;
    const entryEnd = p + entryLen;
    if (entryEnd > end) throw new Error(`sync entry ${i} claims ${entryLen} bytes, past the message end`);
    if (verSize >> SVER_SHIFT !== 0) throw new Error(`sync entry ${i} has unknown version ${verSize >> SVER_SHIFT}`);
    const type = buf[p]!;
    if (type & STYPE_F_INET6) {
      if (entryLen < SYNC_V6_ENTRY_LEN) throw new Error(`IPv6 sync entry ${i} is shorter than its fixed part`);
      // Options are parsed into an IPv4-shaped scratch entry (the full-NAT option is IPv4-only).
      const opts: SyncConnEntry = { protocol: 0, flags: 0, state: 0, cport: 0, vport: 0, dport: 0, fwmark: 0, timeout: 0, caddr: 0, vaddr: 0, daddr: 0 };
      decodeOptions(buf, p + SYNC_V6_ENTRY_LEN, entryEnd, opts);
      const e6: Sync6ConnEntry = {
        protocol: buf[p + 1]!, flags: readU32(buf, p + 4), state: readU16(buf, p + 8),
        cport: readU16(buf, p + 10), vport: readU16(buf, p + 12), dport: readU16(buf, p + 14),
        fwmark: readU32(buf, p + 16), timeout: readU32(buf, p + 20),
        caddr: formatIPv6Bytes(buf, p + 24), vaddr: formatIPv6Bytes(buf, p + 40), daddr: formatIPv6Bytes(buf, p + 56),
        ...(opts.seq ? { seq: opts.seq } : {}), ...(opts.peData ? { peData: opts.peData } : {}),
        ...(opts.peName !== undefined ? { peName: opts.peName } : {}), ...(opts.unsupported ? { unsupported: opts.unsupported } : {}),
      };
      out.conns6.push(e6);
      out.skippedIpv6++;
    } else if (type !== 0) {
      throw new Error(`sync entry ${i} has unknown type ${type}`);
    } else {
      if (entryLen < SYNC_V4_ENTRY_LEN) throw new Error(`sync entry ${i} is shorter than its fixed part`);
      const e: SyncConnEntry = {
        protocol: buf[p + 1]!,
        flags: readU32(buf, p + 4),
        state: readU16(buf, p + 8),
        cport: readU16(buf, p + 10),
        vport: readU16(buf, p + 12),
        dport: readU16(buf, p + 14),
        fwmark: readU32(buf, p + 16),
        timeout: readU32(buf, p + 20),
        caddr: readU32(buf, p + 24),
        vaddr: readU32(buf, p + 28),
        daddr: readU32(buf, p + 32),
      };
      decodeOptions(buf, p + SYNC_V4_ENTRY_LEN, entryEnd, e);
      out.conns.push(e);
    }
    p += (entryLen + 3) & ~3; // 32-bit alignment of the next entry
  }
  decode.bytes = buflen;
  return out;
}

/** Decode a whole datagram (`len` defaults to the rest of the buffer and must equal the size field). */
export const decode = Object.assign(decodeImpl, { bytes: 0 });
