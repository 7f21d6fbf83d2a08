/**
 * IR -> one ONNX graph that runs the forward pass, the objective and the backward pass (float32).
 * Each op's backward rule is written as ONNX ops: conv input gradients as ConvTranspose, conv weight
 * gradients as a Conv of the transposed input with the transposed output gradient, pools as
 * ConvTranspose / ScatterElements, resize and slice as selection matrices, BatchNorm as its reduction
 * formula. Parameters are graph inputs, so one session serves several weight settings (GraSP).
 */
import { numel } from '../../ir/analysis.js';
import type { Graph, Node } from '../../ir/types.js';
import { spatialMap } from '../ops/shape-ops.js';
import { type GradBnMode, GradUnsupportedError } from '../types.js';
import { OnnxGraph } from './model.js';

export interface EmitOptions {
  n: number;
  bn: GradBnMode;
  objective: 'cross-entropy' | 'sum';
  wrt: { weights?: boolean; input?: boolean; outputProducts?: boolean };
  /** ReLU masks are graph inputs `mask<id>` (the pattern of another run), not computed */
  frozen?: boolean;
  /** expose each ReLU mask as output `mask<id>` */
  emitMasks?: boolean;
}

export interface EmittedGrad {
  bytes: Uint8Array;
  /** graph input name of each parameter tensor */
  params: { node: number; role: 'weight' | 'bias'; name: string; dims: number[] }[];
  /** ReLU nodes whose masks are inputs (frozen) or outputs (emitMasks) */
  masks: { node: number; name: string }[];
  /** output names */
  weightGrads: Map<number, { weight?: string; bias?: string }>;
  inputGrad?: string;
  products: Map<number, string>;
}

const DIMS = (n: number, shape: readonly number[]): number[] => [n, ...shape];

