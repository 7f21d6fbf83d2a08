import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkeletonSessions } from '../src/backends/onnx/reduced.js';
import type { Features } from '../src/backends/types.js';
import { initWeights } from '../src/ir/init.js';
import { REFERENCE_GAMMAS, blocksFor } from '../src/proxies/index.js';
import { naswotScore } from '../src/proxies/naswot.js';
import { rbflexScore } from '../src/proxies/rbflex.js';
import { naswotReduced, rbflexReduced } from '../src/proxies/reduced.js';
import { proxyKeysOf } from '../src/search/cache-key.js';
import { type ScorerConfig, usesSkeleton } from '../src/search/scorer.js';
import { sss } from '../src/spaces/sss.js';
import { Rng } from '../src/util/rng.js';
import { gaussianImages } from './helpers/fixtures.js';
import { assertGraphPathMatchesHost, perNetworkRbflex } from './helpers/scorer-paths.js';

// both skip-edge forms (c2 = c3 / c4 = c5 or not), the narrowest and widest networks, and a seeded few
const ARCHS = ['8:8:8:8:8', '64:64:64:64:64', '64:8:8:64:16', '16:32:32:8:8', '8:24:64:40:40', ...new Rng('sss-skeleton-test').sample(sss.size, 3).map((i) => sss.archAt(i))];
const images = gaussianImages(3, 32, 'sss-skeleton');
const { gammaK, gammaQ } = REFERENCE_GAMMAS;

const rawRbflex = (raw: Features): number => rbflexScore(blocksFor(raw, 'reference'), [{ data: raw.y.data, size: raw.y.size, count: 1 }], 3, gammaK, gammaQ).score;

test('SSS skeleton: built at width 64, a choice for the skip edge of cells 2 and 4 (identity when the widths agree, else FactorizedReduce)', () => {
  const skel = sss.skeleton!();
  assert.equal(skel.dynamic, true);
  assert.equal(skel.choices.length, 2);
  assert.deepEqual(skel.picks('8:8:8:8:8'), [0, 0]);
  assert.deepEqual(skel.picks('8:16:24:32:40'), [1, 1]);
  assert.deepEqual(skel.picks('64:8:8:64:16'), [0, 1]);
  assert.deepEqual(skel.picks('16:32:24:8:8'), [1, 0]);
  // the FactorizedReduce branch carries the conv and BN the per-network graph has when widths differ
  const branch = skel.choices[0]!.branches[1]!;
  assert.deepEqual(
    skel.graph.nodes.slice(branch.from, branch.to).map((n) => n.name),
    ['cells.2.layers.3.conv', 'cells.2.layers.3.bn'],
  );
  assert.ok(sss.build('16:32:24:8:8').nodes.some((n) => n.name === 'cells.2.layers.3.conv'));
  assert.ok(!sss.build('16:32:32:8:8').nodes.some((n) => n.name === 'cells.2.layers.3.conv'));
  assert.notEqual(sss.skeleton!({ dataset: 'cifar100' }).key, skel.key, 'the classes are part of the key');
});

test('SSS dynamic skeleton: one session for every width; forward = per-network forward with the same kernels; in-graph reduction = float64 host path', async () => {
  const skel = sss.skeleton!();
  const s = new SkeletonSessions({ threads: 1 });
  try {
    for (const arch of ARCHS) {
      const g = sss.build(arch);
      const w = initWeights(g, `t/${arch}`);
      const raw = await s.forwardRaw(skel, arch, g, w, images, ['reference', 'activations']);
      const net = await perNetworkRbflex(g, w, images);
      const sk = rawRbflex(raw);
      assert.ok(Number.isFinite(net), `${arch}: finite score expected, got ${net}`);
      assert.ok(Math.abs(net - sk) <= 1e-9 * Math.abs(net), `${arch}: per-network ${net}, skeleton ${sk}`);
      const red = await s.forward(skel, arch, g, w, images, { distances: ['reference'], hamming: ['activations'] });
      const graph = rbflexReduced(red, 'reference', gammaK, gammaQ).score;
      assert.ok(Math.abs(graph - sk) <= 1e-5, `${arch}: rbflex in-graph ${graph}, host ${sk}`);
      assert.equal(naswotReduced(red, g, 'activations'), naswotScore(blocksFor(raw, 'activations'), 3), arch);
    }
    assert.equal(s.size, 2, 'one session per output kind, whatever the widths');
    // a parameter the skeleton does not know is refused
    const g = sss.build('8:8:8:8:8');
    const w = initWeights(g, 't');
    g.nodes.find((n) => n.name === 'stem.0')!.name = 'stem.x';
    await assert.rejects(s.forward(skel, '8:8:8:8:8', g, w, images, { distances: ['reference'] }), /w:stem\.x:weight has no place in skeleton sss:dynamic/);
  } finally {
    await s.close();
  }
});

test('Scorer: SSS scores through the shared skeleton by default, within 1e-3 of the per-network path, keyed apart', async () => {
  const base: ScorerConfig = { space: 'sss', build: {}, proxies: ['rbflex', 'naswot', 'params'], settings: { ...REFERENCE_GAMMAS, taps: 'reference' }, backend: 'onnx', seed: '1' };
  assert.equal(usesSkeleton(base), true);
  assert.equal(usesSkeleton({ ...base, reduce: 'host' }), false);
  assert.match(proxyKeysOf(base, {}).rbflex!, /:reduce=graph:/);
  await assertGraphPathMatchesHost(base, images, ARCHS.slice(2, 6));
});
