import type { ActivationKind } from './types.js';

/** erf in float64 (Taylor series for |x| < 2, continued fraction for erfc beyond); |error| < 1e-14. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2) {
    let sum = x;
    let term = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 27) return Math.sign(x);
  // erfc(ax) = exp(-ax^2)/sqrt(pi) * 1/(ax + 1/2/(ax + 1/(ax + 3/2/(ax + ...)))) via modified Lentz
  const tiny = 1e-300;
  let f = ax;
  let C = ax;
  let D = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    D = ax + a * D;
    D = D === 0 ? tiny : 1 / D;
    C = ax + a / C;
    if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const SELU_ALPHA = 1.6732632423543772848170429303805;
const SELU_SCALE = 1.0507009873554804934193349852946;

function softplus(x: number): number {
  // log(1 + e^x) without overflow
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * The activation functions in float64. `a` is the op's alpha (leaky_relu slope, elu / celu alpha);
 * PyTorch's defaults are 0.01 and 1.
 */
export const ACTIVATION_FN: Record<ActivationKind, (x: number, a: number) => number> = {
  relu: (x) => (x > 0 ? x : 0),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  silu: (x) => x / (1 + Math.exp(-x)),
  leaky_relu: (x, a) => (x >= 0 ? x : a * x),
  relu6: (x) => Math.min(Math.max(x, 0), 6),
  mish: (x) => x * Math.tanh(softplus(x)),
  hardswish: (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
  celu: (x, a) => Math.max(0, x) + Math.min(0, a * Math.expm1(x / a)),
  elu: (x, a) => (x > 0 ? x : a * Math.expm1(x)),
  hardtanh: (x) => Math.min(Math.max(x, -1), 1),
  selu: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: (x) => Math.tanh(x),
};

export const SELU = { alpha: SELU_ALPHA, scale: SELU_SCALE };
