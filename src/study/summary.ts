/**
 * A study's numbers per proxy over its seeds: each metric's per-seed values with their mean and
 * (population) std. report.md and summary.json are both written from this, so they agree.
 */
import type { ProxyName } from '../proxies/index.js';
import { meanStd } from '../search/stats.js';
import type { StudyResult } from './run.js';

/** per-seed values (seed order) and their mean and population std; NaN ("n/a") where any seed is n/a */
export interface SeedStat {
  perSeed: number[];
  mean: number;
  std: number;
}

export interface ProxySummary {
  proxy: ProxyName;
  kendall: SeedStat;
  spearman: SeedStat;
  /** over the finite scores only; nFinite per seed */
  pearson: SeedStat;
  nFinite: number[];
  /** k = share of n (rounded, at least 1); n/a where the share is below one network */
  topK: { fraction: number; k: number; hitRate: SeedStat }[];
  /** -Infinity / NaN scores per seed */
  degenerate: SeedStat;
  /** each seed's mean picked accuracy (mean over its trials) under the search protocol */
  picked: SeedStat;
  /** Kendall tau of the architectures' mean rank over the seeds (equals kendall with one seed) */
  meanRankKendall: number;
}

export function seedStat(perSeed: readonly number[]): SeedStat {
  if (perSeed.length === 0 || perSeed.some((v) => !Number.isFinite(v))) return { perSeed: [...perSeed], mean: NaN, std: NaN };
  return { perSeed: [...perSeed], ...meanStd(perSeed) };
}

export function proxySummaries(r: StudyResult): ProxySummary[] {
  return r.proxies.map((p) => {
    const studies = r.repeats.map((x) => x.studies.find((s) => s.proxy === p)!);
    const first = studies[0]!;
    return {
      proxy: p,
      kendall: seedStat(studies.map((s) => s.correlations.kendall)),
      spearman: seedStat(studies.map((s) => s.correlations.spearman)),
      pearson: seedStat(studies.map((s) => s.correlations.pearson)),
      nFinite: studies.map((s) => s.correlations.nFinite),
      topK: first.topK.map((t, i) => ({ fraction: t.fraction, k: t.k, hitRate: seedStat(studies.map((s) => s.topK[i]!.hitRate)) })),
      degenerate: seedStat(studies.map((s) => s.degenerate)),
      picked: seedStat(r.repeats.map((x) => x.picked.find((q) => q.proxy === p)!.mean)),
      meanRankKendall: r.spread.find((s) => s.proxy === p)!.meanRank.kendall,
    };
  });
}

/** JSON with numbers as numbers: NaN (n/a) becomes null, +-Infinity the strings "Infinity" / "-Infinity". */
export function jsonNumbers(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? (Number.isNaN(x) ? null : x > 0 ? 'Infinity' : '-Infinity') : x)));
}

/** the summary object (summary.json, and what `rbflex study --json` prints) */
export function studySummary(r: StudyResult): unknown {
  const first = r.repeats[0]!;
  return jsonNumbers({
    rbflex: r.run.rbflex,
    ...(r.run.command !== undefined ? { command: r.run.command } : {}),
    date: r.run.date,
    machine: r.run.machine,
    space: r.space,
    ...(r.dataset !== undefined ? { dataset: r.dataset } : {}),
    benchmark: { name: r.benchmark.name, file: r.benchmark.source, format: r.benchmark.format },
    metric: r.metric,
    metricLabel: r.metricLabel,
    n: r.archs.length,
    all: r.all,
    seeds: r.repeats.map((x) => x.seed),
    taps: setupValue(r, 'taps'),
    backend: setupValue(r, 'backend'),
    networks: r.networks,
    picked: { trials: first.picked[0]?.trials ?? 0, samples: first.picked[0]?.samples ?? 0 },
    proxies: proxySummaries(r),
    perSeed: r.repeats.map((x) => ({
      seed: x.seed,
      images: x.images,
      ...(x.gammas ? { gammas: x.gammas } : {}),
      networks: { computedNow: x.scored, computedInPart: x.partial, fromCache: x.cached, computeSeconds: x.computeSeconds + x.cachedComputeSeconds, computeSecondsNow: x.computeSeconds, wallSecondsNow: x.seconds },
      proxies: x.studies.map((s) => ({ ...s, picked: x.picked.find((q) => q.proxy === s.proxy)! })),
    })),
  });
}

function setupValue(r: StudyResult, key: string): string | undefined {
  return r.setup.find(([k]) => k === key)?.[1];
}
