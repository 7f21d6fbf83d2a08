import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { exportOnnx } from '../src/backends/onnx/export.js';
import { ATTR, DATA_LOCATION_EXTERNAL, DT, F } from '../src/backends/onnx/fields.js';
import { ProtoWriter } from '../src/backends/onnx/protobuf.js';
import { ReferenceBackend, runGraph } from '../src/backends/reference.js';
import type { Backend, Features, ImageBatch } from '../src/backends/types.js';
import { activationLength, countParams } from '../src/ir/analysis.js';
import { initWeights } from '../src/ir/init.js';
import type { Graph, TapMode } from '../src/ir/types.js';
import { type ImportedModel, OnnxImportError, importOnnx } from '../src/onnx-import/index.js';
import { REFERENCE_GAMMAS, blocksFor } from '../src/proxies/index.js';
import { rbflexScore } from '../src/proxies/rbflex.js';
import { nb201 } from '../src/spaces/nb201.js';
import { gaussianImages, relDiff } from './helpers/fixtures.js';

// ---------------------------------------------------------------------------------------------
// A tiny ONNX writer for hand-built test models (field numbers from the shared table).

const FLOAT = DT.FLOAT;
const INT64 = DT.INT64;
const FLOAT16 = DT.FLOAT16;

interface T {
  name?: string;
  dims: number[];
  f32?: ArrayLike<number>;
  i64?: number[];
  /** write floats as float_data (field 4) instead of raw_data */
  floatData?: boolean;
  /** data_location = EXTERNAL */
  external?: boolean;
  /** write this element type with 2-byte raw data (a non-float32 weight) */
  type?: number;
}
type A = { name: string } & ({ f: number } | { i: number } | { s: string } | { ints: number[] } | { floats: number[] } | { t: T });
interface N {
  op: string;
  in: string[];
  out: string[];
  name?: string;
  attrs?: A[];
  domain?: string;
}
interface M {
  nodes: N[];
  inits?: T[];
  input?: { name: string; dims: (number | string)[] };
  outputs: string[];
  opset?: number;
  meta?: Record<string, string>;
}

function writeTensor(w: ProtoWriter, t: T): void {
  const TP = F.Tensor;
  for (const d of t.dims) w.varint(TP.dims, d);
  if (t.name) w.string(TP.name, t.name);
  if (t.external) {
    w.varint(TP.dataType, FLOAT);
    w.message(TP.externalData, (e) => e.string(F.StringEntry.key, 'location').string(F.StringEntry.value, 'weights.bin'));
    w.varint(TP.dataLocation, DATA_LOCATION_EXTERNAL);
  } else if (t.type !== undefined) {
    w.varint(TP.dataType, t.type);
    w.bytes(TP.rawData, new Uint8Array(2 * t.dims.reduce((a, b) => a * b, 1)));
  } else if (t.i64) {
    w.varint(TP.dataType, INT64);
    w.bytes(TP.rawData, new Uint8Array(new BigInt64Array(t.i64.map(BigInt)).buffer));
  } else {
    w.varint(TP.dataType, FLOAT);
    const f = Float32Array.from(t.f32 ?? []);
    if (t.floatData) w.bytes(TP.floatData, new Uint8Array(f.buffer));
    else w.bytes(TP.rawData, new Uint8Array(f.buffer));
  }
}

function writeAttr(w: ProtoWriter, a: A): void {
  const AP = F.Attribute;
  w.string(AP.name, a.name);
  if ('f' in a) w.float32(AP.f, a.f).varint(AP.type, ATTR.FLOAT);
  else if ('i' in a) w.varint(AP.i, a.i).varint(AP.type, ATTR.INT);
  else if ('s' in a) w.string(AP.s, a.s).varint(AP.type, ATTR.STRING);
  else if ('t' in a) w.message(AP.t, (tw) => writeTensor(tw, a.t)).varint(AP.type, ATTR.TENSOR);
  else if ('floats' in a) {
    for (const v of a.floats) w.float32(AP.floats, v);
    w.varint(AP.type, ATTR.FLOATS);
  } else {
    w.packedVarints(AP.ints, a.ints);
    w.varint(AP.type, ATTR.INTS);
  }
}

function valueInfo(w: ProtoWriter, name: string, dims?: (number | string)[]): void {
  w.string(F.ValueInfo.name, name);
  w.message(F.ValueInfo.type, (tw) =>
    tw.message(F.Type.tensorType, (tt) => {
      tt.varint(F.TensorType.elemType, FLOAT);
      if (dims) tt.message(F.TensorType.shape, (sw) => dims.forEach((d) => sw.message(F.Shape.dim, (dw) => (typeof d === 'number' ? dw.varint(F.Dim.value, d) : dw.string(F.Dim.param, d)))));
    }),
  );
}

