import { Rng } from '../util/rng.js';
import { paramSpecs } from './analysis.js';
import type { Graph, ParamSpec } from './types.js';

/** uniforms drawn per bulk call */
const CHUNK = 4096;

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
    const init = p.init;
    if (init.kind === 'const') arr.fill(init.value);
    else if (init.kind === 'normal') boxMullerFill(rng, arr, init.std, init.zeroRow === undefined ? -1 : init.zeroRow, p.shape[p.shape.length - 1]!);
    // the values of (2 * rng.nextFloat24() - 1) * bound, drawn in bulk
    else rng.fillUniform(arr, init.bound);
    const entry = byNode.get(p.node);
    if (entry) entry[p.role] = arr;
    else byNode.set(p.node, { [p.role]: arr });
  }
  return { specs, byNode, seed };
}

/** Box-Muller, both values of each pair (32-bit uniforms: plenty for float32 weights), CHUNK uniforms per draw. */
function boxMullerFill(rng: Rng, arr: Float32Array, std: number, zeroRow: number, cols: number): void {
  const buf = new Uint32Array(CHUNK);
  for (let i = 0; i < arr.length; i += CHUNK) {
    const u = rng.fillU32(buf);
    const end = Math.min(arr.length, i + CHUNK);
    for (let j = i, k = 0; j < end; j += 2, k += 2) {
      const r = Math.sqrt(-2 * Math.log((u[k]! + 1) * 2.3283064365386963e-10)) * std;
      const t = 2 * Math.PI * u[k + 1]! * 2.3283064365386963e-10;
      arr[j] = r * Math.cos(t);
      if (j + 1 < end) arr[j + 1] = r * Math.sin(t);
    }
  }
  if (zeroRow >= 0) arr.fill(0, zeroRow * cols, (zeroRow + 1) * cols);
}
