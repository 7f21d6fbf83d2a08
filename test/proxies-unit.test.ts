import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countParams } from '../src/ir/analysis.js';
import { initWeights } from '../src/ir/init.js';
import { HdaError, hdaCandidates, hdaFromCandidates } from '../src/proxies/hda.js';
import { logAbsDet, rbfLogDet } from '../src/proxies/linalg.js';
import { naswotKernel, naswotScore } from '../src/proxies/naswot.js';
import { normalizedSquaredDistances, rbflexScore } from '../src/proxies/rbflex.js';
import { nb201 } from '../src/spaces/nb201.js';
import { kendallTauB, spearman, topKHitRate } from '../src/search/stats.js';
import { Rng } from '../src/util/rng.js';

const ARCH = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

test('initialisation: same seed same weights; PyTorch default bounds; BN weight 1, bias 0', () => {
  const g = nb201.build(ARCH);
  const a = initWeights(g, 'seed-a');
  const b = initWeights(g, 'seed-a');
  const c = initWeights(g, 'seed-b');
  let total = 0;
  for (const spec of a.specs) {
    const wa = a.byNode.get(spec.node)![spec.role]!;
    assert.deepEqual(wa, b.byNode.get(spec.node)![spec.role]!);
    total += wa.length;
    if (spec.init.kind === 'const') assert.ok(wa.every((v) => v === (spec.init as { value: number }).value));
    else if (spec.init.kind === 'uniform') {
      const bound = spec.init.bound;
      assert.ok(wa.every((v) => Math.abs(v) <= bound), `${spec.node} ${spec.role} within +-${bound}`);
      if (wa.length >= 1000) {
        // uniform(-b, b): mean 0, variance b^2 / 3
        const mean = wa.reduce((s, v) => s + v, 0) / wa.length;
        const varr = wa.reduce((s, v) => s + (v - mean) ** 2, 0) / wa.length;
        assert.ok(Math.abs(mean) < 0.1 * bound, 'mean');
        assert.ok(Math.abs(varr / (bound * bound / 3) - 1) < 0.1, 'variance');
      }
      assert.notDeepEqual(wa, c.byNode.get(spec.node)![spec.role]!);
    }
  }
  assert.equal(total, countParams(g));
  // conv weights: bound 1/sqrt(fan_in); stem conv 3->16 3x3 has fan_in 27
  const stem = a.specs.find((s) => s.role === 'weight' && s.shape.length === 4)!;
  assert.deepEqual(stem.shape, [16, 3, 3, 3]);
  assert.equal((stem.init as { bound: number }).bound, 1 / Math.sqrt(27));
});

test('min-max normalisation: constant columns add nothing; each column is scaled to [0, 1]', () => {
  // 3 rows, columns: constant, (0, 5, 10), (2, 2, 4)
  const data = Float64Array.from([7, 0, 2, /**/ 7, 5, 2, /**/ 7, 10, 4]);
  const d = normalizedSquaredDistances([{ data, size: 3, count: 1 }], 3);
  // normalised: col1 (0, .5, 1), col2 (0, 0, 1)
  assert.equal(d[0 * 3 + 1], 0.25);
  assert.equal(d[0 * 3 + 2], 1 + 1);
  assert.equal(d[1 * 3 + 2], 0.25 + 1);
  // a block counted twice weighs twice; general-N path agrees with the N=3 path
  const d2 = normalizedSquaredDistances([{ data, size: 3, count: 2 }], 3);
  assert.equal(d2[1], 0.5);
  const four = Float64Array.from([0, 1, 2, 3]);
  const d4 = normalizedSquaredDistances([{ data: four, size: 1, count: 1 }], 4);
  assert.ok(Math.abs(d4[0 * 4 + 3]! - 1) < 1e-15 && Math.abs(d4[1 * 4 + 2]! - 1 / 9) < 1e-15);
});