function onnxModel(m: M): Uint8Array {
  const N = F.Node;
  const G = F.Graph;
  const w = new ProtoWriter();
  w.varint(F.Model.irVersion, 8);
  w.string(F.Model.producerName, 'onnx-import-test');
  w.message(F.Model.graph, (g) => {
    m.nodes.forEach((n, k) =>
      g.message(G.node, (nw) => {
        for (const i of n.in) nw.string(N.input, i);
        for (const o of n.out) nw.string(N.output, o);
        nw.string(N.name, n.name ?? `n${k}`);
        nw.string(N.opType, n.op);
        for (const a of n.attrs ?? []) nw.message(N.attribute, (aw) => writeAttr(aw, a));
        if (n.domain) nw.string(N.domain, n.domain);
      }),
    );
    g.string(G.name, 'test');
    for (const t of m.inits ?? []) g.message(G.initializer, (tw) => writeTensor(tw, t));
    const inp = m.input ?? { name: 'x', dims: ['N', 2, 4, 4] };
    g.message(G.input, (vw) => valueInfo(vw, inp.name, inp.dims));
    for (const o of m.outputs) g.message(G.output, (vw) => valueInfo(vw, o));
  });
  w.message(F.Model.opsetImport, (o) => o.string(F.OpsetId.domain, '').varint(F.OpsetId.version, m.opset ?? 13));
  for (const [k, v] of Object.entries(m.meta ?? {})) w.message(F.Model.metadataProps, (mw) => mw.string(F.StringEntry.key, k).string(F.StringEntry.value, v));
  return w.finish();
}

/** Seeded values in [-1, 1) */
function vals(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed * 7919 + 1;
  for (let i = 0; i < n; i++) {
    s = (s * 16807) % 2147483647;
    out[i] = (s / 2147483647) * 2 - 1;
  }
  return out;
}

/** Run the original model with onnxruntime and our imported graph with the float64 reference interpreter. */
async function compareWithOrt(bytes: Uint8Array, imp: ImportedModel, images: ImageBatch, pairs: [onnxOutput: string, irNode: number][]): Promise<void> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const res = await session.run({ [imp.info.input.name]: new ort.Tensor('float32', images.data, [images.n, images.c, images.h, images.w]) });
    const ours = runGraph(imp.graph, imp.weights, images, new Set(pairs.map((p) => p[1])));
    for (const [out, node] of pairs) {
      const a = res[out]!.data as Float32Array;
      const b = ours.get(node)!.data;
      assert.equal(a.length, b.length, `${out}: size`);
      const r = relDiff(a, b);
      assert.ok(r < 2e-6, `${out}: onnxruntime and the imported graph differ by ${r} (relative)`);
    }
  } finally {
    await session.release();
  }
}

function irNode(g: Graph, name: string): number {
  const n = g.nodes.find((x) => x.name === name);
  assert.ok(n, `no IR node named ${name}`);
  return n.id;
}

function expectError(bytes: Uint8Array, re: RegExp, opts: { resolution?: number; bn?: 'train' | 'eval' } = {}): void {
  assert.throws(
    () => importOnnx(bytes, { source: 'x.onnx', bn: opts.bn ?? 'train', ...(opts.resolution ? { resolution: opts.resolution } : {}) }),
    (e: unknown) => {
      assert.ok(e instanceof OnnxImportError, `expected OnnxImportError, got ${String(e)}`);
      assert.equal(e.name, 'OnnxImportError');
      assert.ok(!e.message.includes('\n'), 'one line');
      assert.ok(e.message.startsWith('x.onnx: '), `names the file: ${e.message}`);
      assert.match(e.message, re);
      return true;
    },
  );
}

