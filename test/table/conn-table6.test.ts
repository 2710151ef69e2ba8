/**
 * ConnTable6 (src/table/conn-table6.ts): the IPv4 table's tests re-run with 128-bit
 * addresses, plus what only IPv6 can get wrong: addresses that differ in one word, or that
 * fold to the same xor (what the schedulers hash), must stay distinct keys; an IPv4 tunnel
 * server's entry never answers an IPv6 reply; the persistence key masks the client to the
 * service's prefix length as ipv6_addr_prefix does.
 */
import t from 'tap';
import { CF_IN_REVERSE, CF_TEMPLATE, NONE } from '../../src/table/conn-table.js';
import { ConnTable6, maskAddr6 } from '../../src/table/conn-table6.js';
import { AF_INET, AF_INET6 } from '../../src/lvs/af.js';
import { foldAddr6, parseIPv6, prefixToMask6 } from '../../src/packet/addr6.js';
import { prng } from '../helpers/prng.js';

const TCP = 6, UDP = 17;
/** Addresses as (words, slot) pairs: one Int32Array of 4-word slots, like a caller's scratch. */
function addrs(...texts: string[]): Int32Array {
  const w = new Int32Array(texts.length * 4);
  texts.forEach((s, i) => w.set(parseIPv6(s)!, i * 4));
  return w;
}

t.test('random inserts and removes agree with a Map reference model (both indexes)', async (t) => {
  const cap = 5000;
  const table = new ConnTable6(cap, 100, 42);
  const ref = new Map<string, number>();
  const rand = prng(11);
  // slot 0: client, 1: VIP, 2: real server; the client varies in every word, in a small space.
  const w = addrs('::', '2001:db8::7f', '2001:db8:1::b9');
  let mismatches = 0;
  for (let step = 0; step < 60000; step++) {
    const k = [0, 1, 2, 3].map(() => (rand() * 4) | 0);
    for (let i = 0; i < 4; i++) w[i] = (0x20010db8 + k[i]!) | 0;
    const cport = 1000 + ((rand() * 8) | 0);
    const key = `${k.join('.')}:${cport}`;
    const found = table.findForward(TCP, w, 0, cport, w, 1, 80, false);
    if ((found === NONE) !== !ref.has(key) || (found !== NONE && found !== ref.get(key))) mismatches++;
    if (found === NONE && table.count < cap) {
      ref.set(key, table.insert(TCP, w, 0, cport, w, 1, 80, AF_INET6, w, 2, 80, w, 0, cport, CF_IN_REVERSE));
    } else if (found !== NONE && rand() < 0.6) {
      table.remove(found);
      ref.delete(key);
    }
  }
  t.equal(mismatches, 0, 'every lookup agrees with the model');
  let unreachable = 0;
  for (const [key, e] of ref) {
    const [a, p] = key.split(':');
    a!.split('.').forEach((x, i) => (w[i] = (0x20010db8 + Number(x)) | 0));
    if (table.findForward(TCP, w, 0, Number(p), w, 1, 80, false) !== e) unreachable++;
    if (table.findReverse(TCP, AF_INET6, w, 2, 80, w, 0, Number(p)) !== e) unreachable++;
  }
  t.equal(unreachable, 0, 'every remaining entry is reachable through both indexes');
  t.equal(table.count, ref.size);
});

t.test('addresses that differ in one word, or fold to the same xor, are different keys', async (t) => {
  const table = new ConnTable6(16, 100, 1);
  // 0 and 1: same xor fold (words swapped); 2: differs from 0 in word 0 only; 3: the VIP; 4: server.
  const w = addrs('2001:db8:0:1::2', '0:1:2001:db8::2', '2001:db9:0:1::2', '2001:db8::80', '2001:db8::b9');
  t.equal(foldAddr6(w, 0), foldAddr6(w, 1), 'the fixture: slots 0 and 1 fold alike');
  const e0 = table.insert(TCP, w, 0, 5000, w, 3, 80, AF_INET6, w, 4, 80, w, 0, 5000, CF_IN_REVERSE);
  t.equal(table.findForward(TCP, w, 1, 5000, w, 3, 80, false), NONE, 'same fold, other address: no match');
  t.equal(table.findForward(TCP, w, 2, 5000, w, 3, 80, false), NONE, 'one word apart: no match');
  t.equal(table.findReverse(TCP, AF_INET6, w, 4, 80, w, 1, 5000), NONE, 'reverse: same fold, no match');
  const e1 = table.insert(TCP, w, 1, 5000, w, 3, 80, AF_INET6, w, 4, 80, w, 1, 5000, CF_IN_REVERSE);
  t.not(e1, e0);
  t.equal(table.findForward(TCP, w, 0, 5000, w, 3, 80, false), e0);
  t.equal(table.findForward(TCP, w, 1, 5000, w, 3, 80, false), e1);
  t.equal(table.findReverse(TCP, AF_INET6, w, 4, 80, w, 1, 5000), e1);
  t.equal(table.findForward(UDP, w, 0, 5000, w, 3, 80, false), NONE, 'the protocol is part of the key');
  t.same(Array.from(table.caddr.subarray(e1 * 4, e1 * 4 + 4)), Array.from(w.subarray(4, 8)), 'the entry holds a copy of the address words');
});

