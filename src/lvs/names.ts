/**
 * How a virtual service and a real server are written in every log line, message, metric
 * label and listing of this project: "TCP 10.0.0.127:80" and "10.0.0.185:80", as ipvsadm -L -n
 * prints them (ipvsadm.c print_service_entry / print_title).
 */
import { formatIPv4 } from './addr.js';
import { protoName } from './proto.js';

/** "10.0.0.185:80" (address of either sign). */
export function destName(addr: number, port: number): string {
  return `${formatIPv4(addr)}:${port}`;
}

/** "TCP 10.0.0.127:80" (address of either sign). */
export function serviceName(proto: number, addr: number, port: number): string {
  return `${protoName(proto)} ${destName(addr, port)}`;
}
