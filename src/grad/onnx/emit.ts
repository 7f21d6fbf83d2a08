/**
 * IR -> one ONNX graph that runs the forward pass, the objective and the backward pass (float32).
 * Each op's backward rule is written as ONNX ops: conv input gradients as ConvTranspose, conv weight
 * gradients as a Conv of the transposed input with the transposed output gradient, pools as
 * ConvTranspose / ScatterElements, resize and slice as selection matrices, BatchNorm as its reduction
 * formula. Parameters are graph inputs, so one session serves several weight settings.
 *
 * GraSP's Hessian-vector product H v (option `hvp`) is exact: the forward-mode derivative along v of the
 * whole forward + backward graph (Pearlmutter's R-operator), emitted beside it as more ONNX ops. Each
 * value x gets a tangent R{x}; R of a bilinear op is the sum of the op on each tangent; ReLU masks and
 * max-pool choices are constants of the point, as in autograd's double backward.
 */
import { numel } from '../../ir/analysis.js';
import type { Graph, Node } from '../../ir/types.js';
import { spatialMap } from '../ops/shape-ops.js';
import { type GradBnMode, GradUnsupportedError } from '../types.js';
import { OnnxGraph } from './model.js';

export interface EmitOptions {
  n: number;
  bn: GradBnMode;
  objective: 'cross-entropy' | 'sum' | 'seed';
  /** with objective `sum`: seed the backward with 1 / max(sum, 1e-30) instead of 1 (a constant, not differentiated) */
  normalise?: boolean;
  wrt: { weights?: boolean; input?: boolean; outputProducts?: boolean };
  /** also H v over conv / linear weights: inputs `v<id>` (v per weight), outputs `hv<id>` */
  hvp?: boolean;
  /** with `hvp`: v is the weight gradient this graph computes (GraSP's H g in one run), not an input */
  hvpOfGradient?: boolean;
  /** also d sum(logits) / d input (output `dinputsum`): a second backward from a ones seed, same forward */
  inputOfSum?: boolean;
  /** BatchNorm nodes whose gamma is all 1 and beta all 0: emitted without the affine ops (bit-identical) */
  unitBn?: ReadonlySet<number>;
}

/** what one backward pass computes */
interface BackOpts {
  weights: boolean;
  products: boolean;
  hvp: boolean;
  input: boolean;
}

export interface EmittedGrad {
  bytes: Uint8Array;
  /** graph input name of each parameter tensor */
  params: { node: number; role: 'weight' | 'bias'; name: string; dims: number[] }[];
  /** H v: the input name of v and the output name of H v, per conv / linear node */
  hvp: Map<number, { v: string; hv?: string }>;
  /** output names */
  weightGrads: Map<number, { weight?: string; bias?: string }>;
  inputGrad?: string;
  /** output name of d sum(logits) / d input (option `inputOfSum`) */
  inputOfSum?: string;
  products: Map<number, string>;
}

const DIMS = (n: number, shape: readonly number[]): number[] => [n, ...shape];