t.test('hard capacity: insert fails when full, frees make room', async (t) => {
  const table = new ConnTable6(3);
  const w = addrs('2001:db8::1', '2001:db8::2', '2001:db8::3', '2001:db8::4', '2001:db8::53', '2001:db8::5');
  const a = table.insert(UDP, w, 0, 1, w, 4, 53, AF_INET6, w, 5, 53, w, 0, 1, 0);
  table.insert(UDP, w, 1, 1, w, 4, 53, AF_INET6, w, 5, 53, w, 1, 1, 0);
  table.insert(UDP, w, 2, 1, w, 4, 53, AF_INET6, w, 5, 53, w, 2, 1, 0);
  t.equal(table.insert(UDP, w, 3, 1, w, 4, 53, AF_INET6, w, 5, 53, w, 3, 1, 0), NONE);
  table.remove(a);
  t.not(table.insert(UDP, w, 3, 1, w, 4, 53, AF_INET6, w, 5, 53, w, 3, 1, 0), NONE);
  t.equal(table.count, 3);
});

t.test('templates and connections with the same key are told apart; an invalidated template stops matching', async (t) => {
  const table = new ConnTable6(8);
  const w = addrs('2001:db8::5', '2001:db8::9', '2001:db8::7');
  const c = table.insert(TCP, w, 0, 0, w, 1, 80, AF_INET6, w, 2, 80, w, 0, 0, 0);
  const tm = table.insert(TCP, w, 0, 0, w, 1, 80, AF_INET6, w, 2, 80, w, 0, 0, CF_TEMPLATE);
  t.equal(table.findForward(TCP, w, 0, 0, w, 1, 80, false), c);
  t.equal(table.findForward(TCP, w, 0, 0, w, 1, 80, true), tm);
  table.rekeyForward(tm, 0, 0xffff);
  t.equal(table.findForward(TCP, w, 0, 0, w, 1, 80, true), NONE);
  t.equal(table.findForward(TCP, w, 0, 0, w, 1, 0xffff, true), tm);
});

t.test('an IPv4 tunnel server (daf AF_INET) is keyed apart from an IPv6 server with the same words', async (t) => {
  const table = new ConnTable6(8);
  // slot 2: 10.0.0.5 as daf AF_INET stores it (word 3); slot 3: ::a00:5, an IPv6 address with the same words.
  const w = addrs('2001:db8::c', '2001:db8::80', '::', '::a00:5');
  w[2 * 4 + 3] = 0x0a000005;
  const e = table.insert(TCP, w, 0, 4000, w, 1, 80, AF_INET, w, 2, 80, w, 0, 4000, CF_IN_REVERSE);
  t.equal(table.daf[e], AF_INET);
  t.equal(table.findReverse(TCP, AF_INET, w, 2, 80, w, 0, 4000), e);
  t.equal(table.findReverse(TCP, AF_INET6, w, 3, 80, w, 0, 4000), NONE, 'a reply from ::a00:5 is not the tunnel entry');
});

t.test('persistence key: the client masked to the service prefix (ipv6_addr_prefix)', async (t) => {
  const w = addrs('2001:db8:1:2:aaaa::1', '2001:db8:1:2:bbbb::2', '2001:db8:1:3::1', '::', '::', '::');
  const m64 = prefixToMask6(64), m128 = prefixToMask6(128);
  maskAddr6(w, 0, m64, w, 3);
  maskAddr6(w, 1, m64, w, 4);
  maskAddr6(w, 2, m64, w, 5);
  t.same(Array.from(w.subarray(12, 16)), Array.from(parseIPv6('2001:db8:1:2::')!), '/64 keeps the first 64 bits');
  t.same(Array.from(w.subarray(16, 20)), Array.from(w.subarray(12, 16)), 'two clients of one /64 share a template key');
  t.notSame(Array.from(w.subarray(20, 24)), Array.from(w.subarray(12, 16)), 'another /64 does not');
  maskAddr6(w, 0, m128, w, 3);
  t.same(Array.from(w.subarray(12, 16)), Array.from(w.subarray(0, 4)), '/128 (ipvsadm -6 default) is the address itself');
  const table = new ConnTable6(8);
  maskAddr6(w, 0, m64, w, 3);
  maskAddr6(w, 1, m64, w, 4);
  const v = addrs('2001:db8::80', '2001:db8::b9');
  const tm = table.insert(TCP, w, 3, 0, v, 0, 80, AF_INET6, v, 1, 80, w, 3, 0, CF_TEMPLATE);
  t.equal(table.findForward(TCP, w, 4, 0, v, 0, 80, true), tm, 'the second client finds the first one\'s template');
});

t.test('timer wheel: an IPv6 entry expires after its time, and remove cancels its timer', async (t) => {
  const table = new ConnTable6(4, 100);
  const w = addrs('2001:db8::1', '2001:db8::80', '2001:db8::b9', '2001:db8::2');
  const a = table.insert(TCP, w, 0, 1, w, 1, 80, AF_INET6, w, 2, 80, w, 0, 1, 0);
  const b = table.insert(TCP, w, 3, 1, w, 1, 80, AF_INET6, w, 2, 80, w, 3, 1, 0);
  table.timers.arm(a, 1000);
  table.timers.arm(b, 1000);
  table.remove(b);
  const fired: number[] = [];
  for (let now = 0; now <= 1200; now += 50) table.timers.advance(now, (e) => { fired.push(e); table.timers.cancel(e); });
  t.same(fired, [a], 'only the live entry fires');
});
