/**
 * Text for the model's services and servers of either family, for keys and log lines:
 * the address as ipvsadm -n prints it (inet_ntop), "[v6]:port" in labels (lvs/names.ts
 * is the IPv4-only vocabulary the data plane's numbers are named with).
 */
import { AF_INET6 } from '../lvs/af.js';
import { formatIPv4 } from '../lvs/addr.js';
import { protoName } from '../lvs/proto.js';
import { formatIPv6 } from '../packet/addr6.js';

export interface Endpoint {
  af: number;
  addr: number;
  addr6: Int32Array;
  port: number;
}

export function addrText(x: { af: number; addr: number; addr6: Int32Array }): string {
  return x.af === AF_INET6 ? formatIPv6(x.addr6) : formatIPv4(x.addr);
}

/** "10.0.0.185:80" or "[2001:db8::10]:80". */
export function endpointLabel(x: Endpoint): string {
  return x.af === AF_INET6 ? `[${formatIPv6(x.addr6)}]:${x.port}` : `${formatIPv4(x.addr)}:${x.port}`;
}

/** "TCP 10.0.0.127:80" or "TCP [2001:db8::1]:80". */
export function serviceLabel(s: Endpoint & { proto: number }): string {
  return `${protoName(s.proto)} ${endpointLabel(s)}`;
}
