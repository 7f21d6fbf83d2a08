/**
 * Gradients: a room beside the backends. A gradient backend runs the forward pass of an IR graph,
 * then its backward pass, and returns the gradients a proxy asked for. Proxies ask through
 * `GradRequest` and never know which backend answered.
 */
import type { Weights } from '../ir/init.js';
import type { Graph } from '../ir/types.js';

/** A batch of inputs, NCHW (float64 or float32 values). */
export interface GradInput {
  n: number;
  c: number;
  h: number;
  w: number;
  data: Float32Array | Float64Array;
}

/**
 * How BatchNorm behaves in the gradient pass:
 * `batch`: training mode, statistics over the batch (PyTorch `net.train()`, NASLib's default);
 * `per-image`: training mode, each image alone (as RBFleX's forward);
 * `eval`: inference mode with a fresh network's running statistics (mean 0, variance 1);
 * `off`: BatchNorm layers are removed (identity), as NASLib's `bn=False` copy does for synflow.
 */
export type GradBnMode = 'batch' | 'per-image' | 'eval' | 'off';
export const GRAD_BN_MODES: readonly GradBnMode[] = ['batch', 'per-image', 'eval', 'off'];

/**
 * The scalar whose gradient is taken:
 * `cross-entropy`: mean cross-entropy of the logits against `labels` (PyTorch `F.cross_entropy`);
 * `sum`: the sum of every logit of every image (synflow's `torch.sum(output)`, jacov's `backward(ones)`).
 */
export type Objective =
  | { kind: 'cross-entropy'; labels: Int32Array }
  | { kind: 'sum' }
  /**
   * `seed`: sum(output · grad) for a given tensor of the output's size (n x output), i.e. the
   * backward pass starts from `grad` (a vector-Jacobian product: AZ-NAS's `autograd.grad(f_out,
   * f_in, grad_outputs=g_out)`)
   */
  | { kind: 'seed'; grad: Float32Array | Float64Array };

export interface GradRequest {
  objective: Objective;
  bn: GradBnMode;
  /** run with |w| for every parameter (synflow); gradients are then those of the |w| network */
  absWeights?: boolean;
  /**
   * the backend may return the gradients divided by a positive factor exp(`GradResult.gradLogScale`)
   * to keep float32 in range (synflow's |w| networks reach sums of 1e48). Proxies that set it multiply back.
   */
  rescale?: boolean;
  /** what to return besides the loss and logits */
  wrt: {
    /** dL/dW of every parameter tensor (conv, linear, batchnorm) */
    weights?: boolean;
    /** dL/dx of the input batch */
    input?: boolean;
    /** for each conv2d / linear output z: sum over spatial positions of z * dL/dz, per (image, channel) */
    outputProducts?: boolean;
    /**
     * the Hessian-vector product H v of the objective w.r.t. conv and linear weights, v given per node
     * (GraSP). Piecewise-linear units (ReLU masks, max-pool choices) are held at the point's pattern,
     * which is what double backward through autograd computes. `'gradient'`: v is this pass's own
     * weight gradient g (GraSP's H g), computed in the same run (one pass instead of two).
     */
    hvp?: Map<number, Float32Array | Float64Array> | 'gradient';
    /**
     * also d sum(logits) / d input from the same forward pass (same images, same BatchNorm batch): a
     * second backward seeded with ones (jacov's `backward(ones)`), beside the objective's own. Saves
     * jacov its own forward pass when a cross-entropy pass runs on its images anyway.
     */
    inputOfSum?: boolean;
  };
}

/** Gradients of one parameter node. */
export interface ParamGrads {
  weight?: Float64Array | Float32Array;
  bias?: Float64Array | Float32Array;
}

export interface GradResult {
  /** the objective's value */
  loss: number;
  /** the returned gradients are the true ones divided by exp(gradLogScale) (only with `rescale`; absent = 0) */
  gradLogScale?: number;
  /** the logits, n x classes */
  logits: Float64Array | Float32Array;
  classes: number;
  weights?: Map<number, ParamGrads>;
  input?: Float64Array | Float32Array;
  /** d sum(logits) / d input (with `wrt.inputOfSum`) */
  inputOfSum?: Float64Array | Float32Array;
  /** node -> n x channels */
  outputProducts?: Map<number, Float64Array | Float32Array>;
  /** node -> H v for the conv / linear weight of that node */
  hvp?: Map<number, Float64Array | Float32Array>;
}

export interface GradBackend {
  readonly name: 'reference' | 'onnx';
  gradients(g: Graph, w: Weights, x: GradInput, req: GradRequest): Promise<GradResult>;
}

/** Raised when a backend cannot differentiate a network (an op or mode it lacks). */
export class GradUnsupportedError extends Error {
  override name = 'GradUnsupportedError';
}
