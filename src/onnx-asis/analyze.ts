/**
 * Reads a user's ONNX graph as it is, without lowering it: which values are the activation
 * outputs (taps), which value is the classifier input, and which nodes the surgery rewrites.
 *
 * Taps are what PyTorch's activation modules output: one tap per activation node, and composites
 * that torch.onnx.export writes for one module count once at their last node: x*Sigmoid(x)
 * (SiLU), x*HardSigmoid(x) (Hardswish), x*Tanh(Softplus(x)) (Mish) and the Erf form of GELU. A
 * Sigmoid or HardSigmoid that is not part of such a pattern (a squeeze-excitation gate) is a tap
 * of its own. `reference` taps follow the authors' hook rule ("ReLU" in the module's type name):
 * Relu, LeakyRelu, PRelu and Clip(0, 6) (ReLU6), plus the values listed in rbflex's
 * `rbflex.reference_taps` metadata; `rbflex.activation_repeats` counts a module called again on
 * the same tensor (written once) once more per call.
 */
import { type OnnxModel, type OnnxNode, type OnnxTensor, tensorFloats, tensorInts } from '../onnx-import/model.js';
import { OnnxImportError } from '../onnx-import/errors.js';

export interface AsisTap {
  /** ONNX value name */
  value: string;
  /** activation (relu, silu, gelu, ...) */
  fn: string;
  /** index of the node that writes it */
  node: number;
  counts: { reference: number; activations: number };
}

export interface GraphAnalysis {
  taps: AsisTap[];
  /** recognised composites -> count */
  patterns: Record<string, number>;
  /** nodes that belong to a composite (not taps themselves) */
  internal: Set<number>;
  /** value name -> producing node index */
  producer: Map<string, number>;
  /** value name -> consuming node indices */
  consumers: Map<string, number[]>;
}

/** Single-node activations: ONNX op -> activation name, and whether "ReLU" is in the torch class name. */
const SINGLE: Record<string, { fn: string; relu: boolean }> = {
  Relu: { fn: 'relu', relu: true },
  LeakyRelu: { fn: 'leaky_relu', relu: true },
  PRelu: { fn: 'prelu', relu: true },
  Elu: { fn: 'elu', relu: false },
  Celu: { fn: 'celu', relu: false },
  Selu: { fn: 'selu', relu: false },
  Gelu: { fn: 'gelu', relu: false },
  HardSwish: { fn: 'hardswish', relu: false },
  Mish: { fn: 'mish', relu: false },
  Tanh: { fn: 'tanh', relu: false },
  Sigmoid: { fn: 'sigmoid', relu: false },
  HardSigmoid: { fn: 'hardsigmoid', relu: false },
  Softplus: { fn: 'softplus', relu: false },
  Softsign: { fn: 'softsign', relu: false },
  ThresholdedRelu: { fn: 'threshold', relu: false },
};

/** The ONNX ops that are activation taps (for messages and docs). */
export const ACTIVATION_OPS = [...Object.keys(SINGLE), 'Clip'];

const near = (a: number | undefined, b: number, tol = 1e-4): boolean => a !== undefined && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

/** the value of a one-element float or integer tensor */
function scalarOf(t: OnnxTensor): number | undefined {
  const f = tensorFloats(t);
  if (typeof f !== 'string') return f[0];
  const i = tensorInts(t);
  return typeof i === 'string' ? undefined : i[0];
}

export class GraphIndex {
  readonly producer = new Map<string, number>();
  readonly consumers = new Map<string, number[]>();
  readonly outputs: Set<string>;

  constructor(readonly m: OnnxModel) {
    this.outputs = new Set(m.outputs.map((o) => o.name));
    for (const n of m.nodes) {
      for (const o of n.outputs) if (o) this.producer.set(o, n.index);
      for (const i of n.inputs) {
        if (!i) continue;
        const l = this.consumers.get(i);
        if (l) l.push(n.index);
        else this.consumers.set(i, [n.index]);
      }
    }
  }

