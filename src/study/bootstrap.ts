/**
 * Percentile bootstrap intervals for rank correlations: the architectures are resampled with
 * replacement (seeded), the statistic recomputed on each resample, and the 2.5 % / 97.5 % quantiles
 * reported. `pairedBootstrap` resamples the same architectures for two score columns, so the
 * interval of their difference accounts for the columns being measured on one sample.
 */
import { kendallTauB, spearman } from '../search/stats.js';
import { Rng } from '../util/rng.js';

export type RankStat = (x: readonly number[], y: readonly number[]) => number;
export const RANK_STATS: Record<'kendall' | 'spearman', RankStat> = { kendall: kendallTauB, spearman };

export interface Interval {
  lo: number;
  hi: number;
}

/** Linear-interpolation quantile of sorted finite values (NaN resamples dropped). */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const i = Math.floor(h);
  const j = Math.min(i + 1, sorted.length - 1);
  return sorted[i]! + (h - i) * (sorted[j]! - sorted[i]!);
}

function interval(values: number[], level: number): Interval {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const a = (1 - level) / 2;
  return { lo: quantile(v, a), hi: quantile(v, 1 - a) };
}

/** The resampled index lists (one per replicate), drawn from `seed`. */
export function resamples(n: number, reps: number, seed: string): Int32Array[] {
  const rng = new Rng(`bootstrap:${seed}`);
  const out: Int32Array[] = [];
  for (let r = 0; r < reps; r++) {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = rng.nextInt(n);
    out.push(idx);
  }
  return out;
}

const pick = (v: readonly number[], idx: Int32Array): number[] => Array.from(idx, (i) => v[i]!);

/** 95 % (or `level`) interval of stat(x, y) over the resamples. */
export function bootstrapInterval(x: readonly number[], y: readonly number[], stat: RankStat, idx: readonly Int32Array[], level = 0.95): Interval {
  return interval(
    idx.map((s) => stat(pick(x, s), pick(y, s))),
    level,
  );
}

/** Interval of stat(a, y) - stat(b, y) with both columns on the same resamples. */
export function pairedBootstrap(a: readonly number[], b: readonly number[], y: readonly number[], stat: RankStat, idx: readonly Int32Array[], level = 0.95): Interval {
  return interval(
    idx.map((s) => {
      const ys = pick(y, s);
      return stat(pick(a, s), ys) - stat(pick(b, s), ys);
    }),
    level,
  );
}
