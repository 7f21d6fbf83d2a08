/**
 * The state of one ONNX -> IR lowering and the helpers every op uses: what each ONNX value name
 * stands for, attribute and constant readers, and errors that name the file and the node.
 */
import { GraphBuilder } from '../ir/builder.js';
import { OnnxImportError } from './errors.js';
import { type AttrValue, type OnnxModel, type OnnxNode, type OnnxTensor, DT, tensorFloats, tensorInts } from './model.js';
import type { Lazy, SymInt, Value } from './values.js';

export type BnMode = 'train' | 'eval';

export interface LowerOptions {
  source: string;
  bn: BnMode;
  resolution?: number;
}

/** The shortest decimal that rounds to the same float32 (0.009999999776 -> 0.01). */
export function niceFloat32(f: number): number {
  if (!Number.isFinite(f)) return f;
  for (let p = 1; p <= 9; p++) {
    const c = Number(f.toPrecision(p));
    if (Math.fround(c) === Math.fround(f)) return c;
  }
  return f;
}

export function near(a: number, b: number, tol = 1e-6): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}

export function fmt(dims: readonly (number | string | null)[]): string {
  return `[${dims.map((d) => (d === null ? '?' : d)).join(', ')}]`;
}

export const ACTIVATION_PATTERN_HELP = 'x*Sigmoid(x) (SiLU), x*HardSigmoid(x) (Hardswish), x*Tanh(Softplus(x)) (Mish), x*0.5*(1+Erf(x/sqrt(2))) (GELU), x*0 (zero)';

export const LAZY_HELP: Record<Lazy['op'], string> = {
  sigmoid: '',
  hardsigmoid: 'HardSigmoid is only supported as x * HardSigmoid(x) with alpha 1/6 and beta 0.5 (Hardswish)',
  softplus: 'Softplus is only supported inside Mish: x * Tanh(Softplus(x))',
  tanh_softplus: 'Tanh(Softplus(x)) is only supported inside Mish: x * Tanh(Softplus(x))',
  x_over_sqrt2: 'division by sqrt(2) is only supported inside GELU: x * 0.5 * (1 + Erf(x / sqrt(2)))',
  erf: 'Erf is only supported inside GELU: x * 0.5 * (1 + Erf(x / sqrt(2)))',
  erf_plus1: '1 + Erf(x / sqrt(2)) is only supported inside GELU: x * 0.5 * (1 + Erf(x / sqrt(2)))',
  x_erf_plus1: 'x * (1 + Erf(x / sqrt(2))) is only supported inside GELU, times 0.5',
  half_x: `Mul by the constant 0.5 is only supported inside GELU; Mul is supported in ${ACTIVATION_PATTERN_HELP}`,
};

export class Lowering {
  readonly b: GraphBuilder;
  /** the IR graph's label (IRError messages start with it) */
  readonly irLabel: string;
  /** ONNX value name -> what it stands for */
  readonly values = new Map<string, Value>();
  /** IR node id -> its weight / bias */
  readonly params = new Map<number, { weight?: Float32Array; bias?: Float32Array }>();
  /** value name -> index of the node that produces it */
  readonly producer = new Map<string, number>();
  /** value name -> how many node inputs read it */
  readonly uses = new Map<string, number>();
  readonly graphOutputs: Set<string>;
  /** ai.onnx opset version */
  readonly opset: number;
  /** nodes already lowered as part of an earlier node's pattern (the Add after a MatMul) */
  readonly fused = new Set<number>();
  readonly patterns: Record<string, number> = {};
  readonly ignored: string[] = [];
  readonly notes: string[] = [];
  batchNorms = 0;
  /** the last Gemm / MatMul so far: its input is the classifier input */
  classifier?: { input: number; inputName: string; node: OnnxNode; inF: number; outF: number };
  /** the input's declared batch dimension */
  declaredBatch: string | number | null = null;
  /** the node being lowered (errors name it) */
  current?: OnnxNode;

