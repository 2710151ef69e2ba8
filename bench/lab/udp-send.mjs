#!/usr/bin/env node
// UDP flood for the lab benchmark, run inside the client namespace:
//
//   node bench/lab/udp-send.mjs --iface eth0 --src-mac M --dst-mac GW[,MAC2] --src-ip C
//        --dst IP[,IP2] --dport 9100 [--count 2000000] [--seconds 3] [--ports 64] [--payload 64]
//
// Sends up to --count datagrams (--payload bytes of UDP payload, full checksums) as
// fast as one synchronous loop of cap.send (pcap_sendpacket) goes, for at most
// --seconds, rotating over --ports source ports (so flows spread over engine workers
// and over the kernel's numgen) and over the --dst addresses. The frames are built
// once; the loop only picks one. Prints one JSON line: {sent, seconds, pps, errors,
// cpuUserS, cpuSysS}. Why cap and not dgram: a Node dgram send costs several µs of
// libuv work per datagram, so the sender would be the bottleneck of every case.
import capModule from 'cap';
import { floodFrames, ipToU32, parseArgs, parseMac, senderArgs } from './frames.mjs';

const { Cap } = capModule;

const { a, count, seconds, frames, srcMac, dsts } = senderArgs(process.argv.slice(2));
const len = frames[0].length;

const cap = new Cap();
// Capture nothing (an unused EtherType); the handle is only used to transmit.
const rxBuf = Buffer.alloc(2048);
cap.open(a.iface ?? 'eth0', 'ether proto 0x88b5', 1 << 20, rxBuf);

const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const limitNs = BigInt(Math.round(seconds * 1e9));
let sent = 0;
let errors = 0;
let lastError = '';
const nFrames = frames.length;
outer: while (sent < count) {
  // Check the clock every 256 frames: hrtime costs about as much as a send.
  for (let i = 0; i < 256 && sent < count; i++) {
    try {
      cap.send(frames[sent % nFrames], len);
    } catch (err) {
      errors++;
      lastError = err.message;
    }
    sent++;
  }
  if (process.hrtime.bigint() - t0 >= limitNs) break outer;
}
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
cap.close();
process.stdout.write(JSON.stringify({
  sent, seconds: elapsed, pps: Math.round(sent / elapsed), errors, lastError, frameBytes: len,
  cpuUserS: cpu.user / 1e6, cpuSysS: cpu.system / 1e6,
}) + '\n');
