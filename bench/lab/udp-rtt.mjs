#!/usr/bin/env node
// Light-load latency for the lab benchmark, run inside the client namespace: UDP
// request/response probes at a fixed low rate to the lab servers' echo port (scripts/
// lab-server.mjs --udp 9000 answers "rsN:" + the request), through whatever forwards.
//
//   node bench/lab/udp-rtt.mjs --dst IP[,IP2] [--port 9000] [--rate 100] [--count 300]
//        [--timeout-ms 1000]
//
// One probe every 1/rate s (to the --dst addresses in turn), each 16 bytes carrying its
// sequence number; the round trip is timed with hrtime from send() to the 'message' event.
// The socket is not connected: in DR the server answers from its own address, not the
// VIP, and the probe is still answered. Prints one JSON line: {sent, received, lost, late,
// p50us, p90us, p99us, maxUs, minUs, servers}. A reply after --timeout-ms counts as late
// (and as lost for the percentiles).
import dgram from 'node:dgram';
import { parseArgs } from './frames.mjs';

const a = parseArgs(process.argv.slice(2));
const dsts = String(a.dst).split(',');
const port = Number(a.port ?? 9000);
const rate = Number(a.rate ?? 100);
const count = Number(a.count ?? 300);
const timeoutMs = Number(a['timeout-ms'] ?? 1000);

const sock = dgram.createSocket('udp4');
const sentAt = new Array(count).fill(0n);
const rtt = [];
let late = 0;
const servers = {};
sock.on('message', (msg) => {
  const now = process.hrtime.bigint();
  const colon = msg.indexOf(58); // "rsN:" + request
  const body = msg.subarray(colon + 1);
  if (body.length < 16 || body.readUInt32BE(0) !== 0x74736c62) return;
  const seq = body.readUInt32BE(4);
  if (seq >= count || sentAt[seq] === 0n) return;
  const us = Number(now - sentAt[seq]) / 1000;
  sentAt[seq] = 0n;
  if (us > timeoutMs * 1000) late++;
  else rtt.push(us);
  const who = msg.subarray(0, Math.max(colon, 0)).toString();
  servers[who] = (servers[who] ?? 0) + 1;
});
await new Promise((r) => sock.bind(0, r));

const t0 = Date.now();
for (let seq = 0; seq < count; seq++) {
  // Absolute schedule: a late timer does not shift the probes after it.
  const due = t0 + (seq * 1000) / rate;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const b = Buffer.alloc(16);
  b.writeUInt32BE(0x74736c62, 0); // "tslb"
  b.writeUInt32BE(seq, 4);
  sentAt[seq] = process.hrtime.bigint();
  sock.send(b, port, dsts[seq % dsts.length]);
}
await new Promise((r) => setTimeout(r, timeoutMs));
sock.close();

rtt.sort((x, y) => x - y);
const pct = (p) => (rtt.length ? Math.round(rtt[Math.min(rtt.length - 1, Math.ceil((p / 100) * rtt.length) - 1)]) : null);
process.stdout.write(JSON.stringify({
  sent: count, received: rtt.length, lost: count - rtt.length - late, late,
  p50us: pct(50), p90us: pct(90), p99us: pct(99), maxUs: rtt.length ? Math.round(rtt[rtt.length - 1]) : null,
  minUs: rtt.length ? Math.round(rtt[0]) : null, servers,
}) + '\n');
