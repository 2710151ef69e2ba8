#!/usr/bin/env node
// The I/O ceiling of the lab benchmark: a forwarder on the engine's own capture and
// transmit path (dist/io/cap-port.js: one cap handle, 64 MiB ring, one JS callback per
// frame, cap.send) with no engine logic: no connection table, no scheduler, no state.
// Run inside the director namespace:
//
//   node bench/lab/bare-fwd.mjs --iface eth0 --mac DIRMAC --ip DIRIP --vip VIP
//        --rs IP=MAC[,IP=MAC] --mode nat|dr|sink [--gw-mac ROUTERMAC]
//        [--tx cap|raw] [--ring BYTES]
//
//   dr    frames to the VIP: new MACs (ours -> the server's), sent as they are.
//   nat   frames to the VIP: destination address -> the server's (RFC 1624 checksum
//         update); frames from a server (not to us): source -> VIP, sent to --gw-mac.
//         The server is picked statelessly from the client port ((port >> 1) % n), so
//         both directions of a flow agree without a table.
//   sink  capture and count only: the capture ceiling, nothing is sent.
//   --tx raw  transmit through raw-socket (IPPROTO_RAW, kernel-routed by sendto)
//         instead of cap.send, to compare the two.
//
// On SIGINT/SIGTERM prints one JSON line {rx, tx, txErrors, lastTxError, firstMs, lastMs}
// (wall clock of the first frame and of the last 1024th frame) and exits.
import { CapPort } from '../../dist/io/cap-port.js';
import { fixChecksum32, forwarderArgs, ipToU32, parseArgs, parseMac, readU32, u32ToIp, writeU32 } from './frames.mjs';

const { a, mode, mac, myIp, vip, servers, gwMac } = forwarderArgs(process.argv.slice(2));
const ring = a.ring ? Number(a.ring) : undefined;
const txKind = a.tx ?? 'cap';
if (mode === 'nat' && !gwMac) throw new Error('--mode nat needs --gw-mac');

const rsIps = servers.map((s) => s.ip);
const rsMacs = servers.map((s) => s.mac);
const n = servers.length;
const isServer = (ip) => rsIps.includes(ip);

const macStr = [...mac].map((x) => x.toString(16).padStart(2, '0')).join(':');
const rsHosts = rsIps.map((ip) => `src host ${u32ToIp(ip)}`).join(' or ');
const filter = mode === 'nat'
  ? `not ether src ${macStr} and ip and (dst host ${u32ToIp(vip)} or ((${rsHosts}) and not dst host ${u32ToIp(myIp)}))`
  : `not ether src ${macStr} and ip and dst host ${u32ToIp(vip)}`;

const port = new CapPort(a.iface ?? 'eth0', mac, 1500, filter, ring);

let rx = 0;
let tx = 0;
let txErrors = 0;
let lastTxError = '';

let send;
if (txKind === 'raw') {
  const raw = (await import('raw-socket')).default;
  // Protocol 255: a socket for 6/17 would also receive copies of inbound traffic.
  const sock = raw.createSocket({ protocol: 255 });
  const noop = () => {};
  // Destination strings cached per address: no string built per packet in steady state.
  const names = new Map();
  send = (buf, len, dstIp) => {
    let name = names.get(dstIp);
    if (name === undefined) names.set(dstIp, (name = u32ToIp(dstIp)));
    try {
      // The internal synchronous send (the public send() queues one per poll event).
      sock.wrap.send(buf, 14, len - 14, name, noop);
      tx++;
    } catch (err) {
      txErrors++;
      lastTxError = err.message;
    }
  };
} else {
  send = (buf, len) => {
    if (port.send(buf, len)) tx++;
    else {
      txErrors++;
      lastTxError = port.lastTxError;
    }
  };
}

function setMacs(b, dst) {
  for (let i = 0; i < 6; i++) {
    b[i] = dst[i];
    b[6 + i] = mac[i];
  }
}

function rewriteAddr(b, off, newV, l4, proto) {
  const oldV = readU32(b, off);
  writeU32(b, off, newV);
  fixChecksum32(b, 24, oldV, newV, false);
  if (proto === 6) fixChecksum32(b, l4 + 16, oldV, newV, false);
  else if (proto === 17) fixChecksum32(b, l4 + 6, oldV, newV, true);
}

let firstMs = 0;
let lastMs = 0;

function onFrame(b, len) {
  // A clock read every 1024 frames: enough to time the capture rate of the sink.
  if ((rx++ & 1023) === 0) {
    lastMs = Date.now();
    if (firstMs === 0) firstMs = lastMs;
  }
  if (mode === 'sink') return;
  if (len < 34 || b[12] !== 8 || b[13] !== 0) return;
  const l4 = 14 + ((b[14] & 15) << 2);
  const dst = readU32(b, 30);
  if (dst === vip) {
    const i = (((b[l4] << 8) | b[l4 + 1]) >>> 1) % n;
    setMacs(b, rsMacs[i]);
    if (mode === 'nat') rewriteAddr(b, 30, rsIps[i], l4, b[23]);
    send(b, len, rsIps[i]);
  } else if (mode === 'nat' && isServer(readU32(b, 26))) {
    setMacs(b, gwMac);
    rewriteAddr(b, 26, vip, l4, b[23]);
    send(b, len, dst);
  }
}

port.onFrame(onFrame);
process.stdout.write(`bare forwarder ${mode} tx=${txKind} ring=${ring ?? 'default'} on ${port.name}: ready\n`);

const stop = () => {
  port.close();
  process.stdout.write(JSON.stringify({ rx, tx, txErrors, lastTxError, firstMs, lastMs }) + '\n');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
