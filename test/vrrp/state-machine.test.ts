import t from 'tap';
import { ip as parseIpv4 } from '../helpers/addr.js';
import type { VrrpAdvert } from '../../src/vrrp/packet.js';
import { VrrpStateMachine, type VrrpAction, type VrrpEvent, type VrrpInstanceConfig, type VrrpTimer } from '../../src/vrrp/state-machine.js';

const VIP = parseIpv4('192.168.0.141');
const ME = parseIpv4('192.168.0.10');
const PEER_HIGH_IP = parseIpv4('192.168.0.20');
const PEER_LOW_IP = parseIpv4('192.168.0.5');

// Reference values worked out from keepalived's formulas (vrrp.h):
// skew = (256 - prio) / 256 s, master_down_interval = 3 * advert_int + skew.
const skew = (prio: number): number => ((256 - prio) / 256) * 1000;
const mdi = (prio: number, advMs: number): number => 3 * advMs + skew(prio);

/** Test driver: carries out timer actions and fires timers in time order (no real clock). */
class Driver {
  readonly sm: VrrpStateMachine;
  readonly timers = new Map<VrrpTimer, number>();
  readonly log: { at: number; action: VrrpAction }[] = [];
  now = 0;
  constructor(cfg: VrrpInstanceConfig) {
    this.sm = new VrrpStateMachine(cfg);
  }
  deliver(ev: VrrpEvent, at: number): VrrpAction[] {
    this.advanceTo(at);
    return this.apply(this.sm.handle(ev, at), at);
  }
  advert(priority: number, at: number, srcIp = PEER_HIGH_IP, extra: Partial<VrrpAdvert> = {}): VrrpAction[] {
    return this.deliver({ type: 'advert', srcIp, advert: { version: 2, vrid: 51, priority, adverInt: 1, addresses: [VIP], ...extra } }, at);
  }
  advanceTo(until: number): void {
    for (;;) {
      let next: [VrrpTimer, number] | undefined;
      for (const e of this.timers) if (e[1] <= until && (!next || e[1] < next[1])) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.apply(this.sm.handle({ type: 'timer', timer: next[0] }, next[1]), next[1]);
    }
    this.now = until;
  }
  private apply(actions: VrrpAction[], at: number): VrrpAction[] {
    for (const a of actions) {
      if (a.type === 'arm-timer') this.timers.set(a.timer, a.at);
      if (a.type === 'cancel-timer') this.timers.delete(a.timer);
      this.log.push({ at, action: a });
    }
    return actions;
  }
  /** Time of the first transition into `state`, if any. */
  becameAt(state: string): number | undefined {
    return this.log.find((l) => l.action.type === 'state' && l.action.to === state)?.at;
  }
}

const base: VrrpInstanceConfig = { vrid: 51, priority: 100, advertIntMs: 1000, initialState: 'BACKUP', primaryIp: ME, vips: [VIP] };

t.test('BACKUP start: master after the full master_down_interval, with keepalived actions', (t) => {
  const d = new Driver({ ...base, advertIntMs: 3000 }); // seed 001: advert_int 3, priority 100
  const start = d.deliver({ type: 'start' }, 0);
  t.match(start, [{ type: 'set-vips', owned: false }, { type: 'state', from: 'INIT', to: 'BACKUP' }, { type: 'notify', kind: 'backup' }, { type: 'sync-daemon', role: 'backup' }, { type: 'arm-timer', timer: 'advert', at: mdi(100, 3000) }]);
  t.equal(mdi(100, 3000), 9609.375);
  d.advanceTo(9609);
  t.equal(d.sm.state, 'BACKUP', 'still backup just before');
  d.advanceTo(9609.375);
  t.equal(d.sm.state, 'MASTER');
  const becoming = d.log.filter((l) => l.at === 9609.375).map((l) => l.action);
  t.match(becoming, [
    { type: 'state', from: 'BACKUP', to: 'MASTER' },
    { type: 'send-advert', priority: 100, advert: { version: 2, vrid: 51, priority: 100, adverInt: 3, addresses: [VIP] } },
    { type: 'set-vips', owned: true },
    { type: 'send-garps', vips: [VIP], repeat: 5 },
    { type: 'arm-timer', timer: 'garp', at: 9609.375 + 5000 },
    { type: 'notify', kind: 'master' },
    { type: 'sync-daemon', role: 'master' },
    { type: 'arm-timer', timer: 'advert', at: 9609.375 + 3000 },
  ]);
  d.advanceTo(9609.375 + 6000);
  const later = d.log.filter((l) => l.at > 9609.375).map((l) => `${l.at}:${l.action.type}`);
  t.same(later.filter((s) => s.endsWith('send-advert') || s.endsWith('send-garps')), ['12609.375:send-advert', '14609.375:send-garps', '15609.375:send-advert'], 'adverts every 3 s and the second GARP burst after 5 s');
  t.end();
});

