/**
 * Sloppy TCP (net.ipv4.vs.sloppy_tcp, tcp_conn_schedule): with it, a TCP segment that has no
 * entry and no SYN is scheduled like a SYN, unless it carries RST; without it, it is dropped
 * (tcp_no_conn). The new entry then follows set_tcp_state from NONE with the segment's flags
 * (docs/ipvs-behaviour.md §2.3: ack in NONE -> ESTABLISHED on current kernels).
 * Also the point of it for N active directors (docs/scale-out.md): a flow started on one director
 * and moved to another by the routers keeps its real server with mh, and does not with rr.
 */
import t from 'tap';
import { oneArm, MAC, IP, destSpec, ip } from '../helpers/lab-engine.js';
import { tcpFrame } from '../../src/packet/builder.js';
import * as ipv4 from '../../src/packet/ipv4.js';
import * as tcp from '../../src/packet/tcp.js';
import { DROP, V_EMIT } from '../../src/dataplane/verdict.js';
import { FWD_DR } from '../../src/dataplane/model.js';
import { S_CLOSE, S_ESTABLISHED } from '../../src/table/tcp-state.js';
import { SVC_F_SCHED_MH_PORT } from '../../src/sched/types.js';
import { parseKeepalivedText } from '../../src/config/keepalived/index.js';
import { planFromKeepalived } from '../../src/control/keepalived-plan.js';
import type { Engine } from '../../src/dataplane/engine.js';

const client = { srcMac: MAC.router, dstMac: MAC.lb, dst: IP.vip };

