/**
 * zico: the per-layer rule on hand values, and the whole proxy (the scorer's two gradient passes,
 * real labels, BatchNorm over each batch) against PyTorch on a small network
 * (test/fixtures/modern/zico*.{json,onnx} from tools/make-zico-fixture.py).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { importOnnx } from '../src/onnx-import/index.js';
import { PROXIES, REFERENCE_GAMMAS } from '../src/proxies/index.js';
import { type LabelledBatch, gradInput } from '../src/proxies/inputs.js';
import { passKey, proxyDataSize } from '../src/proxies/needs.js';
import { ZICO_NEED, zicoScore } from '../src/proxies/zico.js';
import { scoreNetwork } from '../src/search/scorer.js';
import { fixturePath } from './helpers/shared-data.js';

const S = { ...REFERENCE_GAMMAS, taps: 'reference' as const };

test('zico rule: log of the sum of mean|g|/std per layer (ddof 0), zero-std elements and zero layers skipped', () => {
  // layer 1: elements (1, 3): mean|g| 2, std 1 -> 2; (-2, 2): mean|g| 2, std 2 -> 1; (5, 5): std 0, skipped
  // layer 2: every std 0 -> adds nothing
  const v = zicoScore([
    [Float32Array.of(1, -2, 5), Float32Array.of(3, 2, 5)],
    [Float32Array.of(4, 4), Float32Array.of(4, 4)],
  ]);
  assert.ok(Math.abs(v - Math.log(3)) < 1e-12, String(v));
  // three batches: (0, 3, 6): mean|g| 3, std sqrt(6)
  assert.ok(Math.abs(zicoScore([[[0], [3], [6]]]) - Math.log(3 / Math.sqrt(6))) < 1e-12);
});

test('zico need: two 64-image batches of real images with labels, one pass each, keyed apart from snip', () => {
  assert.equal(ZICO_NEED.batches, 2);
  assert.notEqual(passKey(ZICO_NEED), passKey(PROXIES.snip(S).grad!));
  assert.equal(proxyDataSize(['zico', 'snip'], 'reference'), 128);
  const images: LabelledBatch = { n: 6, c: 1, h: 1, w: 1, data: Float32Array.of(0, 1, 2, 3, 4, 5), id: 't', labels: [0, 1, 2, 3, 4, 5] };
  const src = { mode: 'shared' as const, images, seed: 's' };
  const second = gradInput(ZICO_NEED, src, [1, 1, 1], 1);
  assert.deepEqual([...second.x.data], [3, 4, 5]);
  assert.deepEqual(second.from?.labels, [3, 4, 5]);
  assert.throws(() => gradInput(ZICO_NEED, { ...src, images: { ...images, n: 1, data: Float32Array.of(0) } }, [1, 1, 1]), /2 batches/);
});

test('zico on a small network matches PyTorch (authors\' rule, 2 batches of 4, labels, train-mode BN) on both gradient backends', async () => {
  const fx = JSON.parse(readFileSync(fixturePath('modern/zico.json'), 'utf8')) as {
    images: { n: number; c: number; h: number; w: number; data: number[] };
    labels: number[];
    zico: number;
    terms: number[];
  };
  const imp = importOnnx(readFileSync(fixturePath('modern/zico-net.onnx')), { source: 'zico-net.onnx', bn: 'train' });
  const images: LabelledBatch = { ...fx.images, data: Float32Array.from(fx.images.data), id: 'zico-fixture', labels: fx.labels };
  for (const backend of ['onnx', 'reference'] as const) {
    // --proxy-inputs shared: the 8 images split into the need's 2 batches of 4, with their labels
    const r = await scoreNetwork(imp.graph, () => imp.weights, images, [PROXIES.zico(S)], S, new OnnxBackend({ threads: 1 }), 'zico-seed', {
      backend,
      sources: { mode: 'shared', images, seed: 'zico-seed' },
    });
    const v = r.scores.zico!;
    assert.ok(Math.abs(v - fx.zico) < 1e-5 * Math.abs(fx.zico), `${backend}: zico ${v}, PyTorch ${fx.zico} (terms ${fx.terms.join(', ')})`);
  }
});
