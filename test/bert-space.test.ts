import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { ReferenceBackend } from '../src/backends/reference.js';
import type { ImageBatch } from '../src/backends/types.js';
import { networkInfo, tappedNodes } from '../src/ir/analysis.js';
import { getSpace } from '../src/spaces/index.js';
import { bertConfigOf } from '../src/spaces/nafbee-bert.js';
import { openSafetensors, writeSafetensors } from '../src/util/safetensors.js';

const space = getSpace('nafbee-bert');
const SMALL = { layers: 2, hidden: 32, heads: 4, intermediate: 64, seqLen: 12 };

/** token batch [n, 3, 1, S]: [CLS] + ids, then padding */
function tokens(rows: number[][], s: number): ImageBatch {
  const data = new Float32Array(rows.length * 3 * s);
  rows.forEach((r, i) => {
    const ids = [101, ...r];
    ids.forEach((id, k) => {
      data[i * 3 * s + k] = id;
      data[i * 3 * s + 2 * s + k] = 1;
    });
  });
  return { n: rows.length, c: 3, h: 1, w: s, data, id: 'test' };
}

test('nafbee-bert: bert-base shape, parameters and the authors\' taps (12 intermediate activations + pooler Tanh)', () => {
  assert.equal(space.size, 11);
  assert.equal(space.parse('gelu'), 'GELU');
  assert.throws(() => space.parse('swish'), /unknown activation "swish"/);
  const g = space.build('GELU', { dataset: 'sst2' });
  const info = networkInfo(g);
  // sum(p.numel() for p in BertForSequenceClassification(bert-base-uncased, num_labels=2).parameters())
  assert.equal(info.params, 109_483_778);
  assert.deepEqual(info.inputShape, [3, 1, 50]);
  for (const mode of ['activations', 'reference'] as const) {
    const taps = tappedNodes(g, mode);
    assert.equal(taps.length, 13);
    assert.deepEqual(taps.map((t) => g.nodes[t.node]!.name).slice(-2), ['bert.encoder.layer.11.intermediate.activation', 'bert.pooler.activation']);
    assert.deepEqual(taps.map((t) => t.size), [...new Array<number>(12).fill(50 * 3072), 768]);
  }
  assert.equal(info.lk, 12 * 50 * 3072 + 768);
  assert.equal(g.nodes[g.classifierInput]!.name, 'bert.pooler.activation');
  assert.throws(() => space.build('GELU', { dataset: 'cifar10' }), /dataset "cifar10"/);
});

test('nafbee-bert small config: float64 reference and onnxruntime agree; padded keys are masked out', async () => {
  const build = { bert: SMALL };
  const images = tokens([[2023, 3185, 2001, 2204], [1037, 18385, 1010, 6057, 1998, 2633], [7592, 999]], SMALL.seqLen);
  for (const act of ['GELU', 'SELU', 'Hardswish']) {
    const g = space.build(act, build);
    const w = space.initWeights!(g, `t/${act}`, build);
    const opts = { taps: ['activations' as const], bn: 'per-image' as const };
    const r = await new ReferenceBackend().forward(g, w, images, opts);
    const o = await new OnnxBackend().forward(g, w, images, opts);
    assert.equal(r.x.length, 3);
    let max = 0;
    let scale = 0;
    [...r.x, r.y].forEach((seg, i) => {
      const other = i < r.x.length ? o.x[i]! : o.y;
      for (let k = 0; k < seg.data.length; k++) {
        max = Math.max(max, Math.abs(seg.data[k]! - other.data[k]!));
        scale = Math.max(scale, Math.abs(seg.data[k]!));
      }
    });
    assert.ok(scale > 0.1, `${act}: features are not trivially small (${scale})`);
    assert.ok(max < 1e-4, `${act}: reference vs onnx max difference ${max}`);
    // a different token at a padded position changes nothing the [CLS] token sees
    const padded = { ...images, data: images.data.slice() };
    padded.data[SMALL.seqLen - 1] = 5000; // image 0, last position (mask 0)
    const r2 = await new ReferenceBackend().forward(g, w, padded, opts);
    for (let k = 0; k < r.y.size; k++) assert.ok(Math.abs(r2.y.data[k]! - r.y.data[k]!) < 1e-12, 'pooled output ignores padding');
    const lastTap = r2.x[0]!.data;
    let changed = false;
    for (let k = (SMALL.seqLen - 1) * SMALL.intermediate; k < SMALL.seqLen * SMALL.intermediate; k++) changed ||= lastTap[k] !== r.x[0]!.data[k];
    assert.ok(changed, 'the padded position itself does change');
  }
});

