/**
 * HTTP_GET probe (check_http.c `http_request`, `http_read_thread`, `http_handle_response`).
 *
 * For each url block in turn: connect, send
 *     GET <path> HTTP/1.<0|1>\r\nUser-Agent: KeepAliveClient\r\n[Connection: close\r\n]Host: <h>\r\n\r\n
 * and read until the server closes. The url fails on: no complete header ("no data"), a status
 * code outside its set (default 200-299), or an MD5 mismatch of the body (bytes after the header,
 * cut at Content-Length). The connect timeout also bounds every wait for data, like keepalived's
 * per-read `connection_to`. The first failing url fails the probe.
 *
 * Difference from keepalived: it checks one url per delay_loop tick; here one probe walks all
 * urls back to back, so a probe result covers the whole url list.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { connectOnce } from './tcp.js';
import type { ConnectTarget, HttpProtocol, HttpUrlSpec, ProbeResult } from './types.js';

/** HTTP_STATUS_CODE_MIN / MAX of check_http.h. */
const STATUS_MIN = 100;
const STATUS_MAX = 599;
const DEFAULT_STATUS: Array<[number, number]> = [[200, 299]];

export interface HttpProbeOptions {
  target: ConnectTarget;
  urls: HttpUrlSpec[];
  virtualhost?: string;
  protocol: HttpProtocol;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Parse `status_code` arguments ("200", "301-302", several tokens) into ranges
 * (status_code_handler). Throws on a value outside 100..599 or a reversed range.
 */
export function parseStatusCodes(tokens: string[]): Array<[number, number]> {
  return tokens.map((tok) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(tok.trim());
    if (!m) throw new Error(`invalid status_code '${tok}'`);
    const min = Number(m[1]);
    const max = m[2] !== undefined ? Number(m[2]) : min;
    if (min < STATUS_MIN || max > STATUS_MAX || min > max) throw new Error(`invalid status_code '${tok}'`);
    return [min, max] as [number, number];
  });
}

export function statusAccepted(code: number, ranges: Array<[number, number]> | undefined): boolean {
  const set = ranges && ranges.length > 0 ? ranges : DEFAULT_STATUS;
  return set.some(([lo, hi]) => code >= lo && code <= hi);
}

/** Build the request exactly as keepalived's request_template (RFC 2732 brackets for IPv6). */
export function buildHttpRequest(path: string, protocol: HttpProtocol, target: ConnectTarget, vhost?: string): string {
  const host = vhost ?? `${net.isIPv6(target.host) ? `[${target.host}]` : target.host}:${target.port}`;
  const minor = protocol === '1.1' ? 1 : 0;
  const close = protocol === '1.0C' || protocol === '1.1' ? 'Connection: close\r\n' : '';
  return `GET ${path} HTTP/1.${minor}\r\nUser-Agent: KeepAliveClient\r\n${close}Host: ${host}\r\n\r\n`;
}

/** `extract_status_code`: the 3 digits between the first space and the next space. */
export function extractStatusCode(head: string): number {
  const m = /^[^ \r]* (\d{3}) /.exec(head);
  return m ? Number(m[1]) : 0;
}

/** Run every url in turn; stops at the first failure. */
export async function httpProbe(opts: HttpProbeOptions): Promise<ProbeResult> {
  if (opts.urls.length === 0) return { ok: false, detail: 'HTTP_GET without url' };
  for (const url of opts.urls) {
    const r = await checkUrl(opts, url);
    if (!r.ok) return r;
  }
  return { ok: true, detail: `HTTP_GET ${opts.target.host}:${opts.target.port} ${opts.urls.length} url(s) ok` };
}

interface RawResponse {
  head?: string;
  bodyMd5: string;
  error?: string;
}

async function checkUrl(opts: HttpProbeOptions, url: HttpUrlSpec): Promise<ProbeResult> {
  const where = `${opts.target.host}:${opts.target.port}${url.path}`;
  const c = await connectOnce({ target: opts.target, timeoutMs: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (!c.socket) return c.result;
  const vhost = url.virtualhost ?? opts.virtualhost;
  const request = buildHttpRequest(url.path, opts.protocol, opts.target, vhost);
  const res = await readResponse(c.socket, request, opts.timeoutMs, opts.signal);
  if (res.error) return { ok: false, detail: `HTTP ${where}: ${res.error}` };
  if (res.head === undefined) return { ok: false, detail: `HTTP ${where}: no data received` };
  const code = extractStatusCode(res.head);
  if (!statusAccepted(code, url.statusCodes)) return { ok: false, detail: `HTTP ${where}: status code ${code} not accepted` };
  if (url.digest && url.digest.toLowerCase() !== res.bodyMd5) {
    return { ok: false, detail: `HTTP ${where}: MD5 digest ${res.bodyMd5} != ${url.digest}` };
  }
  return { ok: true, detail: `HTTP ${where}: status ${code}` };
}

/** Send the request, then read until EOF hashing the body; no body is kept in memory. */
function readResponse(socket: net.Socket, request: string, timeoutMs: number, signal?: AbortSignal): Promise<RawResponse> {
  return new Promise((resolve) => {
    const md5 = createHash('md5');
    let headBuf: Buffer = Buffer.alloc(0);
    let head: string | undefined;
    let contentLength = -1; // -1 = not given (SIZE_MAX in keepalived)
    let bodyBytes = 0;
    let done = false;

    const finish = (error?: string): void => {
      if (done) return;
      done = true;
      socket.setTimeout(0);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      const r: RawResponse = { bodyMd5: md5.digest('hex') };
      if (head !== undefined) r.head = head;
      if (error !== undefined) r.error = error;
      resolve(r);
    };
    const onAbort = (): void => finish('aborted');
    const hashBody = (chunk: Buffer): void => {
      const room = contentLength < 0 ? chunk.length : Math.max(0, contentLength - bodyBytes);
      md5.update(chunk.subarray(0, Math.min(room, chunk.length)));
      bodyBytes += chunk.length;
    };

    socket.on('data', (chunk: Buffer) => {
      if (head !== undefined) {
        hashBody(chunk);
        return;
      }
      headBuf = Buffer.concat([headBuf, chunk]);
      const end = headBuf.indexOf('\r\n\r\n'); // extract_html
      if (end < 0) return;
      head = headBuf.subarray(0, end + 4).toString('latin1');
      const cl = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i.exec(head);
      if (cl) contentLength = Number(cl[1]);
      hashBody(headBuf.subarray(end + 4));
      headBuf = Buffer.alloc(0);
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (err) => finish(`read error: ${err.message}`));
    socket.setTimeout(timeoutMs, () => finish('read timeout'));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) {
      finish('aborted');
      return;
    }
    socket.write(request);
  });
}
