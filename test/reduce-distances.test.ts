/**
 * The in-graph RBFleX distances (backends/onnx/reduce.ts: pair differences, squared column ranges
 * from the largest squared difference, one matrix-vector sum) against float64 on taps whose values
 * are known exactly: the tap is ReLU of non-negative images (an exact copy), so the expected sums
 * come straight from the images. Columns include constant ones (add 0), tiny ranges and mixed
 * magnitudes; batches of 2 (a single pair), 3 and 4 images.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forwardReduced } from '../src/backends/onnx/reduced.js';
import type { ImageBatch } from '../src/backends/types.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { initWeights } from '../src/ir/init.js';
import { Rng } from '../src/util/rng.js';

function network() {
  const b = new GraphBuilder('reduce');
  const x = b.input([2, 8, 8]);
  const r = b.activation('relu', x, 'relu');
  const p = b.globalAvgPool('gap', r);
  const fc = b.linear('fc', p, 3);
  return b.finish({ output: fc, classifierInput: p, defaultTaps: 'reference' });
}

/** n non-negative images of 2x8x8 with special columns: constant, tiny range, huge and small values. */
function images(n: number, seed: string): ImageBatch {
  const rng = new Rng(seed);
  const S = 128;
  const data = new Float32Array(n * S);
  for (let k = 0; k < S; k++) {
    for (let i = 0; i < n; i++) {
      let v: number;
      if (k < 8) v = 0.75; // constant column
      else if (k < 16) v = 0; // constant zeros (ReLU's dead units)
      else if (k < 24) v = 1 + (i === 0 ? 1e-6 : 0); // one image differs by a float32 ulp-scale step
      else if (k < 32) v = 1e-12 * (1 + rng.nextFloat()); // tiny values, range ~1e-12
      else if (k < 40) v = 1e6 * rng.nextFloat(); // large values
      else v = rng.nextFloat() * (rng.nextFloat() < 0.3 ? 0 : 1); // ReLU-like
      data[i * S + k] = v;
    }
  }
  return { n, c: 2, h: 8, w: 8, data, id: `reduce:${seed}:${n}` };
}

function float64Distances(imgs: ImageBatch): number[] {
  const S = imgs.c * imgs.h * imgs.w;
  const out: number[] = [];
  for (let i = 0; i < imgs.n; i++) {
    for (let j = i + 1; j < imgs.n; j++) {
      let s = 0;
      for (let k = 0; k < S; k++) {
        const col = Array.from({ length: imgs.n }, (_, m) => imgs.data[m * S + k]!);
        const range = Math.max(...col) - Math.min(...col);
        if (range > 0) s += ((imgs.data[i * S + k]! - imgs.data[j * S + k]!) / range) ** 2;
      }
      out.push(s);
    }
  }
  return out;
}

test('in-graph distances equal float64 sums of squared min-max normalised differences (2, 3 and 4 images)', async () => {
  const g = network();
  const w = initWeights(g, 'reduce');
  for (const n of [2, 3, 4]) {
    const imgs = images(n, `n${n}`);
    const red = await forwardReduced(g, w, imgs, { distances: ['reference'] }, { threads: 1 });
    const got = red.sums.get('distances.reference')!;
    const want = float64Distances(imgs);
    assert.equal(got.length, (n * (n - 1)) / 2);
    want.forEach((v, p) => assert.ok(Math.abs(got[p]! - v) <= 1e-6 * v, `n=${n} pair ${p}: in-graph ${got[p]} float64 ${v}`));
    // the constant columns add nothing: the same images without them give the same sums less nothing
    assert.ok(want.every((v) => v > 0 && Number.isFinite(v)));
  }
});

test('in-graph distances: identical images give exactly 0, a NaN makes its pairs NaN', async () => {
  const g = network();
  const w = initWeights(g, 'reduce');
  const one = images(1, 'same');
  const same: ImageBatch = { ...one, n: 3, data: new Float32Array([...one.data, ...one.data, ...one.data]) };
  const red = await forwardReduced(g, w, same, { distances: ['reference'] }, { threads: 1 });
  assert.deepEqual([...red.sums.get('distances.reference')!], [0, 0, 0]);
  const bad = images(3, 'nan');
  bad.data[2 * 128 + 50] = NaN;
  const r2 = await forwardReduced(g, w, bad, { distances: ['reference'] }, { threads: 1 });
  const d = r2.sums.get('distances.reference')!;
  assert.ok(Number.isNaN(d[1]!) && Number.isNaN(d[2]!), `pairs with image 2: ${d[1]}, ${d[2]}`);
});
