/**
 * The side-by-side report: a Markdown page per scenario, an index page, and a short
 * table for the terminal. Differences are marked "✗" (Markdown) or "DIFF" (terminal).
 */
import type { Comparison, ListingRow, PickRow, RewriteRow } from './compare.js';

export interface RunInfo {
  kernelVersion: string;
  /** What produced the kernel side ("QEMU tcg, 412 s"), or why there is none. */
  kernelRun: string;
  date: string;
}

const mark = (same: boolean): string => (same ? '' : '✗');
const code = (s: string | null): string => (s === null ? '—' : `\`${s}\``);

function fence(text: string, lang = 'text'): string {
  return `\`\`\`${lang}\n${text.replace(/\n$/, '')}\n\`\`\`\n`;
}

function picksTable(rows: PickRow[]): string {
  if (rows.length === 0) return '_No client connections in this scenario._\n';
  let s = '| # | step | kind | client | kernel IPVS | tslb | state (kernel / tslb) | |\n|---|---|---|---|---|---|---|---|\n';
  rows.forEach((r, i) => {
    s += `| ${i + 1} | ${r.step} | ${r.kind} ${r.proto} | ${r.client} | ${code(r.kernel)} | ${code(r.engine)} | ${r.kernelState ?? '—'} / ${r.engineState ?? '—'} | ${mark(r.same)} |\n`;
  });
  return s;
}

function listingSection(l: ListingRow): string {
  const title = `#### \`ipvsadm ${l.command}\` (${l.label})`;
  const note = l.why ? `\n_${l.why}._\n` : '';
  if (l.same) return `${title} — identical\n${note}\n${fence(l.engine)}\n`;
  const tag = l.informational ? 'differs (informational)' : '✗ differs';
  return `${title} — ${tag}\n${note}\n\`-\` kernel only, \`+\` tslb only:\n\n${fence(l.diff.join('\n'), 'diff')}\n`;
}

function rewriteSection(r: RewriteRow): string {
  let s = `#### ${r.label}: ${r.direction.replace(/-/g, ' ')} ${r.complete ? (r.same ? '— same fields changed' : '— ✗ different fields changed') : '— ✗ one side has no sample'}\n\n`;
  s += '| field | kernel before | kernel after | tslb before | tslb after | changed (kernel / tslb) | |\n|---|---|---|---|---|---|---|\n';
  for (const f of r.fields) {
    const yn = (b: boolean): string => (b ? 'yes' : 'no');
    const changed = f.added ? (f.same ? 'added, same value' : 'added, values differ') : `${yn(f.kernelChanged)} / ${yn(f.engineChanged)}`;
    s += `| ${f.field} | ${f.kernelBefore} | ${f.kernelAfter} | ${f.engineBefore} | ${f.engineAfter} | ${changed} | ${mark(f.same)} |\n`;
  }
  if (r.fields.some((f) => f.added)) {
    s += '\n_outer.* is the IPIP header the director put in front (RFC 2003), compared by value; ip.* and l4.* are the encapsulated packet\'s._\n';
  }
  return `${s}\n`;
}

export function scenarioMarkdown(c: Comparison, info: RunInfo): string {
  const s = c.scenario;
  let md = `# ${s.name}: ${s.title}\n\n`;
  if (s.notes) md += `${s.notes}\n\n`;
  md += `Kernel: ${c.kernel ? c.kernel.version : `not run (${info.kernelRun})`} · tslb: ${c.engine.version} · ${info.date}\n\n`;
  md += `**Picks:** ${c.picks.length - c.pickDiffs}/${c.picks.length} identical · **commands:** ${c.commandDiffs === 0 ? 'same exit status' : `${c.commandDiffs} ✗`} · **listings:** ${c.listingDiffs === 0 ? 'identical' : `${c.listingDiffs} ✗`} · **rewrites:** ${c.rewrites.length === 0 ? 'none captured' : c.rewriteDiffs === 0 ? 'same fields' : `${c.rewriteDiffs} ✗`}\n\n`;
  md += '## Steps\n\n';
  md += s.steps.map((st, i) => `${i}. \`${JSON.stringify(st)}\``).join('\n') + '\n\n';
  md += '## Server chosen for each connection\n\n' + picksTable(c.picks) + '\n';
  const badCmds = c.commands.filter((x) => !x.same);
  if (badCmds.length > 0) {
    md += '## Commands that ended differently\n\n| step | ipvsadm | kernel | tslb |\n|---|---|---|---|\n';
    for (const x of badCmds) {
      const side = (o: { status: number; stderr: string } | null): string => (o ? `${o.status} ${o.stderr.trim().replace(/\n/g, ' ')}` : '—');
      md += `| ${x.step} | \`${x.line}\` | ${side(x.kernel)} | ${side(x.engine)} |\n`;
    }
    md += '\n';
  }
  md += '## Listings\n\n' + c.listings.map(listingSection).join('');
  if (c.rewrites.length > 0) md += '## Packet rewrite at the director\n\n' + c.rewrites.map(rewriteSection).join('');
  return md;
}

