/**
 * In-graph tap reduction: instead of copying every tapped tensor out of onnxruntime, the graph
 * computes, per tapped tensor, the small per-pair quantities the reducible proxies need:
 *
 * - `distances`: sum over columns k of ((x_ik - x_jk) / (max_k - min_k))^2, the min-max normalised
 *   squared distance of SPEC section 1 (RBFleX), computed as sum_k d_k^2 / range_k^2; a constant
 *   column adds 0 (its differences are 0, divided by max(range^2, FLT_MIN)); a column whose range is
 *   below 1.1e-19 (range^2 under float32's normal range) adds less than its float64 share; a
 *   non-finite value makes its pairs NaN;
 * - `hamming`: the number of columns where (x_ik > 0) != (x_jk > 0) (NASWOT's binary codes; exact).
 *
 * Pairs are (0,1), (0,2), ..., (1,2), ... as in proxies/rbflex.ts. Per tensor the work is float32
 * and cache-sized (the differences x_i - x_j come from one MatMul with a +-1 pair matrix, which
 * rounds exactly like a float32 subtraction); the per-tensor sums are widened to float64 and summed
 * with their tap counts, so a model has one output per (kind, tap mode) whatever the network.
 * The host path (proxies/rbflex.ts, float64 throughout) stays the reference; bench/ and
 * test/reduce-agree.test.ts measure the gap.
 */
import type { TapMode } from '../../ir/types.js';
import type { NodeSpec } from './export.js';

export type ReduceKind = 'distances' | 'hamming';
export const REDUCE_KINDS: readonly ReduceKind[] = ['distances', 'hamming'];

/** What a reduced model computes: for each kind, the tap modes wanted. */
export type ReduceSpec = Partial<Record<ReduceKind, readonly TapMode[]>>;

export function pairsOf(n: number): { i: number[]; j: number[] } {
  const i: number[] = [];
  const j: number[] = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) (i.push(a), j.push(b));
  return { i, j };
}

/** Output name of the summed reduction of one (kind, mode). */
export function reducedOutput(kind: ReduceKind, mode: TapMode): string {
  return `r.${kind}.${mode}`;
}
/** Output name of the classifier input's distances. */
export const REDUCED_Y = 'r.distances.y';

export const DOUBLE = 11;
const FLOAT = 1;

/** Constants the reduction needs, made once per model by the exporter. */
export interface ReduceConsts {
  /** images per batch (fixed in a reduced model) */
  n: number;
  /** float [P, N]: row p is +1 at i, -1 at j of pair p */
  pairMatrix: string;
  /** int64 [1] = [0] and [1] (axes) */
  axis0: string;
  axis1: string;
  /** float scalars 0 and 1e-30 */
  fzero: string;
  tiny: string;
  /** float scalar FLT_MIN (smallest normal float32): the floor of a squared column range */
  tiny2: string;
  /** int64 shapes [-1, 1] (a column vector) and [-1] (flat) for Reshape */
  column: string;
  flat: string;
  /** double [P] zeros */
  zeros: string;
  /** a double scalar constant with this value */
  count(c: number): string;
}

/** The +-1 pair matrix [P, N], row-major. */
export function pairMatrix(n: number): number[] {
  const { i, j } = pairsOf(n);
  const m = new Array<number>(i.length * n).fill(0);
  i.forEach((a, p) => {
    m[p * n + a] = 1;
    m[p * n + j[p]!] = -1;
  });
  return m;
}

/**
 * Above this many columns (values per image) a tensor's squared normalised differences are summed
 * in float64: a float32 sum over a million columns (TransNAS at 512x512) drifts by about 1e-6
 * relative, which moved RBFleX scores by 5e-4; NB201's taps (at most 16,384 columns) stay float32.
 */
export const WIDE_COLUMNS = 65_536;

/** The smallest normal float32: squared column ranges are floored there (ranges below 1.1e-19). */
export const FLT_MIN = 1.1754943508222875e-38;

/**
 * Nodes computing the reduction of value `x` (shape [N, ...], float32, `columns` values per image)
 * into `out` (double [P]). `p` prefixes the intermediate names.
 */
