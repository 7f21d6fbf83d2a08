/**
 * Regularised evolution (Real et al. 2019, "aging evolution") with a training-free proxy as fitness.
 *
 * One run per (proxy, trial), each from its own seeded stream: a population of P architectures is
 * drawn at random and scored; then, until the budget is spent, a tournament of S members drawn
 * without replacement from the population names the fittest as parent, the space mutates it (one op,
 * one input edge or one width), the child is scored and joins the population, and the oldest member
 * leaves. The budget counts distinct networks scored in the run: a child the run has already scored
 * joins the population again (aging still applies) without costing budget. The pick is the fittest
 * network scored in the run (ties to the earliest); -Infinity never beats a finite score.
 *
 * Runs for all proxies and trials go concurrently, so the worker pool stays busy although each run
 * is sequential; every run's choices depend only on its own stream and scores, not on timing.
 */
import type { ProxyName } from '../proxies/index.js';
import { type ArchSource, type Space, SpaceError, archList, sampleArchs } from '../spaces/types.js';
import { Rng } from '../util/rng.js';
import type { ScoreFn, SearchResult, TrialPick } from './protocol.js';
import type { StrategyInput } from './strategy.js';
import { meanStd } from './stats.js';

export interface EvolutionOptions {
  /** population size P (default 20) */
  population?: number;
  /** tournament size S (default 5) */
  tournament?: number;
}

export const EVOLUTION_DEFAULTS = { population: 20, tournament: 5 } as const;

interface Member {
  arch: string;
  fitness: number;
}

/** A child of `parent` inside the allowed pool (when the benchmark covers only part of the space). */
function childOf(space: Space, parent: string, rng: Rng, pool: Set<string> | undefined, poolSource: ArchSource | undefined): string {
  if (!space.mutate) throw new SpaceError(`${space.name}: this space has no mutation, so --strategy evolution cannot search it`);
  if (!pool) return space.mutate(parent, rng);
  for (let i = 0; i < 50; i++) {
    const c = space.parse(space.mutate(parent, rng));
    if (pool.has(c)) return c;
  }
  // no mutation lands in the pool: a random member of the pool instead
  return poolSource!.archAt(rng.nextInt(poolSource!.size));
}

async function evolveOnce(o: {
  space: Space;
  rng: Rng;
  budget: number;
  P: number;
  S: number;
  proxy: ProxyName;
  score: ScoreFn;
  pool?: Set<string>;
  poolSource?: ArchSource;
  onScored: () => void;
}): Promise<{ best: Member; scored: string[] }> {
  const seen = new Map<string, number>();
  const order: string[] = [];
  const evaluate = async (archs: string[]): Promise<Member[]> => {
    const fresh = [...new Set(archs.filter((a) => !seen.has(a)))];
    if (fresh.length) {
      const scores = await o.score(fresh);
      for (const a of fresh) {
        seen.set(a, scores.get(a)!.scores[o.proxy]!);
        order.push(a);
        o.onScored();
      }
    }
    return archs.map((a) => ({ arch: a, fitness: seen.get(a)! }));
  };
  const source = o.poolSource ?? o.space;
  const initial = sampleArchs(source, o.rng, Math.min(o.P, o.budget)).map((a) => o.space.parse(a));
  const population: Member[] = await evaluate(initial);
  let guard = 0;
  while (seen.size < o.budget && guard++ < 50 * o.budget + 1000) {
    const picks = o.rng.sample(population.length, Math.min(o.S, population.length));
    let parent = population[picks[0]!]!;
    for (const i of picks) if (population[i]!.fitness > parent.fitness) parent = population[i]!;
    const child = o.space.parse(childOf(o.space, parent.arch, o.rng, o.pool, o.poolSource));
    population.push(...(await evaluate([child])));
    if (population.length > o.P) population.shift();
  }
  let best: Member | undefined;
  for (const a of order) {
    const f = seen.get(a)!;
    if (!best || f > best.fitness) best = { arch: a, fitness: f };
  }
  return { best: best!, scored: order };
}

export async function runEvolution(o: Omit<StrategyInput, 'scoringMs'>): Promise<SearchResult> {
  const P = o.evolution?.population ?? EVOLUTION_DEFAULTS.population;
  const S = o.evolution?.tournament ?? EVOLUTION_DEFAULTS.tournament;
  if (!Number.isInteger(P) || P < 2) throw new SpaceError(`evolution: population must be at least 2, got ${P}`);
  if (!Number.isInteger(S) || S < 1 || S > P) throw new SpaceError(`evolution: tournament size must be in 1..population (${P}), got ${S}`);
  if (!o.space.mutate) throw new SpaceError(`${o.space.name}: this space has no mutation, so --strategy evolution cannot search it`);
  const poolSource = o.pool ? archList(o.pool) : undefined;
  const budget = Math.min(o.samples, poolSource?.size ?? o.space.size);
  const pool = o.pool ? new Set(o.pool) : undefined;
  const total = o.proxies.length * o.trials * budget;
  let done = 0;
  const t0 = performance.now();
  const runs = o.proxies.flatMap((proxy) =>
    Array.from({ length: o.trials }, (_, trial) =>
      evolveOnce({
        space: o.space,
        rng: Rng.derive(o.seed, 'evolution', proxy, trial),
        budget,
        P,
        S,
        proxy,
        score: o.score,
        ...(pool ? { pool, poolSource: poolSource! } : {}),
        onScored: () => o.onProgress?.(++done, total),
      }).then((r) => ({ proxy, trial, ...r })),
    ),
  );
  const results = await Promise.all(runs);
  const searchMs = performance.now() - t0;
  const picks: SearchResult['picks'] = {};
  const summary: SearchResult['summary'] = {};
  const all = new Set<string>();
  for (const p of o.proxies) {
    picks[p] = results
      .filter((r) => r.proxy === p)
      .sort((a, b) => a.trial - b.trial)
      .map((r): TrialPick => {
        for (const a of r.scored) all.add(a);
        const acc = o.accuracy?.(r.best.arch);
        return acc === undefined ? { trial: r.trial, arch: r.best.arch, score: r.best.fitness } : { trial: r.trial, arch: r.best.arch, score: r.best.fitness, accuracy: acc };
      });
    const accs = picks[p]!.map((x) => x.accuracy).filter((x): x is number => x !== undefined);
    summary[p] = accs.length === o.trials && accs.length > 0 ? meanStd(accs) : undefined;
  }
  return { samples: budget, trials: o.trials, picks, summary, searchMs, uniqueArchs: all.size };
}
