/**
 * The search protocol (SPEC section 4) and correlation studies, independent of how scores
 * are computed: they take a `score(archs)` function (a ScoringSession) and an accuracy look-up.
 */
import type { ProxyName } from '../proxies/index.js';
import { type ArchSource, type Space, archList, sampleArchs } from '../spaces/types.js';
import { Rng } from '../util/rng.js';
import type { ArchScore } from './scorer.js';
import { type Correlations, correlations, meanStd, topKHitRate } from './stats.js';

export type ScoreFn = (archs: readonly string[]) => Promise<Map<string, ArchScore>>;
export type AccuracyFn = (arch: string) => number | undefined;

export interface TrialPick {
  trial: number;
  arch: string;
  score: number;
  accuracy?: number;
}

export interface SearchResult {
  samples: number;
  trials: number;
  /** per proxy: each trial's pick */
  picks: Record<string, TrialPick[]>;
  /** per proxy: mean and population std of the picked accuracies (when a benchmark is given) */
  summary: Record<string, { mean: number; std: number } | undefined>;
  /** wall time spent scoring, ms (benchmark look-ups and sampling excluded) */
  searchMs: number;
  uniqueArchs: number;
}

/** Trial t samples S archs with its own seeded stream: trials are independent and reproducible. */
export function trialSample(source: ArchSource, seed: string, trial: number, samples: number): string[] {
  return sampleArchs(source, Rng.derive(seed, 'search-trial', trial), samples);
}

/** The value a score ranks by: NaN (and a missing score) ranks last, with -Infinity. */
export function rankValue(v: number | undefined): number {
  return v === undefined || Number.isNaN(v) ? -Infinity : v;
}

/** The highest score wins; ties go to the earlier-sampled arch. -Infinity and NaN never beat a finite score. */
export function pickBest(archs: readonly string[], scores: Map<string, ArchScore>, proxy: ProxyName): { arch: string; score: number } {
  let best: { arch: string; score: number; rank: number } | undefined;
  for (const a of archs) {
    const s = scores.get(a)!.scores[proxy]!;
    if (!best || rankValue(s) > best.rank) best = { arch: a, score: s, rank: rankValue(s) };
  }
  return { arch: best!.arch, score: best!.score };
}

/** What every search strategy is given: the space, seeded trials, and how to score and look up accuracy. */
export interface SearchInput {
  space: Space;
  seed: string;
  /** networks scored per trial (random: sampled; evolution: budget) */
  samples: number;
  trials: number;
  proxies: ProxyName[];
  score: ScoreFn;
  accuracy?: AccuracyFn;
  /** time spent scoring so far, ms (random search reports scoring time only) */
  scoringMs: () => number;
  /** sample from these architectures only (a benchmark covering part of the space) */
  pool?: readonly string[];
}

export async function runSearch(o: SearchInput): Promise<SearchResult> {
  const source = o.pool ? archList(o.pool) : o.space;
  const trialArchs = Array.from({ length: o.trials }, (_, t) => trialSample(source, o.seed, t, o.samples));
  const before = o.scoringMs();
  const all = trialArchs.flat();
  const scores = await o.score(all);
  const searchMs = o.scoringMs() - before;
  const picks: SearchResult['picks'] = {};
  const summary: SearchResult['summary'] = {};
  for (const p of o.proxies) {
    picks[p] = trialArchs.map((archs, trial) => {
      const best = pickBest(archs, scores, p);
      const acc = o.accuracy?.(best.arch);
      return acc === undefined ? { trial, ...best } : { trial, ...best, accuracy: acc };
    });
    const accs = picks[p]!.map((x) => x.accuracy).filter((x): x is number => x !== undefined);
    summary[p] = accs.length === o.trials && accs.length > 0 ? meanStd(accs) : undefined;
  }
  return { samples: trialArchs[0]?.length ?? 0, trials: o.trials, picks, summary, searchMs, uniqueArchs: new Set(all).size };
}

export interface StudyRow {
  arch: string;
  accuracy: number;
  scores: Partial<Record<ProxyName, number>>;
}

export interface ProxyStudy {
  proxy: ProxyName;
  correlations: Correlations;
  /** top-k hit rate for k = 1%, 5%, 10% of the archs (rounded, at least 1); NaN ("n/a") where that share
   * of n is less than one network (top-1% below n = 100, top-5% below 20, top-10% below 10) */
  topK: { fraction: number; k: number; hitRate: number }[];
  /** -Infinity scores (singular kernels, ...) and NaN scores: they rank last */
  degenerate: number;
}

export function analyseStudy(rows: readonly StudyRow[], proxies: readonly ProxyName[]): ProxyStudy[] {
  const acc = rows.map((r) => r.accuracy);
  return proxies.map((p) => {
    const raw = rows.map((r) => r.scores[p]);
    const s = raw.map(rankValue);
    return {
      proxy: p,
      correlations: correlations(s, acc),
      topK: [0.01, 0.05, 0.1].map((fraction) => {
        const k = Math.max(1, Math.round(fraction * rows.length));
        return { fraction, k, hitRate: fraction * rows.length < 1 ? NaN : topKHitRate(s, acc, k) };
      }),
      degenerate: raw.filter((v) => v === undefined || v === -Infinity || Number.isNaN(v)).length,
    };
  });
}
