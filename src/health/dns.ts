/**
 * DNS_CHECK probe (check_dns.c `dns_make_query`, `dns_recv_thread`).
 *
 * Sends one UDP query (RFC 1035 §4.1: 12-byte header, ID random, flags RD=1, QDCOUNT 1, then
 * QNAME/QTYPE/QCLASS=IN) from a connected socket. Replies that are too short, carry another ID,
 * or are not responses (QR=0) are ignored and the wait goes on; a reply with our ID and QR=1
 * succeeds iff RCODE == 0. No valid reply within connect_timeout is a failure.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import type { ConnectTarget, DnsQueryType, ProbeResult } from './types.js';

/** RFC 1035 §3.2.2 / RFC 3596 type codes (check_dns.c DNS_TYPE table). */
export const DNS_TYPES: Record<DnsQueryType, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 };

const HEADER_LEN = 12;
const FLAG_QR = 0x8000;
const FLAG_RD = 0x0100;
const RCODE_MASK = 0x000f;

export interface DnsProbeOptions {
  target: ConnectTarget;
  queryType: DnsQueryType;
  /** '' or '.' means the root. */
  name: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Fixed ID for tests; random by default. */
  id?: number;
}

/** Encode the query. Labels are taken between dots; empty labels (a trailing dot) are skipped. */
export function buildDnsQuery(id: number, name: string, type: DnsQueryType): Buffer {
  const labels = name.split('.').filter((l) => l.length > 0);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(HEADER_LEN);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(FLAG_RD, 2);
  header.writeUInt16BE(1, 4); // QDCOUNT; AN/NS/AR stay 0
  parts.push(header);
  for (const label of labels) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length > 63) throw new Error(`DNS label too long: ${label}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  const tail = Buffer.alloc(5);
  tail[0] = 0; // root label ends QNAME
  tail.writeUInt16BE(DNS_TYPES[type], 1);
  tail.writeUInt16BE(1, 3); // QCLASS IN
  parts.push(tail);
  return Buffer.concat(parts);
}

/** Judge one datagram: 'ignore' keeps waiting (dns_recv_thread re-arms the read). */
export function judgeDnsReply(reply: Buffer, id: number): 'ok' | 'ignore' | { rcode: number } {
  if (reply.length < HEADER_LEN) return 'ignore';
  if (reply.readUInt16BE(0) !== (id & 0xffff)) return 'ignore';
  const flags = reply.readUInt16BE(2);
  if (!(flags & FLAG_QR)) return 'ignore';
  const rcode = flags & RCODE_MASK;
  return rcode === 0 ? 'ok' : { rcode };
}

export function dnsProbe(opts: DnsProbeOptions): Promise<ProbeResult> {
  const { target, timeoutMs, signal } = opts;
  const where = `${target.host}:${target.port}`;
  const id = opts.id ?? randomInt(0, 0x10000);
  const query = buildDnsQuery(id, opts.name, opts.queryType);
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve({ ok: false, detail: `DNS ${where}: aborted` });
      return;
    }
    const sock = dgram.createSocket(net.isIPv6(target.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.close();
      resolve(r);
    };
    const onAbort = (): void => finish({ ok: false, detail: `DNS ${where}: aborted` });
    const timer = setTimeout(() => finish({ ok: false, detail: `DNS ${where}: read timeout` }), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err) => finish({ ok: false, detail: `DNS ${where}: ${err.message}` }));
    sock.on('message', (msg: Buffer) => {
      const v = judgeDnsReply(msg, id);
      if (v === 'ignore') return;
      if (v === 'ok') finish({ ok: true, detail: `DNS ${where}: ${opts.queryType} answered` });
      else finish({ ok: false, detail: `DNS ${where}: rcode = ${v.rcode}` });
    });
    const bindOpts = {
      ...(target.bindAddress !== undefined ? { address: target.bindAddress } : {}),
      port: target.bindPort ?? 0,
    };
    sock.bind(bindOpts, () => {
      if (done) return;
      sock.connect(target.port, target.host, (err?: Error) => {
        if (done) return;
        if (err) {
          finish({ ok: false, detail: `DNS ${where}: connect failed: ${err.message}` });
          return;
        }
        sock.send(query, (e) => {
          if (e) finish({ ok: false, detail: `DNS ${where}: failed to write socket: ${e.message}` });
        });
      });
    });
  });
}
