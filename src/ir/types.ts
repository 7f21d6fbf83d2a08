/**
 * The network IR: a small typed graph in execution (topological) order.
 * Shapes exclude the batch dimension: [C, H, W] for feature maps, [F] for vectors.
 * Spaces produce it, backends consume it; nothing else knows PyTorch module names.
 */

import type { TransformerOp } from './transformer.js';

export type Shape = readonly number[];

/** Activation functions, with PyTorch's default arguments. */
export const ACTIVATIONS = [
  'relu',
  'gelu',
  'silu',
  'leaky_relu',
  'relu6',
  'mish',
  'hardswish',
  'celu',
  'elu',
  'hardtanh',
  'selu',
  'sigmoid',
  'tanh',
] as const;
export type ActivationKind = (typeof ACTIVATIONS)[number];

/** The PyTorch module class each activation kind stands for (used by the `reference` tap rule). */
export const TORCH_ACTIVATION_CLASS: Record<ActivationKind, string> = {
  relu: 'ReLU',
  gelu: 'GELU',
  silu: 'SiLU',
  leaky_relu: 'LeakyReLU',
  relu6: 'ReLU6',
  mish: 'Mish',
  hardswish: 'Hardswish',
  celu: 'CELU',
  elu: 'ELU',
  hardtanh: 'Hardtanh',
  selu: 'SELU',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
};

export interface InputOp {
  kind: 'input';
}
export interface Conv2dOp {
  kind: 'conv2d';
  inC: number;
  outC: number;
  kernel: [number, number];
  stride: [number, number];
  /** [top, left, bottom, right] */
  pad: [number, number, number, number];
  dilation: [number, number];
  groups: number;
  bias: boolean;
}
export interface BatchNormOp {
  kind: 'batchnorm';
  channels: number;
  eps: number;
  /** affine=True: learnable weight (init 1) and bias (init 0) */
  affine: boolean;
}
export interface ActivationOp {
  kind: 'activation';
  fn: ActivationKind;
  /** negative slope (leaky_relu, default 0.01) or alpha (elu / celu, default 1); PyTorch defaults when absent */
  alpha?: number;
}

/** The alpha an activation runs with (PyTorch's default when the op has none). */
export function activationAlpha(op: ActivationOp): number {
  if (op.alpha !== undefined) return op.alpha;
  return op.fn === 'leaky_relu' ? 0.01 : 1;
}
export interface PoolOp {
  kind: 'avgpool' | 'maxpool';
  kernel: [number, number];
  stride: [number, number];
  /** symmetric padding [h, w] */
  pad: [number, number];
  /** avgpool only: divide by the full window (true) or by the in-bounds count (false) */
  countIncludePad: boolean;
}
export interface AddOp {
  kind: 'add';
}
/** x * 0 (PyTorch `x.mul(0.)`), optionally subsampled by a stride and/or with another channel count. */
export interface ZeroOp {
  kind: 'zero';
}
export interface IdentityOp {
  kind: 'identity';
}
export interface GlobalAvgPoolOp {
  kind: 'global_avg_pool';
}
export interface FlattenOp {
  kind: 'flatten';
}
export interface LinearOp {
  kind: 'linear';
  inF: number;
  outF: number;
  bias: boolean;
}
export interface ResizeOp {
  kind: 'resize';
  /** PyTorch F.interpolate(mode='nearest') to [h, w] */
  size: [number, number];
}
export interface ConcatOp {
  kind: 'concat';
}
/** Slice of spatial positions: rows/cols from `start` in steps of `step` (used by factorized reductions). */
export interface SliceOp {
  kind: 'slice';
  start: [number, number];
  step: [number, number];
}

export type Op =
  | InputOp
  | Conv2dOp
  | BatchNormOp
  | ActivationOp
  | PoolOp
  | AddOp
  | ZeroOp
  | IdentityOp
  | GlobalAvgPoolOp
  | FlattenOp
  | LinearOp
  | ResizeOp
  | ConcatOp
  | SliceOp
  | TransformerOp;

export type OpKind = Op['kind'];

export interface Node {
  id: number;
  /** human-readable path, PyTorch-style (e.g. `cells.3.layers.1.op.2`) */
  name: string;
  op: Op;
  inputs: number[];
  shape: Shape;
  /**
   * How many times this node's output is an "activation output" under each tap mode.
   * `reference`: every module whose PyTorch type name contains "ReLU" (the authors' hook rule);
   * `activations`: activation functions only (the paper's description).
   * A count above 1 means several PyTorch modules produce this same tensor.
   */
  taps: { reference: number; activations: number };
  /** how many PyTorch modules this node stands for (>1 when identical ops on one input were merged) */
  instances: number;
}

export type TapMode = 'reference' | 'activations';
export const TAP_MODES: readonly TapMode[] = ['reference', 'activations'];

export interface Graph {
  /** what was built: space + arch id, for messages */
  label: string;
  nodes: Node[];
  input: number;
  /** the node whose output is the network's output (logits) */
  output: number;
  /** the node whose output is the classifier input (Y, "input of the last layer") */
  classifierInput: number;
  /** default tap mode of the space that built it */
  defaultTaps: TapMode;
}

/** One parameter tensor of a node. */
export interface ParamSpec {
  node: number;
  role: 'weight' | 'bias';
  shape: number[];
  size: number;
  /** PyTorch default init: uniform(-bound, bound), or a constant */
  init:
    | { kind: 'uniform'; bound: number }
    | { kind: 'const'; value: number }
    /** normal(0, std), optionally with one all-zero row (nn.Embedding padding_idx) */
    | { kind: 'normal'; std: number; zeroRow?: number };
}
