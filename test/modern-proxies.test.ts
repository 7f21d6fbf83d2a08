import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { ReferenceBackend } from '../src/backends/reference.js';
import { initWeights } from '../src/ir/init.js';
import { readFileSync } from 'node:fs';
import { expressivityOf, expressivityProgressivity, pixelUnshuffle, trainabilityTerm, trainabilityOf } from '../src/proxies/az-nas.js';
import { symmetricEigenvalues } from '../src/proxies/eigen.js';
import { ensembleScores } from '../src/proxies/ensemble.js';
import { mecoRun, preGapNode, swapNodes, swapRun, zenRun } from '../src/proxies/forward-runs.js';
import { initWeightsScheme } from '../src/proxies/init-schemes.js';
import { channelCorrelation, mecoLayer, mecoScore } from '../src/proxies/meco.js';
import { swapPatterns, swapRegularFactor } from '../src/proxies/swap.js';
import { runningVarAfterTwo, zenScore } from '../src/proxies/zen.js';
import { nb201 } from '../src/spaces/nb201.js';
import { Rng } from '../src/util/rng.js';
import { gaussianImages } from './helpers/fixtures.js';
import { fixturePath } from './helpers/shared-data.js';

test('symmetric eigenvalues: known spectrum, invariants of a random 40x40, zero matrix', () => {
  const ev = symmetricEigenvalues([2, 1, 0, 1, 2, 1, 0, 1, 2], 3);
  [2 - Math.SQRT2, 2, 2 + Math.SQRT2].forEach((v, i) => assert.ok(Math.abs(ev[i]! - v) < 1e-12, `${ev[i]} vs ${v}`));
  const n = 40;
  const rng = new Rng('eig');
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.nextNormal();
  const e = symmetricEigenvalues(a, n);
  let trace = 0;
  let fro = 0;
  for (let i = 0; i < n; i++) trace += a[i * n + i]!;
  for (const v of a) fro += v * v;
  assert.ok(Math.abs(e.reduce((s, v) => s + v, 0) - trace) < 1e-9);
  assert.ok(Math.abs(e.reduce((s, v) => s + v * v, 0) - fro) < 1e-8);
  for (let i = 1; i < n; i++) assert.ok(e[i]! >= e[i - 1]!, 'ascending');
  assert.deepEqual([...symmetricEigenvalues([0, 0, 0, 0], 2)], [0, 0]);
});

test('meco: channel correlation as torch.corrcoef with NaN -> 0; min eigenvalue matches torch', () => {
  // values from torch 1.13: torch.corrcoef, NaN -> 0, min real eigenvalue
  const x = [1, 2, 3, 4, 2, 4, 6, 8.5, 5, 5, 5, 5, 1, -1, 2, 0.5];
  const c = channelCorrelation(x, 4, 4);
  assert.ok(Math.abs(c[1]! - 0.99838143945703) < 1e-12);
  assert.ok(Math.abs(c[3]! - 0.15491933384829668) < 1e-12);
  assert.deepEqual([c[2], c[6], c[10], c[14]], [0, 0, 0, 0], 'the constant channel is a zero row and column');
  assert.ok(Math.abs(mecoLayer(x, 4, 4)) < 1e-12, 'a zero row gives eigenvalue 0');
  const y = [1, 2, 3, 4, 2, 4, 6, 8.5, 1, -1, 2, 0.5];
  assert.ok(Math.abs(mecoLayer(y, 3, 4) - 0.001470032943055144) < 1e-12);
  // a vector output (C rows of one value) adds 0; counts weight layers
  assert.equal(mecoScore([{ data: [1, 2, 3], shape: [3], count: 1 }]), 0);
  const s = mecoScore([{ data: y, shape: [3, 2, 2], count: 2 }]);
  assert.ok(Math.abs(s - 2 * 0.001470032943055144) < 1e-12);
});

