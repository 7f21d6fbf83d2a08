/**
 * Activations and the element-wise ops around them: single-node activations, Clip as ReLU6 /
 * Hardtanh, same-shape Add / Sum, and Mul / Div / Add only as parts of activation patterns
 * (x*Sigmoid(x) -> SiLU, x*HardSigmoid(x) -> Hardswish, x*Tanh(Softplus(x)) -> Mish, the Erf form
 * of GELU) or x*0 (the zero op).
 */
import { SELU } from '../ir/activations.js';
import type { ActivationKind } from '../ir/types.js';
import { ACTIVATION_PATTERN_HELP, LAZY_HELP, type Lowering, fmt, near, niceFloat32 } from './context.js';
import type { OnnxNode } from './model.js';
import type { Value } from './values.js';

const SQRT2 = Math.SQRT2;

export function alphaOf(L: Lowering, n: OnnxNode, def: number): number | undefined {
  const a = niceFloat32(L.attrFloat(n, 'alpha', def));
  if (!Number.isFinite(a)) L.fail(`alpha ${a} is not finite`);
  return a === def ? undefined : a;
}

export function act(L: Lowering, n: OnnxNode, fn: ActivationKind, alpha?: number): void {
  const x = L.tensor(n, 0);
  L.set(n, { kind: 'tensor', id: L.b.activation(L.irName(n), x.id, fn, alpha), squeezed: x.squeezed });
}

export function actOf(L: Lowering, n: OnnxNode, x: number, squeezed: boolean, fn: ActivationKind, pattern: string): void {
  L.count(pattern);
  L.set(n, { kind: 'tensor', id: L.b.activation(L.irName(n), x, fn), squeezed });
}

export function clip(L: Lowering, n: OnnxNode): void {
  let lo: number | undefined;
  let hi: number | undefined;
  if (L.opset >= 11) {
    lo = L.scalarConst(n, 1, 'min');
    hi = L.scalarConst(n, 2, 'max');
  } else {
    const a = L.attr(n, 'min');
    const b = L.attr(n, 'max');
    lo = a ? L.attrFloat(n, 'min', 0) : undefined;
    hi = b ? L.attrFloat(n, 'max', 0) : undefined;
  }
  const show = (v: number | undefined) => (v === undefined ? 'none' : String(niceFloat32(v)));
  if (lo === 0 && hi === 6) return act(L, n, 'relu6');
  if (lo === -1 && hi === 1) return act(L, n, 'hardtanh');
  L.fail(`Clip(min=${show(lo)}, max=${show(hi)}) is not supported; only Clip(0, 6) (ReLU6) and Clip(-1, 1) (Hardtanh)`);
}

export function sameShapeTensors(L: Lowering, n: OnnxNode, vals: Value[]): { id: number; squeezed: boolean }[] {
  const ts = vals.map((v, i) => L.asTensor(v, `input ${i} ('${n.inputs[i]}')`));
  const s0 = L.onnxShape(ts[0]!);
  for (const t of ts) {
    const s = L.onnxShape(t);
    if (s.length !== s0.length || s.some((d, i) => d !== s0[i])) {
      L.fail(`${n.opType} of shapes ${fmt(s0)} and ${fmt(s)}: broadcasting is not supported, only tensors of the same shape`);
    }
  }
  return ts;
}

export function add(L: Lowering, n: OnnxNode): void {
  const a = L.input(n, 0);
  const b = L.input(n, 1);
  for (const [p, q] of [
    [a, b],
    [b, a],
  ] as const) {
    if (p.kind === 'lazy' && p.lazy.op === 'erf' && q.kind === 'float' && q.data.length === 1 && q.data[0] === 1) {
      return L.set(n, { kind: 'lazy', lazy: { ...p.lazy, op: 'erf_plus1', node: n } });
    }
  }
  if (a.kind === 'float' || b.kind === 'float') {
    L.fail('Add of a constant (a bias or broadcast term) is not supported, except for the bias of a MatMul layer');
  }
  if (a.kind === 'ints' || b.kind === 'ints') L.fail('integer arithmetic on shapes is not supported');
  const ts = sameShapeTensors(L, n, [a, b]);
  L.set(n, { kind: 'tensor', id: L.b.add_(L.irName(n), ts.map((t) => t.id)), squeezed: ts[0]!.squeezed });
}

