/** Small dense float64 linear algebra for N x N kernels (N = batch size, a handful). */

/**
 * log|det A| by LU with partial pivoting, A row-major n x n (copied).
 * Returns -Infinity for a singular matrix (a zero pivot), never NaN for finite input.
 */
export function logAbsDet(a: Float64Array, n: number): number {
  const m = Float64Array.from(a);
  let logdet = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(m[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(m[i * n + k]!);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (best === 0 || !Number.isFinite(best)) return best === 0 ? -Infinity : NaN;
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = m[k * n + j]!;
        m[k * n + j] = m[p * n + j]!;
        m[p * n + j] = t;
      }
    }
    const piv = m[k * n + k]!;
    logdet += Math.log(Math.abs(piv));
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k]! / piv;
      if (f === 0) continue;
      for (let j = k; j < n; j++) m[i * n + j]! -= f * m[k * n + j]!;
    }
  }
  return logdet;
}

/**
 * log|det K| of an RBF kernel K_ij = exp(-gamma * D_ij) given the squared distances D.
 *
 * When gamma * D is tiny, K is within ~1e-7 of the all-ones matrix J and forming K loses
 * the digits that carry its determinant. So we work with E = K - J = expm1(-gamma D) (exact
 * to full relative precision) and replace rows 1..n-1 of K by (K_i - K_0) = (E_i - E_0):
 * a determinant-preserving row operation done without cancellation against J. The result
 * is factorised by partial-pivot LU.
 */
export function rbfLogDet(dist: Float64Array, n: number, gamma: number): number {
  const e = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) e[i] = Math.expm1(-gamma * dist[i]!);
  const m = new Float64Array(n * n);
  for (let j = 0; j < n; j++) m[j] = 1 + e[j]!;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < n; j++) m[i * n + j] = e[i * n + j]! - e[j]!;
  }
  return logAbsDet(m, n);
}
