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
  const pairs = (n * (n - 1)) / 2;
  const acc = new Float64Array(pairs);
  for (const b of blocks) {
    const part = n === 3 ? blockDistances3(b.data, b.size) : blockDistancesN(b.data, b.size, n);
    for (let p = 0; p < pairs; p++) acc[p]! += b.count * part[p]!;
  }
  const d = new Float64Array(n * n);
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

/** pair distances of one block, pairs in (0,1), (0,2), ... order; NaN if a column is not finite */
function blockDistancesN(data: ArrayLike<number>, size: number, n: number): Float64Array {
  const part = new Float64Array((n * (n - 1)) / 2);
  const v = new Float64Array(n);
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
      if (!(mx === mn && Number.isFinite(mx))) part.fill(NaN);
      continue;
    }
    const inv = 1 / (mx - mn);
    if (!Number.isFinite(inv) || !Number.isFinite(mx - mn)) part.fill(NaN);
    let p = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const t = (v[i]! - v[j]!) * inv;
        part[p++]! += t * t;
      }
    }
  }
  return part;
}

/**
 * The N = 3 case (the reference batch size), unrolled and branch-free: a constant column has
 * zero differences, so dividing them by max(range, tiny) adds exactly 0.
 */
function blockDistances3(data: ArrayLike<number>, size: number): Float64Array {
  let d01 = 0;
  let d02 = 0;
  let d12 = 0;
  let finite = true;
  const o1 = size;
  const o2 = 2 * size;
  for (let k = 0; k < size; k++) {
    const a = data[k]!;
    const b = data[o1 + k]!;
    const c = data[o2 + k]!;
    const r = Math.max(a, b, c) - Math.min(a, b, c);
    const inv = 1 / Math.max(r, 1e-300);
    const x = (a - b) * inv;
    const y = (a - c) * inv;
    const z = (b - c) * inv;
    d01 += x * x;
    d02 += y * y;
    d12 += z * z;
  }
  // NaN or infinite features make a sum NaN (inf - inf, 0 * inf) or leave an infinite range
  if (!(Number.isFinite(d01) && Number.isFinite(d02) && Number.isFinite(d12))) finite = false;
  return finite ? new Float64Array([d01, d02, d12]) : new Float64Array([NaN, NaN, NaN]);
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
  return rbflexFromDistances(normalizedSquaredDistances(x, n), normalizedSquaredDistances(y, n), n, gammaK, gammaQ);
}

/** The score from the two n x n squared-distance matrices (host path or in-graph reduction). */
export function rbflexFromDistances(dk: Float64Array, dq: Float64Array, n: number, gammaK: number, gammaQ: number): RbflexParts {
  if (!(gammaK > 0) || !(gammaQ > 0)) {
    throw new RangeError(`RBFleX needs positive kernel widths, got gamma_k=${gammaK}, gamma_q=${gammaQ}`);
  }
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