  constructor(
    readonly m: OnnxModel,
    readonly opts: LowerOptions,
  ) {
    this.irLabel = `onnx:${opts.source}`;
    this.b = new GraphBuilder(this.irLabel);
    this.graphOutputs = new Set(m.outputs.map((o) => o.name));
    const opset = m.opsets.get('');
    if (opset === undefined) throw this.modelError('the model imports no ai.onnx opset (opset_import)');
    this.opset = opset;
  }

  modelError(msg: string): OnnxImportError {
    return new OnnxImportError(`${this.opts.source}: ${msg}`);
  }

  label(n: OnnxNode): string {
    return `node ${n.index} '${n.name || '(unnamed)'}' (${n.domain ? `${n.domain}.` : ''}${n.opType})`;
  }

  fail(msg: string, n: OnnxNode | undefined = this.current): never {
    throw new OnnxImportError(`${this.opts.source}: ${n ? `${this.label(n)}: ` : ''}${msg}`);
  }

  irName(n: OnnxNode): string {
    return n.name || `${n.opType}_${n.index}`;
  }

  count(key: string): void {
    this.patterns[key] = (this.patterns[key] ?? 0) + 1;
  }

  attr(n: OnnxNode, name: string): AttrValue | undefined {
    return n.attrs.get(name);
  }

  attrInt(n: OnnxNode, name: string, def: number): number {
    const a = n.attrs.get(name);
    if (!a) return def;
    if (a.type !== 'int') this.fail(`attribute ${name} should be an integer`);
    return a.i;
  }

  attrFloat(n: OnnxNode, name: string, def: number): number {
    const a = n.attrs.get(name);
    if (!a) return def;
    if (a.type !== 'float') this.fail(`attribute ${name} should be a float`);
    return a.f;
  }

  attrInts(n: OnnxNode, name: string): number[] | undefined {
    const a = n.attrs.get(name);
    if (!a) return undefined;
    if (a.type !== 'ints') this.fail(`attribute ${name} should be a list of integers`);
    return a.ints;
  }

  attrString(n: OnnxNode, name: string, def: string): string {
    const a = n.attrs.get(name);
    if (!a) return def;
    if (a.type !== 'string') this.fail(`attribute ${name} should be a string`);
    return a.s;
  }

  initializerValue(t: OnnxTensor): Value {
    if (t.dataType === DT.INT64 || t.dataType === DT.INT32) {
      const v = tensorInts(t);
      if (typeof v === 'string') this.fail(`initializer '${t.name}': ${v}`);
      return { kind: 'ints', dims: t.dims, data: v };
    }
    const f = tensorFloats(t);
    if (typeof f === 'string') this.fail(`initializer '${t.name}': ${f}`);
    return { kind: 'float', dims: t.dims, data: f };
  }

  /** The value of input `name`, or fails naming the node that needed it. */
  get(name: string): Value {
    const v = this.values.get(name);
    if (v) return v;
    const t = this.m.initializers.get(name);
    if (t) {
      const iv = this.initializerValue(t);
      this.values.set(name, iv);
      return iv;
    }
    const p = this.producer.get(name);
    if (p !== undefined && this.current && p > this.current.index) {
      this.fail(`input '${name}' is produced later, by ${this.label(this.m.nodes[p]!)}: the nodes are not in topological order`);
    }
    this.fail(`input '${name}' is not a graph input, an initializer or the output of an earlier node`);
  }

  input(n: OnnxNode, i: number): Value {
    const name = n.inputs[i];
    if (name === undefined || name === '') this.fail(`input ${i} is missing`);
    return this.get(name);
  }

  optional(n: OnnxNode, i: number): Value | undefined {
    const name = n.inputs[i];
    return name === undefined || name === '' ? undefined : this.get(name);
  }

  set(n: OnnxNode, v: Value, i = 0): void {
    const name = n.outputs[i];
    if (name === undefined || name === '') return;
    this.values.set(name, v);
  }

  /** the rest of the node's outputs: must not be read */
  absent(n: OnnxNode, from: number, what: string): void {
    for (let i = from; i < n.outputs.length; i++) this.set(n, { kind: 'absent', node: n, what }, i);
  }

