import t from 'tap';
import { PathDoctor } from '../../src/diag/doctor.js';
import { describe } from '../../src/diag/messages.js';
import { FWD_DR, FWD_MASQ } from '../../src/lvs/fwd.js';
import type { DestObs, Observation } from '../../src/diag/types.js';

const VIP = 0x0a00007f; // 10.0.0.127
const RS1 = 0x0a0000b9; // 10.0.0.185
const RS2 = 0x0a000056; // 10.0.0.86

function dest(over: Partial<DestObs>): DestObs {
  return { id: 0, addr: RS1, port: 80, proto: 6, fwd: FWD_MASQ, vip: VIP, vport: 80, mac: '02:00:0a:00:00:b9', conns: 0, inPkts: 0, outPkts: 0, ...over };
}

function obs(now: number, dests: DestObs[], over: Partial<Observation> = {}): Observation {
  return { now, dests, vipArpConflicts: 0, conflictMac: '00:00:00:00:00:00', conflictIp: 0, loopGuardHits: 0, loopMac: '00:00:00:00:00:00', handshakes: null, ...over };
}

t.test('NAT server sent SYNs with no reply: reported once, cleared when replies come back', async (t) => {
  const d = new PathDoctor();
  const kinds: string[] = [];
  const run = (now: number, inPkts: number, outPkts: number) => {
    for (const f of d.observe(obs(now, [dest({ inPkts, outPkts, conns: inPkts > 0 ? 1 : 0 })]))) kinds.push(`${now}:${f.kind}`);
  };
  run(0, 0, 0);
  run(1000, 1, 0);
  run(2000, 2, 0);
  run(3000, 3, 0); // window [0, 2000] sent 2, nothing back: report
  run(4000, 4, 0); // still broken: said once only
  run(5000, 5, 0);
  run(6000, 6, 3); // replies again
  run(7000, 7, 6);
  t.same(kinds, ['3000:nat-no-replies', '6000:nat-replies-back']);
});

t.test('a healthy NAT server, a DR server and a UDP service never trigger the return-path check', async (t) => {
  const d = new PathDoctor();
  const out: string[] = [];
  for (let i = 0; i <= 8; i++) {
    const dests = [
      dest({ id: 1, inPkts: i * 5, outPkts: i * 4 }),
      dest({ id: 2, addr: RS2, fwd: FWD_DR, inPkts: i * 5 }),
      dest({ id: 3, proto: 17, inPkts: i * 3 }),
    ];
    for (const f of d.observe(obs(i * 1000, dests))) out.push(f.kind);
  }
  t.same(out, []);
});

t.test('ARP for the VIP from a DR server MAC names that server; from an unknown MAC, says so', async (t) => {
  const d = new PathDoctor();
  const dests = [dest({ id: 1, fwd: FWD_DR, addr: RS2, mac: '02:00:0a:00:00:56' })];
  t.same(d.observe(obs(0, dests)), [], 'no conflicts yet');
  const f = d.observe(obs(1000, dests, { vipArpConflicts: 2, conflictMac: '02:00:0a:00:00:56', conflictIp: VIP }));
  t.equal(f.length, 1);
  t.match(f[0], { kind: 'vip-arp', mac: '02:00:0a:00:00:56', vip: VIP, dest: { addr: RS2 } });
  t.same(d.observe(obs(2000, dests, { vipArpConflicts: 3, conflictMac: '02:00:0a:00:00:56', conflictIp: VIP })), [], 'same MAC: once');
  const g = d.observe(obs(3000, dests, { vipArpConflicts: 4, conflictMac: '02:00:0a:00:00:99', conflictIp: VIP }));
  t.match(g, [{ kind: 'vip-arp', dest: null }]);
  const text = describe(f[0]!);
  t.match(text, /DR real server 10\.0\.0\.86 \(02:00:0a:00:00:56\) answers ARP for the VIP 10\.0\.0\.127/);
  t.match(text, /arp_ignore=1/);
  t.match(text, /arp_announce=2/);
  t.match(text, /VIP on lo as a \/32/);
  t.match(describe(g[0]!), /second director/);
});

