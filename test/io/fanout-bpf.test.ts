/**
 * The fanout program, run by a small classic-BPF interpreter written from the BPF
 * instruction set (Documentation/networking/filter.rst), on hand-built frames: the worker
 * it returns must be the one the shard rule names ((client port >> 1) % n for both
 * directions of a connection, or the client address % n), so a NAT connection's request
 * and reply meet in one worker.
 */
import t from 'tap';
import { fanoutProgram } from '../../src/io/ring/fanout-bpf.js';
import { tcpFrame, udpFrame, icmpFrame, arpFrame } from '../../src/packet/builder.js';

/** Run `prog` on an Ethernet frame (network header at 14, skb->protocol = EtherType). */
function run(prog: Buffer, frame: Buffer): number {
  let a = 0, x = 0, pc = 0;
  const NET = -0x100000, AD = -0x1000;
  const proto = frame.readUInt16BE(12);
  const load = (k: number, size: number): number => {
    const off = k | 0; // the kernel treats k as signed for the negative bases
    if (off === AD) return proto;
    const at = off >= NET && off < AD ? 14 + (off - NET) : off;
    if (size === 4) return frame.readUInt32BE(at);
    if (size === 2) return frame.readUInt16BE(at);
    return frame[at]!;
  };
  for (let steps = 0; steps < 1000; steps++) {
    const code = prog.readUInt16LE(pc * 8), jt = prog[pc * 8 + 2]!, jf = prog[pc * 8 + 3]!, k = prog.readUInt32LE(pc * 8 + 4);
    pc++;
    const cls = code & 7, size = code & 0x18, mode = code & 0xe0, op = code & 0xf0;
    const bytes = size === 0 ? 4 : size === 8 ? 2 : 1;
    if (cls === 0) a = mode === 0x20 ? load(k, bytes) : load((k | 0) + x, bytes);
    else if (cls === 4) {
      if (op === 0x50) a = (a & k) >>> 0;
      else if (op === 0x60) a = (a << k) >>> 0;
      else if (op === 0x70) a = a >>> k;
      else if (op === 0x90) a = a % k;
      else throw new Error(`alu op ${op}`);
    } else if (cls === 7) x = a;
    else if (cls === 5) pc += a === k ? jt : jf;
    else if (cls === 6) return code & 0x10 ? a : k;
    else throw new Error(`class ${cls}`);
  }
  throw new Error('no return');
}

const VIP = '10.0.0.127', RS = '10.0.0.185', CLIENT = '198.51.100.10';
const vipN = (10 << 24) | 127;
const m = { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' };

t.test('by port: both directions of a connection land in the same worker', async (t) => {
  for (const n of [2, 3, 4]) {
    const prog = fanoutProgram({ n, by: 'port' }, [vipN, (10 << 24) | 99]);
    for (const cport of [40000, 40001, 40002, 40003, 51234, 65535, 1024]) {
      const want = (cport >> 1) % n;
      const req = tcpFrame({ ...m, src: CLIENT, dst: VIP, sport: cport, dport: 80, flags: 2 });
      const rep = tcpFrame({ ...m, src: RS, dst: CLIENT, sport: 80, dport: cport, flags: 0x12 });
      t.equal(run(prog, req), want, `n=${n} client port ${cport}: request`);
      t.equal(run(prog, rep), want, `n=${n} client port ${cport}: NAT reply`);
      const u = udpFrame({ ...m, src: CLIENT, dst: VIP, sport: cport, dport: 53 });
      t.equal(run(prog, u), want, 'UDP too');
    }
  }
});

t.test('IP options move the ports: the header length is read from the packet', async (t) => {
  const prog = fanoutProgram({ n: 2, by: 'port' }, [vipN]);
  const f = tcpFrame({ ...m, src: CLIENT, dst: VIP, sport: 40003, dport: 80, flags: 2, ipOptions: new Uint8Array([1, 1, 1, 1]) });
  t.equal(run(prog, f), (40003 >> 1) % 2);
});

t.test('by address: the client address picks the worker, both ways', async (t) => {
  const prog = fanoutProgram({ n: 3, by: 'addr' }, [vipN]);
  const c = ((198 << 24) | (51 << 16) | (100 << 8) | 10) >>> 0;
  const req = tcpFrame({ ...m, src: CLIENT, dst: VIP, sport: 40000, dport: 80, flags: 2 });
  const rep = tcpFrame({ ...m, src: RS, dst: CLIENT, sport: 80, dport: 40000, flags: 0x12 });
  t.equal(run(prog, req), c % 3);
  t.equal(run(prog, rep), c % 3);
});

t.test('ICMP and ARP go to worker 0', async (t) => {
  const prog = fanoutProgram({ n: 2, by: 'port' }, [vipN]);
  const ping = icmpFrame({ ...m, src: CLIENT, dst: VIP, type: 8, code: 0, rest: 0x10001, payload: Buffer.from('ab') });
  t.equal(run(prog, ping), 0);
  const a = arpFrame({ ...m, op: 1, senderMac: m.srcMac, senderIp: CLIENT, targetMac: '00:00:00:00:00:00', targetIp: VIP });
  t.equal(run(prog, a), 0);
});
