/**
 * Graph surgery on a user's ModelProto, at the byte level: every field we do not change is copied
 * as it is (weights are not decoded or re-encoded). Changes:
 *  - BatchNormalization -> training-mode statistics: `per-image` uses InstanceNormalization
 *    (exactly BatchNorm of a batch of one image) on 4-D inputs, and on other ranks the same node
 *    between two Reshapes ([N, C, ...] -> [N, C, L] and back); `batch` (HDA's batched pass) writes
 *    the statistics over (N, spatial) out op by op; `keep` leaves the nodes (inference mode).
 *  - Dropout -> Identity (its mask output must be unused).
 *  - The graph outputs are replaced by the values asked for (taps, classifier input, shapes);
 *    value_info is dropped (onnxruntime infers it again).
 */
import { type Attr, type Initializer, type NodeSpec, f32bytes, i64bytes, writeNode, writeTensor } from '../backends/onnx/export.js';
import { DT, F } from '../backends/onnx/fields.js';
import { ProtoWriter, decodeFields } from '../backends/onnx/protobuf.js';
import { OnnxImportError } from '../onnx-import/errors.js';
import type { OnnxModel, OnnxNode } from '../onnx-import/model.js';
import type { GraphIndex } from './analyze.js';

export type SurgeryBn = 'per-image' | 'batch' | 'keep';

export interface SurgeryPlan {
  bn: SurgeryBn;
  /** float values to expose as graph outputs */
  outputs: string[];
  /** values whose shape is exposed as an int64 output `<value>::shape` */
  shapes: string[];
}

export interface SurgeryResult {
  bytes: Uint8Array;
  /** value name -> graph output name */
  outputOf: Map<string, string>;
  /** value name -> output holding its shape */
  shapeOf: Map<string, string>;
  batchNorms: number;
  dropouts: number;
}

const PREFIX = 'rbflex_surgery_';

/** Is the value a 4-D [N, C, H, W] map, as far as we can tell without shape inference? */
function is4d(m: OnnxModel, ix: GraphIndex, value: string): boolean {
  const conv = ix.producerOf(value, 'Conv');
  if (conv) return m.initializers.get(conv.inputs[1] ?? '')?.dims.length === 4;
  const inp = m.inputs.find((i) => i.name === value);
  return inp?.dims?.length === 4;
}

