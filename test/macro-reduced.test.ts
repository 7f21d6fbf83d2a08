import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REFERENCE_GAMMAS } from '../src/proxies/index.js';
import { proxyKeysOf } from '../src/search/cache-key.js';
import { type ScorerConfig, reducesInGraph, usesSkeleton } from '../src/search/scorer.js';
import { transnasMacro } from '../src/spaces/transnas.js';
import { gaussianImages } from './helpers/fixtures.js';
import { assertGraphPathMatchesHost } from './helpers/scorer-paths.js';

// 4 to 6 stages, 1 to 4 downsamplings; 128x128 keeps every tap over WIDE_COLUMNS (float64 sums) in the first stages
const ARCHS = ['64-1324-basic', '64-41414-basic', '64-231324-basic'];
const images = gaussianImages(3, 128, 'macro-reduced');

test('TransNAS-macro: per-network sessions reduce the taps in the graph by default (no skeleton), within 1e-4 of the per-network raw path', async () => {
  const base: ScorerConfig = {
    space: 'transnas-macro',
    build: { resolution: 128 },
    proxies: ['rbflex', 'naswot', 'params'],
    settings: { ...REFERENCE_GAMMAS, taps: 'reference' },
    backend: 'onnx',
    seed: '1',
  };
  assert.equal(usesSkeleton(base), false, 'every macro id is its own structure: no shared session');
  assert.equal(reducesInGraph(base), true);
  assert.equal(reducesInGraph({ ...base, reduce: 'host' }), false);
  assert.equal(reducesInGraph({ ...base, proxies: ['rbflex', 'snip'] }), false, 'a gradient proxy keeps the raw path');
  assert.equal(reducesInGraph({ ...base, space: 'darts' }), false, 'only spaces that ask for it');
  assert.match(proxyKeysOf(base, {}).rbflex!, /:reduce=graph:/);
  assert.doesNotMatch(proxyKeysOf({ ...base, reduce: 'host' }, {}).rbflex!, /reduce=graph/);
  assert.equal(transnasMacro.skeleton, undefined);
  // float32 rounding: plain kernels on weight inputs here, NCHWc on constant weights there
  await assertGraphPathMatchesHost(base, images, ARCHS, { rbflex: 1e-4, naswot: 1e-6, finite: true });
});
