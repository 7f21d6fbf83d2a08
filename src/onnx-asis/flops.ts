/**
 * FLOPs of a graph run as it is, per image, in the xautodl convention of the IR count
 * (src/ir/analysis.ts countFlops): multiply-accumulates of Conv, Gemm and MatMul plus one add per
 * output element for a bias; element-wise ops, normalisation, pooling and shape ops count zero.
 * Shapes come from the scoring run itself (a Shape output per value needed). Ops that do
 * multiply-accumulates we do not model (ConvTranspose, Einsum, RNNs, ...) or ops we do not know
 * make the count unknown: the result then names them.
 */
import type { OnnxModel, OnnxNode } from '../onnx-import/model.js';

const ZERO_OPS = new Set(
  (
    'Relu LeakyRelu PRelu Elu Celu Selu Gelu HardSwish Mish Tanh Sigmoid HardSigmoid Softplus Softsign ThresholdedRelu Clip Erf ' +
    'Add Sub Mul Div Pow Sqrt Exp Log Neg Abs Reciprocal Max Min Sum Mean Floor Ceil Round Sign Mod ' +
    'BatchNormalization InstanceNormalization LayerNormalization GroupNormalization LpNormalization ' +
    'MaxPool AveragePool GlobalAveragePool GlobalMaxPool LpPool ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL2 ReduceSumSquare ' +
    'Softmax LogSoftmax Dropout Identity Flatten Reshape Transpose Squeeze Unsqueeze Concat Split Slice Gather GatherElements ' +
    'Shape Size Constant ConstantOfShape Cast CastLike Expand Pad Resize Upsample Tile Where Equal Less Greater LessOrEqual GreaterOrEqual ' +
    'Not And Or Range CumSum ArgMax ArgMin TopK DepthToSpace SpaceToDepth Trilu IsNaN IsInf'
  ).split(' '),
);

/** Values whose shapes the count needs (they become Shape outputs of the scoring run). */
export function flopShapeValues(m: OnnxModel): string[] {
  const out: string[] = [];
  for (const n of m.nodes) {
    if (n.opType === 'Conv') {
      out.push(n.outputs[0]!);
      if (!m.initializers.has(n.inputs[1]!)) out.push(n.inputs[1]!);
    } else if (n.opType === 'MatMul' || n.opType === 'Gemm') {
      out.push(n.outputs[0]!, n.inputs[0]!);
    }
  }
  return out;
}

export interface FlopCount {
  /** per image, or undefined when some op could not be counted */
  flops?: number;
  /** op type -> nodes that could not be counted */
  uncounted: Record<string, number>;
}

function isStandard(n: OnnxNode): boolean {
  return n.domain === '' || n.domain === 'ai.onnx';
}

/** Count FLOPs per image; `shape(value)` returns the run's shape of a value (batch of `batch`). */
export function countAsisFlops(m: OnnxModel, shape: (value: string) => number[] | undefined, batch: number): FlopCount {
  const uncounted: Record<string, number> = {};
  const miss = (n: OnnxNode) => {
    const k = isStandard(n) ? n.opType : `${n.domain}.${n.opType}`;
    uncounted[k] = (uncounted[k] ?? 0) + 1;
  };
  const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);
  let total = 0;
  for (const n of m.nodes) {
    if (!isStandard(n)) {
      miss(n);
      continue;
    }
    if (n.opType === 'Conv') {
      const out = shape(n.outputs[0]!);
      const wd = m.initializers.get(n.inputs[1]!)?.dims ?? shape(n.inputs[1]!);
      if (!out || !wd) {
        miss(n);
        continue;
      }
      const elems = prod(out);
      total += elems * prod(wd.slice(1)) + (n.inputs[2] ? elems : 0);
    } else if (n.opType === 'MatMul' || n.opType === 'Gemm') {
      const out = shape(n.outputs[0]!);
      const a = shape(n.inputs[0]!);
      if (!out || !a || a.length === 0) {
        miss(n);
        continue;
      }
      const transA = n.opType === 'Gemm' && n.attrs.get('transA')?.type === 'int' && (n.attrs.get('transA') as { i: number }).i === 1;
      const k = transA ? a[0]! : a[a.length - 1]!;
      const elems = prod(out);
      total += elems * k + (n.opType === 'Gemm' && n.inputs[2] ? elems : 0);
    } else if (!ZERO_OPS.has(n.opType)) miss(n);
  }
  return Object.keys(uncounted).length ? { uncounted } : { flops: total / batch, uncounted };
}