export function rewriteModel(bytes: Uint8Array, m: OnnxModel, ix: GraphIndex, plan: SurgeryPlan, source: string): SurgeryResult {
  const opset = m.opsets.get('') ?? 0;
  const extraInits: Initializer[] = [];
  const consts = new Map<string, string>();
  const i64 = (vals: number[]): string => {
    const key = `i64:${vals.join(',')}`;
    let name = consts.get(key);
    if (!name) {
      name = `${PREFIX}c${consts.size}`;
      extraInits.push({ name, dims: [vals.length], type: DT.INT64, raw: i64bytes(vals) });
      consts.set(key, name);
    }
    return name;
  };
  const f32 = (v: number): string => {
    const key = `f32:${v}`;
    let name = consts.get(key);
    if (!name) {
      name = `${PREFIX}c${consts.size}`;
      extraInits.push({ name, dims: [], type: DT.FLOAT, raw: f32bytes([v]) });
      consts.set(key, name);
    }
    return name;
  };
  const reduceMean = (x: string, axes: number[], out: string): NodeSpec =>
    opset >= 18
      ? { op: 'ReduceMean', inputs: [x, i64(axes)], outputs: [out], attrs: [{ name: 'keepdims', i: 1 }] }
      : { op: 'ReduceMean', inputs: [x], outputs: [out], attrs: [{ name: 'axes', ints: axes }, { name: 'keepdims', i: 1 }] };

  const replaced = new Map<number, NodeSpec[]>();
  let batchNorms = 0;
  let dropouts = 0;
  const unusedExtra = (n: OnnxNode, from: number, what: string) => {
    for (let i = from; i < n.outputs.length; i++) {
      const o = n.outputs[i];
      if (o && ix.consumers.has(o)) {
        throw new OnnxImportError(`${source}: node ${n.index} '${n.name}' (${n.opType}): its ${what} output '${o}' is read by another node, which the scoring graph cannot keep`);
      }
    }
  };

  for (const n of m.nodes) {
    if (n.domain !== '' && n.domain !== 'ai.onnx') continue;
    if (n.opType === 'Dropout') {
      unusedExtra(n, 1, 'mask');
      replaced.set(n.index, [{ op: 'Identity', inputs: [n.inputs[0]!], outputs: [n.outputs[0]!], name: n.name }]);
      dropouts++;
    } else if (n.opType === 'BatchNormalization') {
      batchNorms++;
      const training = n.attrs.get('training_mode');
      if (plan.bn === 'keep') {
        // inference with the running statistics: a training-mode export's node loses training_mode and its extra outputs
        if (n.outputs.length > 1 || (training?.type === 'int' && training.i !== 0)) {
          unusedExtra(n, 1, 'running-statistics');
          const eps = n.attrs.get('epsilon');
          replaced.set(n.index, [
            { op: 'BatchNormalization', inputs: n.inputs.slice(0, 5), outputs: [n.outputs[0]!], name: n.name, attrs: eps?.type === 'float' ? [{ name: 'epsilon', f: eps.f }] : [] },
          ]);
        }
        continue;
      }
      unusedExtra(n, 1, 'running-statistics');
      const [x, scale, bias] = n.inputs as [string, string, string];
      const y = n.outputs[0]!;
      const epsAttr = n.attrs.get('epsilon');
      const eps = epsAttr?.type === 'float' ? epsAttr.f : 1e-5;
      const epsA: Attr = { name: 'epsilon', f: eps };
      const p = `${PREFIX}${n.index}_`;
      if (plan.bn === 'per-image') {
        if (is4d(m, ix, x)) {
          replaced.set(n.index, [{ op: 'InstanceNormalization', inputs: [x, scale, bias], outputs: [y], attrs: [epsA], name: n.name }]);
        } else {
          replaced.set(n.index, [
            { op: 'Shape', inputs: [x], outputs: [`${p}shape`] },
            { op: 'Reshape', inputs: [x, i64([0, 0, -1])], outputs: [`${p}x3`] },
            { op: 'InstanceNormalization', inputs: [`${p}x3`, scale, bias], outputs: [`${p}y3`], attrs: [epsA], name: n.name },
            { op: 'Reshape', inputs: [`${p}y3`, `${p}shape`], outputs: [y] },
          ]);
        }
      } else {
        // batch statistics over (N, spatial), per channel: on the [N, C, L] view
        replaced.set(n.index, [
          { op: 'Shape', inputs: [x], outputs: [`${p}shape`] },
          { op: 'Reshape', inputs: [x, i64([0, 0, -1])], outputs: [`${p}x3`] },
          reduceMean(`${p}x3`, [0, 2], `${p}mean`),
          { op: 'Sub', inputs: [`${p}x3`, `${p}mean`], outputs: [`${p}d`] },
          { op: 'Mul', inputs: [`${p}d`, `${p}d`], outputs: [`${p}d2`] },
          reduceMean(`${p}d2`, [0, 2], `${p}var`),
          { op: 'Add', inputs: [`${p}var`, f32(eps)], outputs: [`${p}ve`] },
          { op: 'Sqrt', inputs: [`${p}ve`], outputs: [`${p}sd`] },
          { op: 'Div', inputs: [`${p}d`, `${p}sd`], outputs: [`${p}n`] },
          { op: 'Reshape', inputs: [scale, i64([-1, 1])], outputs: [`${p}s`] },
          { op: 'Reshape', inputs: [bias, i64([-1, 1])], outputs: [`${p}b`] },
          { op: 'Mul', inputs: [`${p}n`, `${p}s`], outputs: [`${p}ns`] },
          { op: 'Add', inputs: [`${p}ns`, `${p}b`], outputs: [`${p}y3`], name: n.name },
          { op: 'Reshape', inputs: [`${p}y3`, `${p}shape`], outputs: [y] },
        ]);
      }
    }
  }

  // outputs: a graph input cannot also be an output directly, so it gets an Identity
  const inputs = new Set(m.inputs.map((i) => i.name));
  const extraNodes: NodeSpec[] = [];
  const outputOf = new Map<string, string>();
  const outs: { name: string; type: number }[] = [];
  for (const v of plan.outputs) {
    if (outputOf.has(v)) continue;
    let name = v;
    if (inputs.has(v) || m.initializers.has(v)) {
      name = `${PREFIX}out_${outs.length}`;
      extraNodes.push({ op: 'Identity', inputs: [v], outputs: [name] });
    }
    outputOf.set(v, name);
    outs.push({ name, type: DT.FLOAT });
  }
  const shapeOf = new Map<string, string>();
  for (const v of plan.shapes) {
    if (shapeOf.has(v)) continue;
    const name = `${PREFIX}shape_${shapeOf.size}`;
    extraNodes.push({ op: 'Shape', inputs: [v], outputs: [name] });
    shapeOf.set(v, name);
    outs.push({ name, type: DT.INT64 });
  }

  // nodes nothing asked for depends on are left out (a custom post-processing op need not load)
  const live = new Uint8Array(m.nodes.length);
  const stack = [...plan.outputs, ...plan.shapes];
  const seen = new Set<string>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const p = ix.producer.get(v);
    if (p === undefined || live[p]) continue;
    live[p] = 1;
    for (const i of m.nodes[p]!.inputs) if (i) stack.push(i);
    // a subgraph attribute (If / Loop / Scan) may read outer values: keep what feeds them conservatively
    if ([...m.nodes[p]!.attrs.values()].some((a) => a.type === 'other')) for (const n of m.nodes.slice(0, p)) for (const o of n.outputs) if (o) stack.push(o);
  }

  const G = F.Graph;
  const top = decodeFields(bytes, 'model');
  const w = new ProtoWriter();
  for (const f of top) {
    if (f.field !== F.Model.graph) {
      w.copy(f);
      continue;
    }
    w.message(F.Model.graph, (gw) => {
      let nodeIndex = 0;
      for (const gf of decodeFields(f.bytes!, 'graph')) {
        if (gf.field === G.node) {
          const i = nodeIndex++;
          if (!live[i]) continue;
          const r = replaced.get(i);
          if (r) for (const s of r) gw.message(G.node, (nw) => writeNode(nw, s));
          else gw.copy(gf);
        } else if (gf.field !== G.output && gf.field !== G.valueInfo) gw.copy(gf);
      }
      for (const s of extraNodes) gw.message(G.node, (nw) => writeNode(nw, s));
      for (const t of extraInits) gw.message(G.initializer, (tw) => writeTensor(tw, t));
      for (const o of outs) gw.message(G.output, (vw) => writeValueInfoNoShape(vw, o.name, o.type));
    });
  }
  return { bytes: w.finish(), outputOf, shapeOf, batchNorms, dropouts };
}

/** A tensor ValueInfoProto with an element type and no shape. */
function writeValueInfoNoShape(w: ProtoWriter, name: string, elemType: number): void {
  w.string(F.ValueInfo.name, name);
  w.message(F.ValueInfo.type, (tw) => tw.message(F.Type.tensorType, (tt) => tt.varint(F.TensorType.elemType, elemType)));
}
