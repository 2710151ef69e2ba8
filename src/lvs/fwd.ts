/**
 * Forwarding methods (ip_vs_dest's IP_VS_CONN_F_FWD_MASK part; ipvsadm -m / -g / -i and our
 * full-NAT). The numbers are the data plane's own (the sync wire uses IP_VS_CONN_F_*,
 * mapped in src/sync/); the names are the "Forward" column of `ipvsadm -L`
 * (ipvsadm.c fwd_name(): Masq, Route, Tunnel, Local) plus FNAT for full-NAT.
 */

export const FWD_MASQ = 0;
export const FWD_DR = 1;
export const FWD_FNAT = 2;
/** IPIP tunnel (ipvsadm -i, keepalived lb_kind TUN). */
export const FWD_TUNNEL = 3;

/** What ipvsadm prints; 'Local' is IP_VS_CONN_F_LOCALNODE, read from rule files but handled as Route. */
export type ForwardMethod = 'Masq' | 'Route' | 'Tunnel' | 'Local' | 'FNAT';

/** Indexed by FWD_*. */
export const FWD_NAMES = ['Masq', 'Route', 'FNAT', 'Tunnel'] as const;

/** The ipvsadm name of a forwarding method (unknown numbers print as Masq, the default of -a). */
export function fwdName(fwd: number): (typeof FWD_NAMES)[number] {
  return FWD_NAMES[fwd] ?? 'Masq';
}

/** FWD_* for an ipvsadm name ('Local' forwards as Route: the director is the server). */
export function fwdFromName(name: ForwardMethod): number {
  switch (name) {
    case 'Masq': return FWD_MASQ;
    case 'Route': case 'Local': return FWD_DR;
    case 'Tunnel': return FWD_TUNNEL;
    case 'FNAT': return FWD_FNAT;
  }
}

/**
 * Methods whose replies go from the server straight to the client (DR, tunnel): entries
 * get IP_VS_CONN_F_NOOUTPUT and are not hashed for replies (docs/ipvs-behaviour.md).
 */
export function repliesBypass(fwd: number): boolean {
  return fwd === FWD_DR || fwd === FWD_TUNNEL;
}