export function sum(L: Lowering, n: OnnxNode): void {
  const vals = n.inputs.map((_, i) => L.input(n, i));
  if (vals.length === 0) L.fail('Sum of nothing');
  const ts = sameShapeTensors(L, n, vals);
  if (ts.length === 1) return L.set(n, { kind: 'tensor', id: ts[0]!.id, squeezed: ts[0]!.squeezed });
  L.set(n, { kind: 'tensor', id: L.b.add_(L.irName(n), ts.map((t) => t.id)), squeezed: ts[0]!.squeezed });
}

export function mul(L: Lowering, n: OnnxNode): void {
  const a = L.input(n, 0);
  const b = L.input(n, 1);
  const help = `Mul is only supported in ${ACTIVATION_PATTERN_HELP}`;
  if (a.kind === 'ints' || b.kind === 'ints') L.fail('integer arithmetic on shapes is not supported');
  if (a.kind === 'float' && b.kind === 'float') L.fail('Mul of two constants is not supported (no float constant folding)');
  // x * constant
  for (const [v, c] of [
    [a, b],
    [b, a],
  ] as const) {
    if (c.kind !== 'float' || v.kind === 'float') continue;
    if (c.data.length !== 1) L.fail(`Mul by a constant of shape ${fmt(c.dims)} is not supported; ${help}`);
    const k = c.data[0]!;
    if (k === 0) {
      const t = L.asTensor(v, 'input');
      L.count('x*0 -> zero');
      return L.set(n, { kind: 'tensor', id: L.b.zero(L.irName(n), t.id), squeezed: t.squeezed });
    }
    if (near(k, 0.5) && v.kind === 'lazy' && v.lazy.op === 'x_erf_plus1') {
      return actOf(L, n, v.lazy.x, v.lazy.squeezed, 'gelu', 'x*0.5*(1+Erf(x/sqrt(2))) -> gelu');
    }
    if (near(k, 0.5) && v.kind === 'tensor') {
      return L.set(n, { kind: 'lazy', lazy: { op: 'half_x', x: v.id, squeezed: v.squeezed, node: n } });
    }
    if (near(k, 1 / SQRT2) && v.kind === 'tensor') {
      return L.set(n, { kind: 'lazy', lazy: { op: 'x_over_sqrt2', x: v.id, squeezed: v.squeezed, node: n } });
    }
    if (v.kind === 'lazy') L.materialize(v.lazy, n);
    L.fail(`Mul by the constant ${niceFloat32(k)} is not supported; ${help}`);
  }
  // x * f(x)
  for (const [p, q] of [
    [a, b],
    [b, a],
  ] as const) {
    if (q.kind !== 'lazy') continue;
    const l = q.lazy;
    if (p.kind === 'tensor' && p.id === l.x) {
      if (l.op === 'sigmoid') return actOf(L, n, l.x, l.squeezed, 'silu', 'x*Sigmoid(x) -> silu');
      if (l.op === 'hardsigmoid' && l.ok) return actOf(L, n, l.x, l.squeezed, 'hardswish', 'x*HardSigmoid(x) -> hardswish');
      if (l.op === 'tanh_softplus') return actOf(L, n, l.x, l.squeezed, 'mish', 'x*Tanh(Softplus(x)) -> mish');
      if (l.op === 'erf_plus1') return L.set(n, { kind: 'lazy', lazy: { ...l, op: 'x_erf_plus1', node: n } });
    }
    if (p.kind === 'lazy' && p.lazy.op === 'half_x' && l.op === 'erf_plus1' && p.lazy.x === l.x) {
      return actOf(L, n, l.x, l.squeezed, 'gelu', 'x*0.5*(1+Erf(x/sqrt(2))) -> gelu');
    }
  }
  for (const v of [a, b]) if (v.kind === 'lazy' && v.lazy.op !== 'sigmoid') L.materialize(v.lazy, n);
  L.fail(`${help}; this Mul multiplies two different tensors`);
}

