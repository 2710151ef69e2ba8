/**
 * IP protocol numbers the balancer names (IANA "Assigned Internet Protocol Numbers";
 * the kernel's IPPROTO_* in include/uapi/linux/in.h) and their ipvsadm spelling.
 * Dependency-free: every layer may import it.
 */

export const IPPROTO_ICMP = 1;
/** IPv4-in-IPv4 (RFC 2003), the outer protocol of IPVS's tunnel method. */
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;

/** A virtual service's protocol as ipvsadm -L prints it. */
export type ProtoName = 'TCP' | 'UDP' | 'SCTP';

/**
 * The ipvsadm name of a service protocol. Services exist only for TCP, UDP (and SCTP in the
 * rule texts), so any other number is named TCP, ipvsadm's default (-t).
 */
export function protoName(proto: number): ProtoName {
  return proto === IPPROTO_UDP ? 'UDP' : proto === IPPROTO_SCTP ? 'SCTP' : 'TCP';
}
