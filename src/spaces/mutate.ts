/**
 * One-step mutations for evolutionary search (regularised evolution mutates one op, one input edge
 * or one width). Each returns an id different from its input, drawn from `rng`.
 */
import type { Rng } from '../util/rng.js';
import { SpaceError } from './types.js';

/** Replace position k of `values` (chosen uniformly) by a different choice from `choices`. */
export function mutateOne<T>(values: readonly T[], choices: readonly T[], rng: Rng): T[] {
  const out = [...values];
  const k = rng.nextInt(out.length);
  const others = choices.filter((c) => c !== out[k]);
  if (others.length === 0) throw new SpaceError('mutation: only one choice at this position');
  out[k] = others[rng.nextInt(others.length)]!;
  return out;
}

/**
 * For spaces whose valid ids are a subset of the one-position changes (TransNAS macro skeletons):
 * draw single-position changes until `valid` accepts one; falls back to trying every change in a
 * seeded order, and throws when the id has no valid neighbour.
 */
export function mutateValid<T>(values: readonly T[], choices: readonly T[], rng: Rng, valid: (v: T[]) => boolean): T[] {
  for (let i = 0; i < 32; i++) {
    const v = mutateOne(values, choices, rng);
    if (valid(v)) return v;
  }
  const all: T[][] = [];
  values.forEach((x, k) => {
    for (const c of choices) if (c !== x) all.push(values.map((y, j) => (j === k ? c : y)));
  });
  const order = rng.sample(all.length, all.length);
  for (const i of order) if (valid(all[i]!)) return all[i]!;
  throw new SpaceError('mutation: no valid neighbour');
}
