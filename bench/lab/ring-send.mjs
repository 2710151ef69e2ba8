#!/usr/bin/env node
// UDP flood on the project's own ring backend (dist/io/ring/ring-port.js): frames copied
// into RingPort's staging area and sent in sendmmsg batches (one system call per 128
// frames), run inside a lab namespace. Same arguments and output as udp-send.mjs:
//
//   node bench/lab/ring-send.mjs --iface eth0 --src-mac M --dst-mac GW[,MAC2] --src-ip C
//        --dst IP[,IP2] --dport 9100 [--count 2000000] [--seconds 3] [--ports 64] [--payload 64]
//
// Prints one JSON line: {sent, seconds, pps, errors, lastError, frameBytes, cpuUserS, cpuSysS}.
// `sent` counts frames the kernel accepted (sendmmsg's count; refused ones are errors).
import { RingPort } from '../../dist/io/ring/ring-port.js';
import { floodFrames, ipToU32, parseArgs, parseMac, senderArgs } from './frames.mjs';

const { a, count, seconds, frames, srcMac, dsts } = senderArgs(process.argv.slice(2));
const len = frames[0].length;
const nFrames = frames.length;

// The smallest receive ring (one block) with a filter that admits nothing: transmit only.
const port = new RingPort(a.iface ?? 'eth0', srcMac, 1500, 'ether proto 0x88b5', 1);
// Batched mode: send() queues, flush() issues the sendmmsg. 128 = RingPort's staging slots.
const BATCH = 128;
port.inCycle = true;

const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const limitNs = BigInt(Math.round(seconds * 1e9));
let queued = 0;
while (queued < count) {
  const n = Math.min(BATCH, count - queued);
  for (let i = 0; i < n; i++) port.send(frames[(queued + i) % nFrames], len);
  port.flush();
  queued += n;
  // The clock every 8 batches (1024 frames).
  if ((queued & 1023) === 0 && process.hrtime.bigint() - t0 >= limitNs) break;
}
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const errors = port.txErrors;
const lastError = port.lastTxError;
port.close();
const sent = queued - errors;
process.stdout.write(JSON.stringify({
  sent, seconds: elapsed, pps: Math.round(sent / elapsed), errors, lastError, frameBytes: len,
  cpuUserS: cpu.user / 1e6, cpuSysS: cpu.system / 1e6,
}) + '\n');
