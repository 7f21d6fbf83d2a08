/**
 * MeCo (Jiang et al., NeurIPS 2023; HamsterMimi/MeCo, correlation/NAS_Bench_201.py):
 * a forward hook on every module; for each module output, take the first image's feature map
 * (C x H·W), the C x C Pearson correlation matrix of its channels (NaN and ±Inf entries set
 * to 0, as when a channel is constant), and its minimum eigenvalue; the score is the sum over
 * module outputs (NaN and ±Inf results dropped). One image, BatchNorm in training mode.
 */
import { symmetricMinEigenvalue } from './eigen.js';
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
  const put = (i: number, j: number, s: number): void => {
    let v = s / (norm[i]! * norm[j]!);
    if (!Number.isFinite(v)) v = 0;
    else v = Math.max(-1, Math.min(1, v)); // torch.corrcoef clips to [-1, 1]
    c[i * rows + j] = v;
    c[j * rows + i] = v;
  };
  for (let i = 0; i < rows; i++) {
    const oi = i * cols;
    let j = i;
    // four pairs at a time (each pair's sum still runs over k in order: the same values)
    for (; j + 3 < rows; j += 4) {
      const o0 = j * cols;
      const o1 = o0 + cols;
      const o2 = o1 + cols;
      const o3 = o2 + cols;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < cols; k++) {
        const xi = centred[oi + k]!;
        s0 += xi * centred[o0 + k]!;
        s1 += xi * centred[o1 + k]!;
        s2 += xi * centred[o2 + k]!;
        s3 += xi * centred[o3 + k]!;
      }
      put(i, j, s0);
      put(i, j + 1, s1);
      put(i, j + 2, s2);
      put(i, j + 3, s3);
    }
    for (; j < rows; j++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += centred[oi + k]! * centred[j * cols + k]!;
      put(i, j, s);
    }
  }
  return c;
}

/** One module output: the minimum eigenvalue of its channel correlation matrix (image 0). */
export function mecoLayer(data: ArrayLike<number>, channels: number, spatial: number): number {
  const corr = channelCorrelation(data, channels, spatial);
  return symmetricMinEigenvalue(corr, channels);
}

export interface MecoTensor {
  data: ArrayLike<number>;
  /** [C, H, W] or [F] (a vector gives C = F rows of one value: a zero matrix, eigenvalue 0) */
  shape: readonly number[];
  /** how many module outputs this tensor stands for */
  count: number;
}

/**
 * The module outputs of one MeCo pass with their channel correlation matrices, each computed once
 * when first asked for: MeCo and MeCo_opt on the same pass share them (MeCo_opt's 8-channel matrix is
 * a sub-matrix of the full one, entry for entry the same arithmetic).
 */
export class MecoPass {
  private readonly corr: (Float64Array | undefined)[];

  constructor(readonly tensors: readonly MecoTensor[]) {
    this.corr = tensors.map(() => undefined);
  }

  /** channels and spatial size of tensor i */
  dims(i: number): { channels: number; spatial: number } {
    const t = this.tensors[i]!;
    return { channels: t.shape[0]!, spatial: t.shape.length >= 3 ? t.shape[1]! * t.shape[2]! : 1 };
  }

  correlation(i: number): Float64Array {
    let c = this.corr[i];
    if (!c) {
      const { channels, spatial } = this.dims(i);
      this.corr[i] = c = channelCorrelation(this.tensors[i]!.data, channels, spatial);
    }
    return c;
  }

  /** tensor i's matrix if it has been computed */
  cached(i: number): Float64Array | undefined {
    return this.corr[i];
  }
}

export function mecoScore(tensors: readonly MecoTensor[] | MecoPass): number {
  const pass = tensors instanceof MecoPass ? tensors : new MecoPass(tensors);
  let sum = 0;
  pass.tensors.forEach((t, i) => {
    if (t.count <= 0) return;
    const v = symmetricMinEigenvalue(pass.correlation(i), pass.dims(i).channels);
    if (Number.isFinite(v)) sum += t.count * v;
  });
  return sum;
}

/** MeCo_opt's channel sample (`measure == 'meco_opt'` in the authors' NAS_Bench_201.py). */
export const MECO_OPT_CHANNELS = 8;

/**
 * MeCo_opt of one module output: the minimum eigenvalue of the correlation matrix of 8 channels
 * drawn at random without replacement (`random.sample(range(C), 8)`), times C / 8. A tensor with
 * fewer than 8 channels (where the authors' call would fail) uses all of them, times 1.
 * `full`: the tensor's whole C x C correlation matrix when already computed (its sub-matrix is used).
 */
export function mecoOptLayer(data: ArrayLike<number>, channels: number, spatial: number, rng: Rng, full?: Float64Array): number {
  const k = Math.min(MECO_OPT_CHANNELS, channels);
  const picked = rng.sample(channels, k);
  let corr: Float64Array;
  if (full) {
    corr = new Float64Array(k * k);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) corr[a * k + b] = full[picked[a]! * channels + picked[b]!]!;
  } else {
    const sub = new Float64Array(k * spatial);
    picked.forEach((c, i) => {
      for (let j = 0; j < spatial; j++) sub[i * spatial + j] = data[c * spatial + j]!;
    });
    corr = channelCorrelation(sub, k, spatial);
  }
  return (symmetricMinEigenvalue(corr, k) * channels) / k;
}

/** MeCo_opt: mecoOptLayer summed over module outputs, a fresh channel sample per module. */
export function mecoOptScore(tensors: readonly MecoTensor[] | MecoPass, rng: Rng): number {
  const pass = tensors instanceof MecoPass ? tensors : new MecoPass(tensors);
  let sum = 0;
  pass.tensors.forEach((t, ti) => {
    const { channels, spatial } = pass.dims(ti);
    for (let i = 0; i < t.count; i++) {
      const v = mecoOptLayer(t.data, channels, spatial, rng, pass.cached(ti));
      if (Number.isFinite(v)) sum += v;
    }
  });
  return sum;
}
