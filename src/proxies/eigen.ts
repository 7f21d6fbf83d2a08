/**
 * Eigenvalues of a real symmetric matrix, float64: Householder reduction to tridiagonal form,
 * then the implicit QL algorithm with Wilkinson shifts (eigenvalues only). Used by MeCo
 * (correlation matrices) and AZ-NAS (covariances, singular values). Returned ascending.
 */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  if (a.length !== n * n) throw new RangeError(`eigenvalues: matrix has ${a.length} entries, expected ${n}x${n}`);
  if (n === 0) return new Float64Array(0);
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) m[i * n + j] = 0.5 * (a[i * n + j]! + a[j * n + i]!);
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalise(m, n, d, e);
  ql(d, e, n);
  return d.sort();
}

/**
 * The smallest eigenvalue of a real symmetric matrix, float64: the same Householder reduction, then
 * bisection on the Sturm sequence of the tridiagonal matrix down to a width of 2 eps ||T|| (the
 * accuracy of the QL route, which computes every eigenvalue). MeCo needs only this one.
 */
export function symmetricMinEigenvalue(a: ArrayLike<number>, n: number): number {
  if (a.length !== n * n) throw new RangeError(`eigenvalues: matrix has ${a.length} entries, expected ${n}x${n}`);
  if (n === 0) return NaN;
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) m[i * n + j] = 0.5 * (a[i * n + j]! + a[j * n + i]!);
  }
  if (n === 1) return m[0]!;
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalise(m, n, d, e);
  return tridiagonalMin(d, e, n);
}

/** Smallest eigenvalue of the tridiagonal (d, e), e[i] coupling i - 1 and i (e[0] unused). */
function tridiagonalMin(d: Float64Array, e: Float64Array, n: number): number {
  // Gershgorin interval
  let lo = Infinity;
  let hi = -Infinity;
  let pivmin = Number.MIN_VALUE;
  for (let i = 0; i < n; i++) {
    const r = (i > 0 ? Math.abs(e[i]!) : 0) + (i + 1 < n ? Math.abs(e[i + 1]!) : 0);
    lo = Math.min(lo, d[i]! - r);
    hi = Math.max(hi, d[i]! + r);
    if (i > 0) pivmin = Math.max(pivmin, e[i]! * e[i]!);
  }
  const norm = Math.max(Math.abs(lo), Math.abs(hi));
  pivmin *= Number.MIN_VALUE * 4;
  pivmin = Math.max(pivmin, Number.MIN_VALUE);
  const tol = 2 * Number.EPSILON * norm;
  lo -= tol;
  hi += tol;
  // below(x): how many eigenvalues are < x (Sturm count of the LDL^T pivots)
  const below = (x: number): number => {
    let count = 0;
    let q = d[0]! - x;
    if (Math.abs(q) < pivmin) q = -pivmin;
    if (q < 0) count++;
    for (let i = 1; i < n; i++) {
      q = d[i]! - x - (e[i]! * e[i]!) / q;
      if (Math.abs(q) < pivmin) q = -pivmin;
      if (q < 0) count++;
    }
    return count;
  };
  for (let iter = 0; iter < 200 && hi - lo > tol; iter++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (below(mid) >= 1) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}

/** Householder: m (destroyed) -> diagonal d and sub-diagonal e (e[0] = 0). */
function tridiagonalise(m: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(m[i * n + k]!);
      if (scale === 0) {
        e[i] = m[i * n + l]!;
      } else {
        for (let k = 0; k <= l; k++) {
          m[i * n + k]! /= scale;
          h += m[i * n + k]! * m[i * n + k]!;
        }
        let f = m[i * n + l]!;
        const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        m[i * n + l] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          let gg = 0;
          for (let k = 0; k <= j; k++) gg += m[j * n + k]! * m[i * n + k]!;
          for (let k = j + 1; k <= l; k++) gg += m[k * n + j]! * m[i * n + k]!;
          e[j] = gg / h;
          f += e[j]! * m[i * n + j]!;
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          const fj = m[i * n + j]!;
          const gj = e[j]! - hh * fj;
          e[j] = gj;
          for (let k = 0; k <= j; k++) m[j * n + k]! -= fj * e[k]! + gj * m[i * n + k]!;
        }
      }
    } else {
      e[i] = m[i * n + l]!;
    }
    d[i] = h;
  }
  e[0] = 0;
  for (let i = 0; i < n; i++) d[i] = m[i * n + i]!;
}

/** Implicit QL on the tridiagonal (d, e), eigenvalues into d. */
function ql(d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      let mm = l;
      for (; mm < n - 1; mm++) {
        const dd = Math.abs(d[mm]!) + Math.abs(d[mm + 1]!);
        if (Math.abs(e[mm]!) <= Number.EPSILON * dd) break;
      }
      if (mm === l) break;
      if (++iter > 60) throw new Error('eigenvalues: QL did not converge');
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[mm]! - d[l]! + e[l]! / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = mm - 1;
      let underflow = false;
      for (; i >= l; i--) {
        let f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1]! -= p;
          e[mm] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        f = 0;
      }
      if (underflow) continue;
      d[l]! -= p;
      e[l] = g;
      e[mm] = 0;
    }
  }
}
