/**
 * Rank statistics for correlation studies. Scores may be -Infinity (a singular kernel):
 * they rank below every finite score (ties among themselves). NaN is not accepted.
 */

function check(x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) throw new RangeError(`length mismatch ${x.length} vs ${y.length}`);
  if (x.some(Number.isNaN) || y.some(Number.isNaN)) throw new RangeError('NaN in correlation input');
}

/** Average ranks (1-based), ties get the mean of their positions; -Infinity sorts first (lowest). */
export function ranks(v: readonly number[]): Float64Array {
  const idx = v.map((_, i) => i).sort((a, b) => (v[a]! < v[b]! ? -1 : v[a]! > v[b]! ? 1 : 0));
  const r = new Float64Array(v.length);
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]!] === v[idx[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]!] = avg;
    i = j + 1;
  }
  return r;
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

export function spearman(x: readonly number[], y: readonly number[]): number {
  check(x, y);
  return pearson(ranks(x), ranks(y));
}

/** Sorts (bottom-up merge sort) and counts the swaps, i.e. pairs out of strict order. */
function mergeCountSwaps(a: Float64Array): { swaps: number; sorted: Float64Array } {
  const n = a.length;
  let buf: Float64Array = new Float64Array(n);
  let src: Float64Array = a;
  let swaps = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (src[j]! < src[i]!) {
          buf[k++] = src[j++]!;
          swaps += mid - i;
        } else {
          buf[k++] = src[i++]!;
        }
      }
      while (i < mid) buf[k++] = src[i++]!;
      while (j < hi) buf[k++] = src[j++]!;
    }
    const t = src;
    src = buf;
    buf = t;
  }
  return { swaps, sorted: src };
}

function tiePairs(sorted: ArrayLike<number>): number {
  let t = 0;
  let run = 1;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i] === sorted[i - 1]) run++;
    else {
      t += (run * (run - 1)) / 2;
      run = 1;
    }
  }
  return t;
}

/** Kendall tau-b (Knight's O(n log n) algorithm), handling ties in both variables. */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  check(x, y);
  const n = x.length;
  if (n < 2) return NaN;
  const cmp = (u: number, v: number): number => (u < v ? -1 : u > v ? 1 : 0);
  const idx = x.map((_, i) => i).sort((a, b) => cmp(x[a]!, x[b]!) || cmp(y[a]!, y[b]!));
  const xs = Float64Array.from(idx, (i) => x[i]!);
  const ys = Float64Array.from(idx, (i) => y[i]!);
  const n0 = (n * (n - 1)) / 2;
  const n1 = tiePairs(xs);
  // joint ties: runs equal in both x and y
  let n3 = 0;
  let run = 1;
  for (let i = 1; i <= n; i++) {
    if (i < n && xs[i] === xs[i - 1] && ys[i] === ys[i - 1]) run++;
    else {
      n3 += (run * (run - 1)) / 2;
      run = 1;
    }
  }
  // replace -Infinity by a finite stand-in for the merge (order-preserving)
  const yy = Float64Array.from(ys, (v) => (v === -Infinity ? -Number.MAX_VALUE : v === Infinity ? Number.MAX_VALUE : v));
  const { swaps, sorted } = mergeCountSwaps(yy);
  const n2 = tiePairs(sorted);
  const concordantMinusDiscordant = n0 - n1 - n2 + n3 - 2 * swaps;
  const denom = Math.sqrt((n0 - n1) * (n0 - n2));
  return denom === 0 ? NaN : concordantMinusDiscordant / denom;
}

export interface Correlations {
  n: number;
  kendall: number;
  spearman: number;
  /** over the finite scores only (n_finite of n) */
  pearson: number;
  nFinite: number;
}

export function correlations(scores: readonly number[], acc: readonly number[]): Correlations {
  const finite = scores.map((s, i) => [s, acc[i]!] as const).filter(([s]) => Number.isFinite(s));
  return {
    n: scores.length,
    kendall: kendallTauB(scores, acc),
    spearman: spearman(scores, acc),
    pearson: pearson(
      finite.map((p) => p[0]),
      finite.map((p) => p[1]),
    ),
    nFinite: finite.length,
  };
}

/**
 * Top-k hit rate: of the k architectures with the highest accuracy, the fraction that are also
 * among the k with the highest score (ties in score broken towards lower accuracy: pessimistic).
 */
export function topKHitRate(scores: readonly number[], acc: readonly number[], k: number): number {
  const n = scores.length;
  if (k <= 0 || n === 0) return NaN;
  k = Math.min(k, n);
  const byAcc = scores.map((_, i) => i).sort((a, b) => acc[b]! - acc[a]! || a - b);
  const byScore = scores.map((_, i) => i).sort((a, b) => (scores[b]! > scores[a]! ? 1 : scores[b]! < scores[a]! ? -1 : acc[a]! - acc[b]!));
  const top = new Set(byAcc.slice(0, k));
  let hit = 0;
  for (const i of byScore.slice(0, k)) if (top.has(i)) hit++;
  return hit / k;
}

export function meanStd(v: readonly number[]): { mean: number; std: number } {
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  // population std, as numpy.std (the reference reports np.std)
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { mean, std };
}
