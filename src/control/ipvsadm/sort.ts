/**
 * The listing order of ipvsadm: libipvs's ipvs_cmp_services / ipvs_cmp_dests
 * fed to glibc qsort(), which is a top-down merge sort (msort.c) for these
 * sizes. The comparators subtract unsigned 32-bit values and read the result
 * as a signed int, so two addresses 2^31 or more apart compare "backwards"
 * (192.168.x.x sorts before 10.x.x.x) and the order is not even transitive;
 * reproducing the merge sort itself keeps the exact same output in that case.
 */
import type { DestSnapshot, ServiceSnapshot } from '../snapshot-types.js';
import { addressWords, familyOf } from './inet.js';

/** (int)(a - b) for unsigned 32-bit a and b. */
const wrappingDiff = (a: number, b: number): number => (a - b) | 0;

const AF_NUMBER = { inet: 2, inet6: 10 } as const;
const PROTO_NUMBER = { TCP: 6, UDP: 17, SCTP: 132 } as const;

function compareAddresses(a: string, b: string): number {
  const wa = addressWords(a);
  const wb = addressWords(b);
  let r = 0;
  for (let i = 0; r === 0 && i < wa.length; i++) r = wrappingDiff(wa[i] as number, wb[i] ?? 0);
  return r;
}

/** ipvs_cmp_services: fwmark, family, protocol, address, port. */
export function compareServices(a: ServiceSnapshot, b: ServiceSnapshot): number {
  let r = wrappingDiff(a.fwmark, b.fwmark);
  if (r !== 0) return r;
  r = AF_NUMBER[familyOf(a.addr)] - AF_NUMBER[familyOf(b.addr)];
  if (r !== 0) return r;
  r = PROTO_NUMBER[a.proto] - PROTO_NUMBER[b.proto];
  if (r !== 0) return r;
  r = compareAddresses(a.addr, b.addr);
  return r !== 0 ? r : a.port - b.port;
}

/** ipvs_cmp_dests: address, then port. */
export function compareDests(a: DestSnapshot, b: DestSnapshot): number {
  const r = compareAddresses(a.addr, b.addr);
  return r !== 0 ? r : a.port - b.port;
}

/**
 * glibc msort_with_tmp: split n into n/2 and n - n/2, sort both, merge taking
 * from the left run while cmp(left, right) <= 0. Returns a new array.
 */
export function glibcMergeSort<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  if (items.length <= 1) return [...items];
  const n1 = Math.floor(items.length / 2);
  const left = glibcMergeSort(items.slice(0, n1), cmp);
  const right = glibcMergeSort(items.slice(n1), cmp);
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    if (cmp(left[i] as T, right[j] as T) <= 0) out.push(left[i++] as T);
    else out.push(right[j++] as T);
  }
  while (i < left.length) out.push(left[i++] as T);
  while (j < right.length) out.push(right[j++] as T);
  return out;
}
