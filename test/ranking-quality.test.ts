import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { openBenchmark } from '../src/benchmarks/index.js';
import { loadImages } from '../src/data/index.js';
import { REFERENCE_GAMMAS } from '../src/proxies/index.js';
import { nb201 } from '../src/spaces/nb201.js';
import { ScoringSession } from '../src/search/session.js';
import { kendallTauB } from '../src/search/stats.js';
import { Rng } from '../src/util/rng.js';
import { sharedDataPath } from './helpers/shared-data.js';

test('RBFleX ranks 1,000 NB201 archs with Kendall tau >= 0.50 against CIFAR-10 test accuracy (3 real images)', { timeout: 300_000 }, async (t) => {
  const csv = sharedDataPath('nb201/nats-tss-200ep-test.csv', t);
  const sprite = sharedDataPath('images/cifar10/cifar10_batch_0.png', t);
  if (!csv || !sprite) return;
  const bench = openBenchmark(csv);
  const images = await loadImages(sprite, { dataset: 'cifar10', n: 3, seed: 1 });
  const archs = new Rng('ranking-quality').sample(nb201.size, 1000).map((i) => nb201.archAt(i));
  const session = new ScoringSession({
    space: 'nb201',
    build: { dataset: 'cifar10' },
    images,
    seed: '1',
    proxies: ['rbflex', 'naswot', 'params'],
    ...REFERENCE_GAMMAS,
    workers: Math.min(2, availableParallelism()),
  });
  try {
    const scores = await session.score(archs);
    const acc = archs.map((a) => bench.accuracy(a, 'cifar10')!);
    const tau = (p: 'rbflex' | 'naswot' | 'params') => kendallTauB(archs.map((a) => scores.get(a)!.scores[p]!), acc);
    const r = { rbflex: tau('rbflex'), naswot: tau('naswot'), params: tau('params') };
    t.diagnostic(`Kendall tau-b over 1000 archs: rbflex ${r.rbflex.toFixed(4)}, naswot ${r.naswot.toFixed(4)}, params ${r.params.toFixed(4)}`);
    assert.ok(r.rbflex >= 0.5, `rbflex tau ${r.rbflex}`);
  } finally {
    await session.close();
  }
});
