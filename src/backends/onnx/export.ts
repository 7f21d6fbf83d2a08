/**
 * IR + weights -> ONNX ModelProto bytes (opset 20), written with our own protobuf writer.
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
import { type Graph, type Node, TORCH_ACTIVATION_CLASS, type TapMode, activationAlpha } from '../../ir/types.js';
import type { BatchNormMode } from '../types.js';
import { ProtoWriter } from './protobuf.js';

export const OPSET = 20;
/** metadata key of portable models: value name -> extra `reference` tap count */
export const REFERENCE_TAPS_KEY = 'rbflex.reference_taps';
const IR_VERSION = 9;
const FLOAT = 1;
const INT64 = 7;

// AttributeProto.AttributeType
const A_FLOAT = 1;
const A_INT = 2;
const A_STRING = 3;
const A_FLOATS = 6;
const A_INTS = 7;

type Attr =
  | { name: string; f: number }
  | { name: string; i: number }
  | { name: string; s: string }
  | { name: string; ints: number[] }
  | { name: string; floats: number[] };

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Attr[];
  name?: string;
  domain?: string;
}

interface Initializer {
  name: string;
  dims: number[];
  type: typeof FLOAT | typeof INT64;
  raw: Uint8Array;
}

function writeAttr(w: ProtoWriter, a: Attr): void {
  w.string(1, a.name);
  if ('f' in a) w.float32(2, a.f).varint(20, A_FLOAT);
  else if ('i' in a) w.varint(3, a.i).varint(20, A_INT);
  else if ('s' in a) w.string(4, a.s).varint(20, A_STRING);
  else if ('ints' in a) {
    for (const v of a.ints) w.varint(8, v);
    w.varint(20, A_INTS);
  } else {
    for (const v of a.floats) w.float32(7, v);
    w.varint(20, A_FLOATS);
  }
}

function writeNode(w: ProtoWriter, n: NodeSpec): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const a of n.attrs ?? []) w.message(5, (aw) => writeAttr(aw, a));
  if (n.domain) w.string(7, n.domain);
}

function writeTensor(w: ProtoWriter, t: Initializer): void {
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, t.type);
  w.string(8, t.name);
  w.bytes(9, t.raw);
}

/** dims: numbers are fixed, strings are symbolic (dim_param). */
function writeValueInfo(w: ProtoWriter, name: string, dims: (number | string)[]): void {
  w.string(1, name);
  w.message(2, (tw) =>
    tw.message(1, (tt) => {
      tt.varint(1, FLOAT);
      tt.message(2, (sw) => {
        for (const d of dims) sw.message(1, (dw) => (typeof d === 'number' ? dw.varint(1, d) : dw.string(2, d)));
      });
    }),
  );
}

