/** max / average pooling, forward and backward in float64 (PyTorch semantics, first maximum wins). */
import type { PoolOp } from '../../ir/types.js';
import type { T } from './tensor.js';

/** Forward; for max pooling also the input index each output took (or the frozen choice `argmax`). */
export function poolForward(op: PoolOp, x: T, outShape: readonly number[], frozen?: Int32Array): { y: T; argmax?: Int32Array } {
  const [C, H, W] = x.shape as [number, number, number];
  const OH = outShape[1]!;
  const OW = outShape[2]!;
  const out = new Float64Array(x.b * C * OH * OW);
  const isMax = op.kind === 'maxpool';
  const argmax = isMax ? (frozen ?? new Int32Array(out.length)) : undefined;
  for (let bc = 0; bc < x.b * C; bc++) {
    const i0 = bc * H * W;
    const o0 = bc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const h0 = oh * op.stride[0] - op.pad[0];
        const w0 = ow * op.stride[1] - op.pad[1];
        if (isMax && frozen) {
          out[o0 + oh * OW + ow] = x.data[frozen[o0 + oh * OW + ow]!]!;
          continue;
        }
        let acc = isMax ? -Infinity : 0;
        let arg = -1;
        let count = 0;
        for (let kh = 0; kh < op.kernel[0]; kh++) {
          const ih = h0 + kh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < op.kernel[1]; kw++) {
            const iw = w0 + kw;
            if (iw < 0 || iw >= W) continue;
            const v = x.data[i0 + ih * W + iw]!;
            if (isMax) {
              if (v > acc || Number.isNaN(v) || arg < 0) {
                acc = v;
                arg = i0 + ih * W + iw;
              }
            } else acc += v;
            count++;
          }
        }
        if (!isMax) {
          const hEnd = Math.min(h0 + op.kernel[0], H + op.pad[0]);
          const wEnd = Math.min(w0 + op.kernel[1], W + op.pad[1]);
          acc /= op.countIncludePad ? (hEnd - h0) * (wEnd - w0) : count;
        } else argmax![o0 + oh * OW + ow] = arg;
        out[o0 + oh * OW + ow] = acc;
      }
    }
  }
  return { y: { b: x.b, shape: outShape, data: out }, ...(argmax ? { argmax } : {}) };
}

export function poolBackward(op: PoolOp, x: T, dy: T, argmax?: Int32Array): T {
  const [C, H, W] = x.shape as [number, number, number];
  const OH = dy.shape[1]!;
  const OW = dy.shape[2]!;
  const dx = new Float64Array(x.data.length);
  if (op.kind === 'maxpool') {
    for (let i = 0; i < dy.data.length; i++) dx[argmax![i]!]! += dy.data[i]!;
    return { b: x.b, shape: x.shape, data: dx };
  }
  for (let bc = 0; bc < x.b * C; bc++) {
    const i0 = bc * H * W;
    const o0 = bc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const h0 = oh * op.stride[0] - op.pad[0];
        const w0 = ow * op.stride[1] - op.pad[1];
        let count = 0;
        for (let kh = 0; kh < op.kernel[0]; kh++) {
          const ih = h0 + kh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < op.kernel[1]; kw++) if (w0 + kw >= 0 && w0 + kw < W) count++;
        }
        const hEnd = Math.min(h0 + op.kernel[0], H + op.pad[0]);
        const wEnd = Math.min(w0 + op.kernel[1], W + op.pad[1]);
        const g = dy.data[o0 + oh * OW + ow]! / (op.countIncludePad ? (hEnd - h0) * (wEnd - w0) : count);
        for (let kh = 0; kh < op.kernel[0]; kh++) {
          const ih = h0 + kh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < op.kernel[1]; kw++) {
            const iw = w0 + kw;
            if (iw >= 0 && iw < W) dx[i0 + ih * W + iw]! += g;
          }
        }
      }
    }
  }
  return { b: x.b, shape: x.shape, data: dx };
}