test('RBF log-det equals the naive formula where that one is accurate, and identical rows give -Infinity', () => {
  const dist = Float64Array.from([0, 1, 4, 1, 0, 1, 4, 1, 0]);
  const gamma = 0.3;
  const k = dist.map((v) => Math.exp(-gamma * v));
  assert.ok(Math.abs(rbfLogDet(dist, 3, gamma) - logAbsDet(k, 3)) < 1e-12);
  const same = Float64Array.from([0, 0, 4, 0, 0, 4, 4, 4, 0]);
  assert.equal(rbfLogDet(same, 3, gamma), -Infinity);
  const r = rbflexScore([{ data: Float64Array.from([1, 2, 1, 2, 3, 4]), size: 2, count: 1 }], [{ data: Float64Array.from([1, 1, 2]), size: 1, count: 1 }], 3, 1, 1);
  assert.equal(r.score, -Infinity);
  assert.match(r.degenerate!, /kernel K is singular/);
  assert.throws(() => rbflexScore([], [], 3, 0, 1), /positive kernel widths/);
});

test('NASWOT kernel: N_A minus the Hamming distance of the binary codes', () => {
  // codes (> 0): img0 1 0 1 1, img1 1 1 0 1, img2 0 0 0 0
  const data = Float64Array.from([0.5, -1, 2, 0.1, /**/ 3, 1, 0, 4, /**/ -1, -2, 0, -0.5]);
  const k = naswotKernel([{ data, size: 4, count: 1 }], 3);
  assert.deepEqual([...k], [4, 2, 1, 2, 4, 1, 1, 1, 4]);
  const k2 = naswotKernel([{ data, size: 4, count: 3 }], 3);
  assert.deepEqual([...k2], [...k].map((v) => 3 * v));
  assert.ok(Math.abs(naswotScore([{ data, size: 4, count: 1 }], 3) - Math.log(4 * (16 - 1) - 2 * (8 - 1) + 1 * (2 - 4))) < 1e-12);
});

test('HDA: variants and the refusal of gamma = 0', () => {
  // rows with equal means (pair 0,1) and distinct means
  const data = Float64Array.from([0, 2, /**/ 2, 0, /**/ 5, 7]);
  const blocks = [{ data, size: 2, count: 1 }];
  const ref = hdaCandidates(blocks, 3, 'reference');
  assert.deepEqual(ref, [0, 25 / 4, 25 / 4]); // means 1, 1, 6; variances 1: (m_i - m_j)^2 / (2 (s_i + s_j))
  assert.deepEqual(hdaCandidates(blocks, 3, 'paper'), [25 / 4, 25 / 4]);
  assert.throws(() => hdaFromCandidates(ref, [1], 'reference'), (e: Error) => e instanceof HdaError && /gamma_k = 0/.test(e.message));
  assert.equal(hdaFromCandidates(hdaCandidates(blocks, 3, 'paper'), [1], 'paper').gammaK, 25 / 4);
  // zero-variance rows are skipped; nothing left is an error too
  const flat = [{ data: Float64Array.from([1, 1, 2, 2]), size: 2, count: 1 }];
  assert.throws(() => hdaFromCandidates(hdaCandidates(flat, 2, 'paper'), [1], 'paper'), /no usable image pair/);
});

test('Kendall tau-b (O(n log n)) equals the O(n^2) definition with ties and -Infinity', () => {
  const rng = new Rng('tau');
  for (let rep = 0; rep < 5; rep++) {
    const n = 200;
    const x = Array.from({ length: n }, () => Math.round(rng.nextNormal() * 3));
    const y = x.map((v) => Math.round(v + rng.nextNormal() * 2));
    x[3] = -Infinity;
    x[9] = -Infinity;
    let nc = 0, nd = 0, tx = 0, ty = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const a = x[i] === x[j] ? 0 : x[i]! < x[j]! ? -1 : 1;
        const b = y[i] === y[j] ? 0 : y[i]! < y[j]! ? -1 : 1;
        if (a === 0 && b === 0) continue;
        if (a === 0) tx++;
        else if (b === 0) ty++;
        else if (a === b) nc++;
        else nd++;
      }
    }
    const brute = (nc - nd) / Math.sqrt((nc + nd + tx) * (nc + nd + ty));
    assert.ok(Math.abs(kendallTauB(x, y) - brute) < 1e-12);
  }
  assert.equal(spearman([1, 2, 3, -Infinity], [2, 3, 4, 1]), 1);
  assert.equal(topKHitRate([5, 4, 3, 2, 1], [50, 40, 10, 20, 30], 2), 1);
  assert.equal(topKHitRate([1, 2, 3, 4, 5], [50, 40, 10, 20, 30], 2), 0);
});
