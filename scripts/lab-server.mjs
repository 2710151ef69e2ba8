#!/usr/bin/env node
// Lab real server: the "httpd + index.html" of the seed posts, plus a UDP echo.
// Plain Node ESM, no dependencies, no build step. Started by scripts/lab inside a
// real-server network namespace.
//
//   node scripts/lab-server.mjs --name rs1 [--http 80,8000] [--udp 9000]
//        [--bind 0.0.0.0 | ::] [--ready-file PATH]
// (--bind :: listens on both families, for dual-stack labs: IPv4 peers then show as ::ffff:a.b.c.d)
//
// HTTP (keep-alive on, every port answers the same way):
//   GET /            200, body exactly "<name>\n"
//   GET /health      200 "ok\n" (503 "down\n" after POST /admin/health?ok=0)
//   POST /upload     "<sha256> <length>\n" of the request body
//   GET /bytes?n=N[&seed=S]
//                    N deterministic pseudo-random bytes (see labBytes below),
//                    header X-Content-SHA256 = hex sha256 of the body.
//   POST /admin/health?ok=0|1   flip /health (only from 127.0.0.1), for
//                    health-check scenarios.
//   Every response carries X-Served-By: <name> and X-Peer: <ip>:<port> (the
//   address the server saw, which shows whether NAT kept the client address).
//   A request with X-Forwarded-For (from a proxy) gets it back as
//   X-Forwarded-For-Seen, and the log line ends with xff=<it>.
// Log: one line per request, "<ISO time> http <port> <peer ip>:<port> <method> <url>[ xff=...]".
// UDP: a datagram "P" to the echo port gets "<name>:P" back.
//
// When every listener is bound, the ready file (if given) is written with the
// JSON {name, pid, http, udp}; scripts/lab waits for it.

import http from 'node:http';
import dgram from 'node:dgram';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Largest body /bytes will generate in memory (the 10 MB download test fits). */
const MAX_BYTES = 256 * 1024 * 1024;

function parseArgs(argv) {
  const opts = { name: 'rs', http: [80], udp: [9000], bind: '0.0.0.0', readyFile: '' };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${key}`);
    i++;
    if (key === '--name') opts.name = value;
    else if (key === '--http') opts.http = parsePorts(value);
    else if (key === '--udp') opts.udp = parsePorts(value);
    else if (key === '--bind') opts.bind = value;
    else if (key === '--ready-file') opts.readyFile = value;
    else throw new Error(`unknown option ${key}`);
  }
  return opts;
}

function parsePorts(list) {
  if (list === '') return [];
  return list.split(',').map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`bad port ${p}`);
    return n;
  });
}

/**
 * The deterministic byte stream of /bytes: the AES-128-CTR keystream with
 * key = first 16 bytes of sha256("tslb-lab-bytes:" + seed) and a zero IV, so a
 * client can regenerate it in any language, e.g.
 *   head -c N /dev/zero | openssl enc -aes-128-ctr -K <key hex> -iv 0 | sha256sum
 */
export function labBytes(n, seed = '0') {
  const key = crypto.createHash('sha256').update(`tslb-lab-bytes:${seed}`).digest().subarray(0, 16);
  const cipher = crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(n)), cipher.final()]);
}

function startHttp(opts, port, state) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://lab');
    const peer = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    res.setHeader('X-Served-By', opts.name);
    res.setHeader('X-Peer', peer);
    // A proxy in front (seed 002's nginx) names the client in X-Forwarded-For.
    const xff = req.headers['x-forwarded-for'];
    if (xff) res.setHeader('X-Forwarded-For-Seen', String(xff));
    log(`http ${port} ${peer} ${req.method} ${req.url}${xff ? ` xff=${xff}` : ''}`);
    const send = (status, body, type = 'text/plain') => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method === 'POST' && url.pathname === '/admin/health') {
      if (!req.socket.remoteAddress?.endsWith('127.0.0.1')) return send(403, 'forbidden\n');
      state.healthy = url.searchParams.get('ok') !== '0';
      return send(200, state.healthy ? 'ok\n' : 'down\n');
    }
    if (req.method === 'POST' && url.pathname === '/upload') {
      // The body is hashed as it streams in: "<sha256 hex> <bytes>\n" (upload tests).
      const h = crypto.createHash('sha256');
      let n = 0;
      req.on('data', (d) => { h.update(d); n += d.length; });
      req.on('end', () => send(200, `${h.digest('hex')} ${n}\n`));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (url.pathname === '/') return send(200, `${opts.name}\n`);
    if (url.pathname === '/health') return state.healthy ? send(200, 'ok\n') : send(503, 'down\n');
    if (url.pathname === '/bytes') {
      const n = Number(url.searchParams.get('n') ?? '0');
      if (!Number.isInteger(n) || n < 0 || n > MAX_BYTES) return send(400, 'bad n\n');
      const body = labBytes(n, url.searchParams.get('seed') ?? '0');
      res.setHeader('X-Content-SHA256', crypto.createHash('sha256').update(body).digest('hex'));
      return send(200, body, 'application/octet-stream');
    }
    return send(404, 'not found\n');
  });
  // Keep-alive on (seed 003: a browser sticks to one server because of it).
  server.keepAliveTimeout = 30_000;
  return listen(server, port, opts.bind);
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function startUdpEcho(opts, port) {
  const socket = dgram.createSocket(opts.bind.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (msg, rinfo) => {
    log(`udp ${port} ${rinfo.address}:${rinfo.port} ${msg.length}B`);
    socket.send(Buffer.concat([Buffer.from(`${opts.name}:`), msg]), rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, opts.bind, () => resolve(socket));
  });
}

function log(line) {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const state = { healthy: true };
  const closables = [];
  for (const port of opts.http) closables.push(await startHttp(opts, port, state));
  for (const port of opts.udp) closables.push(await startUdpEcho(opts, port));
  log(`${opts.name} ready: http ${opts.http.join(',') || '-'} udp ${opts.udp.join(',') || '-'}`);
  if (opts.readyFile) {
    const info = { name: opts.name, pid: process.pid, http: opts.http, udp: opts.udp };
    fs.writeFileSync(opts.readyFile, `${JSON.stringify(info)}\n`);
  }
  const stop = (signal) => {
    log(`${opts.name} stopping on ${signal}`);
    for (const c of closables) {
      if (typeof c.closeAllConnections === 'function') c.closeAllConnections();
      c.close();
    }
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
if (isMain) {
  main().catch((err) => {
    process.stderr.write(`lab-server: ${err.message}\n`);
    process.exit(1);
  });
}