test('swap: distinct sign patterns over samples, both code paths; regulariser', () => {
  // 3 samples x 4 neurons: patterns (by neuron) 101, 011, 101, 000 -> 3 distinct
  const data = [1, 0, 2, 0, 0, 3, 0, 0, 5, 1, 4, 0];
  assert.equal(swapPatterns([{ data, size: 4 }], 3), 3);
  // a second block repeating a pattern adds nothing; a new one adds one
  assert.equal(swapPatterns([{ data, size: 4 }, { data: [1, 1, 1], size: 1 }], 3), 4);
  // n > 24 takes the string path: 30 samples, neuron k active on samples < k
  const n = 30;
  const big = new Float64Array(n * 5);
  for (let i = 0; i < n; i++) for (let k = 0; k < 5; k++) big[i * 5 + k] = i < k * 7 ? 1 : 0;
  assert.equal(swapPatterns([{ data: big, size: 5 }], n), 5);
  assert.equal(swapPatterns([{ data: big, size: 5 }, { data: big, size: 5 }], n), 5);
  assert.ok(Math.abs(swapRegularFactor(1_500_000, 1000, 250_000) - Math.exp(-1)) < 1e-15);
  assert.equal(swapRegularFactor(1_000_000, 1000, 7), 1);
});

test('zen: running variance after two forwards; score on a hand example (numpy)', () => {
  assert.ok(Math.abs(runningVarAfterTwo(1, 1) - 1) < 1e-15);
  assert.ok(Math.abs(runningVarAfterTwo(10, 20) - (0.81 + 0.9 + 2)) < 1e-12);
  const s = zenScore([1, 2, 3, 4], [1.5, 2, 2, 4], 2, [{ var1: [2, 3], var2: [4, 1], count: 10 }]);
  assert.ok(Math.abs(s - -0.1421771411795531) < 1e-12, String(s));
  assert.equal(zenScore([1, 2], [1, 2], 1, []), -Infinity, 'identical outputs: log 0');
});

test('ensemble: log-rank and rank aggregation; NaN and -Infinity rank last', () => {
  const a = [3, 1, 2];
  const b = [1, 3, 2];
  const lr = ensembleScores([a, b], 'log-rank');
  assert.ok(Math.abs(lr[0]! - (Math.log(1) + Math.log(1 / 3))) < 1e-15);
  assert.ok(Math.abs(lr[2]! - 2 * Math.log(2 / 3)) < 1e-15);
  assert.deepEqual(ensembleScores([a, b], 'rank'), [4 / 3, 4 / 3, 4 / 3]);
  const c = ensembleScores([[NaN, -Infinity, 5]], 'rank');
  assert.equal(c[0], c[1]);
  assert.ok(c[2]! > c[0]!);
  assert.throws(() => ensembleScores([[1, 2], [1]], 'rank'), /members score/);
});

test('gaussian init schemes: N(0,1) and kaiming fan-in; BatchNorm 1 / 0', () => {
  const g = nb201.build('|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|');
  for (const [scheme, varOf] of [
    ['normal', () => 1],
    ['kaiming-normal-fan-in', (fanIn: number) => 2 / fanIn],
  ] as const) {
    const w = initWeightsScheme(g, 's', scheme);
    for (const spec of w.specs) {
      const arr = w.byNode.get(spec.node)![spec.role]!;
      const op = g.nodes[spec.node]!.op;
      if (op.kind === 'batchnorm') assert.ok(arr.every((v) => v === (spec.role === 'weight' ? 1 : 0)));
      else if (spec.role === 'weight' && arr.length >= 2000) {
        const v = arr.reduce((s, x) => s + x * x, 0) / arr.length;
        const want = varOf(arr.length / spec.shape[0]!);
        assert.ok(Math.abs(v / want - 1) < 0.1, `${scheme} variance ${v} vs ${want}`);
      }
    }
  }
});

test('meco, swap, zen: onnx and reference backends agree on NB201 networks (ImageNet16 size)', async () => {
  const onnx = new OnnxBackend();
  const ref = new ReferenceBackend();
  const images = gaussianImages(16, 16, 'modern');
  for (const arch of [
    '|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|',
    '|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|skip_connect~2|',
  ]) {
    const g = nb201.build(arch, { dataset: 'ImageNet16-120' });
    assert.equal(g.nodes[preGapNode(g)]!.name, 'lastact.1');
    assert.ok(swapNodes(g).length > 0);
    const w = initWeights(g, `t/${arch}`);
    const m1 = await mecoRun(g, w, images, onnx);
    const m2 = await mecoRun(g, w, images, ref);
    assert.ok(m1 > 0 && Math.abs(m1 - m2) < 1e-4 * Math.abs(m2), `meco ${m1} vs ${m2}`);
    const s1 = await swapRun(g, `t/${arch}`, images, onnx, { n: 16 });
    const s2 = await swapRun(g, `t/${arch}`, images, ref, { n: 16 });
    assert.ok(s1 > 100 && Math.abs(s1 - s2) <= 1e-3 * s2, `swap ${s1} vs ${s2}`);
    const z1 = await zenRun(g, `t/${arch}`, onnx, { n: 8, gamma: 1e-2 });
    const z2 = await zenRun(g, `t/${arch}`, ref, { n: 8, gamma: 1e-2 });
    assert.ok(Number.isFinite(z1) && Math.abs(z1 - z2) < 1e-3 * Math.abs(z2), `zen ${z1} vs ${z2}`);
  }
});

