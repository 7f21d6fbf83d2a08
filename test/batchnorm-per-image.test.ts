import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { ReferenceBackend } from '../src/backends/reference.js';
import type { ImageBatch } from '../src/backends/types.js';
import { initWeights } from '../src/ir/init.js';
import { nb201 } from '../src/spaces/nb201.js';
import { gaussianImages } from './helpers/fixtures.js';

const ARCH = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

function withFirst(first: ImageBatch, rest: ImageBatch): ImageBatch {
  const per = 3 * 32 * 32;
  const data = new Float32Array(3 * per);
  data.set(first.data.subarray(0, per));
  data.set(rest.data.subarray(per, 3 * per), per);
  return { n: 3, c: 3, h: 32, w: 32, data, id: 'mix' };
}

test('per-image training-mode BatchNorm: image 0\'s features do not depend on the other images', async () => {
  const g = nb201.build(ARCH);
  const w = initWeights(g, 'bn');
  const a = gaussianImages(3, 32, 'bn-a');
  const b = withFirst(a, gaussianImages(3, 32, 'bn-b')); // same image 0, different images 1 and 2
  for (const be of [new OnnxBackend(), new ReferenceBackend()]) {
    const fa = await be.forward(g, w, a, { taps: ['reference'], bn: 'per-image' });
    const fb = await be.forward(g, w, b, { taps: ['reference'], bn: 'per-image' });
    for (let s = 0; s < fa.x.length; s++) {
      const sz = fa.x[s]!.size;
      assert.deepEqual(fa.x[s]!.data.subarray(0, sz), fb.x[s]!.data.subarray(0, sz), `${be.name}: node ${fa.x[s]!.node}`);
    }
    assert.deepEqual(fa.y.data.subarray(0, 64), fb.y.data.subarray(0, 64));
    // and batch statistics (HDA mode) do depend on them: the contrast shows the test can fail
    const ba = await be.forward(g, w, a, { taps: ['reference'], bn: 'batch' });
    const bb = await be.forward(g, w, b, { taps: ['reference'], bn: 'batch' });
    assert.notDeepEqual(ba.y.data.subarray(0, 64), bb.y.data.subarray(0, 64));
  }
});

test('per-image mode equals running each image alone as a batch of one', async () => {
  const g = nb201.build(ARCH);
  const w = initWeights(g, 'bn1');
  const imgs = gaussianImages(3, 32, 'bn-c');
  const be = new OnnxBackend();
  const all = await be.forward(g, w, imgs, { taps: ['reference'], bn: 'per-image' });
  const per = 3 * 32 * 32;
  for (let i = 0; i < 3; i++) {
    const one: ImageBatch = { n: 1, c: 3, h: 32, w: 32, data: imgs.data.slice(i * per, (i + 1) * per), id: `one${i}` };
    const f = await be.forward(g, w, one, { taps: ['reference'], bn: 'batch' });
    for (let s = 0; s < f.x.length; s++) {
      const sz = f.x[s]!.size;
      const x = all.x[s]!.data.subarray(i * sz, (i + 1) * sz);
      const y = f.x[s]!.data;
      let md = 0;
      let mx = 0;
      for (let k = 0; k < sz; k++) {
        md = Math.max(md, Math.abs(x[k]! - y[k]!));
        mx = Math.max(mx, Math.abs(y[k]!));
      }
      assert.ok(md <= 1e-4 * Math.max(mx, 1e-30), `image ${i} node ${f.x[s]!.node}: ${md}`);
    }
  }
});
