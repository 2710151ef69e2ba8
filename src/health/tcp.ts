/**
 * TCP_CHECK probe (check_tcp.c `tcp_connect_thread` / `tcp_check_thread`): success when the
 * TCP handshake completes within connect_timeout; the socket is then closed at once.
 */
import net from 'node:net';
import type { ConnectTarget, ProbeResult } from './types.js';

export interface TcpProbeOptions {
  target: ConnectTarget;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Resolves (never rejects) with ok=true once connected, ok=false on error/timeout/abort. */
export function tcpProbe(opts: TcpProbeOptions): Promise<ProbeResult> {
  return connectOnce(opts).then((r) => {
    if (r.socket) r.socket.destroy();
    return r.result;
  });
}

export interface ConnectOutcome {
  result: ProbeResult;
  /** The connected socket when ok; the caller owns it. */
  socket?: net.Socket;
}

/**
 * Open one TCP connection with `bindto`/`bind_port` and a connect timeout. Shared with the
 * HTTP probe, which keeps the socket.
 */
export function connectOnce(opts: TcpProbeOptions): Promise<ConnectOutcome> {
  const { target, timeoutMs, signal } = opts;
  const where = `${target.host}:${target.port}`;
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve({ result: { ok: false, detail: `aborted before connecting to ${where}` } });
      return;
    }
    const socket = net.connect({
      host: target.host,
      port: target.port,
      ...(target.bindAddress !== undefined ? { localAddress: target.bindAddress } : {}),
      ...(target.bindPort !== undefined ? { localPort: target.bindPort } : {}),
    });
    let done = false;
    const finish = (outcome: ConnectOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      if (!outcome.socket) socket.destroy();
      else socket.on('error', () => {}); // later errors belong to the new owner; never crash
      resolve(outcome);
    };
    const onAbort = (): void => finish({ result: { ok: false, detail: `aborted while connecting to ${where}` } });
    const onError = (err: Error): void =>
      finish({ result: { ok: false, detail: `TCP connection to ${where} failed: ${err.message}` } });
    const timer = setTimeout(
      () => finish({ result: { ok: false, detail: `TCP connection to ${where} timeout` } }),
      timeoutMs,
    );
    socket.once('error', onError);
    socket.once('connect', () => finish({ result: { ok: true, detail: `TCP connection to ${where} success` }, socket }));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
