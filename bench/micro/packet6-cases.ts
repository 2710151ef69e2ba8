/**
 * The IPv6 codecs' per-packet operations (issue 16 foundation), measured beside the
 * IPv4 engine paths so the later IPv6 data plane starts from known costs: the
 * extension-header walk, a DNAT rewrite of a 128-bit address with its RFC 1624 checksum
 * update, and answering a Neighbour Solicitation. Each op leaves its frame as it found
 * it (or rewrites it back and forth), so every run sees the same input.
 */
import { tcp6Frame, icmp6Frame, optionsHeader } from '../../src/packet/builder6.js';
import { ADDR_DST, setAddr6 } from '../../src/packet/l4v6.js';
import { UL_OFFSET, UL_SLOTS, findUpperLayer } from '../../src/packet/ipv6-ext.js';
import { ipv6Bytes, parseIPv6 } from '../../src/packet/addr6.js';
import * as nd from '../../src/packet/nd.js';
import * as tcp from '../../src/packet/tcp.js';
import * as icmpv6 from '../../src/packet/icmpv6.js';
import type { MicroCase } from './engine-cases.js';

const base = { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', src: '2001:db8:1::10', dst: '2001:db8::1' };

export function packet6Cases(): MicroCase[] {
  const out = new Int32Array(UL_SLOTS);
  const plain = tcp6Frame({ ...base, sport: 40000, dport: 80, flags: tcp.ACK, payload: new Uint8Array(64) });
  const ext = tcp6Frame({ ...base, ext: [optionsHeader(0), optionsHeader(60)], sport: 40000, dport: 80, flags: tcp.ACK, payload: new Uint8Array(64) });
  let walked = 0;
  let bad = 0;

  // VIP <-> real server, alternately: two rewrites bring the frame back.
  const words = new Int32Array(8);
  words.set(parseIPv6('2001:db8::10')!, 0);
  words.set(parseIPv6(base.dst)!, 4);
  const nat = tcp6Frame({ ...base, sport: 40000, dport: 80, flags: tcp.ACK, payload: new Uint8Array(64) });
  let slot = 0;

  const target = ipv6Bytes('2001:db8::100')!;
  const ns = icmp6Frame({
    srcMac: '02:00:00:00:00:01', dstMac: '33:33:ff:00:01:00', src: '2001:db8::1', dst: 'ff02::1:ff00:100', hopLimit: 255,
    type: icmpv6.NEIGHBOUR_SOLICIT, code: 0, rest: 0, payload: Uint8Array.from([...target, 1, 1, 2, 0, 0, 0, 0, 1]),
  });
  const info = new Int32Array(nd.NS_SLOTS);
  const reply = new Uint8Array(128);
  const mac = Uint8Array.from([2, 0, 0, 0, 0, 0xfe]);
  let answered = 0;

  return [
    {
      group: 'packet6', name: 'ipv6: find TCP (no extension headers)', note: 'findUpperLayer on a 40-byte header',
      fn: () => {
        if (findUpperLayer(plain, 14, plain.length, out) === 6 && out[UL_OFFSET] === 54) walked++;
        else bad++;
      },
      check: () => (bad === 0 && walked > 0 ? null : `${bad} wrong walks`),
    },
    {
      group: 'packet6', name: 'ipv6: find TCP behind hop-by-hop + dest options', note: 'findUpperLayer over two 8-byte extension headers',
      fn: () => {
        if (findUpperLayer(ext, 14, ext.length, out) === 6 && out[UL_OFFSET] === 70) walked++;
        else bad++;
      },
      check: () => (bad === 0 ? null : `${bad} wrong walks`),
    },
    {
      group: 'packet6', name: 'ipv6: DNAT 128-bit address + TCP checksum update', note: 'setAddr6 (RFC 1624 over 8 words), VIP <-> RIP alternately',
      fn: () => {
        setAddr6(nat, 14, ADDR_DST, words, slot, 54 + 16, false);
        slot ^= 1;
      },
    },
    {
      group: 'packet6', name: 'ipv6: NS for a VIP -> NA', note: 'parseSolicit (checksum verified) + writeAdvertFor (checksum computed)',
      fn: () => {
        if (nd.parseSolicit(ns, 14, 54, ns.length, info) === 0) answered += nd.writeAdvertFor(reply, ns, 14, info, mac, nd.NA_OVERRIDE);
      },
      check: () => (answered > 0 ? null : 'no NS answered'),
    },
  ];
}
