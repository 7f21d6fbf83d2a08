/**
 * IR + weights -> ONNX ModelProto bytes (opset 20, or down to 14 for portable models: Gelu, Mish and
 * the ReduceMean / Resize forms newer than the opset are written out with older ops), written with our
 * own protobuf writer.
 *
 * BatchNorm in training mode (statistics of the current input, biased variance):
 *  - `per-image`: InstanceNormalization, which is exactly BatchNorm of a batch of one image,
 *    so all N images run in one call and none sees the others;
 *  - `batch`: ReduceMean over (N, H, W), written out op by op.
 * (onnxruntime's CPU build has no BatchNormalization training_mode=1 kernel; see ARCHITECTURE.md.)
 * Taps, the classifier input and (optionally) the logits become graph outputs, named by their values.
 */
import { numel, tappedUnion } from '../../ir/analysis.js';
import { SELU } from '../../ir/activations.js';
import type { Weights } from '../../ir/init.js';
import { isTransformerOp } from '../../ir/transformer.js';
import { type Graph, type Node, TORCH_ACTIVATION_CLASS, type TapMode, activationAlpha } from '../../ir/types.js';
import type { BatchNormMode } from '../types.js';
import { ATTR, DT, F } from './fields.js';
import { type LoweringContext, lowerTransformer } from './export-transformer.js';
import type { Choice } from '../../ir/skeleton.js';
import { ProtoWriter } from './protobuf.js';
import { ACTIVATION_REPEATS_KEY, REFERENCE_TAPS_KEY } from '../../onnx-import/tap-metadata.js';
import { DOUBLE, REDUCED_Y, type ReduceConsts, type ReduceKind, type ReduceSpec, type ReduceTerm, FLT_MIN, pairMatrix, reduceNodes, reducedOutput, sumTerms } from './reduce.js';

export const OPSET = 20;
/** the oldest opset exportOnnx can write (HardSwish is opset 14) */
export const MIN_OPSET = 14;
/** metadata keys of portable models: value name -> extra `reference` / `activations` tap count */
export { ACTIVATION_REPEATS_KEY, REFERENCE_TAPS_KEY };
/** the IR version that came with the opset: 8 up to opset 18 (onnx 1.12, 1.13), 9 from 19 */
const irVersionFor = (opset: number): number => (opset >= 19 ? 9 : 8);
const FLOAT = DT.FLOAT;
const INT64 = DT.INT64;
const BOOL = DT.BOOL;

export type Attr =
  | { name: string; g: SubgraphSpec }
  | { name: string; f: number }
  | { name: string; i: number }
  | { name: string; s: string }
  | { name: string; ints: number[] }
  | { name: string; floats: number[] };

/** A subgraph (If branch): nodes and typed outputs; it reads outer-scope values by name. */
export interface SubgraphSpec {
  name: string;
  nodes: NodeSpec[];
  outputs: { name: string; elem: number }[];
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Attr[];
  name?: string;
  domain?: string;
}

export interface Initializer {
  name: string;
  dims: number[];
  type: typeof FLOAT | typeof INT64 | typeof DOUBLE | typeof BOOL;
  raw: Uint8Array;
}

function writeAttr(w: ProtoWriter, a: Attr): void {
  const A = F.Attribute;
  w.string(A.name, a.name);
  if ('g' in a) {
    const sub = a.g;
    w.message(A.g, (gw) => {
      for (const n of sub.nodes) gw.message(F.Graph.node, (nw) => writeNode(nw, n));
      gw.string(F.Graph.name, sub.name);
      for (const o of sub.outputs) gw.message(F.Graph.output, (vw) => writeValueInfo(vw, o.name, undefined, o.elem));
    });
    w.varint(A.type, ATTR.GRAPH);
  } else if ('f' in a) w.float32(A.f, a.f).varint(A.type, ATTR.FLOAT);
  else if ('i' in a) w.varint(A.i, a.i).varint(A.type, ATTR.INT);
  else if ('s' in a) w.string(A.s, a.s).varint(A.type, ATTR.STRING);
  else if ('ints' in a) {
    for (const v of a.ints) w.varint(A.ints, v);
    w.varint(A.type, ATTR.INTS);
  } else {
    for (const v of a.floats) w.float32(A.floats, v);
    w.varint(A.type, ATTR.FLOATS);
  }
}

/** One NodeProto. */
export function writeNode(w: ProtoWriter, n: NodeSpec): void {
  const N = F.Node;
  for (const i of n.inputs) w.string(N.input, i);
  for (const o of n.outputs) w.string(N.output, o);
  if (n.name) w.string(N.name, n.name);
  w.string(N.opType, n.op);
  for (const a of n.attrs ?? []) w.message(N.attribute, (aw) => writeAttr(aw, a));
  if (n.domain) w.string(N.domain, n.domain);
}

/** One TensorProto with raw_data. */
export function writeTensor(w: ProtoWriter, t: Initializer): void {
  const T = F.Tensor;
  for (const d of t.dims) w.varint(T.dims, d);
  w.varint(T.dataType, t.type);
  w.string(T.name, t.name);
  w.bytes(T.rawData, t.raw);
}

/** A ValueInfoProto of a tensor; dims: numbers are fixed, strings are symbolic (dim_param); undefined = rank unknown. */
export function writeValueInfo(w: ProtoWriter, name: string, dims: (number | string)[] | undefined, elemType: number = FLOAT): void {
  w.string(F.ValueInfo.name, name);
  w.message(F.ValueInfo.type, (tw) =>
    tw.message(F.Type.tensorType, (tt) => {
      tt.varint(F.TensorType.elemType, elemType);
      if (dims) {
        tt.message(F.TensorType.shape, (sw) => {
          for (const d of dims) sw.message(F.Shape.dim, (dw) => (typeof d === 'number' ? dw.varint(F.Dim.value, d) : dw.string(F.Dim.param, d)));
        });
      }
    }),
  );
}