t.test('conflicts counted before the first tick are reported too', async (t) => {
  const d = new PathDoctor();
  const dests = [dest({ id: 1, fwd: FWD_DR, mac: '02:00:0a:00:00:b9' })];
  t.match(d.observe(obs(0, dests, { vipArpConflicts: 1, conflictMac: '02:00:0a:00:00:b9', conflictIp: VIP })), [{ kind: 'vip-arp' }]);
});

t.test('DR stalled handshakes: reported at the threshold, once, re-armed when they clear', async (t) => {
  const d = new PathDoctor({ minStalled: 2 });
  const dests = [dest({ id: 4, fwd: FWD_DR })];
  const at = (now: number, stalled: number) => d.observe(obs(now, dests, { handshakes: new Map([[4, { stalled, progressed: 3 }]]) })).map((f) => f.kind);
  t.same(at(0, 1), []);
  t.same(at(1000, 2), ['dr-stalled']);
  t.same(at(2000, 3), []);
  t.same(at(3000, 0), []);
  t.same(at(4000, 2), ['dr-stalled']);
  const f = d.observe(obs(5000, [dest({ id: 5, fwd: FWD_DR })], { handshakes: new Map([[5, { stalled: 7, progressed: 0 }]]) }))[0]!;
  t.match(describe(f), /DR real server 10\.0\.0\.185 \(TCP 10\.0\.0\.127:80\): 7 clients kept repeating their SYN/);
});

t.test('handshake scans are asked for DR TCP servers with new packets, and for reported ones', async (t) => {
  const d = new PathDoctor();
  const dr = dest({ id: 7, fwd: FWD_DR, inPkts: 0 });
  t.same([...d.wantsHandshakeScan([dr, dest({ id: 8 })])], [7], 'first time: every DR TCP server');
  t.same([...d.wantsHandshakeScan([dr])], [], 'no new packets');
  t.same([...d.wantsHandshakeScan([{ ...dr, inPkts: 3 }])], [7]);
});

t.test('loop guard hits are reported once per MAC, naming the DR server', async (t) => {
  const d = new PathDoctor();
  const dests = [dest({ id: 1, fwd: FWD_DR, addr: RS2, mac: '02:00:0a:00:00:56' })];
  t.same(d.observe(obs(0, dests)), []);
  const f = d.observe(obs(1000, dests, { loopGuardHits: 3, loopMac: '02:00:0a:00:00:56' }));
  t.match(f, [{ kind: 'loop', hits: 3, dest: { addr: RS2 } }]);
  t.same(d.observe(obs(2000, dests, { loopGuardHits: 5, loopMac: '02:00:0a:00:00:56' })), []);
  const text = describe(f[0]!);
  t.match(text, /loop guard: new flows for a DR service arrived from 02:00:0a:00:00:56 \(the MAC of DR real server 10\.0\.0\.86\)/);
  t.match(text, /drop reason loop_guard/);
});

t.test('the NAT message depends on what the director itself sees of the server', async (t) => {
  const f = { kind: 'nat-no-replies' as const, dest: { id: 1, addr: RS1, port: 80, proto: 6, fwd: FWD_MASQ, vip: VIP, vport: 80 }, sent: 4 };
  const open = describe(f, 'open');
  t.match(open, /NAT real server 10\.0\.0\.185:80 \(TCP 10\.0\.0\.127:80\) was sent 4 packets and not one reply came back/);
  t.match(open, /default route does not point at the director/);
  t.match(open, /--mode fnat/);
  t.match(open, /--rs 10\.0\.0\.185\/fnat/);
  t.match(describe(f, 'refused'), /nothing listens on that port/);
  t.match(describe(f, 'timeout', '02:00:0a:00:00:b9'), /answers ARP \(02:00:0a:00:00:b9\): the server is down, or a firewall/);
  t.match(describe(f, 'skipped', '02:00:0a:00:00:b9'), /it answers ARP, 02:00:0a:00:00:b9/);
});
