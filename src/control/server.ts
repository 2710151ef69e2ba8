/**
 * The control socket: a Unix socket (mode 0600, root only) on which `lb ipvsadm ...`
 * and `lb reload` talk to the running balancer. One JSON request per connection:
 *   -> {"argv": ["-L","-n"], "stdin": ""}   or   {"reload": true}   or   {"sysctl": ["net.ipv4.vs.drop_entry=1"]}
 *   <- {"stdout": "...", "stderr": "...", "status": 0}
 * Nothing listens on the network for control.
 *
 * Bad clients cannot hurt it (issue 15): a request is bounded in size (larger ones are
 * refused with an error and the connection closed, without buffering the rest), all
 * connections together buffer at most maxBufferedBytes, a client must finish its request
 * within requestTimeoutMs (one that connects and sends nothing is answered with an error
 * and disconnected), the number of connections is capped, a request that is not a JSON
 * object of the expected shape is refused, and every refusal is counted in `stats`.
 */
import net from 'node:net';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import type { Output } from './ipvsadm/format-other.js';

export interface ControlRequest {
  argv?: string[];
  stdin?: string;
  reload?: boolean;
  /** `lb top`: the HA status text. */
  ha?: boolean;
  /** `lb sysctl ARGS` (src/control/sysctl.ts). */
  sysctl?: string[];
}

export type ControlHandler = (req: ControlRequest) => Output | Promise<Output>;

export interface ControlServerOptions {
  /** Largest request (the JSON text) accepted; default 4 MiB. */
  maxRequestBytes?: number;
  /** Bytes of unfinished requests buffered across all connections; default 16 MiB. */
  maxBufferedBytes?: number;
  /** Time a client has from connecting to finishing its request; default 10 s. */
  requestTimeoutMs?: number;
  /** Connections open at once (more are closed at once by the server); default 256. */
  maxConnections?: number;
  /** Where server-level errors go (e.g. accept failing with EMFILE); default: dropped. */
  log?: (s: string) => void;
}

/** Counters of the control socket; every connection counted in `connections` ends in exactly one of answered..aborted. */
export interface ControlServerStats {
  connections: number;
  /** Requests handed to the handler. */
  answered: number;
  /** Refused: larger than maxRequestBytes. */
  tooLarge: number;
  /** Refused: the buffers of all connections together were full. */
  busy: number;
  /** Refused: not finished within requestTimeoutMs. */
  timedOut: number;
  /** Refused: not JSON, or not a request object. */
  badRequest: number;
  /** Closed by the client (or a socket error) before the request was complete. */
  aborted: number;
  /** Closed by the server on arrival: maxConnections were open. */
  dropped: number;
  /** Bytes buffered now, and the most ever buffered at once. */
  buffered: number;
  peakBuffered: number;
}

const DEFAULTS = { maxRequestBytes: 4 * 1024 * 1024, maxBufferedBytes: 16 * 1024 * 1024, requestTimeoutMs: 10_000, maxConnections: 256 };
/** After a refusal, how long the rest of a request is read (and dropped) so the client sees the answer. */
const LINGER_MS = 2000;

export class ControlServer {
  readonly path: string;
  readonly stats: ControlServerStats;
  private readonly server: net.Server;

  private constructor(path: string, server: net.Server, stats: ControlServerStats) {
    this.path = path;
    this.server = server;
    this.stats = stats;
  }

  static async listen(path: string, handler: ControlHandler, options: ControlServerOptions = {}): Promise<ControlServer> {
    if (existsSync(path)) {
      if (await isAlive(path)) throw new Error(`control socket ${path} is in use by another balancer (use --socket)`);
      unlinkSync(path); // stale, from a process that died
    }
    const opts = { ...DEFAULTS, ...options };
    const stats: ControlServerStats = {
      connections: 0, answered: 0, tooLarge: 0, busy: 0, timedOut: 0, badRequest: 0, aborted: 0, dropped: 0, buffered: 0, peakBuffered: 0,
    };
    const server = net.createServer({ allowHalfOpen: true }, (sock) => serve(sock, handler, opts, stats));
    server.maxConnections = opts.maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket is created with the process umask; tighten at once, before anyone connects.
      const old = process.umask(0o177);
      server.listen(path, () => {
        process.umask(old);
        server.off('error', reject);
        resolve();
      });
    });
    // After listen, an 'error' (accept failing with EMFILE, ...) must not be an uncaught exception.
    server.on('error', (err) => opts.log?.(`control socket ${path}: ${err.message}`));
    server.on('drop', () => stats.dropped++);
    chmodSync(path, 0o600);
    return new ControlServer(path, server, stats);
  }

  close(): void {
    this.server.close();
    try {
      unlinkSync(this.path);
    } catch {
      /* gone */
    }
  }
}

