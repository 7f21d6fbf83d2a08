/**
 * Proxies scored from in-graph reduced features (backends/onnx/reduce.ts): per-pair sums
 * instead of raw taps. Same formulas as the host path after the reduction.
 */
import { reducedKey, type ReducedFeatures } from '../backends/onnx/reduced.js';
import type { ReduceKind } from '../backends/onnx/reduce.js';
import { tappedNodes } from '../ir/analysis.js';
import type { Graph, TapMode } from '../ir/types.js';
import { logAbsDet } from './linalg.js';
import { type RbflexParts, rbflexFromDistances } from './rbflex.js';

/** The symmetric n x n matrix with `diag` on the diagonal and the pair vector off it. */
export function pairsToMatrix(v: ArrayLike<number>, n: number, diag = 0): Float64Array {
  const m = new Float64Array(n * n);
  let p = 0;
  for (let i = 0; i < n; i++) {
    m[i * n + i] = diag;
    for (let j = i + 1; j < n; j++) {
      m[i * n + j] = v[p]!;
      m[j * n + i] = v[p]!;
      p++;
    }
  }
  return m;
}

export function reducedSum(r: ReducedFeatures, kind: ReduceKind, mode: TapMode): Float64Array {
  const v = r.sums.get(reducedKey(kind, mode));
  if (!v) throw new Error(`reduced forward pass has no ${kind} for ${mode} taps`);
  return v;
}

export function rbflexReduced(r: ReducedFeatures, mode: TapMode, gammaK: number, gammaQ: number): RbflexParts {
  return rbflexFromDistances(pairsToMatrix(reducedSum(r, 'distances', mode), r.n), pairsToMatrix(r.y, r.n), r.n, gammaK, gammaQ);
}

/** NASWOT from Hamming distances: K_ij = N_A - hamming_ij, N_A = sum of count x size over the taps of `g`. */
export function naswotReduced(r: ReducedFeatures, g: Graph, mode: TapMode): number {
  const total = tappedNodes(g, mode).reduce((a, t) => a + t.count * t.size, 0);
  const h = reducedSum(r, 'hamming', mode);
  const k = pairsToMatrix(Array.from(h, (d) => total - d), r.n, total);
  const s = logAbsDet(k, r.n);
  return Number.isNaN(s) ? -Infinity : s;
}