  node(i: number): OnnxNode {
    return this.m.nodes[i]!;
  }

  producerOf(value: string | undefined, op?: string): OnnxNode | undefined {
    if (!value) return undefined;
    const p = this.producer.get(value);
    if (p === undefined) return undefined;
    const n = this.node(p);
    return op === undefined || n.opType === op ? n : undefined;
  }

  /** the only consumer of a value (undefined when it has several, none, or is a graph output) */
  soleConsumer(value: string, op?: string): OnnxNode | undefined {
    const l = this.consumers.get(value);
    if (!l || l.length !== 1 || this.outputs.has(value)) return undefined;
    const n = this.node(l[0]!);
    return op === undefined || n.opType === op ? n : undefined;
  }

  /** a float scalar held by an initializer or a Constant node, else undefined */
  scalar(value: string | undefined): number | undefined {
    if (!value) return undefined;
    const t = this.m.initializers.get(value);
    if (t) return t.size === 1 ? scalarOf(t) : undefined;
    const c = this.producerOf(value, 'Constant');
    if (!c) return undefined;
    const a = c.attrs.get('value');
    if (a?.type === 'tensor' && a.t.size === 1) return scalarOf(a.t);
    const vf = c.attrs.get('value_float');
    return vf?.type === 'float' ? vf.f : undefined;
  }

  /** the other input of a two-input node, given one of them */
  other(n: OnnxNode, value: string): string | undefined {
    if (n.inputs[0] === value) return n.inputs[1];
    if (n.inputs[1] === value) return n.inputs[0];
    return undefined;
  }
}

function attrFloat(n: OnnxNode, name: string, def: number): number {
  const a = n.attrs.get(name);
  return a?.type === 'float' ? a.f : def;
}

function clipBounds(ix: GraphIndex, n: OnnxNode): [number | undefined, number | undefined] {
  if (n.inputs.length > 1) return [ix.scalar(n.inputs[1]), ix.scalar(n.inputs[2])];
  const lo = n.attrs.get('min');
  const hi = n.attrs.get('max');
  return [lo?.type === 'float' ? lo.f : undefined, hi?.type === 'float' ? hi.f : undefined];
}

/** x * f(x) composites ending in Mul node `mul`: the activation name and its inner nodes, or undefined. */
function mulComposite(ix: GraphIndex, mul: OnnxNode): { fn: string; inner: OnnxNode[]; pattern: string } | undefined {
  for (const [x, fx] of [
    [mul.inputs[0], mul.inputs[1]],
    [mul.inputs[1], mul.inputs[0]],
  ] as const) {
    if (!x || !fx || ix.soleConsumer(fx) !== mul) continue;
    const sig = ix.producerOf(fx, 'Sigmoid');
    if (sig && sig.inputs[0] === x) return { fn: 'silu', inner: [sig], pattern: 'x*Sigmoid(x) -> silu' };
    const hs = ix.producerOf(fx, 'HardSigmoid');
    if (hs && hs.inputs[0] === x && near(attrFloat(hs, 'alpha', 0.2), 1 / 6) && near(attrFloat(hs, 'beta', 0.5), 0.5)) {
      return { fn: 'hardswish', inner: [hs], pattern: 'x*HardSigmoid(x) -> hardswish' };
    }
    const th = ix.producerOf(fx, 'Tanh');
    const sp = th && ix.soleConsumer(th.inputs[0]!) === th ? ix.producerOf(th.inputs[0], 'Softplus') : undefined;
    if (th && sp && sp.inputs[0] === x) return { fn: 'mish', inner: [th, sp], pattern: 'x*Tanh(Softplus(x)) -> mish' };
  }
  return undefined;
}

/**
 * The end of a GELU: `inner` is Erf(x/sqrt(2)) or Tanh(...); matches 0.5 * x * (1 + inner) in the
 * orders torch writes it and returns the value that holds GELU(x), or undefined.
 */