/** Send one client segment; the real server it went to (DR: the destination MAC's owner), or null. */
function seg(e: Engine, sport: number, flags: number, now = 0, src = IP.client): string | null {
  const f = tcpFrame({ ...client, src, sport, dport: 80, flags });
  if (e.process(f, f.length, 0, now) !== V_EMIT) return null;
  const dst = Array.from(e.verdict.buf.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
  if (dst === MAC.rs1) return IP.rs1;
  if (dst === MAC.rs2) return IP.rs2;
  return ipv4.decode(e.verdict.buf, 14).dst; // NAT: the rewritten destination
}

const dr = () => [destSpec(IP.rs1, { fwd: FWD_DR }), destSpec(IP.rs2, { fwd: FWD_DR })];
const entry = (e: Engine, sport: number) => e.table.findForward(6, ip(IP.client), sport, ip(IP.vip), 80, false);

t.test('off (the default): a segment without SYN and without entry is dropped as tcp_no_conn', async (t) => {
  const { engine } = oneArm({}, {}, dr());
  t.equal(seg(engine, 40000, tcp.ACK), null);
  t.equal(seg(engine, 40000, tcp.ACK | tcp.PSH), null);
  t.equal(engine.counters.drops[DROP.tcp_no_conn], 2);
  t.equal(engine.table.count, 0);
  t.equal(engine.counters.sloppyConns, 0);
});

t.test('on: an ACK without entry is scheduled, its entry goes NONE -> ESTABLISHED and counts as active', async (t) => {
  const { engine } = oneArm({}, {}, dr());
  engine.settings.sloppyTcp = true;
  const rs = seg(engine, 40001, tcp.ACK | tcp.PSH, 5);
  t.ok(rs === IP.rs1 || rs === IP.rs2, `sent to a real server (${rs})`);
  const e = entry(engine, 40001);
  t.not(e, -1, 'an entry was created');
  t.equal(engine.table.state[e], S_ESTABLISHED, 'ESTABLISHED (IN-ONLY row: ack in NONE)');
  t.equal(engine.table.timeoutMs[e], 900_000, 'with the ESTABLISHED timeout');
  const d = engine.services[0]!.dests.find((x) => x.addr === ip(rs!))!;
  t.same([d.activeConns, d.inactConns], [1, 0], 'ActiveConn');
  t.equal(engine.counters.sloppyConns, 1, 'counted as a sloppy connection');
  t.equal(seg(engine, 40001, tcp.ACK, 6), rs, 'the next segment follows the entry');
  t.equal(engine.counters.sloppyConns, 1, 'not counted again');
});

t.test('on: a RST without entry is still dropped; FIN or no flag at all give a CLOSE entry', async (t) => {
  const { engine } = oneArm({}, {}, dr());
  engine.settings.sloppyTcp = true;
  t.equal(seg(engine, 40002, tcp.RST | tcp.ACK), null);
  t.equal(seg(engine, 40003, tcp.RST), null);
  t.equal(engine.counters.drops[DROP.tcp_no_conn], 2, 'RST: tcp_no_conn');
  t.ok(seg(engine, 40004, tcp.FIN | tcp.ACK));
  t.equal(engine.table.state[entry(engine, 40004)], S_CLOSE, 'fin in NONE -> CLOSE');
  t.ok(seg(engine, 40005, 0));
  t.equal(engine.table.state[entry(engine, 40005)], S_CLOSE, 'no flag -> CLOSE (set_tcp_state default)');
  t.equal(engine.counters.sloppyConns, 2);
});

t.test('NAT too: the sloppy entry rewrites like any other', async (t) => {
  const { engine } = oneArm();
  engine.settings.sloppyTcp = true;
  const rs = seg(engine, 40006, tcp.ACK);
  t.ok(rs === IP.rs1 || rs === IP.rs2, `destination rewritten to ${rs}`);
});

t.test('sloppyTcpMh (the --bgp default) applies to mh services only; a service can have its own', async (t) => {
  const mh = oneArm({}, { scheduler: 'mh' }, dr()).engine;
  const rr = oneArm({}, { scheduler: 'rr' }, dr());
  mh.settings.sloppyTcpMh = true;
  rr.engine.settings.sloppyTcpMh = true;
  t.ok(seg(mh, 40010, tcp.ACK), 'mh: scheduled');
  t.equal(seg(rr.engine, 40010, tcp.ACK), null, 'rr: dropped');
  rr.registry.editService({ ...rr.engine.services[0]!, scheduler: 'rr', persistent: 0, netmask: -1, ops: false, schedFlags: 0, sloppyTcp: true });
  t.ok(seg(rr.engine, 40011, tcp.ACK), 'rr with the service flag: scheduled');
  rr.registry.editService({ proto: 6, addr: ip(IP.vip), port: 80, scheduler: 'rr', persistent: 0, netmask: -1, ops: false, schedFlags: 0 });
  t.equal(rr.engine.services[0]!.sloppyTcp, true, 'an edit without the field (ipvsadm -E) keeps it');
});

/**
 * Two directors with the same real servers in the same order; each flow starts (SYN) on
 * director A and is then moved to director B, which has no entry for it; B also gets new
 * flows of its own, as every director does.
 */
function moveFlows(scheduler: string, schedFlags: number, flows: number): { same: number; moved: number } {
  const a = oneArm({}, { scheduler, schedFlags }, dr()).engine;
  const b = oneArm({}, { scheduler, schedFlags }, dr()).engine;
  b.settings.sloppyTcp = true;
  let same = 0;
  for (let i = 0; i < flows; i++) {
    const sport = 20000 + i * 7;
    const src = `198.51.100.${10 + (i % 50)}`;
    const first = seg(a, sport, tcp.SYN, i, src);
    seg(a, sport, tcp.ACK, i, src);
    // B has flows of its own too (the routers send it a share of the new ones).
    if (i % 3 === 0) seg(b, 30000 + i, tcp.SYN, i, `203.0.113.${1 + (i % 200)}`);
    const later = seg(b, sport, tcp.ACK | tcp.PSH, i, src);
    if (first !== null && first === later) same++;
  }
  return { same, moved: flows };
}

t.test('a flow moved to another director keeps its real server with mh (same list, same order)', async (t) => {
  const mh = moveFlows('mh', SVC_F_SCHED_MH_PORT, 200);
  t.equal(mh.same, mh.moved, `mh-port: ${mh.same} of ${mh.moved} flows picked the same server on both directors`);
  const mhAddr = moveFlows('mh', 0, 200);
  t.equal(mhAddr.same, mhAddr.moved, 'mh (address only): the same');
});

t.test('with rr the second director picks by its own counter: many moved flows land elsewhere (what breaks)', async (t) => {
  const rr = moveFlows('rr', 0, 200);
  t.ok(rr.same < rr.moved, `rr: only ${rr.same} of ${rr.moved} flows kept their server`);
});

t.test('keepalived.conf: sloppy_tcp in a virtual_server sets it for that service', async (t) => {
  const conf = `virtual_server 10.0.0.127 80 {\n  lvs_sched rr\n  lvs_method DR\n  protocol TCP\n  sloppy_tcp\n  real_server 10.0.0.185 80 {\n  }\n}\nvirtual_server 10.0.0.127 81 {\n  lvs_sched rr\n  lvs_method DR\n  protocol TCP\n  real_server 10.0.0.185 81 {\n  }\n}\n`;
  const parsed = parseKeepalivedText(conf, '/etc/keepalived/test.conf');
  t.same(parsed.warnings, [], 'no warning');
  const p = planFromKeepalived(parsed.config);
  t.equal(p.services[0]!.spec.sloppyTcp, true, 'port 80: on');
  t.equal(p.services[1]!.spec.sloppyTcp, false, 'port 81: off');
  const off = planFromKeepalived(parseKeepalivedText(conf.replace('sloppy_tcp', 'sloppy_tcp no'), '/x.conf').config);
  t.equal(off.services[0]!.spec.sloppyTcp, false, '"sloppy_tcp no"');
});
