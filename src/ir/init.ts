import { Rng } from '../util/rng.js';
import { paramSpecs } from './analysis.js';
import type { Graph, ParamSpec } from './types.js';

/** Initialised parameters of one network, float32 as in PyTorch, keyed by node id. */
export interface Weights {
  specs: ParamSpec[];
  /** per node: weight and optional bias */
  byNode: Map<number, { weight?: Float32Array; bias?: Float32Array }>;
  /** the seed string the weights came from */
  seed: string;
}

/**
 * PyTorch default initialisation, seeded: one stream per network, derived from `seed`
 * (typically `${userSeed}/${space}/${arch}`), drawn in node order. Same seed, same weights.
 */
export function initWeights(g: Graph, seed: string): Weights {
  const rng = new Rng(seed);
  const specs = paramSpecs(g);
  const byNode = new Map<number, { weight?: Float32Array; bias?: Float32Array }>();
  for (const p of specs) {
    const arr = new Float32Array(p.size);
    if (p.init.kind === 'const') {
      arr.fill(p.init.value);
    } else {
      const b = p.init.bound;
      for (let i = 0; i < arr.length; i++) arr[i] = (2 * rng.nextFloat24() - 1) * b;
    }
    const entry = byNode.get(p.node) ?? {};
    entry[p.role] = arr;
    byNode.set(p.node, entry);
  }
  return { specs, byNode, seed };
}
