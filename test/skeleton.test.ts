import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportOnnx, selectVector } from '../src/backends/onnx/export.js';
import { SkeletonSessions, forwardReduced } from '../src/backends/onnx/reduced.js';
import { WIDE_COLUMNS } from '../src/backends/onnx/reduce.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { ReferenceBackend } from '../src/backends/reference.js';
import { numel } from '../src/ir/analysis.js';
import { initWeights } from '../src/ir/init.js';
import type { Features } from '../src/backends/types.js';
import { PROXIES, REFERENCE_GAMMAS, blocksFor } from '../src/proxies/index.js';
import { naswotScore } from '../src/proxies/naswot.js';
import { rbflexScore } from '../src/proxies/rbflex.js';
import { naswotReduced, rbflexReduced } from '../src/proxies/reduced.js';
import { proxyKeysOf } from '../src/search/cache-key.js';
import { type ScorerConfig, usesSkeleton } from '../src/search/scorer.js';
import { nb201 } from '../src/spaces/nb201.js';
import { transnasMicro } from '../src/spaces/transnas.js';
import { Rng } from '../src/util/rng.js';
import { gaussianImages } from './helpers/fixtures.js';
import { assertGraphPathMatchesHost, perNetworkRbflex } from './helpers/scorer-paths.js';

const ARCHS = [
  '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|',
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  '|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|',
  '|skip_connect~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|avg_pool_3x3~2|',
  ...new Rng('skeleton-test').sample(nb201.size, 4).map((i) => nb201.archAt(i)),
];
const images = gaussianImages(3, 32, 'skeleton');
const { gammaK, gammaQ } = REFERENCE_GAMMAS;

/** RBFleX of raw taps (a skeleton's forwardRaw or a backend's forward), reduced in float64. */
function rawRbflex(raw: Features): number {
  return rbflexScore(blocksFor(raw, 'reference'), [{ data: raw.y.data, size: raw.y.size, count: 1 }], 3, gammaK, gammaQ).score;
}

test('NB201 skeleton: one choice per cell edge, grouped by edge; picks follow the arch string', () => {
  const skel = nb201.skeleton!();
  assert.equal(skel.choices.length, 15 * 6);
  assert.ok(skel.choices.every((c) => c.branches.length === 5));
  const picks = skel.picks(ARCHS[2]!);
  assert.deepEqual(picks.slice(0, 6), [2, 3, 2, 0, 4, 3]);
  assert.deepEqual(picks.slice(84), [2, 3, 2, 0, 4, 3]);
  const v = selectVector(skel.choices, picks);
  assert.equal(v.length, 6 * 4, 'one condition per (edge, branch) for all cells');
  assert.deepEqual([...v.subarray(0, 4)], [0, 0, 1, 0]);
  assert.deepEqual([...v.subarray(12, 16)], [1, 0, 0, 0]);
  assert.deepEqual([...v.subarray(16, 20)], [0, 0, 0, 0], 'the last branch (avg_pool) is the cascade default');
  const bad = [...picks];
  bad[6] = 1;
  assert.throws(() => selectVector(skel.choices, bad), /group edge0 already picked branch 2/);
});

test('skeleton session: in-graph reduction agrees with the float64 host path on the same forward (RBFleX 1e-4, NASWOT exact)', async () => {
  const skel = nb201.skeleton!();
  const s = new SkeletonSessions({ threads: 1 });
  try {
    for (const arch of ARCHS) {
      const g = nb201.build(arch);
      const w = initWeights(g, `t/${arch}`);
      const red = await s.forward(skel, arch, g, w, images, { distances: ['reference'], hamming: ['activations'] });
      const raw = await s.forwardRaw(skel, arch, g, w, images, ['reference', 'activations']);
      const y = [{ data: raw.y.data, size: raw.y.size, count: 1 }];
      const host = rbflexScore(blocksFor(raw, 'reference'), y, 3, gammaK, gammaQ).score;
      const graph = rbflexReduced(red, 'reference', gammaK, gammaQ).score;
      if (host === -Infinity) assert.equal(graph, -Infinity, arch);
      else assert.ok(Math.abs(graph - host) <= 1e-4, `${arch}: rbflex graph ${graph} host ${host}`);
      assert.equal(naswotReduced(red, g, 'activations'), naswotScore(blocksFor(raw, 'activations'), 3), arch);
    }
    assert.equal(s.size, 2, 'one session per (skeleton, output kind), reused across architectures');
  } finally {
    await s.close();
  }
});

test('skeleton forward = per-network forward with the same kernels (level extended), and RBFleX within 1e-3 of the float64 interpreter', async () => {
  const skel = nb201.skeleton!();
  const s = new SkeletonSessions({ threads: 1 });
  try {
    for (const arch of ARCHS.slice(1, 4)) {
      const g = nb201.build(arch);
      const w = initWeights(g, `t/${arch}`);
      const raw = await s.forwardRaw(skel, arch, g, w, images, ['reference']);
      const net = await perNetworkRbflex(g, w, images);
      const sk = rawRbflex(raw);
      assert.ok(Math.abs(net - sk) <= 1e-9, `${arch}: per-network ${net}, skeleton ${sk}`);
      const f64 = await new ReferenceBackend().forward(g, w, images, { taps: ['reference'], bn: 'per-image' });
      const ref = rbflexScore(blocksFor(f64, 'reference'), [{ data: f64.y.data, size: f64.y.size, count: 1 }], 3, gammaK, gammaQ).score;
      assert.ok(Math.abs(sk - ref) <= 1e-3, `${arch}: skeleton ${sk}, float64 interpreter ${ref}`);
    }
  } finally {
    await s.close();
  }
});