test('az-nas: expressivity, PixelUnshuffle and the trainability term match the authors\' torch code', () => {
  // test/fixtures/modern/az-nas.json from tools/make-modern-fixture.py (torch 1.13)
  type Map4 = { shape: [number, number, number, number]; data: number[] };
  const fx = JSON.parse(readFileSync(fixturePath('modern/az-nas.json'), 'utf8')) as {
    feature: Map4 & { expressivity: number };
    cell: { gIn: Map4; gOut: Map4; unshuffled: number[]; term: number };
  };
  const fm = (m: Map4) => ({ data: m.data, n: m.shape[0], c: m.shape[1], h: m.shape[2], w: m.shape[3] });
  assert.ok(Math.abs(expressivityOf(fm(fx.feature)) - fx.feature.expressivity) < 1e-10);
  const u = pixelUnshuffle(fm(fx.cell.gIn), 2);
  assert.deepEqual([u.c, u.h, u.w], [8, 2, 2]);
  assert.deepEqual(Array.from(u.data), fx.cell.unshuffled);
  assert.ok(Math.abs(trainabilityTerm(fm(fx.cell.gIn), fm(fx.cell.gOut)) - fx.cell.term) < 1e-10);
  // an identity cell (g_in = g_out) is -Infinity; progressivity is the smallest step
  assert.equal(trainabilityTerm(fm(fx.cell.gOut), fm(fx.cell.gOut)), -Infinity);
  assert.deepEqual(expressivityProgressivity([1, 3, 2.5, 4]), { expressivity: 10.5, progressivity: -0.5 });
  assert.equal(expressivityProgressivity([1, NaN]).expressivity, -Infinity);
  assert.equal(trainabilityOf([0.5, -0.5]), 0);
});

test('session: ensemble members are scored, the ensemble is ranked over the set; bad members refused', async () => {
  const { ScoringSession } = await import('../src/search/session.js');
  const archs = [
    '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|',
    '|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|none~2|',
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|',
  ];
  const s = new ScoringSession({
    space: 'nb201',
    images: gaussianImages(1, 32, 'e'),
    proxies: ['params', 'ensemble'],
    ensemble: { members: ['params', 'flops'], aggregation: 'rank' },
    workers: 0,
  });
  try {
    assert.deepEqual(s.computed, ['params', 'flops']);
    const out = await s.score(archs);
    // params and flops grow together here: ranks 1, 2, 3 in both -> 2/3, 4/3, 2
    assert.deepEqual(archs.map((a) => out.get(a)!.scores.ensemble), [2 / 3, 4 / 3, 2]);
  } finally {
    await s.close();
  }
  assert.throws(() => new ScoringSession({ space: 'nb201', images: gaussianImages(1, 32, 'e'), proxies: ['ensemble'], ensemble: { members: ['params', 'nope'], aggregation: 'rank' }, workers: 0 }), /ensemble member "nope"/);
});

test('meco through scoreNetwork: one image is enough; swap on fewer images than 16 says so', async () => {
  const { scoreNetwork } = await import('../src/search/scorer.js');
  const { PROXIES, REFERENCE_GAMMAS } = await import('../src/proxies/index.js');
  const g = nb201.build('|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|', { dataset: 'ImageNet16-120' });
  const settings = { ...REFERENCE_GAMMAS, taps: 'reference' as const };
  const images = gaussianImages(3, 16, 'sn');
  const r = await scoreNetwork(g, () => initWeights(g, 'w'), images, [PROXIES.meco(settings), PROXIES.swap(settings)], settings, new OnnxBackend(), 'w');
  assert.ok(r.scores.meco! > 0);
  assert.equal(r.notes?.meco, undefined);
  assert.ok(r.scores.swap! >= 1 && r.scores.swap! <= 8, 'at most 2^3 patterns on 3 images');
  assert.match(r.notes!.swap!, /ran on 3 images; its authors use 16/);
  await assert.rejects(scoreNetwork(g, () => initWeights(g, 'w'), images, [PROXIES.zen(settings)], settings, new OnnxBackend()), /weight seed/);
});
