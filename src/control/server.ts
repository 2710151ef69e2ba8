/**
 * The control socket: a Unix socket (mode 0600, root only) on which `lb ipvsadm ...`
 * and `lb reload` talk to the running balancer. One JSON request per connection:
 *   -> {"argv": ["-L","-n"], "stdin": ""}   or   {"reload": true}
 *   <- {"stdout": "...", "stderr": "...", "status": 0}
 * Nothing listens on the network for control.
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
}

export type ControlHandler = (req: ControlRequest) => Output | Promise<Output>;

const MAX_REQUEST = 4 * 1024 * 1024;

export class ControlServer {
  readonly path: string;
  private readonly server: net.Server;

  private constructor(path: string, server: net.Server) {
    this.path = path;
    this.server = server;
  }

  static async listen(path: string, handler: ControlHandler): Promise<ControlServer> {
    if (existsSync(path)) {
      if (await isAlive(path)) throw new Error(`control socket ${path} is in use by another balancer (use --socket)`);
      unlinkSync(path); // stale, from a process that died
    }
    const server = net.createServer({ allowHalfOpen: true }, (sock) => serve(sock, handler));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket is created with the process umask; tighten at once, before anyone connects.
      const old = process.umask(0o177);
      server.listen(path, () => {
        process.umask(old);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    return new ControlServer(path, server);
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

function serve(sock: net.Socket, handler: ControlHandler): void {
  let data = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    data += chunk;
    if (data.length > MAX_REQUEST) sock.destroy();
  });
  sock.on('end', async () => {
    let out: Output;
    try {
      out = await handler(JSON.parse(data) as ControlRequest);
    } catch (err) {
      out = { stdout: '', stderr: `lb: ${(err as Error).message}\n`, status: 1 };
    }
    sock.end(JSON.stringify(out));
  });
  sock.on('error', () => sock.destroy());
}

function isAlive(path: string): Promise<boolean> {
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
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new Error(`no balancer is listening on ${path} (is lb running? --socket PATH)`));
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
