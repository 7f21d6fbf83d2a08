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

/** The proxies to score for a list that may hold `ensemble`: the list without it, plus its members. */
export function expandEnsemble<T extends string>(list: readonly T[], spec: EnsembleSpec | undefined): T[] {
  if (!list.includes('ensemble' as T)) return [...list];
  if (!spec || spec.members.length < 2) throw new RangeError('the ensemble needs at least two member proxies (--ensemble a,b)');
  if (spec.members.includes('ensemble')) throw new RangeError('the ensemble cannot contain itself');
  return [...new Set([...list.filter((p) => p !== 'ensemble'), ...(spec.members as T[])])];
}

/** Adds `scores.ensemble` to every network of `scored` (in place), ranked over all of them. */
export function applyEnsemble(scored: Map<string, ArchScore>, spec: EnsembleSpec): void {
  const archs = [...scored.keys()];
  if (archs.length === 0) return;
  const cols = spec.members.map((m) =>
    archs.map((a) => {
      const v = (scored.get(a)!.scores as Record<string, number | undefined>)[m];
      return v === undefined ? NaN : v;
    }),
  );
  const e = ensembleScores(cols, spec.aggregation);
  archs.forEach((a, i) => ((scored.get(a)!.scores as Record<string, number>).ensemble = e[i]!));
}