export function f32bytes(a: Float32Array | number[]): Uint8Array {
  const f = a instanceof Float32Array ? a : Float32Array.from(a);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

export function i64bytes(a: number[]): Uint8Array {
  const b = new BigInt64Array(a.map((v) => BigInt(v)));
  return new Uint8Array(b.buffer);
}

export interface ExportOptions {
  taps: readonly TapMode[];
  /**
   * per-image / batch: training-mode statistics (see above);
   * inference: a standard BatchNormalization node with running mean 0 and variance 1
   * (PyTorch's fresh buffers), for a portable model other tools can read.
   */
  bn: BatchNormMode | 'inference';
  /** also expose the logits as output `logits` */
  logits?: boolean;
  /** expose the classifier input as output `q` (default true) */
  classifierInput?: boolean;
  /** expose these nodes' outputs too */
  nodes?: readonly number[];
  /** `batch` BatchNorm only: expose each BatchNorm's biased batch variance ([1, C, 1, 1] or [1, C]) */
  bnVar?: boolean;
  /**
   * Per node, one value per element instead of the [n, ...] output: sum over images i of 2^i where
   * the element is > 0 (SWAP's sample-wise activation pattern as an integer, exact in float32 for
   * n <= 24). For a batch of exactly `n` images.
   */
  signCodes?: { nodes: readonly number[]; n: number };
  /** ONNX opset to write, MIN_OPSET..OPSET (default OPSET) */
  opset?: number;
  /**
   * Feed the randomly initialised parameters (conv and linear weights and biases) at run time:
   * each becomes a graph input named by `paramInputName` (every one must be fed), so one
   * session serves every weight draw. Constant-initialised parameters (BatchNorm) stay initializers.
   * `dynamic`: every parameter, BatchNorm's too, is an input named by `dynamicParamName` with
   * symbolic dimensions, so one session serves networks that differ only in widths (per-image
   * BatchNorm only; the IR's widths are then maxima).
   */
  weightInputs?: boolean | 'dynamic';
  /**
   * Reduce the taps in the graph (see reduce.ts) for a batch of exactly `n` images: the outputs
   * are the summed per-pair vectors instead of the tapped tensors.
   */
  reduce?: { spec: ReduceSpec; n: number };
  /** choice points of a skeleton graph (ir/skeleton.ts): each becomes a balanced tree of If nodes on input `select` */
  choices?: readonly Choice[];
}

/** Graph input name of a run-time parameter (weightInputs). */
export function paramInputName(name: string, role: 'weight' | 'bias', dims: readonly number[]): string {
  return `w:${name}:${role}:${dims.join('x')}`;
}

/** Graph input name of a parameter of a dynamic-width model (weightInputs 'dynamic'). */
export function dynamicParamName(name: string, role: 'weight' | 'bias'): string {
  return `w:${name}:${role}`;
}

/** The bool input selecting branches, [sum over choices of (branches - 1)]; see selectVector. */
export const SELECT_INPUT = 'select';

export interface ExportedModel {
  bytes: Uint8Array;
  /** graph output name per tapped node id */
  tapOutputs: { node: number; counts: Record<TapMode, number>; size: number; output: string }[];
  classifierOutput?: string;
  logitsOutput?: string;
  /** graph output name per node asked for in `nodes` */
  nodeOutputs?: { node: number; size: number; output: string }[];
  /** graph output name of each BatchNorm's batch variance (`bnVar`) */
  bnVarOutputs?: { node: number; output: string }[];
  /** graph output name of each node's pattern codes (`signCodes`) */
  signCodeOutputs?: { node: number; size: number; output: string }[];
  /** weightInputs: the parameter inputs */
  paramInputs?: { name: string; dims: number[] }[];
  /** reduce: output names per kind and mode, and of the classifier input's distances */
  reducedOutputs?: { kind: ReduceKind; mode: TapMode; output: string }[];
  reducedY?: string;
  /** skeleton without reduction: per tap mode, one [N, S] output of all its tapped tensors (counts repeated) */
  rawOutputs?: { mode: TapMode; output: string }[];
}

/**
 * Layout of the `select` input: each group of choices (Choice.group; a choice without one is its
 * own group) has (branches - 1) conditions, one-hot (the last branch has none).
 */
export function selectLayout(choices: readonly Choice[]): { offsets: number[]; length: number } {
  const groupAt = new Map<string, number>();
  let length = 0;
  const offsets = choices.map((c, k) => {
    const key = c.group ?? `#${k}`;
    let o = groupAt.get(key);
    if (o === undefined) {
      o = length;
      groupAt.set(key, o);
      length += c.branches.length - 1;
    }
    return o;
  });
  return { offsets, length };
}

/** The `select` input for a choice of branches (one index per choice; choices of one group must agree). */
export function selectVector(choices: readonly Choice[], picks: readonly number[]): Uint8Array {
  if (picks.length !== choices.length) throw new Error(`skeleton has ${choices.length} choices, got ${picks.length} picks`);
  const { offsets, length } = selectLayout(choices);
  const v = new Uint8Array(length);
  const picked = new Map<number, number>();
  choices.forEach((c, k) => {
    const b = picks[k]!;
    if (!Number.isInteger(b) || b < 0 || b >= c.branches.length) throw new Error(`choice ${k}: branch ${b} out of range`);
    const o = offsets[k]!;
    if (picked.has(o) && picked.get(o) !== b) throw new Error(`choice ${k}: group ${c.group} already picked branch ${picked.get(o)}, not ${b}`);
    picked.set(o, b);
    if (b < c.branches.length - 1) v[o + b] = 1;
  });
  return v;
}

/** ONNX model of the network: weights as initializers, taps as outputs, batch dimension symbolic. */
export function exportOnnx(g: Graph, weights: Weights, opts: ExportOptions): ExportedModel {
  const opset = opts.opset ?? OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > OPSET) throw new RangeError(`ONNX opset ${opset} is not supported; use ${MIN_OPSET} to ${OPSET}`);
  const mainNodes: NodeSpec[] = [];
  /** where the current node's ONNX nodes go: the main graph, or a choice branch's subgraph */
  let nodes = mainNodes;
  const inits: Initializer[] = [];
  const graphInputs: { name: string; dims: (number | string)[]; elem: number }[] = [];
  const paramInputs: { name: string; dims: number[] }[] = [];
  const valueOf = new Map<number, string>();
  const constCache = new Map<string, string>();

  const floatConst = (vals: number[], dims: number[]): string => {
    const key = `f:${dims.join(',')}:${vals.join(',')}`;
    let name = constCache.get(key);
    if (!name) {
      name = `c${constCache.size}`;
      inits.push({ name, dims, type: FLOAT, raw: f32bytes(vals) });
      constCache.set(key, name);
    }
    return name;
  };
  const intConst = (vals: number[]): string => {
    const key = `i:${vals.join(',')}`;
    let name = constCache.get(key);
    if (!name) {
      name = `c${constCache.size}`;
      inits.push({ name, dims: [vals.length], type: INT64, raw: i64bytes(vals) });
      constCache.set(key, name);
    }
    return name;
  };
  /** ReduceMean with keepdims: axes as an input from opset 18, as an attribute before */
  const reduceMean = (input: string, axes: number[], output: string): NodeSpec =>
    opset >= 18
      ? { op: 'ReduceMean', inputs: [input, intConst(axes)], outputs: [output], attrs: [{ name: 'keepdims', i: 1 }] }
      : { op: 'ReduceMean', inputs: [input], outputs: [output], attrs: [{ name: 'axes', ints: axes }, { name: 'keepdims', i: 1 }] };
  const typedConst = (type: typeof DOUBLE | typeof INT64, vals: number[], dims: number[]): string => {
    const key = `${type}:${dims.join(',')}:${vals.join(',')}`;
    let name = constCache.get(key);
    if (!name) {
      name = `c${constCache.size}`;
      const raw = type === DOUBLE ? new Uint8Array(Float64Array.from(vals).buffer) : i64bytes(vals);
      inits.push({ name, dims, type, raw });
      constCache.set(key, name);
    }
    return name;
  };
  const dynamic = opts.weightInputs === 'dynamic';
  if (dynamic && opts.bn !== 'per-image') throw new Error(`${g.label}: dynamic widths need per-image BatchNorm, not ${opts.bn}`);
  /** declared dims of a graph output: symbolic beyond the batch when widths are dynamic */
  const outDims = (name: string, shape: readonly number[]): (number | string)[] => ['N', ...(dynamic ? shape.map((_, i) => `${name}#${i}`) : shape)];
  const param = (n: Node, role: 'weight' | 'bias', dims: number[], fallback?: number): string | undefined => {
    if (opts.weightInputs && (fallback === undefined || dynamic)) {
      // a randomly initialised parameter (dynamic: any parameter): fed per run, zeros by default
      const name = dynamic ? dynamicParamName(n.name, role) : paramInputName(n.name, role, dims);
      if (paramInputs.some((p) => p.name === name)) throw new Error(`${g.label}: two parameters named ${name}`);
      paramInputs.push({ name, dims });
      graphInputs.push({ name, dims: dynamic ? dims.map((_, i) => `${name}#${i}`) : dims, elem: FLOAT });
      return name;
    }
    const arr = weights.byNode.get(n.id)?.[role];
    if (!arr) {
      if (fallback === undefined) return undefined;
      return floatConst(new Array<number>(numel(dims)).fill(fallback), dims);
    }
    const name = `p${n.id}.${role}`;
    inits.push({ name, dims, type: FLOAT, raw: f32bytes(arr) });
    return name;
  };

  const lowering: LoweringContext = {
    weights,
    inputName: 'input',
    push: (spec) => nodes.push(spec),
    addInit: (name, dims, data) => {
      inits.push({ name, dims, type: FLOAT, raw: f32bytes(data) });
      return name;
    },
    intConst,
    floatConst,
  };

  // in-graph reduction (reduce.ts): per list of nodes, the weighted terms of each (kind, mode)
  const reduceKeys: { kind: ReduceKind; mode: TapMode; key: string }[] = [];
  for (const [kind, modes] of Object.entries(opts.reduce?.spec ?? {}) as [ReduceKind, TapMode[]][]) {
    for (const mode of modes) reduceKeys.push({ kind, mode, key: `${kind}.${mode}` });
  }
  const termsOf = new Map<NodeSpec[], Map<string, ReduceTerm[]>>();
  const addTerm = (list: NodeSpec[], key: string, t: ReduceTerm): void => {
    let m = termsOf.get(list);
    if (!m) termsOf.set(list, (m = new Map()));
    m.set(key, [...(m.get(key) ?? []), t]);
  };
  let rc: ReduceConsts | undefined;
  if (opts.reduce) {
    const n = opts.reduce.n;
    const P = (n * (n - 1)) / 2;
    rc = {
      n,
      pairMatrix: floatConst(pairMatrix(n), [P, n]),
      axis0: typedConst(INT64, [0], [1]),
      axis1: typedConst(INT64, [1], [1]),
      fzero: floatConst([0], []),
      tiny: floatConst([1e-30], []),
      tiny2: floatConst([FLT_MIN], []),
      column: typedConst(INT64, [-1, 1], [2]),
      flat: typedConst(INT64, [-1], [1]),
      zeros: typedConst(DOUBLE, new Array<number>(P).fill(0), [P]),
      count: (c) => typedConst(DOUBLE, [c], []),
    };
  }
  // a skeleton without reduction returns its taps raw: per tap mode, one [N, S] block of every
  // tapped tensor (flattened, repeated by its count) that the picked branches computed
  const choices = opts.choices ?? [];
  const rawConcat = choices.length > 0 && !opts.reduce;
  const rawKeys = rawConcat ? opts.taps.map((mode) => ({ mode, key: `raw.${mode}` })) : [];
  const combine = (terms: readonly ReduceTerm[], out: string, p: string): NodeSpec[] => {
    if (!rawConcat) return sumTerms(terms, out, p, rc!);
    if (terms.length === 0) {
      return [
        { op: 'Flatten', inputs: ['input'], outputs: [`${p}in`], attrs: [{ name: 'axis', i: 1 }] },
        { op: 'Slice', inputs: [`${p}in`, typedConst(INT64, [0], [1]), typedConst(INT64, [0], [1]), typedConst(INT64, [1], [1])], outputs: [out] },
      ];
    }
    const flat: NodeSpec[] = terms.map((t, k) => ({ op: 'Flatten', inputs: [t.value], outputs: [`${p}f${k}`], attrs: [{ name: 'axis', i: 1 }] }));
    const parts = terms.flatMap((t, k) => Array<string>(t.count).fill(`${p}f${k}`));
    return [...flat, { op: 'Concat', inputs: parts, outputs: [out], attrs: [{ name: 'axis', i: 1 }] }];
  };
  const reduceTaps = (n: Node, value: string): void => {
    if (rawConcat) {
      for (const { mode, key } of rawKeys) if (n.taps[mode] > 0) addTerm(nodes, key, { value, count: n.taps[mode] });
      return;
    }
    if (!rc) return;
    const made = new Set<ReduceKind>();
    for (const { kind, mode, key } of reduceKeys) {
      if (n.taps[mode] <= 0) continue;
      const red = `${value}.${kind}`;
      if (!made.has(kind)) {
        nodes.push(...reduceNodes(kind, value, red, `${value}.${kind}.`, rc, numel(n.shape)));
        made.add(kind);
      }
      addTerm(nodes, key, { value: red, count: n.taps[mode] });
    }
  };

  // choices (ir/skeleton.ts): branch nodes go to their own lists; the merge node becomes a tree of If nodes
  const listOf = new Map<number, NodeSpec[]>();
  const branchLists = choices.map((c) =>
    c.branches.map((b) => {
      const list: NodeSpec[] = [];
      for (let id = b.from; id < b.to; id++) listOf.set(id, list);
      return list;
    }),
  );
  const choiceAt = new Map(choices.map((c, k) => [c.merge, k]));
  const condOffset = selectLayout(choices);
  const condOffsets = condOffset.offsets;
  const conds = new Set<string>();
  if (choices.length > 0) graphInputs.push({ name: SELECT_INPUT, dims: [condOffset.length], elem: BOOL });
  const emitChoice = (k: number, out: string): void => {
    const c = choices[k]!;
    if (c.branches.length < 2) throw new Error(`${g.label}: choice ${k} has ${c.branches.length} branch(es), needs at least 2`);
    const keys = rawConcat ? rawKeys.map((r) => r.key) : reduceKeys.map((r) => r.key);
    const elem = (i: number): number => (i === 0 || rawConcat ? FLOAT : DOUBLE);
    const branchGraph = (b: number, names: string[]): SubgraphSpec => {
      const list = [...branchLists[k]![b]!];
      list.push({ op: 'Identity', inputs: [valueOf.get(c.branches[b]!.output)!], outputs: [names[0]!] });
      const terms = termsOf.get(branchLists[k]![b]!);
      keys.forEach((key, i) => list.push(...combine(terms?.get(key) ?? [], names[i + 1]!, `${names[i + 1]}.`)));
      return { name: `${out}_b${b}`, nodes: list, outputs: names.map((name, i) => ({ name, elem: elem(i) })) };
    };
    // one condition value per (group, set of branches), shared by the choices of a group: "the
    // picked branch is in the set", from the one-hot select bits (the last branch has no bit: a set
    // holding it tests that no bit of the other branches is set)
    const last = c.branches.length - 1;
    const off = condOffsets[k]!;
    const condOf = (set: readonly number[]): string => {
      const has = set.includes(last);
      const bits = has ? Array.from({ length: last }, (_, i) => i).filter((i) => !set.includes(i)) : [...set];
      const anyOf = (bs: number[]): string => {
        const name = `sel.${bs.map((i) => off + i).join('|')}`;
        if (!conds.has(name)) {
          conds.add(name);
          if (bs.length === 1) {
            mainNodes.push({ op: 'Gather', inputs: [SELECT_INPUT, typedConst(INT64, [off + bs[0]!], [])], outputs: [name], attrs: [{ name: 'axis', i: 0 }] });
          } else {
            const h = Math.ceil(bs.length / 2);
            mainNodes.push({ op: 'Or', inputs: [anyOf(bs.slice(0, h)), anyOf(bs.slice(h))], outputs: [name] });
          }
        }
        return name;
      };
      if (!has) return anyOf(bits);
      const name = `sel.not.${bits.map((i) => off + i).join('|')}`;
      if (!conds.has(name)) {
        conds.add(name);
        mainNodes.push({ op: 'Not', inputs: [anyOf(bits)], outputs: [name] });
      }
      return name;
    };
    const wrap = (t: SubgraphSpec | NodeSpec, tag: string): SubgraphSpec =>
      'nodes' in t ? t : { name: `${out}_${tag}`, nodes: [t], outputs: t.outputs.map((name, i) => ({ name, elem: elem(i) })) };
    // the branches in `set` as a balanced tree of If nodes (depth ceil(log2(size)))
    const tree = (set: readonly number[], names: string[]): SubgraphSpec | NodeSpec => {
      if (set.length === 1) return branchGraph(set[0]!, names.map((x) => `${x}@${set[0]}`));
      const left = set.slice(0, Math.floor(set.length / 2));
      const right = set.slice(left.length);
      const tag = (part: readonly number[]): string => `t${part.join('.')}`;
      return {
        op: 'If',
        inputs: [condOf(left)],
        outputs: names,
        attrs: [
          { name: 'then_branch', g: wrap(tree(left, names.map((x) => `${x}@${tag(left)}`)), tag(left)) },
          { name: 'else_branch', g: wrap(tree(right, names.map((x) => `${x}@${tag(right)}`)), tag(right)) },
        ],
      };
    };
    // "scale" branches: x itself (an empty branch) or x * 0 (a lone untapped zero node of x's
    // shape), all of one value x. Two or more are one subgraph computing x * s, s = 1 when an
    // identity branch is picked, else 0 (bit-identical to both), beside a tree of the others.
    const scaleOf = (b: number): { value: number; factor: number } | undefined => {
      const br = c.branches[b]!;
      if (br.to === br.from) return { value: br.output, factor: 1 };
      const z = g.nodes[br.from]!;
      if (br.to !== br.from + 1 || br.output !== z.id || z.op.kind !== 'zero' || z.taps.reference > 0 || z.taps.activations > 0) return undefined;
      const x = g.nodes[z.inputs[0]!]!;
      return x.shape.length === z.shape.length && x.shape.every((d, i) => d === z.shape[i]) ? { value: x.id, factor: 0 } : undefined;
    };
    const all = c.branches.map((_, b) => b);
    const scales = all.map(scaleOf);
    const scaleSet = all.filter((b) => scales[b] && scales[b]!.value === scales.find((x) => x)!.value);
    const others = all.filter((b) => !scaleSet.includes(b));
    const names = [out, ...keys.map((key) => `${out}.${key}`)];
    if (scaleSet.length < 2 || others.length === 0) {
      mainNodes.push(tree(all, names) as NodeSpec);
    } else {
      const ones = scaleSet.filter((b) => scales[b]!.factor === 1);
      let factor: string;
      if (ones.length === 0) factor = floatConst([0], []);
      else {
        factor = `${condOf(ones)}.f`;
        if (!conds.has(factor)) {
          conds.add(factor);
          mainNodes.push({ op: 'Cast', inputs: [condOf(ones)], outputs: [factor], attrs: [{ name: 'to', i: FLOAT }] });
        }
      }
      const sn = names.map((x) => `${x}@s`);
      const scaled: SubgraphSpec = {
        name: `${out}_s`,
        nodes: [
          { op: 'Mul', inputs: [valueOf.get(scales[scaleSet[0]!]!.value)!, factor], outputs: [sn[0]!] },
          ...keys.flatMap((_, i) => combine([], sn[i + 1]!, `${sn[i + 1]}.`)),
        ],
        outputs: sn.map((name, i) => ({ name, elem: elem(i) })),
      };
      mainNodes.push({
        op: 'If',
        inputs: [condOf(others)],
        outputs: names,
        attrs: [
          { name: 'then_branch', g: wrap(tree(others, names.map((x) => `${x}@o`)), 'o') },
          { name: 'else_branch', g: scaled },
        ],
      });
    }
    keys.forEach((key, i) => addTerm(mainNodes, key, { value: names[i + 1]!, count: 1 }));
  };

  for (const n of g.nodes) {
    const out = `v${n.id}`;
    nodes = listOf.get(n.id) ?? mainNodes;
    const choice = choiceAt.get(n.id);
    if (choice !== undefined) {
      emitChoice(choice, out);
      valueOf.set(n.id, out);
      reduceTaps(n, out);
      continue;
    }
    if (nodes === mainNodes && n.inputs.some((i) => listOf.has(i))) {
      throw new Error(`${g.label}: ${n.name} reads a value inside a choice branch from outside it`);
    }
    const ins = n.inputs.map((i) => valueOf.get(i)!);
    const x = ins[0]!;
    const op = n.op;
    if (isTransformerOp(op)) {
      lowerTransformer(n, ins, out, lowering);
      valueOf.set(n.id, out);
      reduceTaps(n, out);
      continue;
    }
    const emit = (spec: Omit<NodeSpec, 'outputs'> & { outputs?: string[] }): void => {
      nodes.push({ outputs: [out], name: n.name, ...spec });
    };
    switch (op.kind) {
      case 'input':
        valueOf.set(n.id, 'input');
        continue;
      case 'conv2d': {
        const wName = param(n, 'weight', [op.outC, op.inC / op.groups, op.kernel[0], op.kernel[1]])!;
        const bName = op.bias ? param(n, 'bias', [op.outC]) : undefined;
        emit({
          op: 'Conv',
          inputs: bName ? [x, wName, bName] : [x, wName],
          attrs: [
            { name: 'kernel_shape', ints: op.kernel },
            { name: 'strides', ints: op.stride },
            { name: 'pads', ints: [op.pad[0], op.pad[1], op.pad[2], op.pad[3]] },
            { name: 'dilations', ints: op.dilation },
            { name: 'group', i: op.groups },
          ],
        });
        break;
      }
      case 'batchnorm': {
        const C = op.channels;
        if (opts.bn === 'inference') {
          const s = param(n, 'weight', [C], 1)!;
          const b = param(n, 'bias', [C], 0)!;
          emit({
            op: 'BatchNormalization',
            inputs: [x, s, b, floatConst(new Array<number>(C).fill(0), [C]), floatConst(new Array<number>(C).fill(1), [C])],
            attrs: [{ name: 'epsilon', f: op.eps }],
          });
        } else if (opts.bn === 'per-image') {
          const s = param(n, 'weight', [C], 1)!;
          const b = param(n, 'bias', [C], 0)!;
          emit({ op: 'InstanceNormalization', inputs: [x, s, b], attrs: [{ name: 'epsilon', f: op.eps }] });
        } else {
          const axes = n.shape.length === 3 ? [0, 2, 3] : [0];
          const bshape = n.shape.length === 3 ? [1, C, 1, 1] : [1, C];
          const p = `v${n.id}_`;
          nodes.push(reduceMean(x, axes, `${p}mean`));
          nodes.push({ op: 'Sub', inputs: [x, `${p}mean`], outputs: [`${p}d`] });
          nodes.push({ op: 'Mul', inputs: [`${p}d`, `${p}d`], outputs: [`${p}d2`] });
          nodes.push(reduceMean(`${p}d2`, axes, `${p}var`));
          nodes.push({ op: 'Add', inputs: [`${p}var`, floatConst([op.eps], [])], outputs: [`${p}ve`] });
          nodes.push({ op: 'Sqrt', inputs: [`${p}ve`], outputs: [`${p}sd`] });
          nodes.push({ op: 'Div', inputs: [`${p}d`, `${p}sd`], outputs: [`${p}n`] });
          const s = param(n, 'weight', bshape, 1)!;
          const b = param(n, 'bias', bshape, 0)!;
          nodes.push({ op: 'Mul', inputs: [`${p}n`, s], outputs: [`${p}s`] });
          emit({ op: 'Add', inputs: [`${p}s`, b] });
        }
        break;
      }
      case 'activation':
        switch (op.fn) {
          case 'relu':
            emit({ op: 'Relu', inputs: [x] });
            break;
          case 'gelu':
            if (opset >= 20) emit({ op: 'Gelu', inputs: [x], attrs: [{ name: 'approximate', s: 'none' }] });
            else {
              // x * 0.5 * (1 + erf(x / sqrt 2)), Gelu's definition
              nodes.push({ op: 'Div', inputs: [x, floatConst([Math.SQRT2], [])], outputs: [`${out}_s`] });
              nodes.push({ op: 'Erf', inputs: [`${out}_s`], outputs: [`${out}_e`] });
              nodes.push({ op: 'Add', inputs: [`${out}_e`, floatConst([1], [])], outputs: [`${out}_a`] });
              nodes.push({ op: 'Mul', inputs: [x, `${out}_a`], outputs: [`${out}_m`] });
              emit({ op: 'Mul', inputs: [`${out}_m`, floatConst([0.5], [])] });
            }
            break;
          case 'silu':
            nodes.push({ op: 'Sigmoid', inputs: [x], outputs: [`${out}_sig`] });
            emit({ op: 'Mul', inputs: [x, `${out}_sig`] });
            break;
          case 'leaky_relu':
            emit({ op: 'LeakyRelu', inputs: [x], attrs: [{ name: 'alpha', f: activationAlpha(op) }] });
            break;
          case 'relu6':
            emit({ op: 'Clip', inputs: [x, floatConst([0], []), floatConst([6], [])] });
            break;
          case 'mish':
            if (opset >= 18) emit({ op: 'Mish', inputs: [x] });
            else {
              // x * tanh(softplus(x)), Mish's definition
              nodes.push({ op: 'Softplus', inputs: [x], outputs: [`${out}_sp`] });
              nodes.push({ op: 'Tanh', inputs: [`${out}_sp`], outputs: [`${out}_t`] });
              emit({ op: 'Mul', inputs: [x, `${out}_t`] });
            }
            break;
          case 'hardswish':
            emit({ op: 'HardSwish', inputs: [x] });
            break;
          case 'celu':
            emit({ op: 'Celu', inputs: [x], attrs: [{ name: 'alpha', f: activationAlpha(op) }] });
            break;
          case 'elu':
            emit({ op: 'Elu', inputs: [x], attrs: [{ name: 'alpha', f: activationAlpha(op) }] });
            break;
          case 'hardtanh':
            emit({ op: 'Clip', inputs: [x, floatConst([-1], []), floatConst([1], [])] });
            break;
          case 'selu':
            emit({
              op: 'Selu',
              inputs: [x],
              attrs: [
                { name: 'alpha', f: SELU.alpha },
                { name: 'gamma', f: SELU.scale },
              ],
            });
            break;
          case 'sigmoid':
            emit({ op: 'Sigmoid', inputs: [x] });
            break;
          case 'tanh':
            emit({ op: 'Tanh', inputs: [x] });
            break;
        }
        break;
      case 'avgpool':
      case 'maxpool': {
        const attrs: Attr[] = [
          { name: 'kernel_shape', ints: op.kernel },
          { name: 'strides', ints: op.stride },
          { name: 'pads', ints: [op.pad[0], op.pad[1], op.pad[0], op.pad[1]] },
        ];
        if (op.kind === 'avgpool') attrs.push({ name: 'count_include_pad', i: op.countIncludePad ? 1 : 0 });
        emit({ op: op.kind === 'avgpool' ? 'AveragePool' : 'MaxPool', inputs: [x], attrs });
        break;
      }
      case 'add':
        emit({ op: ins.length === 2 ? 'Add' : 'Sum', inputs: ins });
        break;
      case 'zero': {
        const inShape = g.nodes[n.inputs[0]!]!.shape;
        const same = inShape.length === n.shape.length && inShape.every((d, i) => d === n.shape[i]);
        if (same) {
          emit({ op: 'Mul', inputs: [x, floatConst([0], [])] });
        } else {
          if (dynamic) throw new Error(`${g.label}: ${n.name}: a zero of a new shape cannot have dynamic widths`);
          nodes.push(reduceMean(x, inShape.map((_, i) => i + 1), `${out}_m`));
          nodes.push({ op: 'Mul', inputs: [`${out}_m`, floatConst([0], [])], outputs: [`${out}_z`] });
          emit({ op: 'Expand', inputs: [`${out}_z`, intConst([1, ...n.shape])] });
        }
        break;
      }
      case 'identity':
        emit({ op: 'Identity', inputs: [x] });
        break;
      case 'global_avg_pool':
        nodes.push({ op: 'GlobalAveragePool', inputs: [x], outputs: [`${out}_g`] });
        emit({ op: 'Flatten', inputs: [`${out}_g`], attrs: [{ name: 'axis', i: 1 }] });
        break;
      case 'flatten':
        emit({ op: 'Flatten', inputs: [x], attrs: [{ name: 'axis', i: 1 }] });
        break;
      case 'linear': {
        const wName = param(n, 'weight', [op.outF, op.inF])!;
        const bName = op.bias ? param(n, 'bias', [op.outF]) : undefined;
        emit({ op: 'Gemm', inputs: bName ? [x, wName, bName] : [x, wName], attrs: [{ name: 'transB', i: 1 }] });
        break;
      }
      case 'resize': {
        const attrs: Attr[] = [
          { name: 'mode', s: 'nearest' },
          { name: 'coordinate_transformation_mode', s: 'asymmetric' },
          { name: 'nearest_mode', s: 'floor' },
        ];
        if (opset >= 18) {
          emit({ op: 'Resize', inputs: [x, '', '', intConst(op.size)], attrs: [...attrs, { name: 'axes', ints: [2, 3] }] });
        } else {
          // before opset 18 sizes name every axis: [N, C] of the input, then the new H, W
          nodes.push({ op: 'Shape', inputs: [x], outputs: [`${out}_shape`] });
          nodes.push({ op: 'Slice', inputs: [`${out}_shape`, intConst([0]), intConst([2])], outputs: [`${out}_nc`] });
          nodes.push({ op: 'Concat', inputs: [`${out}_nc`, intConst(op.size)], outputs: [`${out}_sizes`], attrs: [{ name: 'axis', i: 0 }] });
          emit({ op: 'Resize', inputs: [x, '', '', `${out}_sizes`], attrs });
        }
        break;
      }
      case 'concat':
        emit({ op: 'Concat', inputs: ins, attrs: [{ name: 'axis', i: 1 }] });
        break;
      case 'slice':
        emit({
          op: 'Slice',
          inputs: [x, intConst(op.start), intConst([2 ** 31 - 1, 2 ** 31 - 1]), intConst([2, 3]), intConst(op.step)],
        });
        break;
    }
    valueOf.set(n.id, out);
    reduceTaps(n, out);
  }
  nodes = mainNodes;

  // Graph outputs name the internal values directly (no Identity copies); a value exposed
  // twice (a tap that is also the classifier input) is one output.
  const outputs: { name: string; dims: (number | string)[]; elem?: number }[] = [];
  const exposed = new Map<number, string>();
  const expose = (node: number): string => {
    const known = exposed.get(node);
    if (known) return known;
    let name = valueOf.get(node)!;
    if (name === 'input') {
      name = `v${node}_out`;
      nodes.push({ op: 'Identity', inputs: ['input'], outputs: [name] });
    }
    exposed.set(node, name);
    outputs.push({ name, dims: outDims(name, g.nodes[node]!.shape) });
    return name;
  };
  let reducedOutputs: ExportedModel['reducedOutputs'];
  let reducedY: string | undefined;
  if (rc && opts.reduce) {
    const P = (opts.reduce.n * (opts.reduce.n - 1)) / 2;
    reducedOutputs = reduceKeys.map(({ kind, mode, key }) => {
      const output = reducedOutput(kind, mode);
      mainNodes.push(...sumTerms(termsOf.get(mainNodes)?.get(key) ?? [], output, `${output}.`, rc!));
      outputs.push({ name: output, dims: [P], elem: DOUBLE });
      return { kind, mode, output };
    });
    if (opts.classifierInput !== false) {
      reducedY = REDUCED_Y;
      mainNodes.push(...reduceNodes('distances', valueOf.get(g.classifierInput)!, REDUCED_Y, 'r.y.', rc, numel(g.nodes[g.classifierInput]!.shape)));
      outputs.push({ name: REDUCED_Y, dims: [P], elem: DOUBLE });
    }
  }
  let rawOutputs: ExportedModel['rawOutputs'];
  if (rawConcat) {
    rawOutputs = rawKeys.map(({ mode, key }) => {
      const output = key;
      mainNodes.push(...combine(termsOf.get(mainNodes)?.get(key) ?? [], output, `${output}.`));
      outputs.push({ name: output, dims: ['N', `S_${mode}`] });
      return { mode, output };
    });
  }
  const tapOutputs = rc || rawConcat ? [] : tappedUnion(g, opts.taps).map((t) => ({ ...t, output: expose(t.node) }));
  const nodeOutputs = opts.nodes?.map((node) => ({ node, size: numel(g.nodes[node]!.shape), output: expose(node) }));
  let signCodeOutputs: ExportedModel['signCodeOutputs'];
  if (opts.signCodes) {
    const { n } = opts.signCodes;
    if (!(n >= 1 && n <= 24)) throw new RangeError(`${g.label}: pattern codes need 1 to 24 images, not ${n}`);
    signCodeOutputs = opts.signCodes.nodes.map((node) => {
      const shape = g.nodes[node]!.shape;
      const pow2 = floatConst(Array.from({ length: n }, (_, i) => 2 ** i), [n, ...shape.map(() => 1)]);
      const p = `v${node}_code`;
      nodes.push({ op: 'Greater', inputs: [valueOf.get(node)!, floatConst([0], [])], outputs: [`${p}_on`] });
      nodes.push({ op: 'Where', inputs: [`${p}_on`, pow2, floatConst([0], [])], outputs: [`${p}_bits`] });
      nodes.push(
        opset >= 13
          ? { op: 'ReduceSum', inputs: [`${p}_bits`, intConst([0])], outputs: [p], attrs: [{ name: 'keepdims', i: 0 }] }
          : { op: 'ReduceSum', inputs: [`${p}_bits`], outputs: [p], attrs: [{ name: 'axes', ints: [0] }, { name: 'keepdims', i: 0 }] },
      );
      outputs.push({ name: p, dims: [...shape] });
      return { node, size: numel(shape), output: p };
    });
  }
  let bnVarOutputs: { node: number; output: string }[] | undefined;
  if (opts.bnVar) {
    if (opts.bn !== 'batch') throw new Error(`${g.label}: BatchNorm variances need batch statistics (bn: 'batch')`);
    bnVarOutputs = g.nodes
      .filter((n) => n.op.kind === 'batchnorm')
      .map((n) => {
        const output = `v${n.id}_var`;
        outputs.push({ name: output, dims: n.shape.length === 3 ? [1, n.shape[0]!, 1, 1] : [1, n.shape[0]!] });
        return { node: n.id, output };
      });
  }
  const classifierOutput = rc || opts.classifierInput === false ? undefined : expose(g.classifierInput);
  let logitsOutput: string | undefined;
  if (opts.logits) {
    logitsOutput = 'logits';
    nodes.push({ op: 'Identity', inputs: [valueOf.get(g.output)!], outputs: [logitsOutput] });
    outputs.push({ name: logitsOutput, dims: ['N', ...g.nodes[g.output]!.shape] });
  }

  const M = F.Model;
  const G = F.Graph;
  const w = new ProtoWriter();
  w.varint(M.irVersion, irVersionFor(opset));
  w.string(M.producerName, 'rbflex');
  w.message(M.graph, (gw) => {
    for (const n of mainNodes) gw.message(G.node, (nw) => writeNode(nw, n));
    gw.string(G.name, g.label.replace(/[^\w.-]+/g, '_').slice(0, 120) || 'network');
    for (const t of inits) gw.message(G.initializer, (tw) => writeTensor(tw, t));
    gw.message(G.input, (vw) => writeValueInfo(vw, 'input', [opts.reduce ? opts.reduce.n : 'N', ...g.nodes[g.input]!.shape]));
    for (const i of graphInputs) gw.message(G.input, (vw) => writeValueInfo(vw, i.name, i.dims, i.elem));
    for (const o of outputs) gw.message(G.output, (vw) => writeValueInfo(vw, o.name, o.dims, o.elem));
  });
  w.message(M.opsetImport, (ow) => ow.string(F.OpsetId.domain, '').varint(F.OpsetId.version, opset));
  if (opts.bn === 'inference') {
    // Taps the readers cannot see from the nodes, so that `rbflex score --onnx` reads this model with
    // the same taps as the native network: reference taps that are not ReLU-class activation modules
    // (e.g. ReLUConvBN outputs), and the repeats of an activation module called more than once on one
    // tensor (one IR node, `instances` > 1). Such a module is written once: a second node computing
    // the same value would be read by nothing (a dead node).
    const extra: Record<string, number> = {};
    const repeats: Record<string, number> = {};
    for (const n of g.nodes) {
      const own = n.op.kind === 'activation' && TORCH_ACTIVATION_CLASS[n.op.fn].includes('ReLU') ? n.instances : 0;
      if (n.taps.reference > own) extra[valueOf.get(n.id)!] = n.taps.reference - own;
      if (n.op.kind === 'activation' && n.instances > 1) repeats[valueOf.get(n.id)!] = n.instances - 1;
    }
    w.message(M.metadataProps, (mw) => mw.string(F.StringEntry.key, REFERENCE_TAPS_KEY).string(F.StringEntry.value, JSON.stringify(extra)));
    if (Object.keys(repeats).length > 0) {
      w.message(M.metadataProps, (mw) => mw.string(F.StringEntry.key, ACTIVATION_REPEATS_KEY).string(F.StringEntry.value, JSON.stringify(repeats)));
    }
  }
  return {
    bytes: w.finish(),
    tapOutputs,
    ...(classifierOutput ? { classifierOutput } : {}),
    ...(logitsOutput ? { logitsOutput } : {}),
    ...(nodeOutputs ? { nodeOutputs } : {}),
    ...(bnVarOutputs ? { bnVarOutputs } : {}),
    ...(signCodeOutputs ? { signCodeOutputs } : {}),
    ...(opts.weightInputs ? { paramInputs } : {}),
    ...(reducedOutputs ? { reducedOutputs } : {}),
    ...(reducedY ? { reducedY } : {}),
    ...(rawOutputs ? { rawOutputs } : {}),
  };
}
