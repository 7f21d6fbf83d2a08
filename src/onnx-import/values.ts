/**
 * What an ONNX value name stands for while the graph is lowered to IR.
 */
import type { OnnxNode } from './model.js';

/** An integer of a shape vector: a number, or the symbolic batch size. */
export type SymInt = number | 'N';

/** Parts of multi-node activation patterns, held back until the pattern completes. */
export type LazyOp =
  /** Sigmoid(x): x * it is SiLU; alone it is a plain sigmoid activation */
  | 'sigmoid'
  /** HardSigmoid(x) (alpha 1/6, beta 0.5): x * it is Hardswish */
  | 'hardsigmoid'
  /** Softplus(x), Tanh(Softplus(x)): x * the latter is Mish */
  | 'softplus'
  | 'tanh_softplus'
  /** GELU, as torch.onnx writes it before opset 20: Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5) */
  | 'x_over_sqrt2'
  | 'erf'
  | 'erf_plus1'
  | 'x_erf_plus1'
  | 'half_x';

export interface Lazy {
  op: LazyOp;
  /** IR node id of the pattern's input x */
  x: number;
  squeezed: boolean;
  /** the ONNX node that produced this part */
  node: OnnxNode;
  /** HardSigmoid only: alpha and beta are those of Hardswish */
  ok?: boolean;
  /** set once materialized as an IR node */
  id?: number;
}

export type Value =
  /**
   * A feature tensor computed by IR node `id`. `squeezed`: the ONNX tensor is [N, C, 1, 1]
   * (GlobalAveragePool / ReduceMean keepdims) while the IR node holds the [C] vector.
   */
  | { kind: 'tensor'; id: number; squeezed: boolean }
  /** a float32 constant (initializer, Constant node, or folded) */
  | { kind: 'float'; dims: number[]; data: Float32Array }
  /** an integer constant, possibly holding the symbolic batch size (shape arithmetic) */
  | { kind: 'ints'; dims: number[]; data: SymInt[] }
  | { kind: 'lazy'; lazy: Lazy }
  /** Softmax / LogSoftmax output: ignored, must not feed anything */
  | { kind: 'ignored'; from: Value; node: OnnxNode }
  /** a secondary output we do not compute (Dropout mask, MaxPool indices, BN running stats) */
  | { kind: 'absent'; node: OnnxNode; what: string };
