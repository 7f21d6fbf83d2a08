import { isTransformerOp, transformerFlops, transformerParamSpecs } from './transformer.js';
import type { Graph, ParamSpec, Shape, TapMode } from './types.js';

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Parameter tensors in node order, with PyTorch's default initialisation:
 * Conv2d / Linear weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a=sqrt(5)),
 * BatchNorm weight 1 and bias 0 (affine only).
 */
export function paramSpecs(g: Graph): ParamSpec[] {
  const out: ParamSpec[] = [];
  for (const n of g.nodes) {
    const op = n.op;
    if (op.kind === 'conv2d') {
      const fanIn = (op.inC / op.groups) * op.kernel[0] * op.kernel[1];
      const bound = 1 / Math.sqrt(fanIn);
      const shape = [op.outC, op.inC / op.groups, op.kernel[0], op.kernel[1]];
      out.push({ node: n.id, role: 'weight', shape, size: numel(shape), init: { kind: 'uniform', bound } });
      if (op.bias) out.push({ node: n.id, role: 'bias', shape: [op.outC], size: op.outC, init: { kind: 'uniform', bound } });
    } else if (op.kind === 'linear') {
      const bound = 1 / Math.sqrt(op.inF);
      out.push({ node: n.id, role: 'weight', shape: [op.outF, op.inF], size: op.outF * op.inF, init: { kind: 'uniform', bound } });
      if (op.bias) out.push({ node: n.id, role: 'bias', shape: [op.outF], size: op.outF, init: { kind: 'uniform', bound } });
    } else if (op.kind === 'batchnorm' && op.affine) {
      out.push({ node: n.id, role: 'weight', shape: [op.channels], size: op.channels, init: { kind: 'const', value: 1 } });
      out.push({ node: n.id, role: 'bias', shape: [op.channels], size: op.channels, init: { kind: 'const', value: 0 } });
    } else if (isTransformerOp(op)) {
      out.push(...transformerParamSpecs(n));
    }
  }
  return out;
}

/** Number of learnable parameters (what `sum(p.numel() for p in model.parameters())` gives). */
export function countParams(g: Graph): number {
  return paramSpecs(g).reduce((a, p) => a + p.size, 0);
}

/**
 * FLOPs per image in the xautodl / NAS-Bench-201 convention: multiply-accumulates of
 * Conv2d (k_h * k_w * C_in/groups * C_out per output position) and Linear (in * out),
 * plus one add per output element for a bias. Pooling, BatchNorm, activations and
 * additions are not counted (xautodl's `get_model_infos` sums Conv and Linear only).
 */
export function countFlops(g: Graph): number {
  let f = 0;
  for (const n of g.nodes) {
    const op = n.op;
    if (op.kind === 'conv2d') {
      const positions = n.shape[1]! * n.shape[2]!;
      f += positions * op.kernel[0] * op.kernel[1] * (op.inC / op.groups) * op.outC;
      if (op.bias) f += positions * op.outC;
    } else if (op.kind === 'linear') {
      f += op.inF * op.outF + (op.bias ? op.outF : 0);
    } else if (isTransformerOp(op)) {
      f += transformerFlops(n, g.nodes[n.inputs[0]!]!.shape);
    }
  }
  return f;
}

/** Tapped nodes under a tap mode, in node order, with their multiplicity. */
export function tappedNodes(g: Graph, mode: TapMode): { node: number; count: number; size: number }[] {
  const out: { node: number; count: number; size: number }[] = [];
  for (const n of g.nodes) {
    const count = n.taps[mode];
    if (count > 0) out.push({ node: n.id, count, size: numel(n.shape) });
  }
  return out;
}

/** Nodes tapped under any of the given modes, in node order. */
export function tappedUnion(g: Graph, modes: readonly TapMode[]): { node: number; counts: Record<TapMode, number>; size: number }[] {
  return g.nodes
    .filter((n) => modes.some((m) => n.taps[m] > 0))
    .map((n) => ({
      node: n.id,
      counts: { reference: modes.includes('reference') ? n.taps.reference : 0, activations: modes.includes('activations') ? n.taps.activations : 0 },
      size: numel(n.shape),
    }));
}

/** L_K: length of the activation-output vector x_i (multiplicity counted). */
export function activationLength(g: Graph, mode: TapMode): number {
  return tappedNodes(g, mode).reduce((a, t) => a + t.count * t.size, 0);
}

/** L_Q: length of the classifier-input vector y_i. */
export function classifierInputLength(g: Graph): number {
  return numel(g.nodes[g.classifierInput]!.shape);
}

export interface NetworkInfo {
  params: number;
  flops: number;
  lk: number;
  lq: number;
  taps: TapMode;
  nodes: number;
  inputShape: number[];
}

export function networkInfo(g: Graph, taps: TapMode = g.defaultTaps): NetworkInfo {
  return {
    params: countParams(g),
    flops: countFlops(g),
    lk: activationLength(g, taps),
    lq: classifierInputLength(g),
    taps,
    nodes: g.nodes.length,
    inputShape: [...g.nodes[g.input]!.shape],
  };
}

/** PyTorch activation classes that tensorwatch's counter charges one FLOP per input element. */
const TW_COUNTED_ACTIVATIONS = new Set(['relu', 'relu6', 'elu', 'leaky_relu']);

/**
 * FLOPs per image in the tensorwatch / torchstat convention (what NASLib's zero-cost `flops`
 * values use): Conv2d MACs + bias adds; Linear in*out (no bias); BatchNorm 2 per input element
 * (1 without affine); Avg/MaxPool k*k per output element; adaptive average pooling to 1x1
 * (H+1)*(W+1) per channel (its window formula); ReLU/ReLU6/ELU/LeakyReLU 1 per element, per module.
 * Other activations, additions, resizes and the zero op count nothing.
 */
export function countFlopsTensorwatch(g: Graph): number {
  let f = 0;
  for (const n of g.nodes) {
    const op = n.op;
    const inShape = n.inputs.length ? g.nodes[n.inputs[0]!]!.shape : n.shape;
    switch (op.kind) {
      case 'conv2d': {
        const positions = n.shape[1]! * n.shape[2]!;
        f += positions * op.kernel[0] * op.kernel[1] * (op.inC / op.groups) * op.outC;
        if (op.bias) f += positions * op.outC;
        break;
      }
      case 'linear':
        f += op.inF * op.outF;
        break;
      case 'batchnorm':
        f += numel(inShape) * (op.affine ? 2 : 1);
        break;
      case 'avgpool':
      case 'maxpool':
        f += numel(n.shape) * op.kernel[0] * op.kernel[1];
        break;
      case 'global_avg_pool':
        f += inShape[0]! * (inShape[1]! + 1) * (inShape[2]! + 1);
        break;
      case 'activation':
        if (TW_COUNTED_ACTIVATIONS.has(op.fn)) f += numel(inShape) * n.instances;
        break;
      default:
        break;
    }
  }
  return f;
}