/** Throws GradUnsupportedError when this emitter cannot differentiate the graph. */
export function emitGradGraph(g: Graph, o: EmitOptions): EmittedGrad {
  const G = new OnnxGraph();
  const N = o.n;
  const vals: string[] = new Array(g.nodes.length);
  const saved = new Map<number, Record<string, string>>();
  const params: EmittedGrad['params'] = [];
  const masks: EmittedGrad['masks'] = [];
  const paramInput = (n: Node, role: 'weight' | 'bias', dims: number[]): string => {
    const name = G.input(`p${n.id}.${role}`, dims);
    params.push({ node: n.id, role, name, dims });
    return name;
  };
  const unsupported = (n: Node, what: string): never => {
    throw new GradUnsupportedError(`${g.label}: the onnx gradient path has no ${what} (${n.name}); the reference backend runs it`);
  };

  // ---- forward ----
  for (const n of g.nodes) {
    const op = n.op;
    const x = vals[n.inputs[0] ?? -1]!;
    switch (op.kind) {
      case 'input':
        vals[n.id] = G.input('input', DIMS(N, n.shape));
        break;
      case 'conv2d': {
        if (op.groups !== 1) unsupported(n, 'grouped convolution');
        const w = paramInput(n, 'weight', [op.outC, op.inC / op.groups, op.kernel[0], op.kernel[1]]);
        const b = op.bias ? paramInput(n, 'bias', [op.outC]) : undefined;
        vals[n.id] = G.op('Conv', b ? [x, w, b] : [x, w], convAttrs(op.kernel, op.stride, op.pad, op.dilation, 1));
        saved.set(n.id, { w });
        break;
      }
      case 'linear': {
        const w = paramInput(n, 'weight', [op.outF, op.inF]);
        const b = op.bias ? paramInput(n, 'bias', [op.outF]) : undefined;
        vals[n.id] = G.op('Gemm', b ? [x, w, b] : [x, w], [{ name: 'transB', i: 1 }]);
        saved.set(n.id, { w });
        break;
      }
      case 'batchnorm': {
        if (o.bn === 'off') {
          vals[n.id] = x;
          break;
        }
        const four = n.shape.length === 3;
        const bshape = four ? [1, op.channels, 1, 1] : [1, op.channels];
        const gamma = op.affine ? paramInput(n, 'weight', bshape) : undefined;
        const beta = op.affine ? paramInput(n, 'bias', bshape) : undefined;
        if (o.bn === 'eval') {
          let y = G.op('Mul', [x, G.scalar(1 / Math.sqrt(1 + op.eps))]);
          saved.set(n.id, { ...(gamma ? { gamma } : {}) });
          if (gamma) y = G.op('Add', [G.op('Mul', [y, gamma]), beta!]);
          vals[n.id] = y;
          break;
        }
        if (o.bn === 'per-image' && !four) unsupported(n, 'per-image BatchNorm1d');
        const axes = G.i64(o.bn === 'per-image' ? [2, 3] : four ? [0, 2, 3] : [0]);
        const mean = G.op('ReduceMean', [x, axes], [{ name: 'keepdims', i: 1 }]);
        const d = G.op('Sub', [x, mean]);
        const v = G.op('ReduceMean', [G.op('Mul', [d, d]), axes], [{ name: 'keepdims', i: 1 }]);
        const inv = G.op('Reciprocal', [G.op('Sqrt', [G.op('Add', [v, G.scalar(op.eps)])])]);
        const xhat = G.op('Mul', [d, inv]);
        vals[n.id] = gamma ? G.op('Add', [G.op('Mul', [xhat, gamma]), beta!]) : xhat;
        saved.set(n.id, { xhat, inv, axes, ...(gamma ? { gamma } : {}) });
        break;
      }
      case 'activation': {
        if (op.fn !== 'relu') unsupported(n, `${op.fn} backward`);
        let m: string;
        if (o.frozen) {
          m = G.input(`mask${n.id}`, DIMS(N, n.shape));
          masks.push({ node: n.id, name: m });
          vals[n.id] = G.op('Mul', [x, m]);
        } else {
          m = G.op('Cast', [G.op('Greater', [x, G.scalar(0)])], [{ name: 'to', i: 1 }]);
          vals[n.id] = G.op('Relu', [x]);
          if (o.emitMasks) {
            G.output(m, `mask${n.id}`, DIMS(N, n.shape));
            masks.push({ node: n.id, name: `mask${n.id}` });
          }
        }
        saved.set(n.id, { m });
        break;
      }
      case 'avgpool':
      case 'maxpool': {
        const attrs = [
          { name: 'kernel_shape', ints: op.kernel },
          { name: 'strides', ints: op.stride },
          { name: 'pads', ints: [op.pad[0], op.pad[1], op.pad[0], op.pad[1]] },
        ];
        if (op.kind === 'avgpool') {
          vals[n.id] = G.op('AveragePool', [x], [...attrs, { name: 'count_include_pad', i: op.countIncludePad ? 1 : 0 }]);
        } else {
          if (o.frozen) unsupported(n, 'frozen max-pool choice');
          const [y, idx] = G.opN('MaxPool', [x], 2, attrs);
          vals[n.id] = y!;
          saved.set(n.id, { idx: idx! });
        }
        break;
      }
      case 'add':
        vals[n.id] = n.inputs.length === 2 ? G.op('Add', n.inputs.map((i) => vals[i]!)) : G.op('Sum', n.inputs.map((i) => vals[i]!));
        break;
      case 'zero':
        vals[n.id] = G.op('Expand', [G.f([0], [1]), G.i64(DIMS(N, n.shape))]);
        break;
      case 'identity':
        vals[n.id] = x;
        break;
      case 'global_avg_pool':
        vals[n.id] = G.op('Flatten', [G.op('GlobalAveragePool', [x])], [{ name: 'axis', i: 1 }]);
        break;
      case 'flatten':
        vals[n.id] = G.op('Flatten', [x], [{ name: 'axis', i: 1 }]);
        break;
      case 'resize':
      case 'slice': {
        // forward as selection matrices too: Y = Rh X Rw^T
        const { rh, rw } = selection(op, g.nodes[n.inputs[0]!]!.shape, n.shape);
        vals[n.id] = G.op('MatMul', [G.f(rh.data, rh.dims), G.op('MatMul', [x, G.f(transpose(rw), [rw.dims[1]!, rw.dims[0]!])])]);
        saved.set(n.id, { rh: G.f(transpose(rh), [rh.dims[1]!, rh.dims[0]!]), rw: G.f(rw.data, rw.dims) });
        break;
      }
      case 'concat':
        vals[n.id] = G.op('Concat', n.inputs.map((i) => vals[i]!), [{ name: 'axis', i: 1 }]);
        break;
      default:
        unsupported(n, `${op.kind} op`);
    }
  }

  // ---- objective ----
  const outShape = g.nodes[g.output]!.shape;
  const K = numel(outShape);
  const z = outShape.length === 1 ? vals[g.output]! : G.op('Flatten', [vals[g.output]!], [{ name: 'axis', i: 1 }]);
  let dz: string;
  let loss: string;
  if (o.objective === 'sum') {
    loss = G.op('ReduceSum', [z], [{ name: 'keepdims', i: 0 }]);
    dz = G.op('Expand', [G.f([1], [1]), G.i64([N, K])]);
  } else {
    const onehot = G.input('onehot', [N, K]);
    const lsm = G.op('LogSoftmax', [z], [{ name: 'axis', i: 1 }]);
    loss = G.op('Mul', [G.op('ReduceSum', [G.op('Mul', [onehot, lsm])], [{ name: 'keepdims', i: 0 }]), G.scalar(-1 / N)]);
    dz = G.op('Mul', [G.op('Sub', [G.op('Softmax', [z], [{ name: 'axis', i: 1 }]), onehot]), G.scalar(1 / N)]);
  }
  if (outShape.length !== 1) dz = G.op('Reshape', [dz, G.i64(DIMS(N, outShape))]);
  G.output(z, 'logits', [N, K]);
  G.output(loss, 'loss', []);

  // ---- backward ----
  const need = new Uint8Array(g.nodes.length);
  const wantParams = (o.wrt.weights ?? false) || (o.wrt.outputProducts ?? false);
  for (const n of g.nodes) {
    if (n.op.kind === 'input') need[n.id] = o.wrt.input ? 1 : 0;
    else if (n.op.kind === 'zero') need[n.id] = 0;
    else if (((n.op.kind === 'conv2d' || n.op.kind === 'linear') && wantParams) || n.inputs.some((i) => need[i])) need[n.id] = 1;
  }
  const contrib: string[][] = g.nodes.map(() => []);
  const give = (id: number, d: string): void => {
    if (need[id]) contrib[id]!.push(d);
  };
  contrib[g.output]!.push(dz);
  const weightGrads = new Map<number, { weight?: string; bias?: string }>();
  const products = new Map<number, string>();
  let inputGrad: string | undefined;
  for (let id = g.nodes.length - 1; id >= 0; id--) {
    const n = g.nodes[id]!;
    const cs = contrib[id]!;
    if (!need[id] || cs.length === 0) continue;
    const dy = cs.length === 1 ? cs[0]! : G.op('Sum', cs);
    const op = n.op;
    const inId = n.inputs[0] ?? -1;
    const x = vals[inId]!;
    const inShape = inId >= 0 ? g.nodes[inId]!.shape : [];
    const s = saved.get(id) ?? {};
    switch (op.kind) {
      case 'input':
        inputGrad = dy;
        break;
      case 'zero':
        break;
      case 'conv2d': {
        const [H, W] = [inShape[1]!, inShape[2]!];
        const [OH, OW] = [n.shape[1]!, n.shape[2]!];
        if (need[inId]) {
          const outH = op.stride[0] * (OH - 1) + op.dilation[0] * (op.kernel[0] - 1) + 1 - op.pad[0] - op.pad[2];
          const outW = op.stride[1] * (OW - 1) + op.dilation[1] * (op.kernel[1] - 1) + 1 - op.pad[1] - op.pad[3];
          give(inId, G.op('ConvTranspose', [dy, s.w!], [...convAttrs(op.kernel, op.stride, op.pad, op.dilation, 1), { name: 'output_padding', ints: [H - outH, W - outW] }]));
        }
        if (o.wrt.weights) {
          const xT = G.op('Transpose', [x], [{ name: 'perm', ints: [1, 0, 2, 3] }]);
          const dyT = G.op('Transpose', [dy], [{ name: 'perm', ints: [1, 0, 2, 3] }]);
          let r = G.op('Conv', [xT, dyT], [
            { name: 'strides', ints: op.dilation },
            { name: 'dilations', ints: op.stride },
            { name: 'pads', ints: op.pad },
          ]);
          const kh = Math.floor((H + op.pad[0] + op.pad[2] - op.stride[0] * (OH - 1) - 1) / op.dilation[0]) + 1;
          const kw = Math.floor((W + op.pad[1] + op.pad[3] - op.stride[1] * (OW - 1) - 1) / op.dilation[1]) + 1;
          if (kh !== op.kernel[0] || kw !== op.kernel[1]) r = G.op('Slice', [r, G.i64([0, 0]), G.i64(op.kernel), G.i64([2, 3])]);
          const dw = G.op('Transpose', [r], [{ name: 'perm', ints: [1, 0, 2, 3] }]);
          const db = op.bias ? G.op('ReduceSum', [dy, G.i64([0, 2, 3])], [{ name: 'keepdims', i: 0 }]) : undefined;
          weightGrads.set(id, { weight: dw, ...(db ? { bias: db } : {}) });
        }
        if (o.wrt.outputProducts) products.set(id, G.op('ReduceSum', [G.op('Mul', [vals[id]!, dy]), G.i64([2, 3])], [{ name: 'keepdims', i: 0 }]));
        break;
      }
      case 'linear': {
        if (need[inId]) give(inId, G.op('MatMul', [dy, s.w!]));
        if (o.wrt.weights) {
          const dw = G.op('Gemm', [dy, x], [{ name: 'transA', i: 1 }]);
          const db = op.bias ? G.op('ReduceSum', [dy, G.i64([0])], [{ name: 'keepdims', i: 0 }]) : undefined;
          weightGrads.set(id, { weight: dw, ...(db ? { bias: db } : {}) });
        }
        if (o.wrt.outputProducts) products.set(id, G.op('Mul', [vals[id]!, dy]));
        break;
      }
      case 'batchnorm': {
        if (o.bn === 'off') {
          give(inId, dy);
          break;
        }
        const dxhat = s.gamma ? G.op('Mul', [dy, s.gamma]) : dy;
        if (o.bn === 'eval') {
          give(inId, G.op('Mul', [dxhat, G.scalar(1 / Math.sqrt(1 + op.eps))]));
          break;
        }
        const m1 = G.op('ReduceMean', [dxhat, s.axes!], [{ name: 'keepdims', i: 1 }]);
        const m2 = G.op('ReduceMean', [G.op('Mul', [dxhat, s.xhat!]), s.axes!], [{ name: 'keepdims', i: 1 }]);
        give(inId, G.op('Mul', [s.inv!, G.op('Sub', [G.op('Sub', [dxhat, m1]), G.op('Mul', [s.xhat!, m2])])]));
        break;
      }
      case 'activation':
        give(inId, G.op('Mul', [dy, s.m!]));
        break;
      case 'avgpool': {
        const [C, H, W] = inShape as [number, number, number];
        const [OH, OW] = [n.shape[1]!, n.shape[2]!];
        const scale = avgDivisors(op.kernel, op.stride, op.pad, op.countIncludePad, H, W, OH, OW);
        const dys = G.op('Mul', [dy, G.f(scale, [1, 1, OH, OW])]);
        const outH = op.stride[0] * (OH - 1) + op.kernel[0] - 2 * op.pad[0];
        const outW = op.stride[1] * (OW - 1) + op.kernel[1] - 2 * op.pad[1];
        give(
          inId,
          G.op('ConvTranspose', [dys, G.f(new Float32Array(C * op.kernel[0] * op.kernel[1]).fill(1), [C, 1, op.kernel[0], op.kernel[1]])], [
            ...convAttrs(op.kernel, op.stride, [op.pad[0], op.pad[1], op.pad[0], op.pad[1]], [1, 1], C),
            { name: 'output_padding', ints: [H - outH, W - outW] },
          ]),
        );
        break;
      }
      case 'maxpool': {
        const total = N * numel(inShape);
        const flatX = G.op('Reshape', [x, G.i64([total])]);
        const zeros = G.op('Mul', [flatX, G.scalar(0)]);
        const sc = G.op('ScatterElements', [zeros, G.op('Reshape', [s.idx!, G.i64([-1])]), G.op('Reshape', [dy, G.i64([-1])])], [
          { name: 'axis', i: 0 },
          { name: 'reduction', s: 'add' },
        ]);
        give(inId, G.op('Reshape', [sc, G.i64(DIMS(N, inShape))]));
        break;
      }
      case 'add':
        for (const i of n.inputs) give(i, dy);
        break;
      case 'identity':
        give(inId, dy);
        break;
      case 'flatten':
        give(inId, G.op('Reshape', [dy, G.i64(DIMS(N, inShape))]));
        break;
      case 'global_avg_pool': {
        const [C, H, W] = inShape as [number, number, number];
        const r = G.op('Mul', [G.op('Reshape', [dy, G.i64([N, C, 1, 1])]), G.scalar(1 / (H * W))]);
        give(inId, G.op('Expand', [r, G.i64([N, C, H, W])]));
        break;
      }
      case 'resize':
      case 'slice':
        give(inId, G.op('MatMul', [s.rh!, G.op('MatMul', [dy, s.rw!])]));
        break;
      case 'concat': {
        const sizes = n.inputs.map((i) => g.nodes[i]!.shape[0]!);
        const parts = G.opN('Split', [dy, G.i64(sizes)], sizes.length, [{ name: 'axis', i: 1 }]);
        n.inputs.forEach((i, k) => give(i, parts[k]!));
        break;
      }
    }
  }

  // ---- outputs ----
  const outNames = new Map<number, { weight?: string; bias?: string }>();
  for (const [id, r] of weightGrads) {
    const n = g.nodes[id]!;
    const e: { weight?: string; bias?: string } = {};
    const wDims = params.find((p) => p.node === id && p.role === 'weight')!.dims;
    if (r.weight) G.output(r.weight, (e.weight = `dW${id}`), wDims);
    if (r.bias) G.output(r.bias, (e.bias = `dB${id}`), [n.shape[0]!]);
    outNames.set(id, e);
  }
  const prodNames = new Map<number, string>();
  for (const [id, p] of products) {
    G.output(p, `prod${id}`, [N, g.nodes[id]!.shape[0]!]);
    prodNames.set(id, `prod${id}`);
  }
  let inputName: string | undefined;
  if (o.wrt.input) {
    inputName = 'dinput';
    G.output(inputGrad ?? G.op('Expand', [G.f([0], [1]), G.i64(DIMS(N, g.nodes[g.input]!.shape))]), inputName, DIMS(N, g.nodes[g.input]!.shape));
  }
  return { bytes: G.bytes(g.label), params, masks, weightGrads: outNames, ...(inputName ? { inputGrad: inputName } : {}), products: prodNames };
}

