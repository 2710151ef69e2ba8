#!/usr/bin/env node
// The I/O ceiling of the ring backend: a forwarder on the engine's own ring path
// (dist/io/ring/ring-port.js + driver.js: TPACKET_V2 RX ring read in place, PACKET_VNET_HDR,
// sendmmsg batches sent from the ring slots, RingDriver's drain/flush/release cycles and
// poll() on a worker thread) with no engine logic: no connection table, no scheduler, no
// state. The ring counterpart of bare-fwd.mjs, same arguments, run inside the director:
//
//   node bench/lab/bare-ring-fwd.mjs --iface eth0 --mac DIRMAC --ip DIRIP --vip VIP
//        --rs IP=MAC[,IP=MAC] --mode nat|dr|sink [--gw-mac ROUTERMAC] [--frames N]
//
//   dr    frames to the VIP: new MACs (ours -> the server's), sent in place.
//   nat   frames to the VIP: destination address -> the server's; frames from a server
//         (not to us): source -> VIP, sent to --gw-mac. The server is picked statelessly
//         from the client port ((port >> 1) % n). Checksums: RFC 1624 update of the IP
//         header checksum; the L4 checksum gets the same update when it is complete, and
//         the opposite-sign update when the kernel marked it partial (the field then holds
//         the uncomplemented pseudo-header sum, which the kernel completes on transmit).
//         GSO super-frames keep their vnet header and are segmented by the kernel.
//   sink  drain and count only: the RX ceiling, nothing is sent.
//
// On SIGINT/SIGTERM prints one JSON line {rx, tx, txErrors, lastTxError, kernelDrops,
// partial, gso, wakeups, cycles, yields, firstMs, lastMs} and exits.
import { RingPort } from '../../dist/io/ring/ring-port.js';
import { RingDriver } from '../../dist/io/ring/driver.js';
import { fixChecksum32, forwarderArgs, ipToU32, parseArgs, parseMac, readU32, u32ToIp, writeU32 } from './frames.mjs';

const { a, mode, mac, myIp, vip, servers, gwMac } = forwarderArgs(process.argv.slice(2));
const frames = a.frames ? Number(a.frames) : undefined;
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

const port = new RingPort(a.iface ?? 'eth0', mac, 1500, filter, frames);

// Offload word bits (src/packet/offload.ts).
const OFL_CSUM_PARTIAL = 2;
const OFL_SIZE_SHIFT = 8;

let rx = 0;
let tx = 0;
let partial = 0;
let gso = 0;
let firstMs = 0;
let lastMs = 0;

function setMacs(b, dst) {
  for (let i = 0; i < 6; i++) {
    b[i] = dst[i];
    b[6 + i] = mac[i];
  }
}

/** A partial checksum field holds the folded pseudo-header sum itself: add new, subtract old. */
function fixPartial32(b, off, oldV, newV) {
  let s = ((b[off] << 8) | b[off + 1]) + (~(oldV >>> 16) & 0xffff) + (~oldV & 0xffff) + (newV >>> 16) + (newV & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  b[off] = s >>> 8;
  b[off + 1] = s & 255;
}

function rewriteAddr(b, off, newV, l4, proto, isPartial) {
  const oldV = readU32(b, off);
  writeU32(b, off, newV);
  fixChecksum32(b, 24, oldV, newV, false);
  const csum = proto === 6 ? l4 + 16 : proto === 17 ? l4 + 6 : -1;
  if (csum < 0) return;
  if (isPartial) fixPartial32(b, csum, oldV, newV);
  else fixChecksum32(b, csum, oldV, newV, proto === 17);
}

function onFrame(b, len, offload) {
  if ((rx++ & 1023) === 0) {
    lastMs = Date.now();
    if (firstMs === 0) firstMs = lastMs;
  }
  if (offload & OFL_CSUM_PARTIAL) partial++;
  if (offload >>> OFL_SIZE_SHIFT) gso++;
  if (mode === 'sink') return;
  if (len < 34 || b[12] !== 8 || b[13] !== 0) return;
  const l4 = 14 + ((b[14] & 15) << 2);
  const dst = readU32(b, 30);
  const isPartial = (offload & OFL_CSUM_PARTIAL) !== 0;
  if (dst === vip) {
    const i = (((b[l4] << 8) | b[l4 + 1]) >>> 1) % n;
    setMacs(b, rsMacs[i]);
    if (mode === 'nat') rewriteAddr(b, 30, rsIps[i], l4, b[23], isPartial);
    if (port.send(b, len, offload)) tx++;
  } else if (mode === 'nat' && isServer(readU32(b, 26))) {
    setMacs(b, gwMac);
    rewriteAddr(b, 26, vip, l4, b[23], isPartial);
    if (port.send(b, len, offload)) tx++;
  }
}

port.onFrame(onFrame);
const driver = new RingDriver([port], () => {});
driver.start();
process.stdout.write(`bare ring forwarder ${mode} frames=${frames ?? 'default'} on ${port.name}: ready\n`);

const stop = () => {
  driver.stop();
  const kernelDrops = port.readDrops();
  port.close();
  process.stdout.write(JSON.stringify({
    rx, tx, txErrors: port.txErrors, lastTxError: port.lastTxError, kernelDrops, partial, gso,
    wakeups: driver.wakeups, cycles: driver.cycles, yields: driver.yields, firstMs, lastMs,
  }) + '\n');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
