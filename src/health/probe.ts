/**
 * Dispatch a checker spec to its probe. Every probe resolves (never rejects) and honours
 * its own timeout and the AbortSignal.
 */
import { dnsProbe } from './dns.js';
import { httpProbe } from './http.js';
import { miscProbe } from './misc.js';
import { tcpProbe } from './tcp.js';
import type { CheckerSpec, ProbeResult } from './types.js';

export type ProbeFn = (checker: CheckerSpec, signal: AbortSignal) => Promise<ProbeResult>;

export const runProbe: ProbeFn = (c, signal) => {
  switch (c.type) {
    case 'TCP':
      return tcpProbe({ target: c.target, timeoutMs: c.connectTimeoutMs, signal });
    case 'HTTP':
      return httpProbe({
        target: c.target,
        urls: c.urls,
        protocol: c.protocol,
        timeoutMs: c.connectTimeoutMs,
        signal,
        ...(c.virtualhost !== undefined ? { virtualhost: c.virtualhost } : {}),
      });
    case 'DNS':
      return dnsProbe({ target: c.target, queryType: c.queryType, name: c.name, timeoutMs: c.connectTimeoutMs, signal });
    case 'MISC':
      return miscProbe({ path: c.path, timeoutMs: c.timeoutMs, dynamic: c.dynamic, signal });
  }
};
