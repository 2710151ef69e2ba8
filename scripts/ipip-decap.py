#!/usr/bin/env python3
# A stand-in for tunl0 / ip6tnl0 where the kernel has no ipip or ip6_tunnel module (this project's lab host): run in
# a real server's network namespace, it reads the IPIP packets addressed to this host from
# the interface IF (AF_PACKET) and writes the packet inside each into a TUN device, so the
# namespace's own stack receives it as it would from tunl0 (VIP on lo, rp_filter 0 on the
# TUN device). Replies leave by the ordinary routes, past the director. Used by
# test/lab/tunnel-userspace.test.ts; the real tunl0 is tested in the VM (test/lab/tunnel-vm.test.ts).
#
#   ip netns exec NS python3 scripts/ipip-decap.py [IF [TUN]]      (defaults eth0, dtun0)
import fcntl
import os
import socket
import struct
import subprocess
import sys

ifname = sys.argv[1] if len(sys.argv) > 1 else 'eth0'
tunname = sys.argv[2] if len(sys.argv) > 2 else 'dtun0'
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
PACKET_OUTGOING = 4

tun = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(tun, TUNSETIFF, struct.pack('16sH', tunname.encode(), IFF_TUN | IFF_NO_PI))
subprocess.run(['ip', 'link', 'set', tunname, 'up'], check=True)
for conf in ('all', tunname):
    with open(f'/proc/sys/net/ipv4/conf/{conf}/rp_filter', 'w') as f:
        f.write('0')
# ETH_P_ALL: IPIP (IPv4 protocol 4) and ip6ip6 (IPv6 next header 41, RFC 2473) alike.
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((ifname, 0))
print(f'ipip-decap: {ifname} -> {tunname}', flush=True)
while True:
    frame, addr = s.recvfrom(65535)
    if addr[2] == PACKET_OUTGOING or len(frame) < 34:
        continue
    ethertype = (frame[12] << 8) | frame[13]
    if ethertype == 0x0800 and frame[23] == 4:
        # Ethernet + outer IPv4 with protocol 4.
        ihl = (frame[14] & 0x0F) * 4
        os.write(tun, frame[14 + ihl:14 + ((frame[16] << 8) | frame[17])])
    elif ethertype == 0x86DD and len(frame) >= 54 and frame[20] == 41:
        # Ethernet + outer IPv6 (no extension headers) with next header 41: the packet after it.
        os.write(tun, frame[54:54 + ((frame[18] << 8) | frame[19])])
