/**
 * How far IPv6 goes (issue 16, docs/ipv6.md): IPv6 services and real servers are balanced
 * by NAT, direct routing and full-NAT (IPv6 local addresses); tunnelling (ip6ip6, and
 * servers of the other family) is not built yet. Every refusal says so with this text.
 */
export const IPV6_SUPPORTED_SO_FAR = 'IPv6 services are forwarded by NAT (-m), direct routing (-g) and full-NAT (--fnat); tunnelling is not built for IPv6 yet';
