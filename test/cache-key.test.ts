/** Issue 15 items 9 and 19: the cache is read per proxy, and its key changes whenever a score could. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReferenceBackend } from '../src/backends/reference.js';
import type { Backend } from '../src/backends/types.js';
import { initWeights } from '../src/ir/init.js';
import { countParams } from '../src/ir/analysis.js';
import { getSpace } from '../src/spaces/index.js';
import type { Space } from '../src/spaces/types.js';
import { imagesKey, proxyKeysOf, spaceFingerprint } from '../src/search/cache-key.js';
import { type EngineParts, coreFingerprint, engineFingerprints, proxyFingerprint } from '../src/search/engine.js';
import { ScoringSession, type SessionOptions } from '../src/search/session.js';
import type { ScorerConfig } from '../src/search/scorer.js';
import { Rng } from '../src/util/rng.js';
import { gaussianImages } from './helpers/fixtures.js';

const nb201 = getSpace('nb201');
const ARCHS = [1234, 5678, 9001].map((i) => nb201.archAt(i));

async function run(o: Partial<SessionOptions> & { cachePath: string }) {
  const s = new ScoringSession({ space: 'nb201', build: { dataset: 'cifar10' }, images: gaussianImages(4, 32, 'ck'), seed: 'ck', workers: 0, ...o });
  try {
    const scores = await s.score(ARCHS);
    return { scores, scored: s.scored, cached: s.cached, forward: s.forwardPasses };
  } finally {
    await s.close();
  }
}

test('adding params to cached rbflex/naswot scores computes params only: no forward pass', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-ck-'));
  const cachePath = join(dir, 'scores.sqlite');
  try {
    const a = await run({ cachePath, proxies: ['rbflex', 'naswot'] });
    assert.deepEqual([a.scored, a.cached, a.forward], [3, 0, 3]);
    const b = await run({ cachePath, proxies: ['rbflex', 'naswot', 'params'] });
    assert.equal(b.forward, 0, 'cached rbflex/naswot were recomputed');
    assert.equal(b.scored, 3);
    for (const arch of ARCHS) {
      const sa = a.scores.get(arch)!.scores;
      const sb = b.scores.get(arch)!.scores;
      assert.equal(sb.rbflex, sa.rbflex);
      assert.equal(sb.naswot, sa.naswot);
      assert.equal(sb.params, countParams(nb201.build(arch, { dataset: 'cifar10' })));
    }
    const c = await run({ cachePath, proxies: ['params', 'naswot'] });
    assert.deepEqual([c.scored, c.cached, c.forward], [0, 3, 0]);
    // new gammas: rbflex is recomputed (a forward pass), naswot is read from the cache
    const d = await run({ cachePath, proxies: ['rbflex', 'naswot'], gammaK: 1e-3, gammaQ: 1e-2 });
    assert.deepEqual([d.scored, d.forward], [3, 3]);
    for (const arch of ARCHS) {
      assert.equal(d.scores.get(arch)!.scores.naswot, a.scores.get(arch)!.scores.naswot);
      assert.notEqual(d.scores.get(arch)!.scores.rbflex, a.scores.get(arch)!.scores.rbflex);
    }
    // another seed or other images: nothing is cached
    assert.equal((await run({ cachePath, proxies: ['naswot'], seed: 'other' })).cached, 0);
    assert.equal((await run({ cachePath, proxies: ['naswot'], images: gaussianImages(2, 32, 'other') })).cached, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('proxy keys separate gammas, taps, backend and the engine; image keys every value', async () => {
  const base: ScorerConfig = {
    space: 'nb201',
    build: { dataset: 'cifar10' },
    proxies: ['rbflex', 'naswot', 'params'],
    settings: { gammaK: 1e-12, gammaQ: 2e-12, taps: 'reference' },
    backend: 'onnx',
    seed: '1',
  };
  const fp = await engineFingerprints();
  const k0 = proxyKeysOf(base, fp);
  const variants: [string, ScorerConfig, string[]][] = [
    ['gammaK', { ...base, settings: { ...base.settings, gammaK: 1.5e-12 } }, ['rbflex']],
    ['gammaQ', { ...base, settings: { ...base.settings, gammaQ: 3e-12 } }, ['rbflex']],
    ['taps', { ...base, settings: { ...base.settings, taps: 'activations' } }, ['rbflex']],
    ['backend', { ...base, backend: 'reference' }, ['rbflex', 'naswot']],
  ];
  for (const [what, cfg, changed] of variants) {
    const k = proxyKeysOf(cfg, fp);
    for (const p of base.proxies) assert.equal(k[p] !== k0[p], changed.includes(p), `${what}: key of ${p}`);
  }
  const k = proxyKeysOf(base, { ...fp, naswot: 'ffffffffffffffff' });
  assert.deepEqual([k.rbflex === k0.rbflex, k.naswot === k0.naswot], [true, false], 'an engine change must change the key');

  const img = gaussianImages(2, 8, 'k');
  const img2 = { ...img, data: img.data.slice() };
  img2.data[img2.data.length - 1]! += 1e-6;
  assert.notEqual(imagesKey(img), imagesKey(img2));
  assert.equal(imagesKey(img), imagesKey({ ...img, data: img.data.slice(), id: 'renamed' }));
});

test('the engine fingerprint changes when the RNG, the init, the ops or onnxruntime change', { timeout: 30_000 }, async () => {
  const parts = (): EngineParts => ({ rng: (s) => new Rng(s), init: initWeights, backend: new ReferenceBackend(), ortVersion: '1.0' });
  const fp0 = await coreFingerprint(parts());
  assert.equal(await coreFingerprint(parts()), fp0, 'not deterministic');
  // RNG: one bit of one output
  const rng: EngineParts['rng'] = (s) => {
    const r = new Rng(s);
    let first = true;
    return { nextU32: () => (first ? ((first = false), r.nextU32() ^ 1) : r.nextU32()), nextNormal: () => r.nextNormal() };
  };
  assert.notEqual(await coreFingerprint({ ...parts(), rng }), fp0, 'RNG change not seen');
  // init: one weight of the last layer nudged by one part in 1e6
  const init: EngineParts['init'] = (g, seed) => {
    const w = initWeights(g, seed);
    const last = [...w.byNode.values()].at(-1)!.weight!;
    last[0]! *= 1 + 1e-6;
    return w;
  };
  assert.notEqual(await coreFingerprint({ ...parts(), init }), fp0, 'init change not seen');
  // an op: the reference backend returns one feature off by 1e-6
  const ref = new ReferenceBackend();
  const backend: Backend = {
    name: 'reference',
    forward: async (g, w, images, o) => {
      const f = await ref.forward(g, w, images, o);
      f.x[0]!.data[0]! += 1e-6;
      return f;
    },
  };
  assert.notEqual(await coreFingerprint({ ...parts(), backend }), fp0, 'op change not seen');
  assert.notEqual(await coreFingerprint({ ...parts(), ortVersion: '1.1' }), fp0, 'onnxruntime change not seen');
  // per proxy: the proxy's canary score enters its fingerprint
  const a = await proxyFingerprint('rbflex', parts(), fp0);
  assert.notEqual(await proxyFingerprint('naswot', parts(), fp0), a);
  assert.notEqual(await proxyFingerprint('rbflex', { ...parts(), backend }, fp0), a, 'rbflex did not see its features change');
  assert.equal(await proxyFingerprint('rbflex', parts(), fp0), a);
});

test('the space fingerprint follows the built graphs and the build options', () => {
  const fp = spaceFingerprint(nb201, { dataset: 'cifar10' });
  assert.equal(spaceFingerprint(nb201, { dataset: 'cifar10' }), fp);
  assert.notEqual(spaceFingerprint(nb201, { dataset: 'cifar100' }), fp);
  const changed: Space = Object.assign(Object.create(nb201) as Space, {
    build: (a: string, o?: Parameters<Space['build']>[1]) => {
      const g = nb201.build(a, o);
      const n = g.nodes.find((x) => x.op.kind === 'batchnorm')!;
      if (n.op.kind === 'batchnorm') n.op = { ...n.op, eps: 1e-3 };
      return g;
    },
  });
  assert.notEqual(spaceFingerprint(changed, { dataset: 'cifar10' }), fp, 'a builder change was not seen');
});
