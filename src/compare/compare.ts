/**
 * Kernel vs engine for one scenario: picks connection by connection, command exit
 * statuses, the four listings (normalised where the kernel's text depends on timing
 * or hash order), and the rewrite of the captured connections.
 */
import type { Scenario } from './scenario.js';
import type { ConnRecord, RewriteSample, SideResult } from './result.js';
import { maskExpiry, sortConnRows } from './result.js';
import { FIELD_ORDER } from './rewrite.js';
import { lineDiff } from './text-diff.js';

export interface PickRow {
  step: number;
  id: string;
  kind: ConnRecord['kind'];
  proto: string;
  client: string;
  vip: string;
  kernel: string | null;
  engine: string | null;
  kernelState: string | null;
  engineState: string | null;
  same: boolean;
}

export interface CommandRow {
  step: number;
  line: string;
  kernel: { status: number; stderr: string } | null;
  engine: { status: number; stderr: string } | null;
  same: boolean;
}

export type ListingKind = 'list' | 'stats' | 'stats-conns' | 'conns' | 'save';

export interface ListingRow {
  label: string;
  kind: ListingKind;
  /** ipvsadm arguments that produced it. */
  command: string;
  kernel: string;
  engine: string;
  same: boolean;
  /** Informational rows do not count as differences (see `why`). */
  informational: boolean;
  why: string;
  diff: string[];
}

export interface FieldRow {
  field: string;
  kernelBefore: string;
  kernelAfter: string;
  engineBefore: string;
  engineAfter: string;
  kernelChanged: boolean;
  engineChanged: boolean;
  /**
   * Only the frame after the director has it (the outer header of a tunnel): compared by
   * value, since both sides build it from the same inputs (addresses, TTL, DF, TOS).
   */
  added: boolean;
  same: boolean;
}

export interface RewriteRow {
  label: string;
  direction: RewriteSample['direction'];
  fields: FieldRow[];
  /** False when one side has no sample for this direction. */
  complete: boolean;
  same: boolean;
}

export interface Comparison {
  scenario: Scenario;
  kernel: SideResult | null;
  engine: SideResult;
  picks: PickRow[];
  commands: CommandRow[];
  listings: ListingRow[];
  rewrites: RewriteRow[];
  pickDiffs: number;
  commandDiffs: number;
  listingDiffs: number;
  rewriteDiffs: number;
}

const COMMANDS: Record<ListingKind, string> = {
  list: '-L -n', stats: '-L -n --stats', 'stats-conns': '-L -n --stats (Conns column)', conns: '-L -n -c', save: '-S -n',
};

/** The Conns column of `--stats` per service/server row: counted per connection, so exact on both sides. */
export function statsConns(text: string): string {
  const rows: string[] = [];
  for (const l of text.split('\n')) {
    const m = /^(TCP|UDP)\s+(\S+)\s+(\d+)/.exec(l) ?? /^\s+->\s+(\S+)\s+(\d+)/.exec(l);
    if (!m) continue;
    rows.push(m.length === 4 ? `${m[1]} ${m[2]} ${m[3]}` : `  -> ${m[1]} ${m[2]}`);
  }
  return rows.join('\n') + '\n';
}

function pickRows(k: SideResult | null, e: SideResult): PickRow[] {
  const byId = new Map((k?.conns ?? []).map((c) => [c.id, c]));
  return e.conns.map((c) => {
    const kc = byId.get(c.id);
    return {
      step: c.step, id: c.id, kind: c.kind, proto: c.proto, client: c.client, vip: c.vip,
      kernel: kc?.dest ?? null, engine: c.dest, kernelState: kc?.state ?? null, engineState: c.state,
      same: kc !== undefined && kc.dest === c.dest,
    };
  });
}

function commandRows(k: SideResult | null, e: SideResult): CommandRow[] {
  return e.commands.map((c) => {
    const kc = k?.commands.find((x) => x.step === c.step) ?? null;
    return {
      step: c.step, line: c.line,
      kernel: kc ? { status: kc.status, stderr: kc.stderr } : null,
      engine: { status: c.status, stderr: c.stderr },
      same: kc !== null && kc.status === c.status && kc.stderr === c.stderr,
    };
  });
}

function listingRows(k: SideResult | null, e: SideResult): ListingRow[] {
  const rows: ListingRow[] = [];
  for (const el of e.listings) {
    const kl = k?.listings.find((x) => x.label === el.label);
    const add = (kind: ListingKind, kt: string, et: string, informational: boolean, why: string): void => {
      const same = kl !== undefined && kt === et;
      rows.push({ label: el.label, kind, command: COMMANDS[kind], kernel: kt, engine: et, same, informational, why, diff: same ? [] : lineDiff(kt, et) });
    };
    add('list', kl?.list ?? '', el.list, false, '');
    add('stats-conns', statsConns(kl?.stats ?? ''), statsConns(el.stats), false, '');
    add('stats', kl?.stats ?? '', el.stats, true,
      'packet and byte counters depend on the real TCP stacks (options, delayed ACKs, retransmits); the engine replays a fixed minimal exchange');
    add('conns', sortConnRows(maskExpiry(kl?.conns ?? '')), sortConnRows(maskExpiry(el.conns)), false,
      'expiry column masked and rows sorted: they depend on wall-clock time and on the kernel hash order');
    add('save', kl?.save ?? '', el.save, false, '');
  }
  return rows;
}

function rewriteRows(k: SideResult | null, e: SideResult): RewriteRow[] {
  const keys = new Set([...(k?.rewrites ?? []), ...e.rewrites].map((r) => `${r.label}|${r.direction}`));
  return [...keys].map((key) => {
    const [label, direction] = key.split('|') as [string, RewriteSample['direction']];
    const ks = k?.rewrites.find((r) => r.label === label && r.direction === direction);
    const es = e.rewrites.find((r) => r.label === label && r.direction === direction);
    const has = (x: RewriteSample | undefined, f: string): boolean => x !== undefined && (f in x.before || f in x.after);
    const fields: FieldRow[] = FIELD_ORDER.filter((f) => has(ks, f) || has(es, f)).map((f) => {
      const added = !(ks !== undefined && f in ks.before) && !(es !== undefined && f in es.before);
      const kernelChanged = ks !== undefined && ks.before[f] !== ks.after[f];
      const engineChanged = es !== undefined && es.before[f] !== es.after[f];
      const kernelAfter = ks?.after[f] ?? '';
      const engineAfter = es?.after[f] ?? '';
      return {
        field: f,
        kernelBefore: ks?.before[f] ?? '', kernelAfter,
        engineBefore: es?.before[f] ?? '', engineAfter,
        kernelChanged, engineChanged, added,
        same: added ? kernelAfter === engineAfter && kernelAfter !== '' : kernelChanged === engineChanged,
      };
    });
    const complete = ks !== undefined && es !== undefined;
    return { label, direction, fields, complete, same: complete && fields.every((f) => f.same) };
  });
}

export function compareSides(scenario: Scenario, kernel: SideResult | null, engine: SideResult): Comparison {
  const picks = pickRows(kernel, engine);
  const commands = commandRows(kernel, engine);
  const listings = listingRows(kernel, engine);
  const rewrites = rewriteRows(kernel, engine);
  return {
    scenario, kernel, engine, picks, commands, listings, rewrites,
    pickDiffs: picks.filter((p) => !p.same).length,
    commandDiffs: commands.filter((c) => !c.same).length,
    listingDiffs: listings.filter((l) => !l.same && !l.informational).length,
    rewriteDiffs: rewrites.filter((r) => !r.same).length,
  };
}
