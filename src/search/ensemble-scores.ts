/**
 * The ensemble proxy in a scoring session: its members are scored (and cached) like any proxy,
 * then the ensemble value of each network is its rank aggregate over the networks scored together.
 */
import { type Aggregation, ensembleScores } from '../proxies/ensemble.js';
import type { ArchScore } from './scorer.js';

export interface EnsembleSpec {
  members: string[];
  aggregation: Aggregation;
}

/**
 * Proxies that rank a population with a fixed rule: `az-nas` is AZ-NAS's Σ log(rank/n) over
 * FLOPs (complexity), expressivity, progressivity and trainability (tss_general.ipynb).
 */
export const POPULATION_PROXIES: Readonly<Record<string, EnsembleSpec>> = {
  'az-nas': { members: ['flops', 'az-expressivity', 'az-progressivity', 'az-trainability'], aggregation: 'log-rank' },
};

/**
 * The proxies to score per network for a list that may hold `ensemble` or a population proxy
 * (`az-nas`): the list without them, plus their members (an ensemble member may be `az-nas`).
 */
export function expandEnsemble<T extends string>(list: readonly T[], spec: EnsembleSpec | undefined): T[] {
  let out = [...list];
  if (list.includes('ensemble' as T)) {
    if (!spec || spec.members.length < 2) throw new RangeError('the ensemble needs at least two member proxies (--ensemble a,b)');
    if (spec.members.includes('ensemble')) throw new RangeError('the ensemble cannot contain itself');
    out = [...out.filter((p) => p !== 'ensemble'), ...(spec.members as T[])];
  }
  for (const [name, pop] of Object.entries(POPULATION_PROXIES)) {
    if (out.includes(name as T)) out = [...out.filter((p) => p !== name), ...(pop.members as T[])];
  }
  return [...new Set(out)];
}

/**
 * Adds the population proxies of `list` (az-nas, then the ensemble, which may rank az-nas) to every
 * network of `scored`, in place.
 */
export function applyPopulation(scored: Map<string, ArchScore>, list: readonly string[], spec: EnsembleSpec | undefined): void {
  const wanted = new Set([...list, ...(list.includes('ensemble') && spec ? spec.members : [])]);
  for (const [name, pop] of Object.entries(POPULATION_PROXIES)) if (wanted.has(name)) applyEnsemble(scored, pop, name);
  if (list.includes('ensemble') && spec) applyEnsemble(scored, spec);
}

/** Adds `scores[name]` (default `ensemble`) to every network of `scored` (in place), ranked over all of them. */
export function applyEnsemble(scored: Map<string, ArchScore>, spec: EnsembleSpec, name = 'ensemble'): void {
  const archs = [...scored.keys()];
  if (archs.length === 0) return;
  const cols = spec.members.map((m) =>
    archs.map((a) => {
      const v = (scored.get(a)!.scores as Record<string, number | undefined>)[m];
      return v === undefined ? NaN : v;
    }),
  );
  const e = ensembleScores(cols, spec.aggregation);
  archs.forEach((a, i) => ((scored.get(a)!.scores as Record<string, number>)[name] = e[i]!));
}
