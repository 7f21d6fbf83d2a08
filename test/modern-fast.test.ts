/**
 * The faster paths of the modern proxies give the values of the plain ones: bulk normals, the
 * blocked correlation, the min-eigenvalue bisection, MeCo_opt's sub-matrices of MeCo's matrices,
 * SWAP's in-graph pattern codes, Zen-NAS's two passes through one session, the per-network memo.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import type { Backend } from '../src/backends/types.js';
import { initWeights } from '../src/ir/init.js';
import { symmetricEigenvalues, symmetricMinEigenvalue } from '../src/proxies/eigen.js';
import { mecoRun, swapNodes, swapRun, zenRun } from '../src/proxies/forward-runs.js';
import { MecoPass, type MecoTensor, channelCorrelation, mecoOptScore, mecoScore } from '../src/proxies/meco.js';
import { swapPatternCodes, swapPatterns } from '../src/proxies/swap.js';
import { nb201 } from '../src/spaces/nb201.js';
import { Rng } from '../src/util/rng.js';
import { gaussianImages } from './helpers/fixtures.js';

test('fillNormal: the same values as nextNormal in a loop, scaled, and the stream continues alike', () => {
  const a = new Rng('fill');
  const b = new Rng('fill');
  const bulk = a.fillNormal(new Float32Array(1001), 0.5);
  for (let i = 0; i < bulk.length; i++) assert.ok(Object.is(bulk[i], Math.fround(b.nextNormal() * 0.5)), `element ${i}`);
  const d = a.fillNormal(new Float64Array(7));
  for (let i = 0; i < d.length; i++) assert.ok(Object.is(d[i], b.nextNormal()));
  assert.equal(a.nextU32(), b.nextU32());
});

/** The plain O(rows^2 cols) loop the blocked channelCorrelation replaced. */
function plainCorrelation(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const centred = new Float64Array(rows * cols);
  const norm = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += x[r * cols + k]!;
    const mean = s / cols;
    let ss = 0;
    for (let k = 0; k < cols; k++) {
      const d = x[r * cols + k]! - mean;
      centred[r * cols + k] = d;
      ss += d * d;
    }
    norm[r] = Math.sqrt(ss);
  }
  const c = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += centred[i * cols + k]! * centred[j * cols + k]!;
      let v = s / (norm[i]! * norm[j]!);
      v = Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
      c[i * rows + j] = c[j * rows + i] = v;
    }
  }
  return c;
}

test('channel correlation: blocked loop = plain loop, bit for bit (incl. a constant row)', () => {
  const rng = new Rng('corr');
  for (const [rows, cols] of [[7, 13], [16, 64], [9, 1]] as const) {
    const x = Float32Array.from({ length: rows * cols }, () => rng.nextNormal());
    x.fill(0.25, 2 * cols, 3 * cols);
    const fast = channelCorrelation(x, rows, cols);
    const slow = plainCorrelation(x, rows, cols);
    for (let i = 0; i < fast.length; i++) assert.ok(Object.is(fast[i], slow[i]), `${rows}x${cols} entry ${i}: ${fast[i]} vs ${slow[i]}`);
  }
});

test('min eigenvalue by bisection = the smallest of all eigenvalues (QL), to 2 eps ||A||', () => {
  const rng = new Rng('mineig');
  const cases: { a: Float64Array; n: number }[] = [];
  for (const n of [1, 2, 5, 16, 64]) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.nextNormal();
    cases.push({ a, n });
  }
  // rank-deficient correlation matrices (more channels than pixels, as MeCo meets in NATS-SSS)
  for (const [rows, cols] of [[32, 8], [64, 64], [8, 3]] as const) {
    const x = Float32Array.from({ length: rows * cols }, () => rng.nextNormal());
    cases.push({ a: channelCorrelation(x, rows, cols), n: rows });
  }
  cases.push({ a: new Float64Array(9), n: 3 });
  for (const { a, n } of cases) {
    const all = symmetricEigenvalues(a, n);
    const scale = Math.max(1, ...Array.from(all, Math.abs));
    const m = symmetricMinEigenvalue(a, n);
    assert.ok(Math.abs(m - all[0]!) <= 4 * Number.EPSILON * scale * n, `${n}: ${m} vs ${all[0]}`);
  }
});