t.test('start-up rules for state MASTER', (t) => {
  const owner = new Driver({ ...base, priority: 255, initialState: 'MASTER' });
  owner.deliver({ type: 'start' }, 0);
  t.equal(owner.sm.state, 'MASTER', 'priority 255 is master at once');
  t.equal(owner.becameAt('MASTER'), 0);

  const lower = new Driver({ ...base, initialState: 'MASTER' });
  lower.deliver({ type: 'start' }, 0);
  t.equal(lower.sm.state, 'BACKUP');
  t.equal(lower.timers.get('advert'), 1000 + 1000 / 256, 'one advert interval plus the minimal skew');
  lower.advanceTo(2000);
  t.equal(lower.becameAt('MASTER'), 1003.90625);
  t.end();
});

t.test('a backup hearing an equal or higher master every interval never takes over', (t) => {
  const d = new Driver(base);
  d.deliver({ type: 'start' }, 0);
  for (let at = 500; at < 30000; at += 1000) d.advert(100, at);
  d.advanceTo(30000);
  t.equal(d.sm.state, 'BACKUP');
  t.equal(d.timers.get('advert'), 29500 + mdi(100, 1000), 'down timer re-armed from the last advert');
  t.same(d.sm.currentMaster, { ip: PEER_HIGH_IP, priority: 100 });
  // The master dies: takeover exactly one master_down_interval after its last advert.
  d.advanceTo(40000);
  t.equal(d.becameAt('MASTER'), 29500 + mdi(100, 1000));
  t.end();
});

t.test('preemption: a lower-priority master is ignored and the timer runs out', (t) => {
  const d = new Driver({ ...base, priority: 150 });
  d.deliver({ type: 'start' }, 0);
  for (let at = 500; at < 10000; at += 1000) d.advert(100, at);
  t.equal(d.becameAt('MASTER'), mdi(150, 1000), 'master at its first down-timer expiry (3414.0625 ms)');
  t.equal(mdi(150, 1000), 3414.0625);
  t.end();
});

t.test('nopreempt keeps a returning higher-priority router as backup', (t) => {
  const d = new Driver({ ...base, priority: 150, nopreempt: true });
  d.deliver({ type: 'start' }, 0);
  for (let at = 500; at < 60000; at += 1000) d.advert(100, at, PEER_LOW_IP);
  d.advanceTo(60000);
  t.equal(d.sm.state, 'BACKUP');
  t.equal(d.becameAt('MASTER'), undefined);
  t.end();
});

t.test('priority 0 from the master: takeover after the skew time only', (t) => {
  const d = new Driver(base);
  d.deliver({ type: 'start' }, 0);
  d.advert(200, 1000);
  const a = d.advert(0, 1700);
  t.match(a, [{ type: 'arm-timer', timer: 'advert', at: 1700 + skew(100) }]);
  d.advanceTo(5000);
  t.equal(d.becameAt('MASTER'), 1700 + 609.375);
  t.end();
});

t.test('preempt_delay: lower-priority adverts accepted until the delay ends', (t) => {
  // Rule (vrrp_state_backup): the delay starts at the first lower-priority advert (t=500 -> ends 10500);
  // adverts are accepted while the delay is running (last at 9500), then ignored, so the timer
  // armed at 9500 runs out at 9500 + master_down_interval.
  const d = new Driver({ ...base, priority: 150, preemptDelayMs: 10000 });
  d.deliver({ type: 'start' }, 0);
  for (let at = 500; at < 20000; at += 1000) d.advert(100, at);
  d.advanceTo(20000);
  t.equal(d.becameAt('MASTER'), 9500 + mdi(150, 1000));
  t.end();
});

t.test('master receiving adverts', (t) => {
  const mk = (): Driver => {
    const d = new Driver({ ...base, initialState: 'MASTER', priority: 255 });
    d.deliver({ type: 'start' }, 0);
    return d;
  };
  // owner (255) vs equal priority from higher / lower address
  let d = mk();
  d.advert(255, 100, PEER_LOW_IP);
  t.equal(d.sm.state, 'MASTER', 'equal priority from a lower IP: we stay');
  d = mk();
  const lose = d.advert(255, 100, PEER_HIGH_IP);
  t.equal(d.sm.state, 'BACKUP', 'equal priority from a higher IP: we yield');
  t.notOk(lose.some((a) => a.type === 'send-advert'), 'no priority-0 advert when yielding');
  t.match(lose, [{ type: 'sync-daemon', role: 'backup' }, { type: 'cancel-timer', timer: 'garp' }, { type: 'set-vips', owned: false }, { type: 'state', to: 'BACKUP' }, { type: 'notify', kind: 'backup' }, { type: 'arm-timer', at: 100 + mdi(255, 1000) }]);

  const m = new Driver({ ...base, initialState: 'MASTER', priority: 100 });
  m.deliver({ type: 'start' }, 0);
  m.advanceTo(1100);
  t.equal(m.sm.state, 'MASTER');
  const lower = m.advert(50, 1500, PEER_HIGH_IP);
  t.match(lower, [{ type: 'send-advert', priority: 100 }, { type: 'notify', kind: 'master-rx-lower-pri' }, { type: 'arm-timer', timer: 'advert', at: 2500 }], 'lower priority: advert at once');
  const zero = m.advert(0, 1800, PEER_HIGH_IP);
  t.match(zero, [{ type: 'send-advert', priority: 100 }, { type: 'arm-timer', timer: 'advert', at: 2800 }], 'priority 0: answered with an advert');
  const higher = m.advert(101, 2000, PEER_LOW_IP);
  t.ok(higher.some((a) => a.type === 'state' && a.to === 'BACKUP'), 'higher priority wins whatever its address');
  t.end();
});