/** a classifier tail: GlobalAveragePool -> Flatten -> Gemm(C -> 3) */
function head(x: string, C: number, seed = 99): { nodes: N[]; inits: T[] } {
  return {
    nodes: [
      { op: 'GlobalAveragePool', in: [x], out: ['gap'], name: 'gap' },
      { op: 'Flatten', in: ['gap'], out: ['flat'], name: 'flat', attrs: [{ name: 'axis', i: 1 }] },
      { op: 'Gemm', in: ['flat', 'fc.w', 'fc.b'], out: ['logits'], name: 'fc', attrs: [{ name: 'transB', i: 1 }] },
    ],
    inits: [
      { name: 'fc.w', dims: [3, C], f32: vals(3 * C, seed) },
      { name: 'fc.b', dims: [3], f32: vals(3, seed + 1) },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// NB201: rbflex's network -> its portable ONNX -> back: same graph, same weights, same score.

const ARCHS = [
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|',
  '|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|none~0|skip_connect~1|avg_pool_3x3~2|',
  '|avg_pool_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|',
  '|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|',
];

function score(f: Features, mode: TapMode): number {
  return rbflexScore(blocksFor(f, mode), [{ data: f.y.data, size: f.y.size, count: 1 }], f.n, REFERENCE_GAMMAS.gammaK, REFERENCE_GAMMAS.gammaQ).score;
}

async function roundTrip(arch: string, backends: Backend[]): Promise<void> {
  const g = nb201.build(arch);
  const w = initWeights(g, `onnx-import/${arch}`);
  const bytes = exportOnnx(g, w, { taps: [], bn: 'inference', logits: true, classifierInput: false }).bytes;
  const imp = importOnnx(bytes, { source: 'nb201.onnx', bn: 'train' });
  const h = imp.graph;
  // the same IR, node for node
  const sig = (x: Graph) => x.nodes.map((n) => ({ op: n.op, inputs: n.inputs, shape: n.shape, taps: n.taps, instances: n.instances }));
  assert.deepEqual(sig(h), sig(g), `${arch}: imported graph differs`);
  assert.equal(h.classifierInput, g.classifierInput);
  assert.equal(h.output, g.output);
  assert.equal(h.defaultTaps, 'reference');
  assert.equal(imp.info.defaultTaps, 'reference');
  assert.equal(countParams(h), countParams(g));
  assert.equal(imp.info.params, countParams(g));
  for (const mode of ['reference', 'activations'] as const) assert.equal(activationLength(h, mode), activationLength(g, mode), `${arch}: L_K ${mode}`);
  for (const p of w.specs) assert.deepEqual(imp.weights.byNode.get(p.node)?.[p.role], w.byNode.get(p.node)?.[p.role]);
  const images = gaussianImages(3, 32, 'onnx-import');
  for (const be of backends) {
    const opts = { taps: ['reference', 'activations'] as const, bn: 'per-image' as const };
    const a = await be.forward(g, w, images, opts);
    const b = await be.forward(h, imp.weights, images, opts);
    for (const mode of ['reference', 'activations'] as const) {
      const sa = score(a, mode);
      const sb = score(b, mode);
      assert.ok(Number.isFinite(sa), `${arch}: native score ${sa}`);
      assert.ok(Math.abs(sa - sb) <= 1e-3, `${arch} (${be.name}, ${mode}): native ${sa}, imported ${sb}`);
    }
    // in fact the features are the same numbers
    assert.equal(b.x.length, a.x.length);
    a.x.forEach((s, i) => assert.ok(relDiff(s.data, b.x[i]!.data) === 0, `${arch} (${be.name}): tap ${i} differs`));
    assert.ok(relDiff(a.y.data, b.y.data) === 0);
  }
}

test('NB201 exported by rbflex and imported back: same graph, params, L_K and RBFleX score (onnx backend, 4 archs)', async () => {
  for (const arch of ARCHS) await roundTrip(arch, [new OnnxBackend()]);
});

test('NB201 round trip on the float64 reference backend', async () => {
  await roundTrip(ARCHS[3]!, [new ReferenceBackend()]);
});

test('eval-mode import folds the running statistics into the model', () => {
  // our own exporter writes running mean 0 / var 1: eval-mode BN is gamma * x / sqrt(1 + eps) + beta
  const g = nb201.build(ARCHS[1]!);
  const w = initWeights(g, 'eval');
  const bytes = exportOnnx(g, w, { taps: [], bn: 'inference', logits: true, classifierInput: false }).bytes;
  const imp = importOnnx(bytes, { source: 'nb201.onnx', bn: 'eval' });
  assert.equal(countParams(imp.graph), countParams(g), 'BN folded into depthwise conv: still 2C parameters');
  assert.equal(imp.graph.nodes.filter((n) => n.op.kind === 'batchnorm').length, 0);
  assert.equal(imp.info.batchNorms, g.nodes.filter((n) => n.op.kind === 'batchnorm').length);
});

// ---------------------------------------------------------------------------------------------
// Hand-built models

test('BatchNormalization: eval mode folds into a depthwise 1x1 conv (s = gamma/sqrt(var+eps), t = beta - mean*s); train mode keeps scale and bias', async () => {
  const C = 2;
  const gamma = [1.5, -0.7];
  const beta = [0.25, 2];
  const mean = [0.3, -1.2];
  const variance = [2.5, 0.04];
  const eps = 1e-3;
  const h = head('r', C);
  const bytes = onnxModel({
    nodes: [
      { op: 'BatchNormalization', in: ['x', 'g', 'b', 'm', 'v'], out: ['bn'], name: 'bn', attrs: [{ name: 'epsilon', f: eps }] },
      { op: 'Relu', in: ['bn'], out: ['r'], name: 'relu' },
      ...h.nodes,
    ],
    inits: [
      { name: 'g', dims: [C], f32: gamma },
      { name: 'b', dims: [C], f32: beta, floatData: true },
      { name: 'm', dims: [C], f32: mean },
      { name: 'v', dims: [C], f32: variance },
      ...h.inits,
    ],
    outputs: ['logits', 'bn'],
  });
  const ev = importOnnx(bytes, { source: 'bn.onnx', bn: 'eval' });
  const node = ev.graph.nodes[irNode(ev.graph, 'bn')]!;
  assert.deepEqual(node.op, { kind: 'conv2d', inC: C, outC: C, kernel: [1, 1], stride: [1, 1], pad: [0, 0, 0, 0], dilation: [1, 1], groups: C, bias: true });
  const p = ev.weights.byNode.get(node.id)!;
  for (let c = 0; c < C; c++) {
    const f = Math.fround;
    const s = f(gamma[c]!) / Math.sqrt(f(variance[c]!) + f(eps));
    const t = f(beta[c]!) - f(mean[c]!) * s;
    assert.ok(Math.abs(p.weight![c]! - s) <= 1e-6 * Math.abs(s), `scale ${c}: ${p.weight![c]} vs ${s}`);
    assert.ok(Math.abs(p.bias![c]! - t) <= 1e-6 * Math.max(1, Math.abs(t)), `shift ${c}: ${p.bias![c]} vs ${t}`);
  }
  assert.equal(ev.info.params, 2 * C + 3 * C + 3);
  assert.equal(ev.info.classifier.inputValue, 'flat');
  assert.equal(ev.graph.classifierInput, irNode(ev.graph, 'gap'));
  // and it computes what onnxruntime computes with the inference-mode model
  await compareWithOrt(bytes, ev, gaussianImages(2, 4, 'bn', C), [
    ['bn', node.id],
    ['logits', irNode(ev.graph, 'fc')],
  ]);

  const tr = importOnnx(bytes, { source: 'bn.onnx', bn: 'train' });
  const bn = tr.graph.nodes[irNode(tr.graph, 'bn')]!;
  assert.deepEqual(bn.op, { kind: 'batchnorm', channels: C, eps: 0.001, affine: true });
  assert.deepEqual([...tr.weights.byNode.get(bn.id)!.weight!], gamma.map(Math.fround));
  assert.deepEqual([...tr.weights.byNode.get(bn.id)!.bias!], beta.map(Math.fround));
  assert.equal(tr.info.params, ev.info.params);
});

test('activation patterns: x*Sigmoid(x) either order, x*HardSigmoid(x), Mish, GELU as Erf, Clip, plain Sigmoid; taps per mode; Softmax ignored', async () => {
  const C = 2;
  const h = head('ap', C, 5);
  const nodes: N[] = [
    { op: 'Conv', in: ['x', 'w1', 'b1'], out: ['a'], name: 'conv1', attrs: [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'pads', ints: [1, 1, 1, 1] }] },
    { op: 'Sigmoid', in: ['a'], out: ['sa'], name: 'sig1' },
    { op: 'Mul', in: ['a', 'sa'], out: ['silu1'], name: 'silu1' },
    { op: 'Sigmoid', in: ['silu1'], out: ['s2'], name: 'sig2' },
    { op: 'Mul', in: ['s2', 'silu1'], out: ['silu2'], name: 'silu2' },
    { op: 'HardSigmoid', in: ['silu2'], out: ['hs'], name: 'hsig', attrs: [{ name: 'alpha', f: 1 / 6 }] },
    { op: 'Mul', in: ['silu2', 'hs'], out: ['hsw'], name: 'hswish' },
    { op: 'Softplus', in: ['hsw'], out: ['sp'], name: 'softplus' },
    { op: 'Tanh', in: ['sp'], out: ['tsp'], name: 'tanh_sp' },
    { op: 'Mul', in: ['hsw', 'tsp'], out: ['mish'], name: 'mish' },
    { op: 'Div', in: ['mish', 'sqrt2'], out: ['d'], name: 'gelu_div' },
    { op: 'Erf', in: ['d'], out: ['e'], name: 'gelu_erf' },
    { op: 'Add', in: ['e', 'one'], out: ['e1'], name: 'gelu_add' },
    { op: 'Mul', in: ['mish', 'e1'], out: ['xe'], name: 'gelu_mul' },
    { op: 'Mul', in: ['xe', 'half'], out: ['gelu'], name: 'gelu' },
    { op: 'Clip', in: ['gelu', 'zero', 'six'], out: ['r6'], name: 'relu6' },
    { op: 'LeakyRelu', in: ['r6'], out: ['lr'], name: 'leaky', attrs: [{ name: 'alpha', f: 0.2 }] },
    { op: 'Sigmoid', in: ['lr'], out: ['sig'], name: 'sigmoid' },
    { op: 'Conv', in: ['sig', 'w2'], out: ['c2'], name: 'conv2', attrs: [{ name: 'group', i: 2 }] },
    { op: 'Clip', in: ['c2', 'mone', 'one'], out: ['ht'], name: 'hardtanh' },
    { op: 'Elu', in: ['ht'], out: ['elu'], name: 'elu', attrs: [{ name: 'alpha', f: 0.5 }] },
    { op: 'Selu', in: ['elu'], out: ['selu'], name: 'selu' },
    { op: 'Celu', in: ['selu'], out: ['celu'], name: 'celu', attrs: [{ name: 'alpha', f: 2 }] },
    { op: 'Tanh', in: ['celu'], out: ['th'], name: 'tanh' },
    { op: 'Relu', in: ['th'], out: ['r'], name: 'relu' },
    { op: 'Relu', in: ['th'], out: ['r_again'], name: 'relu_again' },
    { op: 'MaxPool', in: ['r'], out: ['mp'], name: 'mp', attrs: [{ name: 'kernel_shape', ints: [2, 2] }, { name: 'strides', ints: [2, 2] }] },
    {
      op: 'AveragePool',
      in: ['mp'],
      out: ['ap'],
      name: 'ap',
      attrs: [{ name: 'kernel_shape', ints: [3, 3] }, { name: 'pads', ints: [1, 1, 1, 1] }, { name: 'count_include_pad', i: 1 }],
    },
    ...h.nodes,
    { op: 'Softmax', in: ['logits'], out: ['prob'], name: 'softmax', attrs: [{ name: 'axis', i: 1 }] },
  ];
  const scalar = (name: string, v: number): T => ({ name, dims: [], f32: [v] });
  const bytes = onnxModel({
    nodes,
    inits: [
      { name: 'w1', dims: [C, C, 3, 3], f32: vals(C * C * 9, 1) },
      { name: 'b1', dims: [C], f32: vals(C, 2) },
      { name: 'w2', dims: [C, 1, 1, 1], f32: [1.7, -2.1] },
      scalar('sqrt2', Math.SQRT2),
      scalar('one', 1),
      scalar('mone', -1),
      scalar('half', 0.5),
      scalar('zero', 0),
      scalar('six', 6),
      ...h.inits,
    ],
    outputs: ['prob', 'logits', 'celu', 'ap'],
  });
  const imp = importOnnx(bytes, { source: 'acts.onnx', bn: 'train' });
  const acts = imp.graph.nodes.filter((n) => n.op.kind === 'activation');
  assert.deepEqual(
    acts.map((n) => (n.op.kind === 'activation' ? `${n.op.fn}${n.op.alpha !== undefined ? `(${n.op.alpha})` : ''}x${n.instances}` : '')),
    ['silux1', 'silux1', 'hardswishx1', 'mishx1', 'gelux1', 'relu6x1', 'leaky_relu(0.2)x1', 'sigmoidx1', 'hardtanhx1', 'elu(0.5)x1', 'selux1', 'celu(2)x1', 'tanhx1', 'relux2'],
  );
  // activations: every activation node (the unread second Relu counts too); reference: the op types containing "Relu", and Clip(0, 6)
  assert.equal(acts.reduce((a, n) => a + n.taps.activations, 0), 15);
  assert.deepEqual(
    imp.graph.nodes.filter((n) => n.taps.reference > 0).map((n) => [n.name, n.taps.reference]),
    [
      ['relu6', 1],
      ['leaky', 1],
      ['relu', 2],
    ],
  );
  assert.equal(imp.graph.defaultTaps, 'activations');
  assert.deepEqual(imp.info.patterns, {
    'x*Sigmoid(x) -> silu': 2,
    'x*HardSigmoid(x) -> hardswish': 1,
    'x*Tanh(Softplus(x)) -> mish': 1,
    'x*0.5*(1+Erf(x/sqrt(2))) -> gelu': 1,
  });
  assert.equal(imp.info.ignored.length, 1);
  assert.match(imp.info.ignored[0]!, /'softmax' \(Softmax\)/);
  assert.equal(imp.info.output, 'prob');
  assert.equal(imp.graph.output, irNode(imp.graph, 'fc'));
  await compareWithOrt(bytes, imp, gaussianImages(2, 4, 'acts', C), [
    ['logits', irNode(imp.graph, 'fc')],
    ['celu', irNode(imp.graph, 'celu')],
    ['ap', irNode(imp.graph, 'ap')],
  ]);
});

test('torch-style flatten (Shape -> Gather -> Unsqueeze -> Concat -> Reshape), Gemm transB=0 with alpha/beta, MatMul + Add bias', async () => {
  const K = 3 * 4 * 4;
  const B = vals(K * 5, 11);
  const Cb = vals(5, 12);
  const M2 = vals(5 * 3, 13);
  const bias2 = vals(3, 14);
  const bytes = onnxModel({
    nodes: [
      { op: 'Conv', in: ['x', 'w'], out: ['c'], name: 'conv', attrs: [{ name: 'pads', ints: [0, 1, 2, 1] }] },
      { op: 'Relu', in: ['c'], out: ['r'], name: 'relu' },
      { op: 'Shape', in: ['r'], out: ['shp'], name: 'shape' },
      { op: 'Constant', in: [], out: ['zero'], name: 'const0', attrs: [{ name: 'value', t: { dims: [], i64: [0] } }] },
      { op: 'Gather', in: ['shp', 'zero'], out: ['n'], name: 'gather', attrs: [{ name: 'axis', i: 0 }] },
      { op: 'Unsqueeze', in: ['n', 'axes0'], out: ['n1'], name: 'unsqueeze' },
      { op: 'Concat', in: ['n1', 'minus1'], out: ['target'], name: 'concat', attrs: [{ name: 'axis', i: 0 }] },
      { op: 'Reshape', in: ['r', 'target'], out: ['flat'], name: 'reshape' },
      {
        op: 'Gemm',
        in: ['flat', 'B', 'C'],
        out: ['g'],
        name: 'gemm',
        attrs: [
          { name: 'alpha', f: 2 },
          { name: 'beta', f: 0.5 },
        ],
      },
      { op: 'Relu', in: ['g'], out: ['gr'], name: 'relu2' },
      { op: 'MatMul', in: ['gr', 'M2'], out: ['mm'], name: 'matmul' },
      { op: 'Add', in: ['bias2', 'mm'], out: ['logits'], name: 'bias' },
    ],
    inits: [
      { name: 'w', dims: [3, 2, 3, 3], f32: vals(54, 10) },
      { name: 'axes0', dims: [1], i64: [0] },
      { name: 'minus1', dims: [1], i64: [-1] },
      { name: 'B', dims: [K, 5], f32: B },
      { name: 'C', dims: [1, 5], f32: Cb },
      { name: 'M2', dims: [5, 3], f32: M2 },
      { name: 'bias2', dims: [3], f32: bias2 },
    ],
    outputs: ['logits', 'g'],
  });
  const imp = importOnnx(bytes, { source: 'flat.onnx', bn: 'train' });
  const g = imp.graph;
  assert.deepEqual(
    g.nodes.map((n) => n.op.kind),
    ['input', 'conv2d', 'activation', 'flatten', 'linear', 'activation', 'linear'],
  );
  assert.deepEqual(g.nodes[1]!.op, { kind: 'conv2d', inC: 2, outC: 3, kernel: [3, 3], stride: [1, 1], pad: [0, 1, 2, 1], dilation: [1, 1], groups: 1, bias: false });
  assert.deepEqual(g.nodes[3]!.shape, [K]);
  // Gemm transB=0: W[o][i] = alpha * B[i][o]; bias = beta * C
  const lin = imp.weights.byNode.get(4)!;
  for (let o = 0; o < 5; o++) {
    for (let i = 0; i < K; i++) assert.equal(lin.weight![o * K + i], Math.fround(2 * B[i * 5 + o]!));
    assert.equal(lin.bias![o], Math.fround(0.5 * Cb[o]!));
  }
  // MatMul [5, 3] + Add(bias): one linear layer with W = M2^T
  const mm = imp.weights.byNode.get(6)!;
  for (let o = 0; o < 3; o++) for (let i = 0; i < 5; i++) assert.equal(mm.weight![o * 5 + i], M2[i * 3 + o]);
  assert.deepEqual(mm.bias, bias2);
  assert.equal(imp.info.patterns['MatMul + Add(bias) -> linear'], 1);
  // the classifier input is the input of the last Gemm/MatMul
  assert.equal(g.classifierInput, 5);
  assert.deepEqual(imp.info.classifier, { node: 'matmul', op: 'MatMul', inputValue: 'gr', inFeatures: 5, outFeatures: 3 });
  assert.equal(countParams(g), 54 + K * 5 + 5 + 15 + 3);
  await compareWithOrt(bytes, imp, gaussianImages(3, 4, 'flat', 2), [
    ['g', 4],
    ['logits', 6],
  ]);
});

test('Reshape to an explicit [N, C*H*W] flattens; other shapes are rejected', () => {
  const mk = (target: number[]) =>
    onnxModel({
      nodes: [
        { op: 'Relu', in: ['x'], out: ['r'], name: 'relu' },
        { op: 'Reshape', in: ['r', 'shape'], out: ['f'], name: 'reshape' },
        { op: 'Gemm', in: ['f', 'W'], out: ['y'], name: 'fc', attrs: [{ name: 'transB', i: 1 }] },
      ],
      inits: [
        { name: 'shape', dims: [target.length], i64: target },
        { name: 'W', dims: [4, 32], f32: vals(128, 3) },
      ],
      outputs: ['y'],
    });
  for (const t of [[0, 32], [-1, 32], [0, -1]]) {
    const imp = importOnnx(mk(t), { source: 'r.onnx', bn: 'train' });
    assert.deepEqual(imp.graph.nodes.map((n) => n.op.kind), ['input', 'activation', 'flatten', 'linear'], String(t));
  }
  expectError(mk([0, 2, 16]), /node 1 'reshape' \(Reshape\): Reshape of \[N, 2, 4, 4\] to \[0, 2, 16\] is not supported/);
});

test('symbolic height/width needs a resolution; nearest Resize, Concat, pooling', async () => {
  const C = 2;
  const h = head('cat', 2 * C, 21);
  const bytes = onnxModel({
    input: { name: 'image', dims: ['batch', C, 'height', 'width'] },
    nodes: [
      { op: 'Conv', in: ['image', 'w'], out: ['c'], name: 'conv', attrs: [{ name: 'strides', ints: [2, 2] }, { name: 'auto_pad', s: 'SAME_UPPER' }] },
      { op: 'Relu', in: ['c'], out: ['a'], name: 'relu' },
      {
        op: 'Resize',
        in: ['a', '', 'scales'],
        out: ['up'],
        name: 'resize',
        attrs: [
          { name: 'mode', s: 'nearest' },
          { name: 'coordinate_transformation_mode', s: 'asymmetric' },
          { name: 'nearest_mode', s: 'floor' },
        ],
      },
      { op: 'MaxPool', in: ['up'], out: ['dn'], name: 'pool', attrs: [{ name: 'kernel_shape', ints: [2, 2] }, { name: 'strides', ints: [2, 2] }] },
      { op: 'Concat', in: ['a', 'dn'], out: ['cat'], name: 'cat', attrs: [{ name: 'axis', i: -3 }] },
      ...h.nodes,
    ],
    inits: [{ name: 'w', dims: [C, C, 3, 3], f32: vals(C * C * 9, 20) }, { name: 'scales', dims: [4], f32: [1, 1, 2, 2] }, ...h.inits],
    outputs: ['logits', 'up'],
  });
  expectError(bytes, /input 'image' has a symbolic height\/width \[batch, 2, height, width\]; give the image resolution/);
  const imp = importOnnx(bytes, { source: 'x.onnx', bn: 'train', resolution: 8 });
  assert.deepEqual(imp.info.input.shape, [C, 8, 8]);
  assert.deepEqual(imp.graph.nodes[irNode(imp.graph, 'resize')]!.op, { kind: 'resize', size: [8, 8] });
  assert.deepEqual(imp.graph.nodes[irNode(imp.graph, 'cat')]!.shape, [2 * C, 4, 4]);
  await compareWithOrt(bytes, imp, gaussianImages(2, 8, 'resize', C), [
    ['up', irNode(imp.graph, 'resize')],
    ['logits', irNode(imp.graph, 'fc')],
  ]);
});

// ---------------------------------------------------------------------------------------------
// Errors: one line, naming the file and the node

function simple(extra: N[], inits: T[] = [], last = 'r'): Uint8Array {
  const h = head(last, 2);
  return onnxModel({ nodes: [{ op: 'Relu', in: ['x'], out: ['r'], name: 'relu' }, ...extra, ...h.nodes], inits: [...inits, ...h.inits], outputs: ['logits'] });
}

test('an unsupported op is named: index, name, op type', () => {
  expectError(
    simple([{ op: 'LRN', in: ['r'], out: ['n'], name: 'norm1', attrs: [{ name: 'size', i: 3 }] }], [], 'n'),
    /^x\.onnx: node 1 'norm1' \(LRN\): LRN is not supported/,
  );
  expectError(simple([{ op: 'Mul', in: ['x', 'r'], out: ['m'], name: 'gate' }], [], 'm'), /node 1 'gate' \(Mul\): Mul is only supported in x\*Sigmoid\(x\)/);
  expectError(
    simple([{ op: 'Add', in: ['r', 'c'], out: ['m'], name: 'shift' }], [{ name: 'c', dims: [1, 2, 1, 1], f32: [1, 2] }], 'm'),
    /node 1 'shift' \(Add\): Add of a constant/,
  );
  expectError(
    simple([{ op: 'Clip', in: ['r', 'lo', 'hi'], out: ['m'], name: 'clip3' }], [{ name: 'lo', dims: [], f32: [0] }, { name: 'hi', dims: [], f32: [3] }], 'm'),
    /node 1 'clip3' \(Clip\): Clip\(min=0, max=3\) is not supported/,
  );
  expectError(simple([{ op: 'Gelu', in: ['r'], out: ['m'], name: 'g', attrs: [{ name: 'approximate', s: 'tanh' }] }], [], 'm'), /'g' \(Gelu\): Gelu\(approximate='tanh'\)/);
  expectError(simple([{ op: 'Selu', in: ['r'], out: ['m'], name: 's', attrs: [{ name: 'alpha', f: 2 }] }], [], 'm'), /'s' \(Selu\): Selu\(alpha=2/);
  expectError(
    simple(
      [
        { op: 'HardSigmoid', in: ['r'], out: ['hs'], name: 'hsig' },
        { op: 'Relu', in: ['hs'], out: ['m'], name: 'after' },
      ],
      [],
      'm',
    ),
    /node 1 'hsig' \(HardSigmoid\): HardSigmoid is only supported as x \* HardSigmoid\(x\).*feeds node 2 'after' \(Relu\)/,
  );
  expectError(
    simple([{ op: 'MaxPool', in: ['r'], out: ['m'], name: 'mp', attrs: [{ name: 'kernel_shape', ints: [2, 3] }] }], [], 'm'),
    /'mp' \(MaxPool\): kernel \[2, 3\] is not square/,
  );
  expectError(
    simple([{ op: 'Custom', in: ['r'], out: ['m'], name: 'c' }], [], 'm'),
    /node 1 'c' \(Custom\): Custom is not supported/,
  );
  // shape errors found by the IR builder name the node too
  expectError(
    simple(
      [
        { op: 'MaxPool', in: ['r'], out: ['p'], name: 'mp', attrs: [{ name: 'kernel_shape', ints: [2, 2] }, { name: 'strides', ints: [2, 2] }] },
        { op: 'Concat', in: ['r', 'p'], out: ['m'], name: 'cat', attrs: [{ name: 'axis', i: 1 }] },
      ],
      [],
      'm',
    ),
    /^x\.onnx: node 2 'cat' \(Concat\): cat: concat of different spatial sizes$/,
  );
  expectError(
    simple([{ op: 'Conv', in: ['r', 'w'], out: ['m'], name: 'conv' }], [{ name: 'w', dims: [2, 3, 1, 1], f32: vals(6, 1) }], 'm'),
    /'conv' \(Conv\): weight \[2, 3, 1, 1\] with group=1 does not fit 2 input channels/,
  );
  expectError(
    simple([{ op: 'FusedConv', in: ['r'], out: ['m'], name: 'fc0', domain: 'com.microsoft' }], [], 'm'),
    /node 1 'fc0' \(com\.microsoft\.FusedConv\): operators of domain 'com\.microsoft' are not supported/,
  );
  // no classifier
  expectError(onnxModel({ nodes: [{ op: 'Relu', in: ['x'], out: ['r'] }], outputs: ['r'] }), /no Gemm or MatMul layer/);
});

test('truncated, non-ONNX and external-data files get a clear error', () => {
  const good = simple([]);
  assert.doesNotThrow(() => importOnnx(good, { source: 'x.onnx', bn: 'train' }));
  for (const cut of [good.length - 5, Math.floor(good.length / 2), 3]) {
    expectError(good.subarray(0, cut), /^x\.onnx: not a readable ONNX model \(.*\); the file may be truncated or not an \.onnx file$/);
  }
  expectError(new TextEncoder().encode('{"model": "this is JSON, not ONNX"}\n'), /not a readable ONNX model/);
  expectError(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]), /not a readable ONNX model/);
  expectError(new Uint8Array(0), /not a readable ONNX model \(no graph found/);
  // weights stored outside the file
  const conv: N[] = [{ op: 'Conv', in: ['r', 'w'], out: ['c'], name: 'conv' }];
  expectError(simple(conv, [{ name: 'w', dims: [2, 2, 1, 1], external: true }], 'c'), /node 1 'conv' \(Conv\): initializer 'w': its data is stored outside the \.onnx file/);
  expectError(simple(conv, [{ name: 'w', dims: [2, 2, 1, 1], type: FLOAT16 }], 'c'), /initializer 'w': it holds FLOAT16 values; only FLOAT \(float32\) weights/);
  // a size that does not match the payload
  expectError(simple(conv, [{ name: 'w', dims: [2, 2, 3, 3], f32: [1, 2, 3] }], 'c'), /initializer 'w': raw_data has 12 bytes, but 2x2x3x3 float32 needs 144/);
  // a huge declared size is refused before anything is allocated
  expectError(simple(conv, [{ name: 'w', dims: [1 << 20, 1 << 20, 3, 3], f32: [1] }], 'c'), /not a readable ONNX model \(tensor 'w': 1048576x1048576x3x3 is too large\)/);
  // metadata naming a value that does not exist
  const h = head('r', 2);
  const meta = onnxModel({
    nodes: [{ op: 'Relu', in: ['x'], out: ['r'] }, ...h.nodes],
    inits: h.inits,
    outputs: ['logits'],
    meta: { 'rbflex.reference_taps': '{"nothing": 1}' },
  });
  expectError(meta, /metadata rbflex\.reference_taps names value 'nothing'/);
});

test('corrupted files (random byte changes) fail with OnnxImportError, never a crash', () => {
  const C = 2;
  const h = head('r2', C);
  const base = onnxModel({
    nodes: [
      { op: 'Conv', in: ['x', 'w'], out: ['c'], name: 'conv', attrs: [{ name: 'pads', ints: [1, 1, 1, 1] }] },
      { op: 'BatchNormalization', in: ['c', 'g', 'b', 'm', 'v'], out: ['bn'], name: 'bn' },
      { op: 'Sigmoid', in: ['bn'], out: ['s'], name: 'sig' },
      { op: 'Mul', in: ['bn', 's'], out: ['r'], name: 'silu' },
      { op: 'Shape', in: ['r'], out: ['shp'], name: 'shape' },
      { op: 'Dropout', in: ['r'], out: ['r2'], name: 'drop' },
      ...h.nodes,
    ],
    inits: [
      { name: 'w', dims: [C, C, 3, 3], f32: vals(C * C * 9, 1) },
      { name: 'g', dims: [C], f32: [1, 1] },
      { name: 'b', dims: [C], f32: [0, 0] },
      { name: 'm', dims: [C], f32: [0, 0] },
      { name: 'v', dims: [C], f32: [1, 1] },
      ...h.inits,
    ],
    outputs: ['logits'],
  });
  const notes = importOnnx(base, { source: 'f.onnx', bn: 'train' }).info.notes;
  assert.ok(notes.some((l) => l.startsWith('Dropout runs as identity')));
  assert.ok(notes.some((l) => l.startsWith('1 node(s) feed no graph output')));
  let s = 7;
  const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
  let failed = 0;
  for (let it = 0; it < 400; it++) {
    const b = new Uint8Array(base);
    for (let k = 0; k < 1 + it % 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    try {
      importOnnx(it % 5 === 0 ? b.subarray(0, Math.floor(rnd() * b.length)) : b, { source: 'f.onnx', bn: it % 2 ? 'eval' : 'train' });
    } catch (e) {
      failed++;
      assert.ok(e instanceof OnnxImportError, `mutation ${it}: ${(e as Error).stack}`);
      assert.ok(!e.message.includes('\n') && e.message.startsWith('f.onnx: '), e.message);
    }
  }
  assert.ok(failed > 100, `${failed} of 400 corrupted files were refused`);
});
