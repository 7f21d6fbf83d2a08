/**
 * AZ-NAS (Lee & Ham, CVPR 2024; cvlab-yonsei/AZ-NAS, NB201/ZeroShotProxy/compute_az_nas_score.py,
 * NB201/custom/tss_model.py `extract_cell_features`): scores from the feature maps after the stem
 * and after every cell, on one batch of N(0,1) inputs, BatchNorm over the batch, weights
 * kaiming-normal (fan-in). The four scores are ranked over the candidates and combined as
 * sum of log(rank / n) (see ensemble.ts); complexity is the FLOPs count.
 */
import { symmetricEigenvalues } from './eigen.js';

/** A feature map batch, NCHW. */
export interface FeatureMap {
  data: ArrayLike<number>;
  n: number;
  c: number;
  h: number;
  w: number;
}

/**
 * Expressivity of one feature map: the entropy of the normalised eigenvalue spectrum of the
 * channel covariance over all n·h·w positions (mean removed, divided by n·h·w).
 */
export function expressivityOf(f: FeatureMap): number {
  const rows = f.n * f.h * f.w;
  const hw = f.h * f.w;
  const mean = new Float64Array(f.c);
  for (let b = 0; b < f.n; b++) {
    for (let c = 0; c < f.c; c++) {
      const o = (b * f.c + c) * hw;
      let s = 0;
      for (let k = 0; k < hw; k++) s += f.data[o + k]!;
      mean[c]! += s;
    }
  }
  for (let c = 0; c < f.c; c++) mean[c]! /= rows;
  const cov = new Float64Array(f.c * f.c);
  const row = new Float64Array(f.c);
  for (let b = 0; b < f.n; b++) {
    for (let k = 0; k < hw; k++) {
      for (let c = 0; c < f.c; c++) row[c] = f.data[(b * f.c + c) * hw + k]! - mean[c]!;
      for (let i = 0; i < f.c; i++) {
        const ri = row[i]!;
        if (ri === 0) continue;
        for (let j = i; j < f.c; j++) cov[i * f.c + j]! += ri * row[j]!;
      }
    }
  }
  for (let i = 0; i < f.c; i++) {
    for (let j = i; j < f.c; j++) {
      cov[i * f.c + j]! /= rows;
      cov[j * f.c + i] = cov[i * f.c + j]!;
    }
  }
  const s = symmetricEigenvalues(cov, f.c);
  const total = s.reduce((a, v) => a + v, 0);
  let e = 0;
  for (const v of s) {
    const p = v / total;
    e += -p * Math.log(p + 1e-8);
  }
  return e;
}

/** Expressivity (sum over feature maps) and progressivity (smallest increase between consecutive maps). */
export function expressivityProgressivity(scores: readonly number[]): { expressivity: number; progressivity: number } {
  let expressivity = 0;
  for (const v of scores) expressivity += v;
  let progressivity = Infinity;
  for (let i = 1; i < scores.length; i++) progressivity = Math.min(progressivity, scores[i]! - scores[i - 1]!);
  const fix = (v: number): number => (Number.isNaN(v) ? -Infinity : v);
  return { expressivity: fix(expressivity), progressivity: fix(progressivity) };
}

/** PixelUnshuffle(s): (n, c, h, w) -> (n, c·s·s, h/s, w/s), channel c·s² + dy·s + dx. */
export function pixelUnshuffle(f: FeatureMap, s: number): FeatureMap {
  const oh = Math.floor(f.h / s);
  const ow = Math.floor(f.w / s);
  const oc = f.c * s * s;
  const out = new Float64Array(f.n * oc * oh * ow);
  for (let b = 0; b < f.n; b++) {
    for (let c = 0; c < f.c; c++) {
      for (let dy = 0; dy < s; dy++) {
        for (let dx = 0; dx < s; dx++) {
          const ch = c * s * s + dy * s + dx;
          for (let y = 0; y < oh; y++) {
            for (let x = 0; x < ow; x++) {
              out[((b * oc + ch) * oh + y) * ow + x] = f.data[((b * f.c + c) * f.h + y * s + dy) * f.w + x * s + dx]!;
            }
          }
        }
      }
    }
  }
  return { data: out, n: f.n, c: oc, h: oh, w: ow };
}

/**
 * Trainability term of one cell from the vector-Jacobian product g_in = J^T g_out (g_out Rademacher):
 * M = g_in^T g_out / (n·h·w) over positions (g_in pixel-unshuffled to g_out's size when the cell
 * downsamples); with s = the largest singular value of M, the term is -s - 1/(s + 1e-6) + 2
 * (largest, 0, at s = 1). A cell whose g_in equals g_out (an identity cell) gives -Infinity.
 */
export function trainabilityTerm(gIn: FeatureMap, gOut: FeatureMap): number {
  if (gIn.c === gOut.c && gIn.h === gOut.h && gIn.w === gOut.w) {
    let same = true;
    for (let i = 0; i < gOut.data.length && same; i++) same = gIn.data[i] === gOut.data[i];
    if (same) return -Infinity;
  }
  const a = gIn.h !== gOut.h || gIn.w !== gOut.w ? pixelUnshuffle(gIn, Math.floor(gIn.h / gOut.h)) : gIn;
  const hw = gOut.h * gOut.w;
  const ci = a.c;
  const co = gOut.c;
  const m = new Float64Array(ci * co);
  for (let b = 0; b < gOut.n; b++) {
    for (let i = 0; i < ci; i++) {
      const oi = (b * ci + i) * hw;
      for (let j = 0; j < co; j++) {
        const oj = (b * co + j) * hw;
        let s = 0;
        for (let k = 0; k < hw; k++) s += a.data[oi + k]! * gOut.data[oj + k]!;
        m[i * co + j]! += s;
      }
    }
  }
  const positions = gOut.n * hw;
  for (let i = 0; i < m.length; i++) m[i]! /= positions;
  // largest singular value: sqrt of the largest eigenvalue of the smaller Gram matrix
  const small = Math.min(ci, co);
  const gram = new Float64Array(small * small);
  for (let p = 0; p < small; p++) {
    for (let q = p; q < small; q++) {
      let s = 0;
      if (co <= ci) for (let i = 0; i < ci; i++) s += m[i * co + p]! * m[i * co + q]!;
      else for (let j = 0; j < co; j++) s += m[p * co + j]! * m[q * co + j]!;
      gram[p * small + q] = s;
      gram[q * small + p] = s;
    }
  }
  const ev = symmetricEigenvalues(gram, small);
  const smax = Math.sqrt(Math.max(0, ev[small - 1]!));
  return -smax - 1 / (smax + 1e-6) + 2;
}

/** The mean of the cells' trainability terms (NaN -> -Infinity, as the authors' `info` does). */
export function trainabilityOf(terms: readonly number[]): number {
  const m = terms.reduce((a, v) => a + v, 0) / terms.length;
  return Number.isNaN(m) ? -Infinity : m;
}