t.test('shutdown, interface down and up', (t) => {
  const d = new Driver({ ...base, initialState: 'MASTER', priority: 255 });
  d.deliver({ type: 'start' }, 0);
  const down = d.deliver({ type: 'interface-down' }, 500);
  t.match(down, [{ type: 'sync-daemon', role: 'backup' }, { type: 'send-advert', priority: 0 }, { type: 'cancel-timer', timer: 'garp' }, { type: 'set-vips', owned: false }, { type: 'cancel-timer', timer: 'advert' }, { type: 'state', to: 'FAULT' }, { type: 'notify', kind: 'fault' }]);
  t.equal(d.timers.size, 0);
  d.deliver({ type: 'interface-up' }, 2000);
  t.equal(d.sm.state, 'MASTER', 'owner with state MASTER comes back as master');

  const b = new Driver(base);
  b.deliver({ type: 'start' }, 0);
  b.deliver({ type: 'interface-down' }, 100);
  t.equal(b.sm.state, 'FAULT');
  b.advanceTo(10000);
  t.equal(b.sm.state, 'FAULT', 'no timers in FAULT');
  b.deliver({ type: 'interface-up' }, 10000);
  t.equal(b.sm.state, 'BACKUP');
  t.equal(b.timers.get('advert'), 10000 + mdi(100, 1000));

  const s = new Driver({ ...base, initialState: 'MASTER', priority: 255 });
  s.deliver({ type: 'start' }, 0);
  const stop = s.deliver({ type: 'shutdown' }, 100);
  t.match(stop, [{ type: 'send-advert', priority: 0, advert: { priority: 0 } }, { type: 'cancel-timer', timer: 'garp' }, { type: 'set-vips', owned: false }]);
  t.equal(s.sm.state, 'INIT');
  t.ok(stop.some((a) => a.type === 'notify' && a.kind === 'stop'));

  const f = new Driver({ ...base, interfaceUp: false });
  t.match(f.deliver({ type: 'start' }, 0), [{ type: 'set-vips' }, { type: 'state', to: 'FAULT' }, { type: 'notify', kind: 'fault' }], 'start with the link down');
  t.end();
});

t.test('stale timer events and foreign VRIDs are ignored', (t) => {
  const sm = new VrrpStateMachine(base);
  sm.handle({ type: 'start' }, 0);
  t.same(sm.handle({ type: 'timer', timer: 'advert' }, 1000), [], 'a timer event long before the deadline');
  t.same(sm.handle({ type: 'timer', timer: 'garp' }, 5000), [], 'an unarmed timer');
  t.same(sm.handle({ type: 'advert', srcIp: PEER_HIGH_IP, advert: { version: 2, vrid: 52, priority: 0, adverInt: 1, addresses: [] } }, 1000), []);
  t.throws(() => new VrrpStateMachine({ ...base, advertIntMs: 1500 }), /not a valid VRRPv2 interval/);
  t.throws(() => new VrrpStateMachine({ ...base, priority: 0 }), /priority/);
  t.end();
});

t.test('VRRPv3: the backup learns the master interval and scales the skew', (t) => {
  const d = new Driver({ ...base, version: 3, advertIntMs: 1000 });
  d.deliver({ type: 'start' }, 0);
  t.equal(d.timers.get('advert'), mdi(100, 1000), 'own interval before hearing a master');
  d.advert(200, 100, PEER_HIGH_IP, { version: 3, adverInt: 50 });
  // RFC 5798: Master_Down_Interval = 3 * 500 + (256 - 100) * 500 / 256 = 1804.6875 ms
  t.equal(d.timers.get('advert'), 100 + 1500 + (156 * 500) / 256);
  t.equal(d.sm.advertPacket(100).adverInt, 100, 'our adverts keep our own 100 cs');
  t.end();
});
