/** A whole space (or a seeded sample of it) ranked by one proxy's score: no ground truth needed. */
import type { ProxyName } from '../proxies/index.js';
import { fmtNum } from './report.js';
import type { ArchScore } from './scorer.js';

export interface RankedArch {
  /** 1 = best by the ranking proxy */
  rank: number;
  arch: string;
  /** the architecture's index in the space's enumeration */
  index: number;
  scores: ArchScore['scores'];
}

/**
 * Sorted by `by` (higher is better; -Infinity and NaN last), ties by enumeration index, so the order is
 * the same on every run.
 */
export function rankArchs(archs: readonly string[], scores: Map<string, ArchScore>, by: ProxyName, indexOf: (a: string) => number): RankedArch[] {
  const key = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? -Infinity : v);
  const rows = archs.map((a) => ({ arch: a, index: indexOf(a), scores: scores.get(a)!.scores }));
  rows.sort((x, y) => {
    const a = key(x.scores[by]);
    const b = key(y.scores[by]);
    return a === b ? x.index - y.index : b > a ? 1 : -1;
  });
  return rows.map((r, i) => ({ rank: i + 1, ...r }));
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** rank,index,arch,<proxy>... with full-precision scores (-Infinity written as such). */
export function rankingCsv(rows: readonly RankedArch[], proxies: readonly ProxyName[]): string {
  const lines = [['rank', 'index', 'arch', ...proxies].join(',')];
  for (const r of rows) lines.push([String(r.rank), String(r.index), csvField(r.arch), ...proxies.map((p) => fmtNum(r.scores[p], 17))].join(','));
  return `${lines.join('\n')}\n`;
}