function geluTail(ix: GraphIndex, inner: OnnxNode, x: string): string | undefined {
  const add = ix.soleConsumer(inner.outputs[0]!, 'Add');
  if (!add || !near(ix.scalar(ix.other(add, inner.outputs[0]!)), 1)) return undefined;
  const a = add.outputs[0]!;
  const m1 = ix.soleConsumer(a, 'Mul');
  if (!m1) return undefined;
  const y = ix.other(m1, a);
  const isHalf = (v: string | undefined) => near(ix.scalar(v), 0.5);
  if (y === x) {
    // (x * (1 + inner)) * 0.5
    const m2 = ix.soleConsumer(m1.outputs[0]!, 'Mul');
    return m2 && isHalf(ix.other(m2, m1.outputs[0]!)) ? m2.outputs[0] : undefined;
  }
  const hx = ix.producerOf(y, 'Mul');
  if (hx && ((hx.inputs[0] === x && isHalf(hx.inputs[1])) || (hx.inputs[1] === x && isHalf(hx.inputs[0])))) return m1.outputs[0]; // (x * 0.5) * (1 + inner)
  if (isHalf(y)) {
    // x * ((1 + inner) * 0.5)
    const m2 = ix.soleConsumer(m1.outputs[0]!, 'Mul');
    return m2 && ix.other(m2, m1.outputs[0]!) === x ? m2.outputs[0] : undefined;
  }
  return undefined;
}

/** x * c or c * x with a constant c near `k`: returns x */
function timesConst(ix: GraphIndex, n: OnnxNode | undefined, k: number): string | undefined {
  if (!n || n.opType !== 'Mul') return undefined;
  if (near(ix.scalar(n.inputs[1]), k)) return n.inputs[0];
  if (near(ix.scalar(n.inputs[0]), k)) return n.inputs[1];
  return undefined;
}

/** The Erf form of GELU around Erf node `erf`: x * 0.5 * (1 + Erf(x / sqrt(2))). */
function geluFromErf(ix: GraphIndex, erf: OnnxNode): string | undefined {
  const u = ix.producerOf(erf.inputs[0]);
  if (!u) return undefined;
  const x = u.opType === 'Div' && near(ix.scalar(u.inputs[1]), Math.SQRT2) ? u.inputs[0] : timesConst(ix, u, Math.SQRT1_2);
  return x ? geluTail(ix, erf, x) : undefined;
}

/** v = x^3: Pow(x, 3), or x * (x * x) as torch writes it */
function isCube(ix: GraphIndex, v: string | undefined, x: string): boolean {
  const p = ix.producerOf(v);
  if (!p) return false;
  if (p.opType === 'Pow') return p.inputs[0] === x && near(ix.scalar(p.inputs[1]), 3);
  if (p.opType !== 'Mul') return false;
  const sq = ix.producerOf(ix.other(p, x), 'Mul');
  return sq !== undefined && sq.inputs[0] === x && sq.inputs[1] === x;
}

/** The tanh form of GELU around Tanh node `th`: 0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3))). */
function geluFromTanh(ix: GraphIndex, th: OnnxNode): string | undefined {
  const inner = timesConst(ix, ix.producerOf(th.inputs[0]), Math.sqrt(2 / Math.PI));
  const sum = ix.producerOf(inner, 'Add');
  if (!sum) return undefined;
  for (const [x, cube] of [
    [sum.inputs[0], sum.inputs[1]],
    [sum.inputs[1], sum.inputs[0]],
  ] as const) {
    if (x && isCube(ix, timesConst(ix, ix.producerOf(cube), 0.044715), x)) return geluTail(ix, th, x);
  }
  return undefined;
}

