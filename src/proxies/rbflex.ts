/**
 * The RBFleX-NAS score (SPEC section 1): column-wise min-max normalisation of the stacked
 * features, two RBF kernels by direct squared differences, float64 log-determinants,
 * score = N * (log|det K| + log|det Q|).
 */
import { rbfLogDet } from './linalg.js';

/** A block of columns: `data[i * size + k]`, counted `count` times in the feature vector. */
export interface ColumnBlock {
  data: ArrayLike<number>;
  size: number;
  count: number;
}

/**
 * Squared Euclidean distances between the n rows after column-wise min-max normalisation
 * (x - min) / (max - min); a constant column becomes 0 and adds nothing. Float64 throughout.
 * Returns the symmetric n x n matrix, row-major.
 */
export function normalizedSquaredDistances(blocks: readonly ColumnBlock[], n: number): Float64Array {
  const d = new Float64Array(n * n);
  const pairs = (n * (n - 1)) / 2;
  const acc = new Float64Array(pairs);
  const v = new Float64Array(n);
  for (const b of blocks) {
    const part = new Float64Array(pairs);
    const { data, size } = b;
    for (let k = 0; k < size; k++) {
      let mn = Infinity;
      let mx = -Infinity;
      for (let i = 0; i < n; i++) {
        const x = data[i * size + k]!;
        v[i] = x;
        if (x < mn) mn = x;
        if (x > mx) mx = x;
      }
      if (!(mx > mn)) {
        if (Number.isNaN(mx) || Number.isNaN(mn) || !Number.isFinite(mx - mn)) part[0] = NaN;
        continue;
      }
      const inv = 1 / (mx - mn);
      let p = 0;
      for (let i = 0; i < n; i++) {
        const xi = (v[i]! - mn) * inv;
        for (let j = i + 1; j < n; j++) {
          const t = xi - (v[j]! - mn) * inv;
          part[p++]! += t * t;
        }
      }
    }
    for (let p = 0; p < pairs; p++) acc[p]! += b.count * part[p]!;
  }
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      d[i * n + j] = acc[p]!;
      d[j * n + i] = acc[p]!;
      p++;
    }
  }
  return d;
}

export interface RbflexParts {
  score: number;
  logdetK: number;
  logdetQ: number;
  /** why the score is -Infinity, if it is */
  degenerate?: string;
}

/** score = N (log|det K| + log|det Q|); -Infinity (never NaN) when a kernel is singular or features are not finite. */
export function rbflexScore(x: readonly ColumnBlock[], y: readonly ColumnBlock[], n: number, gammaK: number, gammaQ: number): RbflexParts {
  if (!(gammaK > 0) || !(gammaQ > 0)) {
    throw new RangeError(`RBFleX needs positive kernel widths, got gamma_k=${gammaK}, gamma_q=${gammaQ}`);
  }
  const dk = normalizedSquaredDistances(x, n);
  const dq = normalizedSquaredDistances(y, n);
  if (dk.some(Number.isNaN) || dq.some(Number.isNaN)) {
    return { score: -Infinity, logdetK: NaN, logdetQ: NaN, degenerate: 'non-finite features (the network overflowed)' };
  }
  const logdetK = rbfLogDet(dk, n, gammaK);
  const logdetQ = rbfLogDet(dq, n, gammaQ);
  const score = n * (logdetK + logdetQ);
  if (score === -Infinity) {
    const which = logdetK === -Infinity ? 'K' : 'Q';
    return { score, logdetK, logdetQ, degenerate: `kernel ${which} is singular (two images give identical ${which === 'K' ? 'activations' : 'classifier inputs'})` };
  }
  if (Number.isNaN(score)) return { score: -Infinity, logdetK, logdetQ, degenerate: 'non-finite kernel' };
  return { score, logdetK, logdetQ };
}