  /** Turn a pattern part into an IR node (a plain sigmoid) or fail: it is used outside its pattern. */
  materialize(l: Lazy, user: OnnxNode | undefined): number {
    if (l.id !== undefined) return l.id;
    if (l.op === 'sigmoid') {
      l.id = this.b.activation(this.irName(l.node), l.x, 'sigmoid');
      return l.id;
    }
    const by = user ? `; its output feeds ${this.label(user)}` : '';
    this.fail(`${LAZY_HELP[l.op]}${by}`, l.node);
  }

  /** A feature tensor (IR node), materializing pattern parts. */
  asTensor(v: Value, what: string): { id: number; squeezed: boolean } {
    switch (v.kind) {
      case 'tensor':
        return v;
      case 'lazy':
        return { id: this.materialize(v.lazy, this.current), squeezed: v.lazy.squeezed };
      case 'float':
        return this.fail(`${what} is a constant ${fmt(v.dims)}; only computed feature tensors are supported here`);
      case 'ints':
        return this.fail(`${what} is an integer (shape) value; a feature tensor is expected`);
      case 'ignored':
        return this.fail(`${what} is the output of ${this.label(v.node)}, which is only supported at the end of the network`);
      case 'absent':
        return this.fail(`${what} is the ${v.what} output of ${this.label(v.node)}, which is not supported`);
    }
  }

  tensor(n: OnnxNode, i: number): { id: number; squeezed: boolean } {
    return this.asTensor(this.input(n, i), `input ${i} ('${n.inputs[i]}')`);
  }

  /** IR shape of a tensor value (no batch) */
  irShape(id: number): readonly number[] {
    return this.b.shape(id);
  }

  /** ONNX shape (with the batch) of a tensor value */
  onnxShape(t: { id: number; squeezed: boolean }): SymInt[] {
    const s = this.irShape(t.id);
    return t.squeezed ? ['N', s[0]!, 1, 1] : ['N', ...s];
  }

  /** A [C, H, W] feature map. */
  fmap(n: OnnxNode, i: number): number {
    const t = this.tensor(n, i);
    const s = this.irShape(t.id);
    if (t.squeezed || s.length !== 3) {
      this.fail(`input ${i} has shape ${fmt(this.onnxShape(t))}; ${n.opType} is supported on 4-D feature maps [N, C, H, W] only`);
    }
    return t.id;
  }

  floatConst(n: OnnxNode, i: number, what: string): { dims: number[]; data: Float32Array } {
    const v = this.input(n, i);
    if (v.kind === 'float') return v;
    if (v.kind === 'ints') this.fail(`${what} (input ${i}, '${n.inputs[i]}') holds integers; float32 is required`);
    return this.fail(`${what} (input ${i}, '${n.inputs[i]}') must be a constant (an initializer or Constant node), not computed`);
  }

  scalarConst(n: OnnxNode, i: number, what: string): number | undefined {
    const v = this.optional(n, i);
    if (!v) return undefined;
    if (v.kind === 'ints' && v.data.length === 1 && typeof v.data[0] === 'number') return v.data[0];
    if (v.kind !== 'float' || v.data.length !== 1) this.fail(`${what} (input ${i}) must be a constant scalar`);
    return v.data[0]!;
  }

  intsConst(n: OnnxNode, i: number, what: string): { dims: number[]; data: SymInt[] } {
    const v = this.input(n, i);
    if (v.kind === 'ints') return v;
    if (v.kind === 'float') this.fail(`${what} (input ${i}) holds floats; integers are required`);
    return this.fail(`${what} (input ${i}, '${n.inputs[i]}') must be computable from constants and tensor shapes (Shape, Gather, Concat, ...)`);
  }

  numbers(n: OnnxNode, i: number, what: string): number[] {
    const v = this.intsConst(n, i, what);
    return v.data.map((d) => (d === 'N' ? this.fail(`${what} depends on the batch size`) : d));
  }

  /** axes from the attribute (old opsets) or input `i` (new ones) */
  axes(n: OnnxNode, i: number): number[] | undefined {
    const a = this.attrInts(n, 'axes');
    if (a) return a;
    return this.optional(n, i) ? this.numbers(n, i, 'axes') : undefined;
  }

  isUnused(name: string): boolean {
    return name === '' || ((this.uses.get(name) ?? 0) === 0 && !this.graphOutputs.has(name));
  }

}
