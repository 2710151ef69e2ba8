/**
 * Address family numbers as the kernel numbers them (include/linux/socket.h), which IPVS
 * keeps per service (svc->af) and per connection (cp->af, cp->daf).
 * Dependency-free: every layer may import it.
 */
export const AF_INET = 2;
export const AF_INET6 = 10;
