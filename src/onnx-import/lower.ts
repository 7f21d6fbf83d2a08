/**
 * ONNX graph -> network IR + weights. Nodes are lowered one by one in file (topological) order
 * by the op functions in ops-*.ts; anything else gets an OnnxImportError naming the node.
 */
import { IRError } from '../ir/builder.js';
import type { GraphBuilder } from '../ir/builder.js';
import { type LowerOptions, Lowering, fmt } from './context.js';
import { DT, type OnnxModel, type OnnxNode, dtypeName } from './model.js';
import { act, add, alphaOf, clip, erf, gelu, hardSigmoid, mul, selu, sigmoid, softplus, sum, tanh, div } from './ops-activation.js';
import { batchnorm, concat, conv, gemm, globalAvgPool, matmul, pool, reduceMean, softmax } from './ops-layer.js';
import { resize } from './ops-resize.js';
import { cast, constant, flatten, gather, reshape, shapeOp, slice, squeeze } from './ops-shape.js';

export type { BnMode, LowerOptions } from './context.js';

export interface Lowered {
  builder: GraphBuilder;
  params: Map<number, { weight?: Float32Array; bias?: Float32Array }>;
  output: number;
  outputName: string;
  classifier: { input: number; inputName: string; node: OnnxNode; inF: number; outF: number };
  input: { name: string; shape: [number, number, number]; batch: string | number | null; declared: (number | string | null)[] };
  opset: number;
  /** nodes no graph output depends on (lowered all the same) */
  unreadNodes: number;
  batchNorms: number;
  /** ONNX op type -> how many nodes */
  opCounts: Record<string, number>;
  /** recognised multi-node patterns -> count */
  patterns: Record<string, number>;
  ignored: string[];
  notes: string[];
  /** value name -> IR node id, for every tensor value (metadata taps look names up here) */
  tensorOf(name: string): number | undefined;
}

type OpFn = (L: Lowering, n: OnnxNode) => void;

/** The supported ai.onnx operators. */
const OPS: Record<string, OpFn> = {
  Conv: conv,
  BatchNormalization: batchnorm,
  Relu: (L, n) => act(L, n, 'relu'),
  LeakyRelu: (L, n) => act(L, n, 'leaky_relu', alphaOf(L, n, 0.01)),
  Elu: (L, n) => act(L, n, 'elu', alphaOf(L, n, 1)),
  Celu: (L, n) => act(L, n, 'celu', alphaOf(L, n, 1)),
  Selu: selu,
  HardSwish: (L, n) => act(L, n, 'hardswish'),
  Mish: (L, n) => act(L, n, 'mish'),
  Gelu: gelu,
  Tanh: tanh,
  Sigmoid: sigmoid,
  HardSigmoid: hardSigmoid,
  Softplus: softplus,
  Erf: erf,
  Clip: clip,
  Add: add,
  Sum: sum,
  Mul: mul,
  Div: div,
  Concat: concat,
  MaxPool: pool,
  AveragePool: pool,
  GlobalAveragePool: globalAvgPool,
  ReduceMean: reduceMean,
  Flatten: flatten,
  Reshape: reshape,
  Gemm: gemm,
  MatMul: matmul,
  Identity: (L, n) => L.set(n, L.input(n, 0)),
  Dropout: (L, n) => {
    L.set(n, L.input(n, 0));
    L.absent(n, 1, 'mask');
  },
  Softmax: softmax,
  LogSoftmax: softmax,
  Resize: resize,
  Upsample: resize,
  Constant: constant,
  Shape: shapeOp,
  Gather: gather,
  Unsqueeze: squeeze,
  Squeeze: squeeze,
  Slice: slice,
  Cast: cast,
};

function lowerNode(L: Lowering, n: OnnxNode): void {
  if (n.domain !== '' && n.domain !== 'ai.onnx') {
    L.fail(`operators of domain '${n.domain}' are not supported (only the standard ai.onnx operators)`);
  }
  const op = OPS[n.opType];
  if (!op) {
    L.fail(
      `${n.opType} is not supported (supported: Conv, BatchNormalization, activations, Add/Sum, Concat, pooling, Flatten/Reshape, Gemm/MatMul, Resize, shape arithmetic)`,
    );
  }
  op(L, n);
}

function setInput(L: Lowering, name: string, dims: (number | string | null)[] | undefined, elemType: number): void {
  if (elemType !== DT.FLOAT && elemType !== 0) throw L.modelError(`input '${name}' holds ${dtypeName(elemType)}; only float32 image inputs are supported`);
  if (!dims) throw L.modelError(`input '${name}' has no declared shape; an image input [N, C, H, W] is needed`);
  if (dims.length !== 4) throw L.modelError(`input '${name}' has shape ${fmt(dims)}; an image input [N, C, H, W] is needed`);
  const [batch, c, h, w] = dims;
  if (typeof c !== 'number' || c < 1 || c > 65536) {
    throw L.modelError(`input '${name}' has ${c === null ? 'an unknown' : typeof c === 'string' ? `a symbolic (${c})` : `an invalid (${c})`} channel count; it must be fixed`);
  }
  const r = L.opts.resolution;
  if (r !== undefined && (!Number.isInteger(r) || r < 1 || r > 16384)) throw L.modelError(`resolution ${r} is not a positive integer up to 16384`);
  let hh: number;
  let ww: number;
  if (typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0) {
    if (h > 16384 || w > 16384) throw L.modelError(`input '${name}' is ${h}x${w}, larger than 16384`);
    if (r !== undefined && (r !== h || r !== w)) {
      L.notes.push(`the model declares ${h}x${w} input; running it at ${r}x${r} as asked`);
      hh = ww = r;
    } else {
      hh = h;
      ww = w;
    }
  } else {
    if (r === undefined) {
      throw L.modelError(`input '${name}' has a symbolic height/width ${fmt(dims)}; give the image resolution (resolution / --resolution)`);
    }
    hh = ww = r;
  }
  L.declaredBatch = batch ?? null;
  const id = L.b.input([c, hh, ww]);
  L.values.set(name, { kind: 'tensor', id, squeezed: false });
}

