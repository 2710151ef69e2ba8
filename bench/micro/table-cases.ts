/**
 * Connection table lookups with 1K, 100K and 1M live entries (a table of exactly that
 * capacity, full). Keys are random clients of one VIP:80, looked up in a shuffled order
 * so the big tables pay the cache misses a real mix of flows would.
 */
import { ConnTable, CF_IN_REVERSE, NONE } from '../../src/table/conn-table.js';
import { ConnTable6 } from '../../src/table/conn-table6.js';
import { AF_INET6 } from '../../src/lvs/af.js';
import type { MicroCase } from './engine-cases.js';

/** xorshift32: a tiny deterministic generator for keys and shuffles. */
function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const VIP = (10 << 24) | 127;

function filledTable(n: number, rnd: () => number): { table: ConnTable; caddr: Int32Array; cport: Uint16Array } {
  const table = new ConnTable(n, 100, 0x1234567);
  const caddr = new Int32Array(n);
  const cport = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    for (;;) {
      const a = rnd() | 0;
      const p = 1024 + (rnd() % 64512);
      if (table.findForward(6, a, p, VIP, 80, false) !== NONE) continue;
      caddr[i] = a;
      cport[i] = p;
      const rs = (10 << 24) | (1 + (i & 1));
      table.insert(6, a, p, VIP, 80, rs, 80, a, p, CF_IN_REVERSE);
      break;
    }
  }
  // Shuffle the lookup order (Fisher-Yates).
  for (let i = n - 1; i > 0; i--) {
    const j = rnd() % (i + 1);
    const a = caddr[i]!, p = cport[i]!;
    caddr[i] = caddr[j]!; cport[i] = cport[j]!;
    caddr[j] = a; cport[j] = p;
  }
  return { table, caddr, cport };
}

type Filled = ReturnType<typeof filledTable>;

function lookupCase(label: string, filled: Filled, miss: boolean): MicroCase {
  const { table, caddr, cport } = filled;
  const n = caddr.length;
  const st = new Int32Array(2); // [next key, wrong answers]
  const vport = miss ? 81 : 80; // same clients, a port with no entries
  return {
    group: 'table',
    name: `table lookup ${miss ? 'miss' : 'hit'}, ${label} live entries`,
    note: `ConnTable.findForward over ${n} entries (capacity ${n}), keys in shuffled order`,
    fn: () => {
      let i = st[0]!;
      const e = table.findForward(6, caddr[i]!, cport[i]!, VIP, vport, false);
      if ((e === NONE) !== miss) st[1]!++;
      if (++i === n) i = 0;
      st[0] = i;
    },
    check: () => (st[1] === 0 ? null : `${st[1]} lookups gave the wrong answer`),
  };
}

/**
 * The IPv6 table (conn-table6.ts) full with n random clients of one VIP: the client
 * addresses are n 4-word slots of one Int32Array, looked up in insertion order shifted by
 * a stride so consecutive lookups hit unrelated entries.
 */
function lookup6Case(n: number, rnd: () => number): MicroCase {
  const table = new ConnTable6(n, 100, 0x1234567);
  const clients = new Int32Array(n * 4);
  const cport = new Uint16Array(n);
  const vr = new Int32Array([0x20010db8, 0, 0, 0x7f, 0x20010db8, 1, 0, 0xb9]); // VIP, real server
  for (let i = 0; i < n; i++) {
    for (;;) {
      for (let k = 0; k < 4; k++) clients[i * 4 + k] = rnd() | 0;
      cport[i] = 1024 + (rnd() % 64512);
      if (table.findForward(6, clients, i, cport[i]!, vr, 0, 80, false) !== NONE) continue;
      table.insert(6, clients, i, cport[i]!, vr, 0, 80, AF_INET6, vr, 1, 80, clients, i, cport[i]!, CF_IN_REVERSE);
      break;
    }
  }
  const st = new Int32Array(2); // [next key, wrong answers]
  const stride = 7919; // prime: visits every entry, never two neighbours in a row
  return {
    group: 'table',
    name: `table lookup hit, IPv6, ${n / 1000}K live entries`,
    note: `ConnTable6.findForward over ${n} entries (4-word addresses), keys in strided order`,
    fn: () => {
      let i = st[0]!;
      if (table.findForward(6, clients, i, cport[i]!, vr, 0, 80, false) === NONE) st[1]!++;
      i += stride;
      if (i >= n) i -= n;
      st[0] = i;
    },
    check: () => (st[1] === 0 ? null : `${st[1]} lookups gave the wrong answer`),
  };
}

export function tableCases(): MicroCase[] {
  const rnd = xorshift(0x9e3779b9);
  const big = filledTable(1_000_000, rnd);
  return [
    lookupCase('1K', filledTable(1000, rnd), false),
    lookupCase('100K', filledTable(100_000, rnd), false),
    lookupCase('1M', big, false),
    lookupCase('1M', big, true),
    lookup6Case(100_000, rnd),
  ];
}