export function div(L: Lowering, n: OnnxNode): void {
  const a = L.input(n, 0);
  const b = L.input(n, 1);
  if (a.kind === 'tensor' && b.kind === 'float' && b.data.length === 1 && near(b.data[0]!, SQRT2)) {
    return L.set(n, { kind: 'lazy', lazy: { op: 'x_over_sqrt2', x: a.id, squeezed: a.squeezed, node: n } });
  }
  if (a.kind === 'ints' || b.kind === 'ints') L.fail('integer arithmetic on shapes is not supported');
  L.fail('Div is only supported inside GELU: x * 0.5 * (1 + Erf(x / sqrt(2)))');
}

export function selu(L: Lowering, n: OnnxNode): void {
  const a = L.attrFloat(n, 'alpha', SELU.alpha);
  const g = L.attrFloat(n, 'gamma', SELU.scale);
  if (!near(a, SELU.alpha) || !near(g, SELU.scale)) {
    L.fail(`Selu(alpha=${niceFloat32(a)}, gamma=${niceFloat32(g)}) is not supported; only the defaults (alpha ${SELU.alpha}, gamma ${SELU.scale})`);
  }
  act(L, n, 'selu');
}

export function gelu(L: Lowering, n: OnnxNode): void {
  const approx = L.attrString(n, 'approximate', 'none');
  if (approx !== 'none') L.fail(`Gelu(approximate='${approx}') is not supported; only the exact (erf) GELU`);
  act(L, n, 'gelu');
}

/** Tanh: an activation, or the middle of Mish when its input is Softplus(x) */
export function tanh(L: Lowering, n: OnnxNode): void {
  const v = L.input(n, 0);
  if (v.kind === 'lazy' && v.lazy.op === 'softplus') {
    return L.set(n, { kind: 'lazy', lazy: { op: 'tanh_softplus', x: v.lazy.x, squeezed: v.lazy.squeezed, node: n } });
  }
  act(L, n, 'tanh');
}

/** Sigmoid(x): held back; x * it becomes SiLU, any other use a sigmoid activation */
export function sigmoid(L: Lowering, n: OnnxNode): void {
  const x = L.tensor(n, 0);
  L.set(n, { kind: 'lazy', lazy: { op: 'sigmoid', x: x.id, squeezed: x.squeezed, node: n } });
}

/** HardSigmoid(x): only x * HardSigmoid(x) with alpha 1/6, beta 0.5 (Hardswish) */
export function hardSigmoid(L: Lowering, n: OnnxNode): void {
  const x = L.tensor(n, 0);
  const a = L.attrFloat(n, 'alpha', 0.2);
  const b = L.attrFloat(n, 'beta', 0.5);
  const ok = near(a, 1 / 6) && near(b, 0.5);
  L.set(n, { kind: 'lazy', lazy: { op: 'hardsigmoid', x: x.id, squeezed: x.squeezed, node: n, ok } });
}

export function softplus(L: Lowering, n: OnnxNode): void {
  const x = L.tensor(n, 0);
  L.set(n, { kind: 'lazy', lazy: { op: 'softplus', x: x.id, squeezed: x.squeezed, node: n } });
}

export function erf(L: Lowering, n: OnnxNode): void {
  const v = L.input(n, 0);
  if (v.kind === 'lazy' && v.lazy.op === 'x_over_sqrt2') {
    return L.set(n, { kind: 'lazy', lazy: { op: 'erf', x: v.lazy.x, squeezed: v.lazy.squeezed, node: n } });
  }
  L.fail(LAZY_HELP.erf);
}
