/**
 * Hyperparameter Detection Algorithm (SPEC section 2): picks gamma_k / gamma_q from the raw
 * (un-normalised) features of M networks, each run once on the whole batch.
 * For every row pair i < j of a feature matrix V:
 *   m_i = mean(V_i), s_i = mean((V_i - m_i)^2), G_ij = (m_i - m_j)^2 / (2 (s_i + s_j)),
 * kept when s_i + s_j != 0; gamma = the minimum over all pairs of all networks.
 */
import type { ColumnBlock } from './rbflex.js';

export type HdaVariant = 'paper' | 'reference' | 'positive';
export const HDA_VARIANTS: readonly HdaVariant[] = ['paper', 'reference', 'positive'];
export const HDA_VARIANT_HELP: Record<HdaVariant, string> = {
  paper: 'drop pairs with s_i+s_j = 0 or (m_i-m_j)^2 = 0 (never 0) [paper]',
  reference: 'drop pairs with s_i+s_j = 0 only (HDA.py; can give 0)',
  positive: 'drop every G <= 0 (the later reference script)',
};

export class HdaError extends Error {
  override name = 'HdaError';
}

/** Neumaier-compensated sum accumulator. */
class Sum {
  s = 0;
  c = 0;
  add(x: number): void {
    const t = this.s + x;
    if (Math.abs(this.s) >= Math.abs(x)) this.c += this.s - t + x;
    else this.c += x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return this.s + this.c;
  }
}

/** Row means and population variances of the concatenated (multiplicity-weighted) feature vector. */
export function rowMoments(blocks: readonly ColumnBlock[], n: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(n);
  const variance = new Float64Array(n);
  let len = 0;
  for (const b of blocks) len += b.size * b.count;
  for (let i = 0; i < n; i++) {
    const s = new Sum();
    for (const b of blocks) {
      const part = new Sum();
      const o = i * b.size;
      for (let k = 0; k < b.size; k++) part.add(b.data[o + k]!);
      s.add(part.value * b.count);
    }
    const m = s.value / len;
    const v = new Sum();
    for (const b of blocks) {
      const part = new Sum();
      const o = i * b.size;
      for (let k = 0; k < b.size; k++) {
        const d = b.data[o + k]! - m;
        part.add(d * d);
      }
      v.add(part.value * b.count);
    }
    mean[i] = m;
    variance[i] = v.value / len;
  }
  return { mean, variance };
}

/** The candidate G_ij of one feature matrix under a variant. */
export function hdaCandidates(blocks: readonly ColumnBlock[], n: number, variant: HdaVariant): number[] {
  const { mean, variance } = rowMoments(blocks, n);
  const out: number[] = [];
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = variance[i]! + variance[j]!;
      const m2 = (mean[i]! - mean[j]!) ** 2;
      if (s === 0) continue;
      if (variant === 'paper' && m2 === 0) continue;
      const g = m2 / (2 * s);
      if (variant === 'positive' && !(g > 0)) continue;
      if (Number.isNaN(g)) continue;
      out.push(g);
    }
  }
  return out;
}

export interface HdaResult {
  gammaK: number;
  gammaQ: number;
  variant: HdaVariant;
  /** how many candidate pairs each minimum was taken over */
  pairsK: number;
  pairsQ: number;
}

/** gamma = min over the candidates of all networks; refuses a zero or missing gamma with a clear error. */
export function hdaFromCandidates(candK: number[], candQ: number[], variant: HdaVariant): HdaResult {
  const min = (a: number[]): number => a.reduce((m, v) => (v < m ? v : m), Infinity);
  const gammaK = min(candK);
  const gammaQ = min(candQ);
  for (const [name, g, c] of [
    ['gamma_k', gammaK, candK.length],
    ['gamma_q', gammaQ, candQ.length],
  ] as const) {
    if (c === 0) {
      throw new HdaError(
        `HDA found no usable image pair for ${name} (every pair had zero variance${variant === 'paper' ? ' or equal means' : ''}); use more or different images, or set the gammas by hand`,
      );
    }
    if (!(g > 0)) {
      throw new HdaError(
        `HDA gave ${name} = ${g} with variant "${variant}" (two images with equal feature means); a zero kernel width makes every score 0: use --hda-variant paper or positive, or set the gammas by hand`,
      );
    }
  }
  return { gammaK, gammaQ, variant, pairsK: candK.length, pairsQ: candQ.length };
}
