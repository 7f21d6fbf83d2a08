import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type NodeSpec, exportOnnx, f32bytes, writeNode, writeTensor, writeValueInfo } from '../src/backends/onnx/export.js';
import { DT, F } from '../src/backends/onnx/fields.js';
import { ProtoWriter } from '../src/backends/onnx/protobuf.js';
import type { ImageBatch } from '../src/backends/types.js';
import { countFlops } from '../src/ir/analysis.js';
import { initWeights } from '../src/ir/init.js';
import { AsisModel } from '../src/onnx-asis/model.js';
import { asisHdaCandidates, scoreAsis } from '../src/onnx-asis/score.js';
import { hdaFromCandidates } from '../src/proxies/hda.js';
import { REFERENCE_GAMMAS } from '../src/proxies/index.js';
import { nb201 } from '../src/spaces/nb201.js';
import { gaussianImages } from './helpers/fixtures.js';
import { fixturePath } from './helpers/shared-data.js';

interface Expected {
  images: { file: string; shape: [number, number, number, number] };
  gammas: { gammaK: number; gammaQ: number };
  models: Record<string, { file: string; rbflex: number; L_K: number; L_Q: number; params: number; bytes: number }>;
}

const DIR = fixturePath('onnx-asis');
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Expected;

function fixtureImages(): ImageBatch {
  const buf = readFileSync(join(DIR, expected.images.file));
  const [n, c, h, w] = expected.images.shape;
  assert.equal(buf.length, n * c * h * w * 4);
  const data = new Float32Array(n * c * h * w);
  for (let i = 0; i < data.length; i++) data[i] = buf.readFloatLE(i * 4);
  return { n, c, h, w, data, id: 'onnx-asis-fixture' };
}

function open(name: string): AsisModel {
  const e = expected.models[name]!;
  return AsisModel.open(readFileSync(join(DIR, e.file)), { source: e.file, bn: 'train', threads: 1 });
}

test('seven torch-exported patterns run as they are: RBFleX within 1e-2 of PyTorch, same L_K, L_Q and params', async () => {
  const images = fixtureImages();
  const names = Object.keys(expected.models);
  assert.deepEqual(names.sort(), ['channel-shuffle', 'convnext-block', 'densenet-transition', 'gelu-tanh', 'nb201-cell', 'squeeze-excitation', 'vit-block']);
  for (const name of names) {
    const e = expected.models[name]!;
    assert.ok(e.bytes < 300 * 1024, `${name}: ${e.bytes} bytes`);
    const m = open(name);
    const r = await m.forward(images, { taps: ['activations'], bn: 'per-image' });
    assert.equal(r.features.x.reduce((a, s) => a + s.size * s.counts.activations, 0), e.L_K, `${name}: L_K`);
    assert.equal(r.features.y.size, e.L_Q, `${name}: L_Q`);
    const s = await scoreAsis(m, images, ['rbflex', 'params'], { ...expected.gammas, taps: 'activations' });
    assert.ok(Math.abs(s.scores.rbflex! - e.rbflex) <= 1e-2, `${name}: rbflex ${s.scores.rbflex} vs PyTorch ${e.rbflex}`);
    assert.equal(s.scores.params, e.params, `${name}: params`);
  }
});

test('composites count as one activation; an SE gate (Sigmoid / HardSigmoid) is a tap of its own', () => {
  const se = open('squeeze-excitation').info;
  // Hardswish, ReLU, SE(ReLU, Hardsigmoid), SiLU x2, SE(SiLU, Sigmoid), Mish
  assert.equal(se.taps.activations, 9);
  assert.deepEqual(se.patterns, { 'x*Sigmoid(x) -> silu': 3, 'x*Tanh(Softplus(x)) -> mish': 1 });
  const vit = open('vit-block').info;
  assert.deepEqual(vit.patterns, { 'x*0.5*(1+Erf(x/sqrt(2))) -> gelu': 2 });
  assert.equal(vit.dropouts > 0, true);
  assert.match(vit.classifier.how, /last Gemm/);
  assert.equal(open('nb201-cell').info.opCounts.Pad, 1);
  const gt = open('gelu-tanh').info;
  assert.deepEqual(gt.patterns, { '0.5*x*(1+Tanh(sqrt(2/pi)*(x+0.044715*x^3))) -> gelu (tanh)': 2 });
  assert.equal(gt.taps.activations, 2); // the Tanh inside is not a tap
});

