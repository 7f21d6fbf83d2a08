/**
 * BatchNorm2d / BatchNorm1d in float64: training mode (statistics over the images given and the
 * spatial positions, biased variance) or inference mode with a fresh network's running statistics.
 */
import type { BatchNormOp } from '../../ir/types.js';
import type { T, Vec } from './tensor.js';

export interface BnSaved {
  /** normalised input, before the affine transform */
  xhat: Float64Array;
  /** 1 / sqrt(var + eps) per channel */
  inv: Float64Array;
  train: boolean;
}

export function batchnormForward(op: BatchNormOp, x: T, train: boolean, gamma?: Vec, beta?: Vec): { y: T; saved: BnSaved } {
  const C = x.shape[0]!;
  const hw = x.data.length / x.b / C;
  const perImg = C * hw;
  const cnt = x.b * hw;
  const xhat = new Float64Array(x.data.length);
  const y = new Float64Array(x.data.length);
  const inv = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let mean = 0;
    let iv = 1 / Math.sqrt(1 + op.eps);
    if (train) {
      let s = 0;
      for (let n = 0; n < x.b; n++) for (let k = 0, o = n * perImg + c * hw; k < hw; k++) s += x.data[o + k]!;
      mean = s / cnt;
      let v = 0;
      for (let n = 0; n < x.b; n++) {
        for (let k = 0, o = n * perImg + c * hw; k < hw; k++) {
          const d = x.data[o + k]! - mean;
          v += d * d;
        }
      }
      iv = 1 / Math.sqrt(v / cnt + op.eps);
    }
    inv[c] = iv;
    const ga = gamma ? gamma[c]! : 1;
    const be = beta ? beta[c]! : 0;
    for (let n = 0; n < x.b; n++) {
      for (let k = 0, o = n * perImg + c * hw; k < hw; k++) {
        const xh = (x.data[o + k]! - mean) * iv;
        xhat[o + k] = xh;
        y[o + k] = xh * ga + be;
      }
    }
  }
  return { y: { b: x.b, shape: x.shape, data: y }, saved: { xhat, inv, train } };
}

export function batchnormBackward(dy: T, s: BnSaved, gamma?: Vec): { dx: T; dgamma: Float64Array; dbeta: Float64Array } {
  const C = s.inv.length;
  const hw = dy.data.length / dy.b / C;
  const perImg = C * hw;
  const M = dy.b * hw;
  const dx = new Float64Array(dy.data.length);
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let sdy = 0;
    let sdyx = 0;
    for (let n = 0; n < dy.b; n++) {
      for (let k = 0, o = n * perImg + c * hw; k < hw; k++) {
        sdy += dy.data[o + k]!;
        sdyx += dy.data[o + k]! * s.xhat[o + k]!;
      }
    }
    dgamma[c] = sdyx;
    dbeta[c] = sdy;
    const ga = gamma ? gamma[c]! : 1;
    const k1 = ga * s.inv[c]!;
    for (let n = 0; n < dy.b; n++) {
      for (let k = 0, o = n * perImg + c * hw; k < hw; k++) {
        dx[o + k] = s.train ? k1 * (dy.data[o + k]! - sdy / M - s.xhat[o + k]! * (sdyx / M)) : k1 * dy.data[o + k]!;
      }
    }
  }
  return { dx: { b: dy.b, shape: dy.shape, data: dx }, dgamma, dbeta };
}
