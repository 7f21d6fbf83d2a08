/**
 * Activation derivatives in float64, matching PyTorch's backward kernels at the kinks
 * (ReLU: 0 at x = 0; ReLU6 / Hardtanh: 0 at the clip points; LeakyReLU: slope at x <= 0).
 * With `base` given, piecewise units keep the piece of `base` (the pattern is frozen): used by the
 * Hessian-vector product, where autograd's double backward treats the pieces as fixed.
 */
import { ACTIVATION_FN, SELU, erf } from '../../ir/activations.js';
import type { ActivationKind } from '../../ir/types.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** f'(x) for every activation kind; `a` is the op's alpha. */
export const ACTIVATION_GRAD: Record<ActivationKind, (x: number, a: number) => number> = {
  relu: (x) => (x > 0 ? 1 : 0),
  gelu: (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI),
  silu: (x) => {
    const s = sigmoid(x);
    return s * (1 + x * (1 - s));
  },
  leaky_relu: (x, a) => (x > 0 ? 1 : a),
  relu6: (x) => (x > 0 && x < 6 ? 1 : 0),
  mish: (x) => {
    const t = Math.tanh(softplus(x));
    return t + x * (1 - t * t) * sigmoid(x);
  },
  hardswish: (x) => (x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1),
  celu: (x, a) => (x > 0 ? 1 : Math.exp(x / a)),
  elu: (x, a) => (x > 0 ? 1 : a * Math.exp(x)),
  hardtanh: (x) => (x > -1 && x < 1 ? 1 : 0),
  selu: (x) => SELU.scale * (x > 0 ? 1 : SELU.alpha * Math.exp(x)),
  sigmoid: (x) => {
    const s = sigmoid(x);
    return s * (1 - s);
  },
  tanh: (x) => {
    const t = Math.tanh(x);
    return 1 - t * t;
  },
};

/** Units that are linear on each piece (their pattern can be frozen exactly). */
const PIECEWISE_LINEAR = new Set<ActivationKind>(['relu', 'leaky_relu', 'relu6', 'hardtanh']);

/** f(x), with the piece of `base` when the unit is piecewise linear and base is given. */
export function activate(fn: ActivationKind, a: number, x: number, base?: number): number {
  if (base !== undefined) {
    if (PIECEWISE_LINEAR.has(fn)) {
      const d = ACTIVATION_GRAD[fn](base, a);
      return ACTIVATION_FN[fn](base, a) + d * (x - base);
    }
    if (fn === 'hardswish') return base < -3 ? 0 : base <= 3 ? (x * (x + 3)) / 6 : x;
  }
  return ACTIVATION_FN[fn](x, a);
}

/** f'(x), with the piece of `base` when given. */
export function activationGrad(fn: ActivationKind, a: number, x: number, base?: number): number {
  if (base !== undefined) {
    if (PIECEWISE_LINEAR.has(fn)) return ACTIVATION_GRAD[fn](base, a);
    if (fn === 'hardswish') return base < -3 ? 0 : base <= 3 ? (2 * x + 3) / 6 : 1;
  }
  return ACTIVATION_GRAD[fn](x, a);
}