export function reduceNodes(kind: ReduceKind, x: string, out: string, p: string, c: ReduceConsts, columns: number): NodeSpec[] {
  const nodes: NodeSpec[] = [{ op: 'Flatten', inputs: [x], outputs: [`${p}f`], attrs: [{ name: 'axis', i: 1 }] }];
  if (kind === 'distances' && columns > WIDE_COLUMNS) {
    // column min and max as element-wise Min/Max of the N rows (much faster than ReduceMin over axis 0)
    const rows = Array.from({ length: c.n }, (_, i) => `${p}row${i}`);
    nodes.push(
      { op: 'Split', inputs: [`${p}f`], outputs: rows, attrs: [{ name: 'axis', i: 0 }, { name: 'num_outputs', i: c.n }] },
      { op: 'Min', inputs: rows, outputs: [`${p}mn`] },
      { op: 'Max', inputs: rows, outputs: [`${p}mx`] },
      { op: 'Sub', inputs: [`${p}mx`, `${p}mn`], outputs: [`${p}r`] },
      { op: 'Max', inputs: [`${p}r`, c.tiny], outputs: [`${p}rt`] },
      { op: 'Reciprocal', inputs: [`${p}rt`], outputs: [`${p}inv`] },
      { op: 'MatMul', inputs: [c.pairMatrix, `${p}f`], outputs: [`${p}d`] },
      { op: 'Mul', inputs: [`${p}d`, `${p}inv`], outputs: [`${p}t`] },
      { op: 'Cast', inputs: [`${p}t`], outputs: [`${p}t64`], attrs: [{ name: 'to', i: DOUBLE }] },
      { op: 'ReduceSumSquare', inputs: [`${p}t64`, c.axis1], outputs: [out], attrs: [{ name: 'keepdims', i: 0 }] },
    );
    return nodes;
  }
  if (kind === 'distances') {
    // d = pair differences (one MatMul with the +-1 pair matrix, exact float32 subtractions);
    // the column range is the largest |x_i - x_j| over pairs, so range^2 = max over pairs of d^2
    // (element-wise Max of the P rows: exactly the square of max - min); the sum over columns of
    // d^2 / range^2 is one matrix-vector product. Half the memory passes of normalising first.
    const P = (c.n * (c.n - 1)) / 2;
    const rows = Array.from({ length: P }, (_, i) => `${p}sq${i}`);
    nodes.push(
      { op: 'MatMul', inputs: [c.pairMatrix, `${p}f`], outputs: [`${p}d`] },
      { op: 'Mul', inputs: [`${p}d`, `${p}d`], outputs: [`${p}sq`] },
      ...(P === 1
        ? [{ op: 'Identity', inputs: [`${p}sq`], outputs: [`${p}r2`] }]
        : [
            { op: 'Split', inputs: [`${p}sq`], outputs: rows, attrs: [{ name: 'axis', i: 0 }, { name: 'num_outputs', i: P }] },
            { op: 'Max', inputs: rows, outputs: [`${p}r2`] },
          ]),
      { op: 'Max', inputs: [`${p}r2`, c.tiny2], outputs: [`${p}r2t`] },
      { op: 'Reciprocal', inputs: [`${p}r2t`], outputs: [`${p}w`] },
      { op: 'Reshape', inputs: [`${p}w`, c.column], outputs: [`${p}wc`] },
      { op: 'MatMul', inputs: [`${p}sq`, `${p}wc`], outputs: [`${p}s1`] },
      { op: 'Reshape', inputs: [`${p}s1`, c.flat], outputs: [`${p}s`] },
    );
  } else {
    nodes.push(
      { op: 'Greater', inputs: [`${p}f`, c.fzero], outputs: [`${p}gt`] },
      { op: 'Cast', inputs: [`${p}gt`], outputs: [`${p}code`], attrs: [{ name: 'to', i: FLOAT }] },
      { op: 'MatMul', inputs: [c.pairMatrix, `${p}code`], outputs: [`${p}d`] },
      { op: 'ReduceL1', inputs: [`${p}d`, c.axis1], outputs: [`${p}s`], attrs: [{ name: 'keepdims', i: 0 }] },
    );
  }
  nodes.push({ op: 'Cast', inputs: [`${p}s`], outputs: [out], attrs: [{ name: 'to', i: DOUBLE }] });
  return nodes;
}
/** A weighted term of a reduction sum: `count` times the [P] vector `value`. */
export interface ReduceTerm {
  value: string;
  count: number;
}

/** Nodes summing count-weighted terms into `out` (double [P]); zeros when there are none. */
export function sumTerms(terms: readonly ReduceTerm[], out: string, p: string, c: ReduceConsts): NodeSpec[] {
  if (terms.length === 0) return [{ op: 'Identity', inputs: [c.zeros], outputs: [out] }];
  const nodes: NodeSpec[] = [];
  const parts = terms.map((t, k) => {
    if (t.count === 1) return t.value;
    const name = `${p}w${k}`;
    nodes.push({ op: 'Mul', inputs: [t.value, c.count(t.count)], outputs: [name] });
    return name;
  });
  nodes.push(parts.length === 1 ? { op: 'Identity', inputs: [parts[0]!], outputs: [out] } : { op: 'Sum', inputs: parts, outputs: [out] });
  return nodes;
}