test('FLOPs: the as-is count equals the IR count on an NB201 network; params from the initializers', async () => {
  const arch = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|';
  const g = nb201.build(nb201.parse(arch), { dataset: 'cifar10' });
  const w = initWeights(g, 'flops-test');
  const bytes = exportOnnx(g, w, { taps: ['reference'], bn: 'inference', logits: true, classifierInput: false }).bytes;
  const m = AsisModel.open(bytes, { source: 'nb201.onnx', bn: 'train', threads: 1 });
  const s = await scoreAsis(m, gaussianImages(3, 32, 'flops'), ['flops', 'params', 'rbflex'], { ...REFERENCE_GAMMAS, taps: 'reference' });
  assert.equal(s.scores.flops, countFlops(g));
  assert.equal(s.scores.params, w.specs.reduce((a, p) => a + p.size, 0));
  assert.ok(Number.isFinite(s.scores.rbflex));
});

/** input [N, C, H, W] (symbolic where a string) -> Conv 3x3 -> Relu -> GlobalAveragePool [-> Flatten -> Gemm] */
function tinyModel(o: { dims: (number | string)[]; gemm: boolean; inC?: number; extraOp?: string }): Uint8Array {
  const inC = o.inC ?? 3;
  const nodes: NodeSpec[] = [
    { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: [{ name: 'pads', ints: [1, 1, 1, 1] }] },
    { op: 'Relu', inputs: ['c'], outputs: ['r'] },
    { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['g'] },
  ];
  let out = 'g';
  if (o.gemm) {
    nodes.push({ op: 'Flatten', inputs: ['g'], outputs: ['f'] }, { op: 'Gemm', inputs: ['f', 'fc'], outputs: ['y'], attrs: [{ name: 'transB', i: 1 }] });
    out = 'y';
  }
  if (o.extraOp) nodes.push({ op: o.extraOp, inputs: [out], outputs: ['z'], domain: 'com.example' });
  const vals = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + 0.3));
  const w = new ProtoWriter();
  w.varint(F.Model.irVersion, 8);
  w.message(F.Model.graph, (g) => {
    for (const n of nodes) g.message(F.Graph.node, (nw) => writeNode(nw, n));
    g.message(F.Graph.initializer, (t) => writeTensor(t, { name: 'w', dims: [4, inC, 3, 3], type: DT.FLOAT, raw: f32bytes(vals(4 * inC * 9)) }));
    g.message(F.Graph.initializer, (t) => writeTensor(t, { name: 'fc', dims: [5, 4], type: DT.FLOAT, raw: f32bytes(vals(20)) }));
    g.message(F.Graph.input, (v) => writeValueInfo(v, 'x', o.dims));
    g.message(F.Graph.output, (v) => writeValueInfo(v, o.extraOp ? 'z' : out, ['N', o.gemm ? 5 : 4]));
  });
  w.message(F.Model.opsetImport, (s) => s.string(F.OpsetId.domain, '').varint(F.OpsetId.version, 17));
  if (o.extraOp) w.message(F.Model.opsetImport, (s) => s.string(F.OpsetId.domain, 'com.example').varint(F.OpsetId.version, 1));
  return w.finish();
}

