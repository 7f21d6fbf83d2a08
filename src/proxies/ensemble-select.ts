/**
 * Choosing the ensemble from evidence: every member set of a pool (sizes minSize..maxSize) under
 * every aggregation, ranked by Kendall's tau-b against ground truth on a selection sample; and
 * the statistics to check a choice on held-out archs (a percentile bootstrap of Kendall, and of
 * the paired difference between two rankers on the same archs).
 */
import { kendallTauB, spearman } from '../search/stats.js';
import { Rng } from '../util/rng.js';
import { type Aggregation, AGGREGATIONS, ensembleScores } from './ensemble.js';

export interface EnsembleResult {
  members: string[];
  aggregation: Aggregation;
  kendall: number;
  spearman: number;
}

export interface SearchOptions {
  minSize?: number;
  maxSize?: number;
  aggregations?: readonly Aggregation[];
}

/** NaN (a failed score) ranks with -Infinity at the bottom, as the ensemble ranks it. */
const clean = (v: readonly number[]): number[] => v.map((x) => (Number.isNaN(x) ? -Infinity : x));

/**
 * Every member set of `pool` (each column: one proxy's scores over the same archs as `acc`) of
 * size minSize..maxSize (default 2..4) under each aggregation, best Kendall first (ties: fewer
 * members first, then the pool order).
 */
export function searchEnsembles(pool: ReadonlyMap<string, readonly number[]>, acc: readonly number[], o: SearchOptions = {}): EnsembleResult[] {
  const minSize = o.minSize ?? 2;
  const maxSize = o.maxSize ?? 4;
  const aggs = o.aggregations ?? AGGREGATIONS;
  if (minSize < 1 || maxSize < minSize) throw new RangeError(`ensemble search: sizes ${minSize}..${maxSize}`);
  const names = [...pool.keys()];
  for (const n of names) if (pool.get(n)!.length !== acc.length) throw new RangeError(`ensemble search: ${n} has ${pool.get(n)!.length} scores for ${acc.length} archs`);
  const out: EnsembleResult[] = [];
  const rec = (start: number, set: string[]): void => {
    if (set.length >= minSize) {
      for (const aggregation of aggs) {
        const e = ensembleScores(set.map((p) => clean(pool.get(p)!)), aggregation);
        out.push({ members: [...set], aggregation, kendall: kendallTauB(e, acc), spearman: spearman(e, acc) });
      }
    }
    if (set.length === maxSize) return;
    for (let i = start; i < names.length; i++) rec(i + 1, [...set, names[i]!]);
  };
  rec(0, []);
  // stable sort: equal Kendall keeps enumeration order (smaller sets are enumerated before their supersets)
  return out.sort((a, b) => b.kendall - a.kendall || a.members.length - b.members.length);
}

/** Resampled index lists (with replacement) of n archs, seeded. */
function resamples(n: number, reps: number, seed: string): Int32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: reps }, () => Int32Array.from({ length: n }, () => Math.floor(rng.nextFloat24() * n)));
}

const pick = (v: readonly number[], idx: Int32Array): number[] => Array.from(idx, (i) => v[i]!);
const percentile = (s: number[], q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;

/** 95 % percentile-bootstrap interval of Kendall's tau of `scores` against `acc`. */
export function kendallInterval(scores: readonly number[], acc: readonly number[], reps = 400, seed = 'ensemble-bootstrap'): [number, number] {
  const s = clean(scores);
  const ks = resamples(s.length, reps, seed).map((idx) => kendallTauB(pick(s, idx), pick(acc, idx))).sort((a, b) => a - b);
  return [percentile(ks, 0.025), percentile(ks, 0.975)];
}

/**
 * Kendall(a) − Kendall(b) on the same archs, with a 95 % paired bootstrap interval (each resample
 * draws archs once and scores both rankers on them): whether a is better than b beyond sampling noise.
 */
export function pairedKendallDifference(
  a: readonly number[],
  b: readonly number[],
  acc: readonly number[],
  reps = 400,
  seed = 'ensemble-paired-bootstrap',
): { diff: number; lo: number; hi: number } {
  if (a.length !== acc.length || b.length !== acc.length) throw new RangeError('paired difference: rankers score different archs');
  const sa = clean(a);
  const sb = clean(b);
  const ds = resamples(acc.length, reps, seed)
    .map((idx) => {
      const y = pick(acc, idx);
      return kendallTauB(pick(sa, idx), y) - kendallTauB(pick(sb, idx), y);
    })
    .sort((x, y) => x - y);
  return { diff: kendallTauB(sa, acc) - kendallTauB(sb, acc), lo: percentile(ds, 0.025), hi: percentile(ds, 0.975) };
}

/**
 * The cost of a member set: the sum of its members' costs per network (each measured alone; members
 * that share a pass in one session cost less together, so this is an upper bound). Throws on a member
 * without a cost.
 */
export function setCost(members: readonly string[], costs: ReadonlyMap<string, number>): number {
  let s = 0;
  for (const m of members) {
    const c = costs.get(m);
    if (c === undefined || !(c >= 0)) throw new RangeError(`no cost for ${m} (give every pool member a cost)`);
    s += c;
  }
  return s;
}

/**
 * The cost / Kendall Pareto frontier of searched ensembles (and single proxies, given as one-member
 * results): ascending cost, each entry strictly better in Kendall than every cheaper one. Answers
 * "the best ranking a time budget buys".
 */
export function costFrontier<T extends { members: string[]; kendall: number }>(results: readonly T[], costs: ReadonlyMap<string, number>): (T & { cost: number })[] {
  const withCost = results.map((r) => ({ ...r, cost: setCost(r.members, costs) }));
  withCost.sort((a, b) => a.cost - b.cost || b.kendall - a.kendall || a.members.length - b.members.length);
  const out: (T & { cost: number })[] = [];
  for (const r of withCost) if (out.length === 0 || r.kendall > out[out.length - 1]!.kendall) out.push(r);
  return out;
}