export function indexMarkdown(cs: Comparison[], info: RunInfo): string {
  let md = '# Kernel IPVS vs tslb, side by side\n\n';
  md += `Kernel: ${info.kernelVersion || 'not run'} (${info.kernelRun}) · ${info.date}\n\n`;
  md += 'Produced by `scripts/ipvs-vm compare` (see docs/compare.md). Each scenario page lists every pick, the listings of both sides (diffed) and, where captured, the header fields the director rewrote.\n\n';
  md += '| scenario | picks identical | commands | listings | rewrites |\n|---|---|---|---|---|\n';
  for (const c of cs) {
    const n = c.picks.length;
    md += `| [${c.scenario.name}](${c.scenario.name}.md) | ${n - c.pickDiffs}/${n} ${mark(c.pickDiffs === 0)} | ${c.commandDiffs === 0 ? 'same' : `${c.commandDiffs} ✗`} | ${c.listingDiffs === 0 ? 'identical' : `${c.listingDiffs} ✗`} | ${c.rewrites.length === 0 ? '—' : c.rewriteDiffs === 0 ? 'same fields' : `${c.rewriteDiffs} ✗`} |\n`;
  }
  const diffs = cs.flatMap((c) => c.picks.filter((p) => !p.same).map((p) => ({ c, p })));
  if (diffs.length > 0) {
    md += '\n## Pick differences\n\n| scenario | step | client | kernel | tslb |\n|---|---|---|---|---|\n';
    for (const { c, p } of diffs) md += `| ${c.scenario.name} | ${p.step} | ${p.client} | ${code(p.kernel)} | ${code(p.engine)} |\n`;
  }
  return md;
}

/** Plain text for the terminal: one line per scenario, then every pick difference. */
export function terminalSummary(cs: Comparison[], info: RunInfo): string {
  const w = Math.max(8, ...cs.map((c) => c.scenario.name.length));
  let out = `kernel: ${info.kernelVersion || 'not run'} (${info.kernelRun})\n`;
  if (cs.every((c) => c.kernel === null)) {
    out += `${'scenario'.padEnd(w)}  connections  rewrites  (engine side only)\n`;
    for (const c of cs) out += `${c.scenario.name.padEnd(w)}  ${String(c.engine.conns.length).padEnd(11)}  ${c.engine.rewrites.length}\n`;
    return out;
  }
  out += `${'scenario'.padEnd(w)}  picks      commands  listings  rewrites\n`;
  for (const c of cs) {
    const n = c.picks.length;
    const picks = `${n - c.pickDiffs}/${n}${c.pickDiffs ? ' DIFF' : ''}`;
    out += `${c.scenario.name.padEnd(w)}  ${picks.padEnd(9)}  ${(c.commandDiffs ? `${c.commandDiffs} DIFF` : 'same').padEnd(8)}  ${(c.listingDiffs ? `${c.listingDiffs} DIFF` : 'same').padEnd(8)}  ${c.rewrites.length === 0 ? '-' : c.rewriteDiffs ? `${c.rewriteDiffs} DIFF` : 'same'}\n`;
  }
  for (const c of cs) {
    for (const p of c.picks.filter((x) => !x.same)) {
      out += `DIFF ${c.scenario.name} step ${p.step} ${p.client}: kernel ${p.kernel ?? '-'}, tslb ${p.engine ?? '-'}\n`;
    }
    for (const l of c.listings.filter((x) => !x.same && !x.informational)) {
      out += `DIFF ${c.scenario.name} ipvsadm ${l.command} (${l.label})\n`;
    }
  }
  return out;
}
