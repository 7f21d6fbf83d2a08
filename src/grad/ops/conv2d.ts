/** conv2d (groups, stride, padding, dilation): forward and backward in float64. */
import type { Conv2dOp } from '../../ir/types.js';
import type { T, Vec } from './tensor.js';

interface Geo {
  op: Conv2dOp;
  C: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
}

function geo(op: Conv2dOp, x: T, outShape: readonly number[]): Geo {
  return { op, C: x.shape[0]!, H: x.shape[1]!, W: x.shape[2]!, OH: outShape[1]!, OW: outShape[2]! };
}

/**
 * Visit every (image, out channel, in channel, kh, kw) with the matching input and output rows:
 * the one loop nest forward and both backward products share.
 */
function each(
  g: Geo,
  b: number,
  fn: (oc: number, cin: number, wIdx: number, rowIn: number, rowOut: number, ow0: number, ow1: number, iw0: number) => void,
): void {
  const { inC, outC, kernel, stride, pad, dilation, groups } = g.op;
  const icg = inC / groups;
  const ocg = outC / groups;
  const inPer = inC * g.H * g.W;
  const outPer = outC * g.OH * g.OW;
  for (let n = 0; n < b; n++) {
    for (let oc = 0; oc < outC; oc++) {
      const grp = Math.floor(oc / ocg);
      const o0 = n * outPer + oc * g.OH * g.OW;
      for (let ic = 0; ic < icg; ic++) {
        const cin = grp * icg + ic;
        const i0 = n * inPer + cin * g.H * g.W;
        for (let kh = 0; kh < kernel[0]; kh++) {
          for (let kw = 0; kw < kernel[1]; kw++) {
            const wIdx = ((oc * icg + ic) * kernel[0] + kh) * kernel[1] + kw;
            // output columns whose input column lies inside the image
            const off = kw * dilation[1] - pad[1];
            let ow0 = 0;
            while (ow0 < g.OW && ow0 * stride[1] + off < 0) ow0++;
            let ow1 = g.OW;
            while (ow1 > ow0 && (ow1 - 1) * stride[1] + off >= g.W) ow1--;
            for (let oh = 0; oh < g.OH; oh++) {
              const ih = oh * stride[0] - pad[0] + kh * dilation[0];
              if (ih < 0 || ih >= g.H) continue;
              fn(oc, cin, wIdx, i0 + ih * g.W, o0 + oh * g.OW, ow0, ow1, off);
            }
          }
        }
      }
    }
  }
}

export function conv2dForward(op: Conv2dOp, x: T, outShape: readonly number[], w: Vec, bias?: Vec): T {
  const g = geo(op, x, outShape);
  const out = new Float64Array(x.b * op.outC * g.OH * g.OW);
  if (bias) {
    const hw = g.OH * g.OW;
    for (let n = 0; n < x.b; n++) for (let oc = 0; oc < op.outC; oc++) out.fill(bias[oc]!, (n * op.outC + oc) * hw, (n * op.outC + oc + 1) * hw);
  }
  const s = op.stride[1];
  const xd = x.data;
  each(g, x.b, (_oc, _cin, wIdx, rowIn, rowOut, ow0, ow1, off) => {
    const wv = w[wIdx]!;
    for (let ow = ow0; ow < ow1; ow++) out[rowOut + ow]! += wv * xd[rowIn + ow * s + off]!;
  });
  return { b: x.b, shape: outShape, data: out };
}

/** dL/dx, dL/dw and dL/dbias of a conv2d, given dL/dy. */
export function conv2dBackward(op: Conv2dOp, x: T, dy: T, w: Vec, wantInput: boolean): { dx?: T; dw: Float64Array; db?: Float64Array } {
  const g = geo(op, x, dy.shape);
  const dx = wantInput ? new Float64Array(x.data.length) : undefined;
  const dw = new Float64Array(w.length);
  const s = op.stride[1];
  const xd = x.data;
  const dyd = dy.data;
  each(g, x.b, (_oc, _cin, wIdx, rowIn, rowOut, ow0, ow1, off) => {
    const wv = w[wIdx]!;
    let acc = 0;
    for (let ow = ow0; ow < ow1; ow++) {
      const gy = dyd[rowOut + ow]!;
      const ix = rowIn + ow * s + off;
      acc += gy * xd[ix]!;
      if (dx) dx[ix]! += gy * wv;
    }
    dw[wIdx]! += acc;
  });
  let db: Float64Array | undefined;
  if (op.bias) {
    db = new Float64Array(op.outC);
    const hw = g.OH * g.OW;
    for (let n = 0; n < x.b; n++) {
      for (let oc = 0; oc < op.outC; oc++) {
        let a = 0;
        const o = (n * op.outC + oc) * hw;
        for (let k = 0; k < hw; k++) a += dyd[o + k]!;
        db[oc]! += a;
      }
    }
  }
  return { ...(dx ? { dx: { b: x.b, shape: x.shape, data: dx } } : {}), dw, ...(db ? { db } : {}) };
}
