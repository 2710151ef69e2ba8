// Byte-level helpers shared by the lab benchmark's sender and bare forwarder:
// address parsing, the IPv4 header checksum, full UDP checksums and RFC 1624
// incremental updates. Plain Node ESM, no build step.

/** "10.0.0.1" -> unsigned 32-bit number. */
export function ipToU32(s) {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bad IPv4 address ${s}`);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

export function u32ToIp(n) {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** "02:00:0a:00:00:02" -> 6-byte Buffer. */
export function parseMac(s) {
  const b = Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
  if (b.length !== 6 || b.some((x) => Number.isNaN(x))) throw new Error(`bad MAC ${s}`);
  return b;
}

export function readU32(b, o) {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function writeU32(b, o, v) {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

function sum16(b, off, len, acc) {
  let s = acc;
  for (let i = 0; i + 1 < len; i += 2) s += (b[off + i] << 8) | b[off + i + 1];
  if (len & 1) s += b[off + len - 1] << 8;
  return s;
}

function fold(s) {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

/** Sets the IPv4 header checksum of the header at `off`. */
export function setIpChecksum(b, off) {
  const ihl = (b[off] & 15) << 2;
  b[off + 10] = 0;
  b[off + 11] = 0;
  const c = ~fold(sum16(b, off, ihl, 0)) & 0xffff;
  b[off + 10] = c >>> 8;
  b[off + 11] = c & 255;
}

/** Sets the full UDP checksum (pseudo header included) of the IPv4 packet at `ipOff`. */
export function setUdpChecksum(b, ipOff) {
  const ihl = (b[ipOff] & 15) << 2;
  const l4 = ipOff + ihl;
  const len = (b[l4 + 4] << 8) | b[l4 + 5];
  b[l4 + 6] = 0;
  b[l4 + 7] = 0;
  let s = sum16(b, ipOff + 12, 8, 0) + 17 + len;
  s = sum16(b, l4, len, s);
  let c = ~fold(s) & 0xffff;
  if (c === 0) c = 0xffff; // RFC 768: a computed 0 is sent as all ones
  b[l4 + 6] = c >>> 8;
  b[l4 + 7] = c & 255;
}

/**
 * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for one 32-bit field (an address) that
 * changed from oldV to newV; the checksum is at `off`. A UDP checksum of 0 means
 * "none" and is left alone (udp=true).
 */
export function fixChecksum32(b, off, oldV, newV, udp) {
  const hc = (b[off] << 8) | b[off + 1];
  if (udp && hc === 0) return;
  let s = (~hc & 0xffff) + (~(oldV >>> 16) & 0xffff) + (~oldV & 0xffff) + (newV >>> 16) + (newV & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  let c = ~s & 0xffff;
  if (udp && c === 0) c = 0xffff;
  b[off] = c >>> 8;
  b[off + 1] = c & 255;
}

/**
 * An Ethernet + IPv4 + UDP frame with `payload` bytes of payload and full
 * checksums (the lab's veths carry full checksums: tx offload is off).
 */
export function udpFrame({ srcMac, dstMac, srcIp, dstIp, sport, dport, payload }) {
  const ipLen = 20 + 8 + payload;
  const b = Buffer.alloc(14 + ipLen);
  dstMac.copy(b, 0);
  srcMac.copy(b, 6);
  b[12] = 0x08;
  b[13] = 0x00;
  b[14] = 0x45;
  b[16] = ipLen >>> 8;
  b[17] = ipLen & 255;
  b[20] = 0x40; // DF
  b[22] = 64;
  b[23] = 17;
  writeU32(b, 26, srcIp);
  writeU32(b, 30, dstIp);
  setIpChecksum(b, 14);
  b[34] = sport >>> 8;
  b[35] = sport & 255;
  b[36] = dport >>> 8;
  b[37] = dport & 255;
  b[38] = (8 + payload) >>> 8;
  b[39] = (8 + payload) & 255;
  for (let i = 0; i < payload; i++) b[42 + i] = (i * 7 + 1) & 255;
  setUdpChecksum(b, 14);
  return b;
}

/** Tiny argv parser: --key value pairs and bare --flags (value true). */
export function parseArgs(argv, flags = []) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const k = a.slice(2);
    if (flags.includes(k)) out[k] = true;
    else {
      if (argv[i + 1] === undefined) throw new Error(`missing value for ${a}`);
      out[k] = argv[++i];
    }
  }
  return out;
}

/**
 * The UDP flood's frames, one per (source port, destination): `ports` even source ports
 * from `basePort` (Linux connect() style; engine workers shard on port >> 1), each to
 * every address of `dsts`, with `dstMacs[k]` as the next hop of dsts[k] (the last MAC
 * serves the rest). Shared by every sender so they all send the same bytes.
 */
export function floodFrames({ srcMac, dstMacs, srcIp, dsts, dport, ports = 64, payload = 64, basePort = 20000 }) {
  const frames = [];
  for (let p = 0; p < ports; p++) {
    dsts.forEach((dstIp, k) => {
      const dstMac = dstMacs[Math.min(k, dstMacs.length - 1)];
      frames.push(udpFrame({ srcMac, dstMac, srcIp, dstIp, sport: basePort + 2 * p, dport, payload }));
    });
  }
  return frames;
}

/** A trafgen(8) packet configuration: one static packet per frame, sent round robin. */
export function trafgenConfig(frames) {
  return frames.map((b) => `{ ${[...b].map((x) => `0x${x.toString(16).padStart(2, '0')}`).join(', ')} }\n`).join('');
}

/**
 * The arguments every UDP flood sender takes (udp-send.mjs, ring-send.mjs) and the frames
 * they describe: --dst A[,B], --src-mac, --dst-mac M[,M2], --src-ip, --dport, --ports,
 * --payload, --base-port, --count, --seconds.
 */
export function senderArgs(argv) {
  const a = parseArgs(argv);
  const dsts = String(a.dst).split(',').map(ipToU32);
  const srcMac = parseMac(a['src-mac']);
  const frames = floodFrames({
    srcMac,
    // One MAC for every destination (the next hop), or one per --dst address, in order.
    dstMacs: String(a['dst-mac']).split(',').map(parseMac),
    srcIp: ipToU32(a['src-ip']),
    dsts,
    dport: Number(a.dport ?? 9100),
    ports: Number(a.ports ?? 64),
    payload: Number(a.payload ?? 64),
    basePort: Number(a['base-port'] ?? 20000),
  });
  return { a, count: Number(a.count ?? 2_000_000), seconds: Number(a.seconds ?? 3), frames, srcMac, dsts };
}

/** The arguments both bare forwarders take (bare-fwd.mjs, bare-ring-fwd.mjs). */
export function forwarderArgs(argv) {
  const a = parseArgs(argv);
  const servers = String(a.rs).split(',').map((s) => {
    const [ip, m] = s.split('=');
    return { ip: ipToU32(ip), mac: parseMac(m) };
  });
  return {
    a,
    mode: a.mode ?? 'nat',
    mac: parseMac(a.mac),
    myIp: ipToU32(a.ip),
    vip: ipToU32(a.vip),
    servers,
    gwMac: a['gw-mac'] ? parseMac(a['gw-mac']) : null,
  };
}