/** Taps of a graph, in node order, with the extra reference taps of rbflex's metadata. */
export function analyzeGraph(m: OnnxModel, source: string, referenceTaps: Record<string, number> = {}, repeats: Record<string, number> = {}): GraphAnalysis & { index: GraphIndex } {
  const ix = new GraphIndex(m);
  const internal = new Set<number>();
  const patterns: Record<string, number> = {};
  /** node index -> composite tap it ends */
  const composite = new Map<number, { value: string; fn: string }>();
  const count = (p: string) => (patterns[p] = (patterns[p] ?? 0) + 1);

  for (const n of m.nodes) {
    if (n.domain !== '' && n.domain !== 'ai.onnx') continue;
    if (n.opType === 'Mul') {
      const c = mulComposite(ix, n);
      if (c) {
        for (const i of c.inner) internal.add(i.index);
        composite.set(n.index, { value: n.outputs[0]!, fn: c.fn });
        count(c.pattern);
      }
    } else if (n.opType === 'Erf' || n.opType === 'Tanh') {
      const v = n.opType === 'Erf' ? geluFromErf(ix, n) : geluFromTanh(ix, n);
      if (v !== undefined) {
        composite.set(ix.producer.get(v)!, { value: v, fn: 'gelu' });
        if (n.opType === 'Tanh') internal.add(n.index);
        count(n.opType === 'Erf' ? 'x*0.5*(1+Erf(x/sqrt(2))) -> gelu' : '0.5*x*(1+Tanh(sqrt(2/pi)*(x+0.044715*x^3))) -> gelu (tanh)');
      }
    }
  }

  const taps: AsisTap[] = [];
  const byValue = new Map<string, AsisTap>();
  const add = (value: string, fn: string, node: number, relu: boolean) => {
    const t: AsisTap = { value, fn, node, counts: { reference: relu ? 1 : 0, activations: 1 } };
    taps.push(t);
    byValue.set(value, t);
  };
  for (const n of m.nodes) {
    const c = composite.get(n.index);
    if (c) {
      add(c.value, c.fn, n.index, false);
      continue;
    }
    if (internal.has(n.index) || (n.domain !== '' && n.domain !== 'ai.onnx') || !n.outputs[0]) continue;
    const s = SINGLE[n.opType];
    if (s) add(n.outputs[0], s.fn, n.index, s.relu);
    else if (n.opType === 'Clip') {
      const [lo, hi] = clipBounds(ix, n);
      const relu6 = lo === 0 && hi === 6;
      add(n.outputs[0], relu6 ? 'relu6' : 'hardtanh', n.index, relu6);
    }
  }
  // an activation module called k more times on the same tensor: its taps count k more times
  for (const [value, k] of Object.entries(repeats)) {
    const t = byValue.get(value);
    if (!t) throw new OnnxImportError(`${source}: metadata rbflex.activation_repeats names value '${value}', which is not the output of an activation`);
    t.counts.reference += t.counts.reference * k;
    t.counts.activations += k;
  }
  for (const [value, k] of Object.entries(referenceTaps)) {
    const t = byValue.get(value);
    if (t) t.counts.reference += k;
    else {
      const p = ix.producer.get(value);
      if (p === undefined) throw new OnnxImportError(`${source}: metadata rbflex.reference_taps names value '${value}', which no node computes`);
      const tap: AsisTap = { value, fn: 'reference', node: p, counts: { reference: k, activations: 0 } };
      taps.push(tap);
      byValue.set(value, tap);
    }
  }
  taps.sort((a, b) => a.node - b.node);
  return { taps, patterns, internal, producer: ix.producer, consumers: ix.consumers, index: ix };
}

/** The classifier input: the input of the last Gemm / MatMul (the non-constant one), or undefined. */
export function lastLinearInput(m: OnnxModel): { value: string; node: OnnxNode } | undefined {
  for (let i = m.nodes.length - 1; i >= 0; i--) {
    const n = m.nodes[i]!;
    if (n.opType !== 'Gemm' && n.opType !== 'MatMul') continue;
    const [a, b] = n.inputs;
    if (a && !m.initializers.has(a)) return { value: a, node: n };
    if (b && !m.initializers.has(b)) return { value: b, node: n };
  }
  return undefined;
}