function f32bytes(a: Float32Array | number[]): Uint8Array {
  const f = a instanceof Float32Array ? a : Float32Array.from(a);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

function i64bytes(a: number[]): Uint8Array {
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
}

export interface ExportedModel {
  bytes: Uint8Array;
  /** graph output name per tapped node id */
  tapOutputs: { node: number; counts: Record<TapMode, number>; size: number; output: string }[];
  classifierOutput?: string;
  logitsOutput?: string;
}

/** ONNX model of the network: weights as initializers, taps as outputs, batch dimension symbolic. */
export function exportOnnx(g: Graph, weights: Weights, opts: ExportOptions): ExportedModel {
  const nodes: NodeSpec[] = [];
  const inits: Initializer[] = [];
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
  const param = (n: Node, role: 'weight' | 'bias', dims: number[], fallback?: number): string | undefined => {
    const arr = weights.byNode.get(n.id)?.[role];
    if (!arr) {
      if (fallback === undefined) return undefined;
      return floatConst(new Array<number>(numel(dims)).fill(fallback), dims);
    }
    const name = `p${n.id}.${role}`;
    inits.push({ name, dims, type: FLOAT, raw: f32bytes(arr) });
    return name;
  };

  for (const n of g.nodes) {
    const out = `v${n.id}`;
    const ins = n.inputs.map((i) => valueOf.get(i)!);
    const x = ins[0]!;
    const op = n.op;
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
          const axes = intConst(n.shape.length === 3 ? [0, 2, 3] : [0]);
          const bshape = n.shape.length === 3 ? [1, C, 1, 1] : [1, C];
          const p = `v${n.id}_`;
          nodes.push({ op: 'ReduceMean', inputs: [x, axes], outputs: [`${p}mean`], attrs: [{ name: 'keepdims', i: 1 }] });
          nodes.push({ op: 'Sub', inputs: [x, `${p}mean`], outputs: [`${p}d`] });
          nodes.push({ op: 'Mul', inputs: [`${p}d`, `${p}d`], outputs: [`${p}d2`] });
          nodes.push({ op: 'ReduceMean', inputs: [`${p}d2`, axes], outputs: [`${p}var`], attrs: [{ name: 'keepdims', i: 1 }] });
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
            emit({ op: 'Gelu', inputs: [x], attrs: [{ name: 'approximate', s: 'none' }] });
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
            emit({ op: 'Mish', inputs: [x] });
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
          const axes = intConst(inShape.map((_, i) => i + 1));
          nodes.push({ op: 'ReduceMean', inputs: [x, axes], outputs: [`${out}_m`], attrs: [{ name: 'keepdims', i: 1 }] });
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
      case 'resize':
        emit({
          op: 'Resize',
          inputs: [x, '', '', intConst(op.size)],
          attrs: [
            { name: 'mode', s: 'nearest' },
            { name: 'coordinate_transformation_mode', s: 'asymmetric' },
            { name: 'nearest_mode', s: 'floor' },
            { name: 'axes', ints: [2, 3] },
          ],
        });
        break;
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
    if (opts.bn === 'inference' && op.kind === 'activation' && n.instances > 1) {
      // portable models keep one node per PyTorch module, as torch.onnx.export would write them
      const first = nodes[nodes.length - 1]!;
      if (first.outputs[0] !== out) throw new Error(`${g.label}: activation ${n.name} lowered to several nodes; cannot repeat it`);
      for (let k = 1; k < n.instances; k++) nodes.push({ ...first, name: `${n.name}#${k}`, outputs: [`${out}_${k}`] });
    }
  }

  // Graph outputs name the internal values directly (no Identity copies); a value exposed
  // twice (a tap that is also the classifier input) is one output.
  const outputs: { name: string; dims: (number | string)[] }[] = [];
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
    outputs.push({ name, dims: ['N', ...g.nodes[node]!.shape] });
    return name;
  };
  const tapOutputs = tappedUnion(g, opts.taps).map((t) => ({ ...t, output: expose(t.node) }));
  const classifierOutput = opts.classifierInput === false ? undefined : expose(g.classifierInput);
  let logitsOutput: string | undefined;
  if (opts.logits) {
    logitsOutput = 'logits';
    nodes.push({ op: 'Identity', inputs: [valueOf.get(g.output)!], outputs: [logitsOutput] });
    outputs.push({ name: logitsOutput, dims: ['N', ...g.nodes[g.output]!.shape] });
  }

  const w = new ProtoWriter();
  w.varint(1, IR_VERSION);
  w.string(2, 'rbflex');
  w.message(7, (gw) => {
    for (const n of nodes) gw.message(1, (nw) => writeNode(nw, n));
    gw.string(2, g.label.replace(/[^\w.-]+/g, '_').slice(0, 120) || 'network');
    for (const t of inits) gw.message(5, (tw) => writeTensor(tw, t));
    gw.message(11, (vw) => writeValueInfo(vw, 'input', ['N', ...g.nodes[g.input]!.shape]));
    for (const o of outputs) gw.message(12, (vw) => writeValueInfo(vw, o.name, o.dims));
  });
  w.message(8, (ow) => ow.string(1, '').varint(2, OPSET));
  if (opts.bn === 'inference') {
    // reference taps that are not activation modules (e.g. ReLUConvBN outputs), so that
    // `rbflex score --onnx` can read this model with the same taps as the native network
    const extra: Record<string, number> = {};
    for (const n of g.nodes) {
      const own = n.op.kind === 'activation' && TORCH_ACTIVATION_CLASS[n.op.fn].includes('ReLU') ? n.instances : 0;
      if (n.taps.reference > own) extra[valueOf.get(n.id)!] = n.taps.reference - own;
    }
    w.message(14, (mw) => mw.string(1, REFERENCE_TAPS_KEY).string(2, JSON.stringify(extra)));
  }
  return { bytes: w.finish(), tapOutputs, ...(classifierOutput ? { classifierOutput } : {}), ...(logitsOutput ? { logitsOutput } : {}) };
}
