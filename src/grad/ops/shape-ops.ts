/**
 * Ops that move values without arithmetic weights: global average pool, nearest resize, spatial
 * slice (gathers), concat (channel stacking). Each forward has its backward beside it.
 */
import type { ResizeOp, SliceOp } from '../../ir/types.js';
import type { T } from './tensor.js';

export function gapForward(x: T, outShape: readonly number[]): T {
  const C = x.shape[0]!;
  const hw = x.data.length / x.b / C;
  const out = new Float64Array(x.b * C);
  for (let bc = 0; bc < x.b * C; bc++) {
    let s = 0;
    for (let k = 0; k < hw; k++) s += x.data[bc * hw + k]!;
    out[bc] = s / hw;
  }
  return { b: x.b, shape: outShape, data: out };
}

export function gapBackward(x: T, dy: T): T {
  const C = x.shape[0]!;
  const hw = x.data.length / x.b / C;
  const dx = new Float64Array(x.data.length);
  for (let bc = 0; bc < x.b * C; bc++) dx.fill(dy.data[bc]! / hw, bc * hw, (bc + 1) * hw);
  return { b: x.b, shape: x.shape, data: dx };
}

/** For each output position (oh, ow): the input row and column it reads. */
export function spatialMap(op: ResizeOp | SliceOp, inShape: readonly number[], outShape: readonly number[]): { rows: Int32Array; cols: Int32Array } {
  const H = inShape[1]!;
  const W = inShape[2]!;
  const OH = outShape[1]!;
  const OW = outShape[2]!;
  const rows = new Int32Array(OH);
  const cols = new Int32Array(OW);
  for (let oh = 0; oh < OH; oh++) rows[oh] = op.kind === 'slice' ? op.start[0] + oh * op.step[0] : Math.min(Math.floor((oh * H) / OH), H - 1);
  for (let ow = 0; ow < OW; ow++) cols[ow] = op.kind === 'slice' ? op.start[1] + ow * op.step[1] : Math.min(Math.floor((ow * W) / OW), W - 1);
  return { rows, cols };
}

export function gatherForward(op: ResizeOp | SliceOp, x: T, outShape: readonly number[]): T {
  const [C, H, W] = x.shape as [number, number, number];
  const { rows, cols } = spatialMap(op, x.shape, outShape);
  const OH = rows.length;
  const OW = cols.length;
  const out = new Float64Array(x.b * C * OH * OW);
  for (let bc = 0; bc < x.b * C; bc++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) out[bc * OH * OW + oh * OW + ow] = x.data[bc * H * W + rows[oh]! * W + cols[ow]!]!;
    }
  }
  return { b: x.b, shape: outShape, data: out };
}

export function gatherBackward(op: ResizeOp | SliceOp, x: T, dy: T): T {
  const [C, H, W] = x.shape as [number, number, number];
  const { rows, cols } = spatialMap(op, x.shape, dy.shape);
  const OH = rows.length;
  const OW = cols.length;
  const dx = new Float64Array(x.data.length);
  for (let bc = 0; bc < x.b * C; bc++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) dx[bc * H * W + rows[oh]! * W + cols[ow]!]! += dy.data[bc * OH * OW + oh * OW + ow]!;
    }
  }
  return { b: x.b, shape: x.shape, data: dx };
}

export function concatForward(ins: T[], outShape: readonly number[]): T {
  const b = ins[0]!.b;
  const p = outShape.reduce((a, d) => a * d, 1);
  const out = new Float64Array(b * p);
  for (let n = 0; n < b; n++) {
    let o = n * p;
    for (const t of ins) {
      const tp = t.data.length / b;
      out.set(t.data.subarray(n * tp, (n + 1) * tp), o);
      o += tp;
    }
  }
  return { b, shape: outShape, data: out };
}

/** The slice of dy that belongs to each concatenated input. */
export function concatBackward(ins: T[], dy: T): T[] {
  const b = dy.b;
  const p = dy.data.length / b;
  let off = 0;
  return ins.map((t) => {
    const tp = t.data.length / b;
    const d = new Float64Array(t.data.length);
    for (let n = 0; n < b; n++) d.set(dy.data.subarray(n * p + off, n * p + off + tp), n * tp);
    off += tp;
    return { b, shape: t.shape, data: d };
  });
}
