/**
 * The classic BPF program of a PACKET_FANOUT_CBPF group: it returns the index of the worker
 * that owns a packet (fanout_demux_bpf takes the result modulo the number of members), with
 * the same split as the capture filters of the pcap backend (io/bpf.ts shardClauses), so a
 * connection's both directions meet in one worker:
 *   to a VIP (client -> service):   (source port >> 1) % n, or source address % n
 *   anything else (NAT replies, replies to full-NAT local addresses):
 *                                   (destination port >> 1) % n, or destination address % n
 *   ICMP and non-IPv4 frames:       worker 0
 * Loads are relative to the network header (SKF_NET_OFF) and the EtherType comes from
 * skb->protocol (SKF_AD_PROTOCOL), so the program does not depend on where skb->data points
 * when the group runs it, nor on an in-band VLAN tag.
 */
import type { Shard } from '../bpf.js';

// <linux/filter.h>, <linux/bpf_common.h>
const LD = 0x00, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, H = 0x08, B = 0x10;
const ABS = 0x20, IND = 0x40;
const K = 0x00, A = 0x10;
const AND = 0x50, LSH = 0x60, RSH = 0x70, MOD = 0x90;
const JEQ = 0x10;
const TAX = 0x00;
const SKF_AD_OFF = -0x1000;
const SKF_AD_PROTOCOL = 0;
const SKF_NET_OFF = -0x100000;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const stmt = (code: number, k = 0): Insn => ({ code, jt: 0, jf: 0, k });
const net = (off: number) => (SKF_NET_OFF + off) >>> 0;

/** The program for n workers, the VIPs given (host-order unsigned or int32 addresses). */
export function fanoutProgram(shard: Omit<Shard, 'k'>, vips: readonly number[]): Buffer {
  const { n } = shard;
  if (vips.length > 200) throw new RangeError('at most 200 VIPs with --workers on the ring backend');
  // Tail blocks: the reply and inbound index computations, then "return 0".
  const pick = (portOff: number, addrOff: number): Insn[] =>
    shard.by === 'addr'
      ? [stmt(LD | W | ABS, net(addrOff)), stmt(ALU | MOD | K, n), stmt(RET | A)]
      : [
          stmt(LD | B | ABS, net(0)),
          stmt(ALU | AND | K, 0x0f),
          stmt(ALU | LSH | K, 2),
          stmt(MISC | TAX),
          stmt(LD | H | IND, net(portOff)),
          stmt(ALU | RSH | K, 1),
          stmt(ALU | MOD | K, n),
          stmt(RET | A),
        ];
  const reply = pick(2, 16);
  const inbound = pick(0, 12);
  const head: Insn[] = [
    stmt(LD | H | ABS, (SKF_AD_OFF + SKF_AD_PROTOCOL) >>> 0),
    { code: JMP | JEQ | K, jt: 0, jf: 0, k: 0x0800 }, // jf -> ret 0, patched below
    stmt(LD | B | ABS, net(9)),
    { code: JMP | JEQ | K, jt: 0, jf: 0, k: 1 }, // ICMP: jt -> ret 0
    stmt(LD | W | ABS, net(16)),
  ];
  const vipJumps: Insn[] = vips.map((v) => ({ code: JMP | JEQ | K, jt: 0, jf: 0, k: v >>> 0 }));
  const prog = [...head, ...vipJumps, ...reply, ...inbound, stmt(RET | K, 0)];
  const inbStart = head.length + vipJumps.length + reply.length;
  const ret0 = prog.length - 1;
  prog[1]!.jf = ret0 - 2;
  prog[3]!.jt = ret0 - 4;
  vipJumps.forEach((j, i) => (j.jt = inbStart - (head.length + i) - 1));
  const b = Buffer.alloc(prog.length * 8);
  prog.forEach((x, i) => {
    if (x.jt > 255 || x.jf > 255) throw new RangeError('fanout program jump out of range');
    b.writeUInt16LE(x.code, i * 8);
    b[i * 8 + 2] = x.jt;
    b[i * 8 + 3] = x.jf;
    b.writeUInt32LE(x.k >>> 0, i * 8 + 4);
  });
  return b;
}
