/**
 * MeCo (Jiang et al., NeurIPS 2023; HamsterMimi/MeCo, correlation/NAS_Bench_201.py):
 * a forward hook on every module; for each module output, take the first image's feature map
 * (C x H·W), the C x C Pearson correlation matrix of its channels (NaN and ±Inf entries set
 * to 0, as when a channel is constant), and its minimum eigenvalue; the score is the sum over
 * module outputs (NaN and ±Inf results dropped). One image, BatchNorm in training mode.
 */
import { symmetricEigenvalues } from './eigen.js';
import type { Rng } from '../util/rng.js';

/** Pearson correlation of the rows of x (rows x cols, row-major), NaN/Inf -> 0 as torch.corrcoef then MeCo do. */
export function channelCorrelation(x: ArrayLike<number>, rows: number, cols: number, offset = 0): Float64Array {
  const centred = new Float64Array(rows * cols);
  const norm = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += x[offset + r * cols + k]!;
    const mean = s / cols;
    let ss = 0;
    for (let k = 0; k < cols; k++) {
      const d = x[offset + r * cols + k]! - mean;
      centred[r * cols + k] = d;
      ss += d * d;
    }
    norm[r] = Math.sqrt(ss);
  }
  const c = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += centred[i * cols + k]! * centred[j * cols + k]!;
      let v = s / (norm[i]! * norm[j]!);
      if (!Number.isFinite(v)) v = 0;
      else v = Math.max(-1, Math.min(1, v)); // torch.corrcoef clips to [-1, 1]
      c[i * rows + j] = v;
      c[j * rows + i] = v;
    }
  }
  return c;
}

/** One module output: the minimum eigenvalue of its channel correlation matrix (image 0). */
export function mecoLayer(data: ArrayLike<number>, channels: number, spatial: number): number {
  const corr = channelCorrelation(data, channels, spatial);
  return symmetricEigenvalues(corr, channels)[0]!;
}

export interface MecoTensor {
  data: ArrayLike<number>;
  /** [C, H, W] or [F] (a vector gives C = F rows of one value: a zero matrix, eigenvalue 0) */
  shape: readonly number[];
  /** how many module outputs this tensor stands for */
  count: number;
}

export function mecoScore(tensors: readonly MecoTensor[]): number {
  let sum = 0;
  for (const t of tensors) {
    if (t.count <= 0) continue;
    const c = t.shape[0]!;
    const spatial = t.shape.length >= 3 ? t.shape[1]! * t.shape[2]! : 1;
    const v = mecoLayer(t.data, c, spatial);
    if (Number.isFinite(v)) sum += t.count * v;
  }
  return sum;
}

/** MeCo_opt's channel sample (`measure == 'meco_opt'` in the authors' NAS_Bench_201.py). */
export const MECO_OPT_CHANNELS = 8;

/**
 * MeCo_opt of one module output: the minimum eigenvalue of the correlation matrix of 8 channels
 * drawn at random without replacement (`random.sample(range(C), 8)`), times C / 8. A tensor with
 * fewer than 8 channels (where the authors' call would fail) uses all of them, times 1.
 */
export function mecoOptLayer(data: ArrayLike<number>, channels: number, spatial: number, rng: Rng): number {
  const k = Math.min(MECO_OPT_CHANNELS, channels);
  const picked = rng.sample(channels, k);
  const sub = new Float64Array(k * spatial);
  picked.forEach((c, i) => {
    for (let j = 0; j < spatial; j++) sub[i * spatial + j] = data[c * spatial + j]!;
  });
  return (symmetricEigenvalues(channelCorrelation(sub, k, spatial), k)[0]! * channels) / k;
}

/** MeCo_opt: mecoOptLayer summed over module outputs, a fresh channel sample per module. */
export function mecoOptScore(tensors: readonly MecoTensor[], rng: Rng): number {
  let sum = 0;
  for (const t of tensors) {
    const c = t.shape[0]!;
    const spatial = t.shape.length >= 3 ? t.shape[1]! * t.shape[2]! : 1;
    for (let i = 0; i < t.count; i++) {
      const v = mecoOptLayer(t.data, c, spatial, rng);
      if (Number.isFinite(v)) sum += v;
    }
  }
  return sum;
}
