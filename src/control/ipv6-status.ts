/**
 * How far IPv6 goes (issue 16, docs/ipv6.md): IPv6 services and real servers are balanced
 * by NAT, direct routing, full-NAT (IPv6 local addresses) and ip6ip6 tunnels; a server of
 * the other family (IPIP6 / SIT tunnels, which IPVS allows) is not built yet. Every refusal says so with this text.
 */
export const IPV6_SUPPORTED_SO_FAR = 'IPv6 services are forwarded to IPv6 servers by NAT (-m), direct routing (-g), full-NAT (--fnat) and ip6ip6 tunnel (-i); tunnels between address families are not built';