/** Throws GradUnsupportedError when this emitter cannot differentiate the graph. */
export function emitGradGraph(g: Graph, o: EmitOptions): EmittedGrad {
  const G = new OnnxGraph();
  const N = o.n;
  const vals: string[] = new Array(g.nodes.length);
  /** R{value} along v; undefined where it is zero */
  const tan: (string | undefined)[] = new Array(g.nodes.length);
  const saved = new Map<number, Record<string, string>>();
  const params: EmittedGrad['params'] = [];
  const hvp: EmittedGrad['hvp'] = new Map();
  const paramInput = (n: Node, role: 'weight' | 'bias', dims: number[]): string => {
    const name = G.input(`p${n.id}.${role}`, dims);
    params.push({ node: n.id, role, name, dims });
    return name;
  };
  const vInput = (n: Node, dims: number[]): string | undefined => {
    if (!o.hvp) return undefined;
    // H g: the name of this node's weight gradient, defined after the backward pass below (onnxruntime
    // orders the nodes by their data dependencies: the tangent pass runs after the primal backward)
    const v = o.hvpOfGradient ? `g${n.id}` : G.input(`v${n.id}`, dims);
    hvp.set(n.id, { v });
    return v;
  };
  const unsupported = (n: Node, what: string): never => {
    throw new GradUnsupportedError(`${g.label}: the onnx gradient path has no ${what} (${n.name}); the reference backend runs it`);
  };
  /** the sum of the terms present (undefined when none) */
  const sum = (...terms: (string | undefined)[]): string | undefined => {
    const t = terms.filter((x): x is string => x !== undefined);
    return t.length === 0 ? undefined : t.length === 1 ? t[0] : t.length === 2 ? G.op('Add', t) : G.op('Sum', t);
  };
  const zeros = (shape: readonly number[]): string => G.op('Expand', [G.f([0], [1]), G.i64(DIMS(N, shape))]);

  // ---- forward (and its tangent) ----
  for (const n of g.nodes) {
    const op = n.op;
    const x = vals[n.inputs[0] ?? -1]!;
    const tx = tan[n.inputs[0] ?? -1];
    switch (op.kind) {
      case 'input':
        vals[n.id] = G.input('input', DIMS(N, n.shape));
        break;
      case 'conv2d': {
        if (op.groups !== 1) unsupported(n, 'grouped convolution');
        const wDims = [op.outC, op.inC / op.groups, op.kernel[0], op.kernel[1]];
        const w = paramInput(n, 'weight', wDims);
        const b = op.bias ? paramInput(n, 'bias', [op.outC]) : undefined;
        const attrs = convAttrs(op.kernel, op.stride, op.pad, op.dilation, 1);
        vals[n.id] = G.op('Conv', b ? [x, w, b] : [x, w], attrs);
        const v = vInput(n, wDims);
        saved.set(n.id, { w, ...(v ? { v } : {}) });
        if (o.hvp) tan[n.id] = sum(tx && G.op('Conv', [tx, w], attrs), v && G.op('Conv', [x, v], attrs));
        break;
      }
      case 'linear': {
        const w = paramInput(n, 'weight', [op.outF, op.inF]);
        const b = op.bias ? paramInput(n, 'bias', [op.outF]) : undefined;
        const tB = [{ name: 'transB', i: 1 }];
        vals[n.id] = G.op('Gemm', b ? [x, w, b] : [x, w], tB);
        const v = vInput(n, [op.outF, op.inF]);
        saved.set(n.id, { w, ...(v ? { v } : {}) });
        if (o.hvp) tan[n.id] = sum(tx && G.op('Gemm', [tx, w], tB), v && G.op('Gemm', [x, v], tB));
        break;
      }
      case 'batchnorm': {
        if (o.bn === 'off') {
          vals[n.id] = x;
          tan[n.id] = tx;
          break;
        }
        const four = n.shape.length === 3;
        const bshape = four ? [1, op.channels, 1, 1] : [1, op.channels];
        // gamma = 1, beta = 0 (a fresh network): y = xhat exactly, no affine ops and no parameter inputs
        const affine = op.affine && !(o.unitBn?.has(n.id) ?? false);
        const gamma = affine ? paramInput(n, 'weight', bshape) : undefined;
        const beta = affine ? paramInput(n, 'bias', bshape) : undefined;
        const scale = (t: string): string => (gamma ? G.op('Mul', [t, gamma]) : t);
        if (o.bn === 'eval') {
          const c = G.scalar(1 / Math.sqrt(1 + op.eps));
          const y = G.op('Mul', [x, c]);
          saved.set(n.id, { ...(gamma ? { gamma } : {}) });
          vals[n.id] = gamma ? G.op('Add', [scale(y), beta!]) : y;
          tan[n.id] = tx && scale(G.op('Mul', [tx, c]));
          break;
        }
        if (o.bn === 'per-image' && !four) unsupported(n, 'per-image BatchNorm1d');
        const axes = G.i64(o.bn === 'per-image' ? [2, 3] : four ? [0, 2, 3] : [0]);
        const mean = (t: string): string => G.op('ReduceMean', [t, axes], [{ name: 'keepdims', i: 1 }]);
        const sv: Record<string, string> = { axes };
        // centred variance: E[x^2] - mean^2 in float32 put gradients 8e-2 off the tape on NB201 (cancellation)
        const mu4 = mean(x);
        const d = G.op('Sub', [x, mu4]);
        const var4 = mean(G.op('Mul', [d, d]));
        const inv = G.op('Reciprocal', [G.op('Sqrt', [G.op('Add', [var4, G.scalar(op.eps)])])]);
        const xhat = G.op('Mul', [d, inv]);
        if (o.bn === 'batch' && four) {
          // the batch statistics per channel, for the backward's fused BatchNormalization kernel
          sv.mu = G.op('Reshape', [mu4, G.i64([op.channels])]);
          sv.var = G.op('Reshape', [var4, G.i64([op.channels])]);
        }
        vals[n.id] = gamma ? G.op('Add', [scale(xhat), beta!]) : xhat;
        Object.assign(sv, { xhat, inv, ...(gamma ? { gamma } : {}) });
        if (tx) {
          // u = R{d} / sigma; R{xhat} = u - xhat mean(xhat u); R{1/sigma} = -mean(xhat u) / sigma
          const u = G.op('Mul', [G.op('Sub', [tx, mean(tx)]), inv]);
          const mxu = mean(G.op('Mul', [xhat, u]));
          sv.txhat = G.op('Sub', [u, G.op('Mul', [xhat, mxu])]);
          sv.tinv = G.op('Neg', [G.op('Mul', [inv, mxu])]);
          tan[n.id] = scale(sv.txhat);
        }
        saved.set(n.id, sv);
        break;
      }
      case 'activation': {
        if (op.fn !== 'relu') unsupported(n, `${op.fn} backward`);
        // the mask 1[x > 0] = sign(relu(x)): one op on the output
        vals[n.id] = G.op('Relu', [x]);
        const m = G.op('Sign', [vals[n.id]!]);
        saved.set(n.id, { m });
        tan[n.id] = tx && G.op('Mul', [tx, m]);
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
          const a = [...attrs, { name: 'count_include_pad', i: op.countIncludePad ? 1 : 0 }];
          vals[n.id] = G.op('AveragePool', [x], a);
          tan[n.id] = tx && G.op('AveragePool', [tx], a);
        } else {
          const [y, idx] = G.opN('MaxPool', [x], 2, attrs);
          vals[n.id] = y!;
          saved.set(n.id, { idx: idx! });
          // the chosen inputs' tangents (indices index the flattened N x C x H x W input)
          tan[n.id] = tx && G.op('Reshape', [G.op('Gather', [G.op('Reshape', [tx, G.i64([-1])]), G.op('Reshape', [idx!, G.i64([-1])])]), G.i64(DIMS(N, n.shape))]);
        }
        break;
      }
      case 'add':
        vals[n.id] = n.inputs.length === 2 ? G.op('Add', n.inputs.map((i) => vals[i]!)) : G.op('Sum', n.inputs.map((i) => vals[i]!));
        tan[n.id] = sum(...n.inputs.map((i) => tan[i]));
        break;
      case 'zero':
        vals[n.id] = zeros(n.shape);
        break;
      case 'identity':
        vals[n.id] = x;
        tan[n.id] = tx;
        break;
      case 'global_avg_pool':
        vals[n.id] = G.op('Flatten', [G.op('GlobalAveragePool', [x])], [{ name: 'axis', i: 1 }]);
        tan[n.id] = tx && G.op('Flatten', [G.op('GlobalAveragePool', [tx])], [{ name: 'axis', i: 1 }]);
        break;
      case 'flatten':
        vals[n.id] = G.op('Flatten', [x], [{ name: 'axis', i: 1 }]);
        tan[n.id] = tx && G.op('Flatten', [tx], [{ name: 'axis', i: 1 }]);
        break;
      case 'resize':
      case 'slice': {
        // forward as selection matrices too: Y = Rh X Rw^T
        const { rh, rw } = selection(op, g.nodes[n.inputs[0]!]!.shape, n.shape);
        const rhF = G.f(rh.data, rh.dims);
        const rwT = G.f(transpose(rw), [rw.dims[1]!, rw.dims[0]!]);
        vals[n.id] = G.op('MatMul', [rhF, G.op('MatMul', [x, rwT])]);
        tan[n.id] = tx && G.op('MatMul', [rhF, G.op('MatMul', [tx, rwT])]);
        saved.set(n.id, { rh: G.f(transpose(rh), [rh.dims[1]!, rh.dims[0]!]), rw: G.f(rw.data, rw.dims) });
        break;
      }
      case 'concat':
        vals[n.id] = G.op('Concat', n.inputs.map((i) => vals[i]!), [{ name: 'axis', i: 1 }]);
        if (n.inputs.some((i) => tan[i])) tan[n.id] = G.op('Concat', n.inputs.map((i) => tan[i] ?? zeros(g.nodes[i]!.shape)), [{ name: 'axis', i: 1 }]);
        break;
      default:
        unsupported(n, `${op.kind} op`);
    }
  }

  // ---- objective ----
  const outShape = g.nodes[g.output]!.shape;
  const K = numel(outShape);
  const flat = (t: string): string => (outShape.length === 1 ? t : G.op('Flatten', [t], [{ name: 'axis', i: 1 }]));
  const z = flat(vals[g.output]!);
  let dz: string;
  let tdz: string | undefined;
  let loss: string;
  if (o.objective === 'sum') {
    loss = G.op('ReduceSum', [z], [{ name: 'keepdims', i: 0 }]);
    const seed = o.normalise ? G.op('Reciprocal', [G.op('Max', [loss, G.scalar(1e-30)])]) : G.f([1], [1]);
    dz = G.op('Expand', [seed, G.i64([N, K])]);
  } else if (o.objective === 'seed') {
    // the output gradient is an input (a vector-Jacobian product)
    dz = G.input('seed', [N, K]);
    loss = G.op('ReduceSum', [G.op('Mul', [z, dz])], [{ name: 'keepdims', i: 0 }]);
  } else {
    const onehot = G.input('onehot', [N, K]);
    const lsm = G.op('LogSoftmax', [z], [{ name: 'axis', i: 1 }]);
    const p = G.op('Softmax', [z], [{ name: 'axis', i: 1 }]);
    loss = G.op('Mul', [G.op('ReduceSum', [G.op('Mul', [onehot, lsm])], [{ name: 'keepdims', i: 0 }]), G.scalar(-1 / N)]);
    dz = G.op('Mul', [G.op('Sub', [p, onehot]), G.scalar(1 / N)]);
    const tz = tan[g.output];
    if (tz) {
      // R{softmax(z)} = p * (R{z} - sum_k p_k R{z}_k)
      const ptz = G.op('Mul', [p, flat(tz)]);
      tdz = G.op('Mul', [G.op('Sub', [ptz, G.op('Mul', [p, G.op('ReduceSum', [ptz, G.i64([1])], [{ name: 'keepdims', i: 1 }])])]), G.scalar(1 / N)]);
    }
  }
  if (outShape.length !== 1) {
    dz = G.op('Reshape', [dz, G.i64(DIMS(N, outShape))]);
    if (tdz) tdz = G.op('Reshape', [tdz, G.i64(DIMS(N, outShape))]);
  }
  G.output(z, 'logits', [N, K]);
  G.output(loss, 'loss', []);

  // ---- backward (and its tangent) ----
  /** one backward pass from dL/dz = `seed` (R{seed} = `tseed`) through the forward above */
  const backward = (seed: string, tseed: string | undefined, b: BackOpts) => {
    const need = new Uint8Array(g.nodes.length);
    const wantParams = b.weights || b.products || b.hvp;
    for (const n of g.nodes) {
      if (n.op.kind === 'input') need[n.id] = b.input ? 1 : 0;
      else if (n.op.kind === 'zero') need[n.id] = 0;
      else if (((n.op.kind === 'conv2d' || n.op.kind === 'linear') && wantParams) || n.inputs.some((i) => need[i])) need[n.id] = 1;
    }
    const contrib: string[][] = g.nodes.map(() => []);
    const tcontrib: string[][] = g.nodes.map(() => []);
    const give = (id: number, d: string): void => {
      if (need[id]) contrib[id]!.push(d);
    };
    const tgive = (id: number, d: string | undefined): void => {
      if (need[id] && d) tcontrib[id]!.push(d);
    };
    contrib[g.output]!.push(seed);
    if (tseed) tcontrib[g.output]!.push(tseed);
    const weightGrads = new Map<number, { weight?: string; bias?: string }>();
    const hvOut = new Map<number, string>();
    const products = new Map<number, string>();
    let inputGrad: string | undefined;
    for (let id = g.nodes.length - 1; id >= 0; id--) {
      const n = g.nodes[id]!;
      const cs = contrib[id]!;
      if (!need[id] || cs.length === 0) continue;
      const dy = sum(...cs)!;
      const tdy = sum(...tcontrib[id]!);
      const op = n.op;
      const inId = n.inputs[0] ?? -1;
      const x = vals[inId]!;
      const tx = tan[inId];
      const inShape = inId >= 0 ? g.nodes[inId]!.shape : [];
      const s = saved.get(id) ?? {};
      /** the backward rule of an op that is linear in dy (the same rule carries R{dy}) */
      const linearBack = (d: string): [number, string][] => {
        switch (op.kind) {
          case 'activation':
            return [[inId, G.op('Mul', [d, s.m!])]];
          case 'avgpool': {
            const [C, H, W] = inShape as [number, number, number];
            const [OH, OW] = [n.shape[1]!, n.shape[2]!];
            const scale = avgDivisors(op.kernel, op.stride, op.pad, op.countIncludePad, H, W, OH, OW);
            const ds = G.op('Mul', [d, G.f(scale, [1, 1, OH, OW])]);
            const outH = op.stride[0] * (OH - 1) + op.kernel[0] - 2 * op.pad[0];
            const outW = op.stride[1] * (OW - 1) + op.kernel[1] - 2 * op.pad[1];
            const ones = G.f(new Float32Array(C * op.kernel[0] * op.kernel[1]).fill(1), [C, 1, op.kernel[0], op.kernel[1]]);
            return [[inId, G.op('ConvTranspose', [ds, ones], [...convAttrs(op.kernel, op.stride, [op.pad[0], op.pad[1], op.pad[0], op.pad[1]], [1, 1], C), { name: 'output_padding', ints: [H - outH, W - outW] }])]];
          }
          case 'maxpool': {
            const total = N * numel(inShape);
            const z0 = G.op('Expand', [G.f([0], [1]), G.i64([total])]);
            const sc = G.op('ScatterElements', [z0, G.op('Reshape', [s.idx!, G.i64([-1])]), G.op('Reshape', [d, G.i64([-1])])], [
              { name: 'axis', i: 0 },
              { name: 'reduction', s: 'add' },
            ]);
            return [[inId, G.op('Reshape', [sc, G.i64(DIMS(N, inShape))])]];
          }
          case 'add':
            return n.inputs.map((i) => [i, d]);
          case 'identity':
            return [[inId, d]];
          case 'flatten':
            return [[inId, G.op('Reshape', [d, G.i64(DIMS(N, inShape))])]];
          case 'global_avg_pool': {
            const [C, H, W] = inShape as [number, number, number];
            const r = G.op('Mul', [G.op('Reshape', [d, G.i64([N, C, 1, 1])]), G.scalar(1 / (H * W))]);
            return [[inId, G.op('Expand', [r, G.i64([N, C, H, W])])]];
          }
          case 'resize':
          case 'slice':
            return [[inId, G.op('MatMul', [s.rh!, G.op('MatMul', [d, s.rw!])])]];
          case 'concat': {
            const sizes = n.inputs.map((i) => g.nodes[i]!.shape[0]!);
            const parts = G.opN('Split', [d, G.i64(sizes)], sizes.length, [{ name: 'axis', i: 1 }]);
            return n.inputs.map((i, k) => [i, parts[k]!]);
          }
          default:
            return [];
        }
      };
      switch (op.kind) {
        case 'input':
          inputGrad = dy;
          break;
        case 'zero':
          break;
        case 'conv2d': {
          const [H, W] = [inShape[1]!, inShape[2]!];
          const [OH, OW] = [n.shape[1]!, n.shape[2]!];
          const outH = op.stride[0] * (OH - 1) + op.dilation[0] * (op.kernel[0] - 1) + 1 - op.pad[0] - op.pad[2];
          const outW = op.stride[1] * (OW - 1) + op.dilation[1] * (op.kernel[1] - 1) + 1 - op.pad[1] - op.pad[3];
          const tAttrs = [...convAttrs(op.kernel, op.stride, op.pad, op.dilation, 1), { name: 'output_padding', ints: [H - outH, W - outW] }];
          if (need[inId]) {
            give(inId, G.op('ConvTranspose', [dy, s.w!], tAttrs));
            if (b.hvp) tgive(inId, sum(tdy && G.op('ConvTranspose', [tdy, s.w!], tAttrs), s.v && G.op('ConvTranspose', [dy, s.v], tAttrs)));
          }
          const kh = Math.floor((H + op.pad[0] + op.pad[2] - op.stride[0] * (OH - 1) - 1) / op.dilation[0]) + 1;
          const kw = Math.floor((W + op.pad[1] + op.pad[3] - op.stride[1] * (OW - 1) - 1) / op.dilation[1]) + 1;
          /** dL/dW from an input and an output gradient: a Conv of their transposes */
          const convW = (xx: string, d: string): string => {
            const xT = G.op('Transpose', [xx], [{ name: 'perm', ints: [1, 0, 2, 3] }]);
            const dT = G.op('Transpose', [d], [{ name: 'perm', ints: [1, 0, 2, 3] }]);
            let r = G.op('Conv', [xT, dT], [
              { name: 'strides', ints: op.dilation },
              { name: 'dilations', ints: op.stride },
              { name: 'pads', ints: op.pad },
            ]);
            if (kh !== op.kernel[0] || kw !== op.kernel[1]) r = G.op('Slice', [r, G.i64([0, 0]), G.i64(op.kernel), G.i64([2, 3])]);
            return G.op('Transpose', [r], [{ name: 'perm', ints: [1, 0, 2, 3] }]);
          };
          if (b.weights) {
            const db = op.bias ? G.op('ReduceSum', [dy, G.i64([0, 2, 3])], [{ name: 'keepdims', i: 0 }]) : undefined;
            weightGrads.set(id, { weight: convW(x, dy), ...(db ? { bias: db } : {}) });
          }
          if (b.hvp) {
            const hv = sum(tx && convW(tx, dy), tdy && convW(x, tdy));
            if (hv) hvOut.set(id, hv);
          }
          if (b.products) products.set(id, G.op('ReduceSum', [G.op('Mul', [vals[id]!, dy]), G.i64([2, 3])], [{ name: 'keepdims', i: 0 }]));
          break;
        }
        case 'linear': {
          if (need[inId]) {
            give(inId, G.op('MatMul', [dy, s.w!]));
            if (b.hvp) tgive(inId, sum(tdy && G.op('MatMul', [tdy, s.w!]), s.v && G.op('MatMul', [dy, s.v])));
          }
          const tA = [{ name: 'transA', i: 1 }];
          if (b.weights) {
            const db = op.bias ? G.op('ReduceSum', [dy, G.i64([0])], [{ name: 'keepdims', i: 0 }]) : undefined;
            weightGrads.set(id, { weight: G.op('Gemm', [dy, x], tA), ...(db ? { bias: db } : {}) });
          }
          if (b.hvp) {
            const hv = sum(tdy && G.op('Gemm', [tdy, x], tA), tx && G.op('Gemm', [dy, tx], tA));
            if (hv) hvOut.set(id, hv);
          }
          if (b.products) products.set(id, G.op('Mul', [vals[id]!, dy]));
          break;
        }
        case 'batchnorm': {
          if (o.bn === 'off') {
            give(inId, dy);
            tgive(inId, tdy);
            break;
          }
          const scale = (t: string): string => (s.gamma ? G.op('Mul', [t, s.gamma]) : t);
          const dxhat = scale(dy);
          const tdxhat = tdy && scale(tdy);
          if (o.bn === 'eval') {
            const c = G.scalar(1 / Math.sqrt(1 + op.eps));
            give(inId, G.op('Mul', [dxhat, c]));
            tgive(inId, tdxhat && G.op('Mul', [tdxhat, c]));
            break;
          }
          const mean = (t: string): string => G.op('ReduceMean', [t, s.axes!], [{ name: 'keepdims', i: 1 }]);
          // dx = inv * B, B = dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)
          const m2 = mean(G.op('Mul', [dxhat, s.xhat!]));
          if (s.mu && !b.hvp) {
            // = inv dxhat + xhat (-inv m2) + (-inv mean(dxhat)): the last two terms as one BatchNormalization
            // kernel over x with those per-channel scale and shift
            const C = [op.channels];
            const sc = G.op('Reshape', [G.op('Neg', [G.op('Mul', [s.inv!, m2])]), G.i64(C)]);
            const sh = G.op('Reshape', [G.op('Neg', [G.op('Mul', [s.inv!, mean(dxhat)])]), G.i64(C)]);
            give(inId, G.op('Add', [G.op('Mul', [dxhat, s.inv!]), G.op('BatchNormalization', [x, sc, sh, s.mu, s.var!], [{ name: 'epsilon', f: op.eps }])]));
            break;
          }
          const B = G.op('Sub', [G.op('Sub', [dxhat, mean(dxhat)]), G.op('Mul', [s.xhat!, m2])]);
          give(inId, G.op('Mul', [s.inv!, B]));
          if (b.hvp && (tdxhat || s.txhat)) {
            // R{B} = R{dxhat} - mean(R{dxhat}) - R{xhat} m2 - xhat mean(R{dxhat} xhat + dxhat R{xhat})
            const tm2 = mean(sum(tdxhat && G.op('Mul', [tdxhat, s.xhat!]), s.txhat && G.op('Mul', [dxhat, s.txhat]))!);
            const tB = sum(tdxhat && G.op('Sub', [tdxhat, mean(tdxhat)]), s.txhat && G.op('Neg', [G.op('Mul', [s.txhat, m2])]), G.op('Neg', [G.op('Mul', [s.xhat!, tm2])]))!;
            tgive(inId, sum(s.tinv && G.op('Mul', [s.tinv, B]), G.op('Mul', [s.inv!, tB])));
          }
          break;
        }
        default:
          for (const [i, d] of linearBack(dy)) give(i, d);
          if (b.hvp && tdy) for (const [i, d] of linearBack(tdy)) tgive(i, d);
      }
    }
    return { weightGrads, hvOut, products, inputGrad };
  };
  const { weightGrads, hvOut, products, inputGrad } = backward(dz, tdz, {
    weights: (o.wrt.weights ?? false) || (o.hvpOfGradient ?? false),
    products: o.wrt.outputProducts ?? false,
    hvp: o.hvp ?? false,
    input: o.wrt.input ?? false,
  });
  // jacov beside the objective: d sum(logits) / d input, a second backward from a ones seed through the
  // same forward (the same batch statistics); input gradients only, no weight-gradient convolutions
  let inputOfSum: string | undefined;
  if (o.inputOfSum) {
    let ones = G.op('Expand', [G.f([1], [1]), G.i64([N, K])]);
    if (outShape.length !== 1) ones = G.op('Reshape', [ones, G.i64(DIMS(N, outShape))]);
    inputOfSum = backward(ones, undefined, { weights: false, products: false, hvp: false, input: true }).inputGrad ?? zeros(g.nodes[g.input]!.shape);
  }

  // ---- outputs ----
  if (o.hvpOfGradient) {
    // v = g: the weight gradients under the names the tangent pass reads (zeros where the objective does not reach)
    for (const p of params) if (p.role === 'weight' && hvp.has(p.node)) G.alias(weightGrads.get(p.node)?.weight ?? G.f(new Float32Array(p.dims.reduce((a, d) => a * d, 1)), p.dims), `g${p.node}`);
  }
  const outNames = new Map<number, { weight?: string; bias?: string }>();
  for (const [id, r] of weightGrads) {
    if (!o.wrt.weights) break;
    const n = g.nodes[id]!;
    const e: { weight?: string; bias?: string } = {};
    const wDims = params.find((p) => p.node === id && p.role === 'weight')!.dims;
    if (r.weight) G.output(r.weight, (e.weight = `dW${id}`), wDims);
    if (r.bias) G.output(r.bias, (e.bias = `dB${id}`), [n.shape[0]!]);
    outNames.set(id, e);
  }
  for (const [id, hv] of hvOut) {
    const wDims = params.find((p) => p.node === id && p.role === 'weight')!.dims;
    G.output(hv, `hv${id}`, wDims);
    hvp.get(id)!.hv = `hv${id}`;
  }
  const prodNames = new Map<number, string>();
  for (const [id, p] of products) {
    G.output(p, `prod${id}`, [N, g.nodes[id]!.shape[0]!]);
    prodNames.set(id, `prod${id}`);
  }
  if (inputOfSum) G.output(inputOfSum, 'dinputsum', DIMS(N, g.nodes[g.input]!.shape));
  let inputName: string | undefined;
  if (o.wrt.input) {
    inputName = 'dinput';
    G.output(inputGrad ?? zeros(g.nodes[g.input]!.shape), inputName, DIMS(N, g.nodes[g.input]!.shape));
  }
  return { bytes: G.bytes(g.label), params, hvp, weightGrads: outNames, ...(inputName ? { inputGrad: inputName } : {}), ...(inputOfSum ? { inputOfSum: 'dinputsum' } : {}), products: prodNames };
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