test('initialisation: Xavier-uniform Linear weights, zero biases, normal(0, 0.02) embeddings with a zero [PAD] row, LayerNorm 1/0', () => {
  const build = { bert: SMALL };
  const g = space.build('ReLU', build);
  const w = space.initWeights!(g, 'init', build);
  const byName = (name: string) => w.byNode.get(g.nodes.find((n) => n.name === name)!.id)!;
  const q = byName('bert.encoder.layer.0.intermediate.dense');
  const bound = Math.sqrt(6 / (32 + 64));
  assert.ok(q.weight!.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...q.weight!.map(Math.abs)) > 0.9 * bound);
  assert.ok(q.bias!.every((v) => v === 0));
  const word = byName('bert.embeddings.word_embeddings').weight!;
  assert.equal(word.length, 30522 * 32);
  assert.ok(word.subarray(0, 32).every((v) => v === 0), '[PAD] row is zero');
  let s = 0;
  let s2 = 0;
  for (let i = 32; i < word.length; i++) {
    s += word[i]!;
    s2 += word[i]! ** 2;
  }
  const n = word.length - 32;
  assert.ok(Math.abs(s / n) < 1e-4);
  assert.ok(Math.abs(Math.sqrt(s2 / n) - 0.02) < 2e-4, `std ${Math.sqrt(s2 / n)}`);
  const ln = byName('bert.embeddings.LayerNorm');
  assert.ok(ln.weight!.every((v) => v === 1) && ln.bias!.every((v) => v === 0));
  assert.ok(byName('classifier').weight!.every((v) => Math.abs(v) <= Math.sqrt(6 / (32 + 2))));
});

test('--bert-weights: embeddings, LayerNorms and Linear biases come from the file; Linear weights stay Xavier', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-bertw-'));
  const build = { bert: SMALL };
  const cfg = bertConfigOf(build);
  const file = join(dir, 'w.safetensors');
  const pos = Float32Array.from({ length: cfg.positions * cfg.hidden }, (_, i) => (i % 7) / 7);
  writeSafetensors(file, {
    'bert.embeddings.position_embeddings.weight': { shape: [cfg.positions, cfg.hidden], data: pos },
    'embeddings.LayerNorm.gamma': { shape: [cfg.hidden], data: new Float32Array(cfg.hidden).fill(2) }, // BertModel name, TF style
    'bert.encoder.layer.1.output.dense.bias': { shape: [cfg.hidden], data: new Float32Array(cfg.hidden).fill(0.5) },
    'bert.encoder.layer.1.output.dense.weight': { shape: [cfg.hidden, cfg.intermediate], data: new Float32Array(cfg.hidden * cfg.intermediate).fill(9) },
  });
  const g = space.build('GELU', { ...build, bertWeights: file });
  const w = space.initWeights!(g, 's', { ...build, bertWeights: file });
  const byName = (name: string) => w.byNode.get(g.nodes.find((n) => n.name === name)!.id)!;
  assert.deepEqual(byName('bert.embeddings.position_embeddings').weight, pos);
  assert.ok(byName('bert.embeddings.LayerNorm').weight!.every((v) => v === 2));
  assert.ok(byName('bert.encoder.layer.1.output.dense').bias!.every((v) => v === 0.5));
  assert.ok(byName('bert.encoder.layer.1.output.dense').weight!.every((v) => v !== 9), 'Linear weights are re-initialised, as the authors do');
  const bad = join(dir, 'bad.safetensors');
  writeSafetensors(bad, { 'bert.embeddings.LayerNorm.weight': { shape: [cfg.hidden + 1], data: new Float32Array(cfg.hidden + 1) } });
  assert.throws(() => space.initWeights!(g, 's', { ...build, bertWeights: bad }), /is \[33\], the network needs \[32\]/);
  const none = join(dir, 'none.safetensors');
  writeSafetensors(none, { other: { shape: [1], data: new Float32Array(1) } });
  assert.throws(() => space.initWeights!(g, 's', { ...build, bertWeights: none }), /holds none of the BERT/);
});

test('safetensors reader: round trip, F16/BF16/F64, and hostile headers refused with one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-st-'));
  const ok = join(dir, 'ok.safetensors');
  writeSafetensors(ok, { a: { shape: [2, 2], data: Float32Array.from([1, -2, 3.5, 4]) } }, { format: 'pt' });
  assert.deepEqual([...openSafetensors(ok).read('a')], [1, -2, 3.5, 4]);
  const raw = (header: string, data: Buffer, len?: bigint) => {
    const h = Buffer.from(header);
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(len ?? BigInt(h.length));
    const p = join(dir, `x${Math.random()}.safetensors`);
    writeFileSync(p, Buffer.concat([b, h, data]));
    return p;
  };
  const half = Buffer.from([0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f, 0x00, 0xc0]); // F16 1, -2 ; BF16 1, -2
  const f = openSafetensors(raw('{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}', half));
  assert.deepEqual([...f.read('h')], [1, -2]);
  assert.deepEqual([...f.read('b')], [1, -2]);
  const d = Buffer.alloc(8);
  d.writeDoubleLE(0.25);
  assert.deepEqual([...openSafetensors(raw('{"d":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}', d)).read('d')], [0.25]);
  assert.throws(() => openSafetensors(raw('{}', Buffer.alloc(0), 2n ** 40n)), /header length 1099511627776/);
  assert.throws(() => openSafetensors(raw('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', Buffer.alloc(8))), /outside the 8-byte data section/);
  assert.throws(() => openSafetensors(raw('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', Buffer.alloc(8))), /needs 12 bytes, data_offsets give 8/);
  assert.throws(() => openSafetensors(raw('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}', Buffer.alloc(8))), /shape must be/);
  assert.throws(() => openSafetensors(raw('not json', Buffer.alloc(0))), /header is not JSON/);
  const i64 = openSafetensors(raw('{"p":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', Buffer.alloc(8)));
  assert.throws(() => i64.read('p'), /is I64; only F32/);
  assert.throws(() => openSafetensors(join(dir, 'missing.safetensors')), /no such file/);
});
