/**
 * Rank aggregation over proxies (the ensemble). A proxy's value alone means nothing across
 * proxies, so each member's scores are ranked over the candidate set (1 = worst; NaN and
 * -Infinity tie at the bottom) and combined:
 * `log-rank`: sum of log(rank / n) over members (AZ-NAS's aggregation: a member that ranks an
 *   arch near the bottom pulls it down hard, one that ranks it near the top adds little);
 * `rank`: sum of rank / n (Borda count).
 * The ensemble's value of an arch therefore depends on the other candidates scored with it.
 */
import { ranks } from '../search/stats.js';

export const AGGREGATIONS = ['log-rank', 'rank'] as const;

/**
 * The default members and aggregation, chosen on NB201 CIFAR-10 only (evidence in docs/PROXIES.md,
 * "Wider candidate pool"): the best Kendall among every 2-4 member set of 15 proxies (forward,
 * own-pass and NASLib gradient proxies) under both aggregations on the first 212 archs of a seeded
 * sample, kept because it beat the previous default (meco, meco-opt, swap, zen) on the 145 held-out
 * archs after them (paired bootstrap interval above 0). jacov is NaN on degenerate cells, which the
 * log-rank sum pushes to the bottom.
 */
export const DEFAULT_ENSEMBLE = { members: ['meco', 'logsynflow', 'jacov'], aggregation: 'log-rank' } as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/** Each member's scores, one array per member, all over the same candidates in the same order. */
export function ensembleScores(members: readonly (readonly number[])[], aggregation: Aggregation): number[] {
  if (members.length === 0) throw new RangeError('ensemble: no members');
  const n = members[0]!.length;
  const out = new Array<number>(n).fill(0);
  for (const m of members) {
    if (m.length !== n) throw new RangeError(`ensemble: members score ${n} and ${m.length} candidates`);
    const r = ranks(m.map((v) => (Number.isNaN(v) ? -Infinity : v)));
    for (let i = 0; i < n; i++) out[i]! += aggregation === 'log-rank' ? Math.log(r[i]! / n) : r[i]! / n;
  }
  return out;
}