function convAttrs(kernel: readonly number[], stride: readonly number[], pad: readonly number[], dilation: readonly number[], group: number) {
  return [
    { name: 'kernel_shape', ints: kernel },
    { name: 'strides', ints: stride },
    { name: 'pads', ints: pad },
    { name: 'dilations', ints: dilation },
    { name: 'group', i: group },
  ];
}

/** 1 / divisor of each average-pool output position (PyTorch's count_include_pad rule). */
function avgDivisors(k: readonly number[], s: readonly number[], p: readonly number[], cip: boolean, H: number, W: number, OH: number, OW: number): Float32Array {
  const out = new Float32Array(OH * OW);
  for (let oh = 0; oh < OH; oh++) {
    for (let ow = 0; ow < OW; ow++) {
      const h0 = oh * s[0]! - p[0]!;
      const w0 = ow * s[1]! - p[1]!;
      let div: number;
      if (cip) div = (Math.min(h0 + k[0]!, H + p[0]!) - h0) * (Math.min(w0 + k[1]!, W + p[1]!) - w0);
      else div = (Math.min(h0 + k[0]!, H) - Math.max(h0, 0)) * (Math.min(w0 + k[1]!, W) - Math.max(w0, 0));
      out[oh * OW + ow] = 1 / div;
    }
  }
  return out;
}

interface Mat {
  data: Float32Array;
  dims: [number, number];
}

/** Rh (OH x H) and Rw (OW x W): Y = Rh X Rw^T picks the rows and columns the op reads. */
function selection(op: Parameters<typeof spatialMap>[0], inShape: readonly number[], outShape: readonly number[]): { rh: Mat; rw: Mat } {
  const { rows, cols } = spatialMap(op, inShape, outShape);
  const H = inShape[1]!;
  const W = inShape[2]!;
  const rh = new Float32Array(rows.length * H);
  rows.forEach((r, i) => (rh[i * H + r] = 1));
  const rw = new Float32Array(cols.length * W);
  cols.forEach((c, i) => (rw[i * W + c] = 1));
  return { rh: { data: rh, dims: [rows.length, H] }, rw: { data: rw, dims: [cols.length, W] } };
}

function transpose(m: Mat): Float32Array {
  const [r, c] = m.dims;
  const t = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = m.data[i * c + j]!;
  return t;
}
