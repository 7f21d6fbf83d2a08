/**
 * jacov (Mellor et al. 2021, NASLib's variant `jacov.py`): J = d sum(logits) / d input, one row per
 * image of the batch (BatchNorm in training mode over the batch); C = corrcoef of the rows;
 * score = -sum over eigenvalues v of C of (log(v + 1e-5) + 1 / (v + 1e-5)). NaN when C is undefined
 * (an image with a constant Jacobian), as NASLib's try/except gives.
 */
import { symmetricEigenvalues } from './linalg-eig.js';
import type { GradNeed } from './needs.js';
import type { Proxy } from './index.js';

export const JACOV_NEED: GradNeed = {
  input: 'data',
  batch: 32,
  bn: 'batch',
  precision: 'float32',
  objective: 'sum',
  absWeights: false,
  wrt: { input: true },
};

/** np.corrcoef of the rows of an n x d matrix (float64); undefined when a row is constant. */
export function corrcoefRows(x: ArrayLike<number>, n: number, d: number): Float64Array | undefined {
  const c = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let k = 0; k < d; k++) m += x[i * d + k]!;
    m /= d;
    for (let k = 0; k < d; k++) c[i * d + k] = x[i * d + k]! - m;
  }
  const cov = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += c[i * d + k]! * c[j * d + k]!;
      cov[i * n + j] = s;
      cov[j * n + i] = s;
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const den = Math.sqrt(cov[i * n + i]! * cov[j * n + j]!);
      if (!(den > 0)) return undefined;
      // numpy clips to [-1, 1]
      out[i * n + j] = Math.max(-1, Math.min(1, cov[i * n + j]! / den));
    }
  }
  return out;
}

export function jacovScore(jac: ArrayLike<number>, n: number, d: number): number {
  const c = corrcoefRows(jac, n, d);
  if (!c) return NaN;
  const k = 1e-5;
  let s = 0;
  for (const v of symmetricEigenvalues(c, n)) s += Math.log(v + k) + 1 / (v + k);
  return -s;
}

export function jacovProxy(): Proxy {
  return {
    name: 'jacov',
    taps: [],
    grad: JACOV_NEED,
    key: () => 'jacov:v1:naslib',
    score: (ctx) => {
      const r = ctx.grad;
      if (!r?.input) throw new Error('jacov needs the input gradient');
      const n = r.logits.length / r.classes;
      const v = jacovScore(r.input, n, r.input.length / n);
      return Number.isNaN(v) ? { value: v, note: 'correlation undefined (an image with a constant Jacobian)' } : { value: v };
    },
  };
}