test('dynamic height/width take the images\' size; rank and channel mismatches are one clear error', async () => {
  const m = AsisModel.open(tinyModel({ dims: ['N', 3, 'H', 'W'], gemm: true }), { source: 'tiny.onnx', bn: 'train', threads: 1 });
  assert.deepEqual(m.fixedSize, { c: 3 });
  for (const side of [8, 13]) {
    const r = await m.forward(gaussianImages(3, side, 'dyn'), { taps: ['activations'], bn: 'per-image' });
    assert.equal(r.features.x[0]!.size, 4 * side * side);
    assert.equal(r.features.y.size, 4);
  }
  const c1 = AsisModel.open(tinyModel({ dims: ['N', 1, 8, 8], gemm: true, inC: 1 }), { source: 'gray.onnx', bn: 'train' });
  await assert.rejects(c1.forward(gaussianImages(3, 8, 'c'), { taps: ['activations'], bn: 'per-image' }), /gray\.onnx: the model takes 1-channel input; the image batch has 3 channels/);
  const fixed = AsisModel.open(tinyModel({ dims: ['N', 3, 8, 8], gemm: true }), { source: 'fixed.onnx', bn: 'train' });
  await assert.rejects(fixed.forward(gaussianImages(3, 16, 'c'), { taps: ['activations'], bn: 'per-image' }), /fixed\.onnx: the model takes 8x8 images; the image batch is 16x16 \(set --resolution/);
  assert.throws(() => AsisModel.open(tinyModel({ dims: ['N', 3, 8], gemm: true }), { source: 'r3.onnx', bn: 'train' }), /r3\.onnx: input 'x' has rank 3; rbflex feeds image batches \[N, C, H, W\]/);
});

test('no Gemm/MatMul: the error names --classifier-input, which then picks Y', async () => {
  const bytes = tinyModel({ dims: ['N', 3, 'H', 'W'], gemm: false });
  assert.throws(() => AsisModel.open(bytes, { source: 'head.onnx', bn: 'train' }), /head\.onnx: the model has no Gemm or MatMul.*--classifier-input/);
  assert.throws(() => AsisModel.open(bytes, { source: 'head.onnx', bn: 'train', classifierInput: 'nope' }), /--classifier-input 'nope' is not a value/);
  const m = AsisModel.open(bytes, { source: 'head.onnx', bn: 'train', classifierInput: 'g', threads: 1 });
  const r = await m.forward(gaussianImages(3, 8, 'cls'), { taps: ['activations'], bn: 'per-image' });
  assert.equal(r.features.y.size, 4);
  // Y is the global average of the tap: check image 1, channel 2
  const tap = r.features.x[0]!;
  let mean = 0;
  for (let k = 0; k < 64; k++) mean += tap.data[1 * 256 + 2 * 64 + k]! / 64;
  assert.ok(Math.abs(r.features.y.data[1 * 4 + 2]! - mean) < 1e-5);
  assert.match(m.info.notes.join(' '), /TrainingMode\.TRAINING/); // no BatchNorm at all: the eval-export warning
});

test('FLOPs are n/a with the ops that cannot be counted named', async () => {
  const bytes = tinyModel({ dims: ['N', 3, 8, 8], gemm: true, extraOp: 'Mystery' });
  const m = AsisModel.open(bytes, { source: 'custom.onnx', bn: 'train', threads: 1 });
  // the custom op is not run (nothing the scoring graph needs depends on it)
  const s = await scoreAsis(m, gaussianImages(3, 8, 'f'), ['flops', 'params'], { ...REFERENCE_GAMMAS, taps: 'activations' });
  assert.equal(s.scores.flops, undefined);
  assert.equal(s.notes.flops, 'n/a: cannot count com.example.Mystery x1');
  assert.equal(s.scores.params, 4 * 3 * 9 + 20);
});

test('HDA over a set takes the minimum over every model (one shared pair of gammas)', async () => {
  const images = fixtureImages();
  const per = [];
  const allK: number[] = [];
  const allQ: number[] = [];
  for (const name of ['nb201-cell', 'channel-shuffle']) {
    const c = await asisHdaCandidates(open(name), images, 'activations', 'paper');
    per.push(hdaFromCandidates(c.k, c.q, 'paper'));
    allK.push(...c.k);
    allQ.push(...c.q);
  }
  const shared = hdaFromCandidates(allK, allQ, 'paper');
  assert.equal(shared.gammaK, Math.min(...per.map((p) => p.gammaK)));
  assert.equal(shared.gammaQ, Math.min(...per.map((p) => p.gammaQ)));
});

function cli(...args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { stdout: r.stdout, stderr: r.stderr };
}

test('CLI: repeated --onnx and a folder score every model with one pair of gammas, printed ranked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-asis-'));
  try {
    for (const name of ['nb201-cell', 'densenet-transition', 'convnext-block']) {
      writeFileSync(join(dir, `${name}.onnx`), readFileSync(join(DIR, `${name}.onnx`)));
    }
    const common = ['--data', 'synthetic', '--seed', '3', '--proxy', 'rbflex,params'];
    const a = join(dir, 'nb201-cell.onnx');
    const b = join(dir, 'convnext-block.onnx');
    const two = cli('score', '--onnx', a, '--onnx', b, ...common, '--json');
    const rows = two.stdout.trim().split('\n').map((l) => JSON.parse(l) as { model: string; rank: number; scores: { rbflex: number } });
    assert.deepEqual(rows.map((r) => r.model).sort(), [b, a].sort(), 'both repeated --onnx models are scored');
    assert.deepEqual(rows.map((r) => r.rank), [1, 2]);
    assert.ok(rows[0]!.scores.rbflex >= rows[1]!.scores.rbflex);
    const single = JSON.parse(cli('score', '--onnx', a, ...common, '--json').stdout) as { scores: { rbflex: number } };
    assert.equal(rows.find((r) => r.model === a)!.scores.rbflex, single.scores.rbflex, 'fixed gammas: a model scores the same alone or in a set');

    const folder = cli('score', '--onnx', dir, ...common, '--hda');
    const table = folder.stdout.trim().split('\n');
    assert.match(table[0]!, /rank\s+rbflex\s+params\s+model/);
    assert.equal(table.length, 4);
    const scores = table.slice(1).map((l) => Number(l.trim().split(/\s+/)[1]));
    assert.deepEqual([...scores].sort((x, y) => y - x), scores, 'ranked, best first');
    assert.match(folder.stderr, /HDA \(paper\) over the 3 model\(s\) scored together/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--bn-mode eval keeps BatchNorm with the running statistics (a training-mode export loses training_mode)', async () => {
  const images = fixtureImages();
  const e = expected.models['nb201-cell']!;
  const bytes = readFileSync(join(DIR, e.file));
  const train = AsisModel.open(bytes, { source: e.file, bn: 'train', threads: 1 });
  const evalM = AsisModel.open(bytes, { source: e.file, bn: 'eval', threads: 1 });
  const ft = await train.forward(images, { taps: ['activations'], bn: 'per-image' });
  const fe = await evalM.forward(images, { taps: ['activations'], bn: 'per-image' });
  // fresh running statistics (mean 0, variance 1) instead of each image's own: other features
  assert.equal(fe.features.x.length, ft.features.x.length);
  const y = fe.features.y.data;
  assert.ok(y.every(Number.isFinite));
  assert.notDeepEqual(Array.from(fe.features.y.data), Array.from(ft.features.y.data));
});