test('Scorer picks the skeleton path only for reducible proxies on a space with a skeleton, and keys it apart', async () => {
  const base: ScorerConfig = {
    space: 'nb201',
    build: {},
    proxies: ['rbflex', 'naswot', 'params'],
    settings: { ...REFERENCE_GAMMAS, taps: 'reference' },
    backend: 'onnx',
    seed: '1',
    reduce: 'graph',
  };
  assert.equal(usesSkeleton(base), true);
  assert.equal(usesSkeleton({ ...base, reduce: undefined }), true, 'graph is the default where it applies');
  assert.equal(usesSkeleton({ ...base, reduce: 'host' }), false);
  assert.equal(usesSkeleton({ ...base, backend: 'reference' }), false);
  assert.equal(usesSkeleton({ ...base, proxies: ['params', 'flops'] }), false, 'no forward pass at all');
  assert.equal(usesSkeleton({ ...base, space: 'sss' }), true, 'sss: a dynamic-width skeleton');
  assert.ok(PROXIES.rbflex(base.settings).reduced);
  const graphKeys = proxyKeysOf(base, {});
  const hostKeys = proxyKeysOf({ ...base, reduce: 'host' }, {});
  assert.match(graphKeys.rbflex!, /:reduce=graph:/);
  assert.equal(hostKeys.rbflex, 'rbflex:v1:taps=reference:gk=2.68690173088039e-12:gq=1.02460061284506e-11:backend=onnx:bn=per-image:engine=none', 'host-path keys unchanged');
  assert.equal(graphKeys.params, hostKeys.params);

  await assertGraphPathMatchesHost(base, images, ARCHS.slice(2, 5));
});

test('TransNAS-micro skeleton: skeleton forward = per-network forward, and in-graph reduction = float64 host path', async () => {
  const opts = { resolution: 32 };
  const skel = transnasMicro.skeleton!(opts);
  assert.equal(skel.choices.length, 10 * 6, 'ten micro cells (five stages of two) of six edges');
  assert.ok(skel.choices.every((c) => c.branches.length === 4));
  const archs = ['64-41414-0_00_000', '64-41414-1_02_323', '64-41414-2_13_012', ...new Rng('skeleton-tn').sample(transnasMicro.size, 1).map((i) => transnasMicro.archAt(i))];
  const s = new SkeletonSessions({ threads: 1 });
  try {
    for (const arch of archs) {
      const g = transnasMicro.build(arch, opts);
      const w = initWeights(g, `t/${arch}`);
      const raw = await s.forwardRaw(skel, arch, g, w, images, ['reference']);
      const net = await perNetworkRbflex(g, w, images);
      const sk = rawRbflex(raw);
      if (net === -Infinity) assert.equal(sk, -Infinity, arch);
      else assert.ok(Math.abs(net - sk) <= 1e-9 * Math.max(1, Math.abs(net)), `${arch}: per-network ${net}, skeleton ${sk}`);
      const red = await s.forward(skel, arch, g, w, images, { distances: ['reference'] });
      const graph = rbflexReduced(red, 'reference', gammaK, gammaQ).score;
      if (sk === -Infinity) assert.equal(graph, -Infinity, arch);
      else assert.ok(Math.abs(graph - sk) <= 1e-4, `${arch}: rbflex graph ${graph} host ${sk}`);
    }
    assert.equal(s.size, 2, 'one session per (skeleton, output kind), reused across architectures');
  } finally {
    await s.close();
  }
});

test('in-graph distances of a wide tap (over WIDE_COLUMNS values per image) are summed in float64 and match the host path', async () => {
  const b = new GraphBuilder('wide');
  const x = b.input([3, 160, 160]);
  const c = b.conv2d('conv', x, { outC: 4, kernel: 3, pad: 1, bias: true });
  const r = b.activation('relu', c, 'relu');
  const p = b.globalAvgPool('gap', r);
  const fc = b.linear('fc', p, 10);
  const g = b.finish({ output: fc, classifierInput: p, defaultTaps: 'reference' });
  assert.ok(numel(g.nodes[r]!.shape) > WIDE_COLUMNS);
  const w = initWeights(g, 'wide');
  const imgs = gaussianImages(3, 160, 'wide');
  const red = await forwardReduced(g, w, imgs, { distances: ['reference'] }, { threads: 1 });
  const m = exportOnnx(g, w, { taps: ['reference'], bn: 'per-image' });
  assert.ok(m.bytes.length > 0);
  const raw = await new ReferenceBackend().forward(g, w, imgs, { taps: ['reference'], bn: 'per-image' });
  // float64 reference: sum over columns of ((x_i - x_j) / range)^2 for pairs (0,1), (0,2), (1,2)
  const block = blocksFor(raw, 'reference')[0]!;
  const cols = block.size;
  const want = [[0, 1], [0, 2], [1, 2]].map(([i, j]) => {
    let s = 0;
    for (let k = 0; k < cols; k++) {
      const v = [0, 1, 2].map((n) => block.data[n * cols + k]!);
      const range = Math.max(Math.max(...v) - Math.min(...v), 1e-30);
      s += ((v[i!]! - v[j!]!) / range) ** 2;
    }
    return s;
  });
  const got = red.sums.get('distances.reference')!;
  want.forEach((v, k) => assert.ok(Math.abs(got[k]! - v) <= 1e-6 * v, `pair ${k}: in-graph ${got[k]} float64 ${v}`));
});