export function lowerModel(m: OnnxModel, opts: LowerOptions): Lowered {
  const L = new Lowering(m, opts);
  if (m.sparseInitializers > 0) throw L.modelError('the graph has sparse initializers, which are not supported');
  for (const [domain, v] of m.opsets) if (domain === '' && v < 1) throw L.modelError(`invalid ai.onnx opset ${v}`);

  // producers; SSA check
  for (const n of m.nodes) {
    for (const o of n.outputs) {
      if (o === '') continue;
      const prev = L.producer.get(o);
      if (prev !== undefined) throw L.modelError(`value '${o}' is produced twice, by ${L.label(m.nodes[prev]!)} and ${L.label(n)}`);
      L.producer.set(o, n.index);
    }
  }
  // image input: the graph input that is not an initializer
  const realInputs = m.inputs.filter((i) => !m.initializers.has(i.name));
  if (realInputs.length !== 1) {
    throw L.modelError(
      realInputs.length === 0
        ? 'the graph has no input (one image input [N, C, H, W] is needed)'
        : `the graph has ${realInputs.length} inputs (${realInputs.map((i) => `'${i.name}'`).join(', ')}); one image input [N, C, H, W] is supported`,
    );
  }
  const inp = realInputs[0]!;
  if (inp.elemType === -1) throw L.modelError(`input '${inp.name}' is not a tensor`);
  setInput(L, inp.name, inp.dims, inp.elemType);
  if (m.outputs.length === 0) throw L.modelError('the graph has no outputs');

  // Every node is lowered, also those no graph output depends on: an activation whose result
  // is unused still counts as a tap (PyTorch hooks fire on every module call), and rbflex's own
  // portable models write one Relu node per ReLU module, the repeats unread.
  for (const n of m.nodes) for (const i of n.inputs) if (i !== '') L.uses.set(i, (L.uses.get(i) ?? 0) + 1);
  const live = new Uint8Array(m.nodes.length);
  const stack: string[] = m.outputs.map((o) => o.name);
  const seen = new Set<string>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const p = L.producer.get(v);
    if (p === undefined || live[p]) continue;
    live[p] = 1;
    for (const i of m.nodes[p]!.inputs) if (i !== '') stack.push(i);
  }
  const unread = m.nodes.length - live.reduce((a, b) => a + b, 0);

  const opCounts: Record<string, number> = {};
  for (const n of m.nodes) {
    const key = n.domain ? `${n.domain}.${n.opType}` : n.opType;
    opCounts[key] = (opCounts[key] ?? 0) + 1;
    if (L.fused.has(n.index)) continue;
    L.current = n;
    try {
      lowerNode(L, n);
    } catch (e) {
      // shape errors from the IR builder: name the node (the builder's message starts with its label)
      if (e instanceof IRError) L.fail(e.message.startsWith(`${L.irLabel}: `) ? e.message.slice(L.irLabel.length + 2) : e.message);
      throw e;
    }
  }
  L.current = undefined;
  if (unread > 0) L.notes.push(`${unread} node(s) feed no graph output; they are lowered all the same (their activations count as taps)`);
  if (opCounts.Dropout) L.notes.push('Dropout runs as identity (inference), so the score is deterministic');
  if (L.batchNorms === 0 && opts.bn === 'train') {
    L.notes.push(
      'the model has no BatchNormalization nodes; if the network has BatchNorm layers, torch.onnx.export in eval mode fused them into the convolutions: export with training=torch.onnx.TrainingMode.TRAINING to score them in training mode',
    );
  }

  // the network output: the first graph output that is a tensor (a trailing Softmax is skipped)
  let output: number | undefined;
  let outputName = '';
  for (const o of m.outputs) {
    let v = L.values.get(o.name);
    if (!v) {
      if (m.initializers.has(o.name)) continue;
      throw L.modelError(`graph output '${o.name}' is not computed by any node`);
    }
    while (v.kind === 'ignored') v = v.from;
    if (v.kind === 'tensor' || v.kind === 'lazy') {
      output = L.asTensor(v, `graph output '${o.name}'`).id;
      outputName = o.name;
      break;
    }
  }
  if (output === undefined) throw L.modelError('no graph output is a computed tensor');
  if (!L.classifier) {
    throw L.modelError('the network has no Gemm or MatMul layer; the classifier input (the input of the last one) is needed for the score');
  }
  return {
    builder: L.b,
    params: L.params,
    output,
    outputName,
    classifier: L.classifier,
    input: { name: inp.name, shape: L.b.shape(0) as [number, number, number], batch: L.declaredBatch, declared: inp.dims ?? [] },
    opset: L.opset,
    unreadNodes: unread,
    batchNorms: L.batchNorms,
    opCounts,
    patterns: L.patterns,
    ignored: L.ignored,
    notes: L.notes,
    tensorOf: (name: string) => {
      let v = L.values.get(name);
      while (v && v.kind === 'ignored') v = v.from;
      if (!v) return undefined;
      if (v.kind === 'tensor') return v.id;
      if (v.kind === 'lazy') return L.materialize(v.lazy, undefined);
      return undefined;
    },
  };
}
