/** linear (y = x W^T + b) forward and backward in float64. */
import type { LinearOp } from '../../ir/types.js';
import type { T, Vec } from './tensor.js';

export function linearForward(op: LinearOp, x: T, outShape: readonly number[], w: Vec, bias?: Vec): T {
  const { inF, outF } = op;
  const out = new Float64Array(x.b * outF);
  for (let n = 0; n < x.b; n++) {
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias[o]! : 0;
      for (let i = 0; i < inF; i++) s += w[o * inF + i]! * x.data[n * inF + i]!;
      out[n * outF + o] = s;
    }
  }
  return { b: x.b, shape: outShape, data: out };
}

export function linearBackward(op: LinearOp, x: T, dy: T, w: Vec, wantInput: boolean): { dx?: T; dw: Float64Array; db?: Float64Array } {
  const { inF, outF } = op;
  const dw = new Float64Array(inF * outF);
  const dx = wantInput ? new Float64Array(x.data.length) : undefined;
  const db = op.bias ? new Float64Array(outF) : undefined;
  for (let n = 0; n < x.b; n++) {
    for (let o = 0; o < outF; o++) {
      const g = dy.data[n * outF + o]!;
      if (db) db[o]! += g;
      for (let i = 0; i < inF; i++) {
        dw[o * inF + i]! += g * x.data[n * inF + i]!;
        if (dx) dx[n * inF + i]! += g * w[o * inF + i]!;
      }
    }
  }
  return { ...(dx ? { dx: { b: x.b, shape: x.shape, data: dx } } : {}), dw, ...(db ? { db } : {}) };
}