test('meco-opt on a shared pass (sub-matrices of meco\'s matrices) = meco-opt alone, bit for bit', () => {
  const rng = new Rng('mecopass');
  const tensors: MecoTensor[] = [
    { data: Float32Array.from({ length: 16 * 25 }, () => rng.nextNormal()), shape: [16, 5, 5], count: 1 },
    { data: Float32Array.from({ length: 5 * 9 }, () => rng.nextNormal()), shape: [5, 3, 3], count: 2 },
    { data: Float32Array.from({ length: 12 * 4 }, () => rng.nextNormal()), shape: [12, 2, 2], count: 3 },
  ];
  const alone = mecoOptScore(tensors, new Rng('opt'));
  const pass = new MecoPass(tensors);
  const meco = mecoScore(pass);
  assert.ok(pass.cached(0) && pass.cached(2), 'meco filled the matrices');
  assert.ok(Object.is(mecoOptScore(pass, new Rng('opt')), alone));
  assert.ok(Object.is(mecoScore(tensors), meco));
  assert.notEqual(mecoOptScore(pass, new Rng('other')), alone, 'the channel sample matters (the test can fail)');
});

test('swap: pattern codes = patterns from the sign of each sample', () => {
  const rng = new Rng('codes');
  const n = 6;
  const blocks = [10, 33].map((size) => ({ size, data: Float32Array.from({ length: n * size }, () => (rng.nextU32() % 3) - 1) }));
  const codes = blocks.map((b) => Float32Array.from({ length: b.size }, (_, k) => {
    let c = 0;
    for (let i = 0; i < n; i++) if (b.data[i * b.size + k]! > 0) c += 2 ** i;
    return c;
  }));
  const p = swapPatterns(blocks, n);
  assert.ok(p > 10 && p < 43);
  assert.equal(swapPatternCodes(codes, n), p);
  assert.throws(() => swapPatternCodes(codes, 25), /at most 24/);
});

/** The onnx backend without forwardEach and without in-graph pattern codes: the plain paths. */
function plainOnnx(): Backend {
  const o = new OnnxBackend();
  return { name: 'onnx', forward: (g, w, images, opts) => o.forward(g, w, images, { ...opts, ...(opts.signCodes ? { signCodes: undefined, nodes: opts.signCodes.nodes } : {}) }) };
}

test('NB201: swap codes in the graph, zen through one session, meco + meco-opt on one pass = the plain paths', async () => {
  const fast = new OnnxBackend();
  const images = gaussianImages(16, 16, 'fast');
  const arch = '|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|';
  const build = () => nb201.build(arch, { dataset: 'ImageNet16-120' });
  const g1 = build();
  const g2 = build();
  const seed = 't/fast';
  const s1 = await swapRun(g1, seed, images, fast, { n: 16 });
  const s2 = await swapRun(g2, seed, images, plainOnnx(), { n: 16 });
  assert.ok(swapNodes(g1).length > 0 && s1 > 100);
  assert.equal(s1, s2);
  const z1 = await zenRun(g1, seed, fast, { n: 8, gamma: 1e-2 });
  const z2 = await zenRun(g2, seed, plainOnnx(), { n: 8, gamma: 1e-2 });
  assert.ok(Number.isFinite(z1) && Object.is(z1, z2), `zen ${z1} vs ${z2}`);
  // meco-opt after meco on the same graph (shared pass) = meco-opt on a fresh graph
  const w = initWeights(g1, seed);
  const m = await mecoRun(g1, w, images, fast);
  const o1 = await mecoRun(g1, w, images, fast, { seed });
  const o2 = await mecoRun(g2, initWeights(g2, seed), images, fast, { seed });
  assert.ok(m > 0 && Object.is(o1, o2), `meco-opt ${o1} vs ${o2}`);
});
