/**
 * Where IPv6 stops today (issue 16): addresses of either family parse, are checked and
 * list (ipvsadm syntax and listings, keepalived.conf servers and group ranges), but the
 * forwarding engine takes IPv4 services and servers only. Every refusal at the point
 * where a configuration would reach the engine says so with this text.
 */
export const IPV6_SUPPORTED_SO_FAR = 'IPv6 virtual and real servers are parsed and checked, but only IPv4 ones are loaded into the balancer';