/** The request object, or why it is not one. */
export function parseRequest(text: string): ControlRequest | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'bad request: not JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'bad request: not a JSON object';
  const r = v as Record<string, unknown>;
  if (r.argv !== undefined && !(Array.isArray(r.argv) && r.argv.every((a) => typeof a === 'string'))) return 'bad request: argv must be an array of strings';
  if (r.stdin !== undefined && typeof r.stdin !== 'string') return 'bad request: stdin must be a string';
  if (r.reload !== undefined && typeof r.reload !== 'boolean') return 'bad request: reload must be true or false';
  if (r.ha !== undefined && typeof r.ha !== 'boolean') return 'bad request: ha must be true or false';
  if (r.sysctl !== undefined && !(Array.isArray(r.sysctl) && r.sysctl.every((a) => typeof a === 'string'))) return 'bad request: sysctl must be an array of strings';
  const req: ControlRequest = {};
  if (r.argv !== undefined) req.argv = r.argv as string[];
  if (r.stdin !== undefined) req.stdin = r.stdin as string;
  if (r.reload !== undefined) req.reload = r.reload as boolean;
  if (r.ha !== undefined) req.ha = r.ha as boolean;
  if (r.sysctl !== undefined) req.sysctl = r.sysctl as string[];
  return req;
}

const errorOutput = (message: string): Output => ({ stdout: '', stderr: `lb: ${message}\n`, status: 1 });

function serve(sock: net.Socket, handler: ControlHandler, opts: typeof DEFAULTS & ControlServerOptions, stats: ControlServerStats): void {
  stats.connections++;
  let chunks: Buffer[] = [];
  let size = 0;
  let held = 0; // bytes of this connection counted in stats.buffered
  let state: 'reading' | 'answering' | 'done' = 'reading';
  let linger: NodeJS.Timeout | undefined;

  const release = (): void => {
    stats.buffered -= held;
    held = 0;
    chunks = [];
  };
  const answer = (out: Output): void => {
    clearTimeout(deadline);
    if (!sock.destroyed && sock.writable) sock.end(JSON.stringify(out));
  };
  /** An error answer, then the connection is closed; what the client still sends is read and dropped. */
  const refuse = (counter: 'tooLarge' | 'busy' | 'timedOut' | 'badRequest', message: string): void => {
    state = 'done';
    stats[counter]++;
    release();
    answer(errorOutput(message));
    linger = setTimeout(() => sock.destroy(), LINGER_MS);
    linger.unref();
  };
  const deadline = setTimeout(() => {
    if (state === 'reading') refuse('timedOut', `no complete request within ${opts.requestTimeoutMs / 1000} s (a request ends when the client shuts down its side)`);
  }, opts.requestTimeoutMs);
  deadline.unref();

  sock.on('data', (chunk: Buffer) => {
    if (state !== 'reading') return; // the rest of a refused request, or bytes after the end: dropped
    size += chunk.length;
    if (size > opts.maxRequestBytes) {
      refuse('tooLarge', `request larger than ${opts.maxRequestBytes} bytes refused`);
      return;
    }
    if (stats.buffered + chunk.length > opts.maxBufferedBytes) {
      refuse('busy', 'busy: too many requests in progress, try again');
      return;
    }
    chunks.push(chunk);
    held += chunk.length;
    stats.buffered += chunk.length;
    if (stats.buffered > stats.peakBuffered) stats.peakBuffered = stats.buffered;
  });
  sock.on('end', async () => {
    if (state !== 'reading') {
      if (!sock.destroyed) sock.end();
      return;
    }
    state = 'answering';
    clearTimeout(deadline);
    const text = Buffer.concat(chunks).toString('utf8');
    release();
    const req = parseRequest(text);
    if (typeof req === 'string') {
      refuse('badRequest', req);
      return;
    }
    stats.answered++;
    let out: Output;
    try {
      out = await handler(req);
    } catch (err) {
      out = errorOutput((err as Error)?.message ?? String(err));
    }
    state = 'done';
    answer(out);
  });
  sock.on('error', () => sock.destroy());
  sock.on('close', () => {
    if (state === 'reading') stats.aborted++;
    state = 'done';
    clearTimeout(deadline);
    clearTimeout(linger);
    release();
  });
}

/** Whether a process accepts connections on the Unix socket at path (a stale file does not). */
export function isAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Client side: send one request, get the output. */
export function request(path: string, req: ControlRequest): Promise<Output> {
  return new Promise((resolve, reject) => {
    const c = net.connect(path);
    let data = '';
    c.setEncoding('utf8');
    c.once('error', (err: NodeJS.ErrnoException) => {
      const answer = (): Output | undefined => {
        try {
          return JSON.parse(data) as Output;
        } catch {
          return undefined;
        }
      };
      // A refused request (too large) is answered before the server closes: show that answer.
      if ((err.code === 'EPIPE' || err.code === 'ECONNRESET') && answer()) resolve(answer()!);
      else if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new Error(`no balancer is listening on ${path} (is lb running? --socket PATH)`));
      else if (err.code === 'EACCES') reject(new Error(`Permission denied (you must be root): ${path}`));
      else reject(err);
    });
    c.on('data', (d: string) => (data += d));
    c.on('end', () => {
      try {
        resolve(JSON.parse(data) as Output);
      } catch {
        reject(new Error('bad answer from the balancer'));
      }
    });
    c.end(JSON.stringify(req));
  });
}