/** ids [N, T] (int64) -> Gather(embedding) -> Relu -> ReduceMean over T -> MatMul: a token model */
function tokenModel(): Uint8Array {
  const nodes: NodeSpec[] = [
    { op: 'Gather', inputs: ['emb', 'ids'], outputs: ['e'] },
    { op: 'Relu', inputs: ['e'], outputs: ['r'] },
    { op: 'ReduceMean', inputs: ['r'], outputs: ['m'], attrs: [{ name: 'axes', ints: [1] }, { name: 'keepdims', i: 0 }] },
    { op: 'MatMul', inputs: ['m', 'head'], outputs: ['y'] },
  ];
  const vals = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.9 + 0.1));
  const w = new ProtoWriter();
  w.varint(F.Model.irVersion, 8);
  w.message(F.Model.graph, (g) => {
    for (const n of nodes) g.message(F.Graph.node, (nw) => writeNode(nw, n));
    g.message(F.Graph.initializer, (t) => writeTensor(t, { name: 'emb', dims: [10, 6], type: DT.FLOAT, raw: f32bytes(vals(60)) }));
    g.message(F.Graph.initializer, (t) => writeTensor(t, { name: 'head', dims: [6, 2], type: DT.FLOAT, raw: f32bytes(vals(12)) }));
    g.message(F.Graph.input, (v) => writeValueInfo(v, 'ids', ['N', 'T'], DT.INT64));
    g.message(F.Graph.output, (v) => writeValueInfo(v, 'y', ['N', 2]));
  });
  w.message(F.Model.opsetImport, (s) => s.string(F.OpsetId.domain, '').varint(F.OpsetId.version, 13));
  return w.finish();
}

test('non-image inputs (inputs: any): forwardFeeds runs prepared feeds, one per sample', async () => {
  assert.throws(() => AsisModel.open(tokenModel(), { source: 'tok.onnx', bn: 'train' }), /tok\.onnx: input 'ids' is not float32/);
  const m = AsisModel.open(tokenModel(), { source: 'tok.onnx', bn: 'train', inputs: 'any', threads: 1 });
  assert.deepEqual(m.info.inputs.map((i) => i.name), ['ids']);
  const { Tensor } = await import('onnxruntime-node');
  const samples = [[1, 2, 3], [4, 4, 9], [0, 7, 5]];
  const feeds = samples.map((s) => ({ ids: new Tensor('int64', BigInt64Array.from(s.map(BigInt)), [1, 3]) }));
  const f = (await m.forwardFeeds(feeds, 3, { taps: ['activations'], bn: 'per-image' })).features;
  assert.equal(f.x.length, 1);
  assert.equal(f.x[0]!.size, 18);
  assert.equal(f.y.size, 6);
  // Y of sample 1 = mean over its tokens of relu(emb[id])
  const emb = (i: number, d: number) => Math.fround(Math.cos((i * 6 + d) * 0.9 + 0.1));
  for (let d = 0; d < 6; d++) {
    const want = samples[1]!.reduce((a, id) => a + Math.max(0, emb(id, d)), 0) / 3;
    assert.ok(Math.abs(f.y.data[6 + d]! - want) < 1e-6, `dim ${d}`);
  }
});
