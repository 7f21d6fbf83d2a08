import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SssCsvBenchmark, openBenchmark } from '../src/benchmarks/index.js';
import { countParams } from '../src/ir/analysis.js';
import { sss } from '../src/spaces/sss.js';
import { Rng } from '../src/util/rng.js';
import { sharedDataPath } from './helpers/shared-data.js';

test('NATS-SSS 90-epoch CSV: 32,768 archs in NATS order, three datasets, parameter counts equal rbflex\'s', (t) => {
  const p = sharedDataPath('sss/nats-sss-90ep-test.csv', t);
  if (!p) return;
  const b = openBenchmark(p);
  assert.ok(b instanceof SssCsvBenchmark);
  assert.equal(b.space, 'sss');
  assert.equal(b.size, 32768);
  assert.deepEqual(b.datasets, ['cifar10', 'cifar100', 'ImageNet16-120']);
  assert.equal(b.archs()[1], '8:8:8:8:16');
  assert.equal(b.accuracy('8:8:8:8:8'), 79.79);
  assert.equal(b.natsIndex?.('64:64:64:64:64'), 32767);
  const rng = new Rng('sss-truth');
  for (const i of [0, 32767, ...rng.sample(32768, 30)]) {
    const arch = sss.archAt(i);
    assert.equal(b.archs()[i], arch);
    for (const ds of ['cifar10', 'cifar100', 'ImageNet16-120']) {
      assert.equal(countParams(sss.build(arch, { dataset: ds })), b.params(arch, ds), `${arch} ${ds}`);
      const acc = b.accuracy(arch, ds)!;
      assert.ok(acc > 0 && acc < 100);
    }
  }
});

test('SSS CSV reader: one clear line for bad rows', () => {
  const head = 'index,arch,params-cifar10,cifar10-test\n';
  const bad: [string, RegExp][] = [
    [`${head}0,8:8:8:8:8,11714,79.79\n1,8:8:8:8:8,11714,79.79\n`, /line 3: index 1 does not match 8:8:8:8:8 \(NATS index 0\)/],
    [`${head}0,8:8:8:8:9,11714,79.79\n`, /line 2: sss: channel 5 "9"/],
    [`${head}0,8:8:8:8:8,11714,179.79\n`, /line 2: cifar10-test is "179.79", expected an accuracy in 0..100/],
    [`${head}0,8:8:8:8:8,11714\n`, /line 2: expected 4 columns, found 3 \(file truncated\?\)/],
  ];
  for (const [text, re] of bad) assert.throws(() => new SssCsvBenchmark('x.csv', text), re);
  const ok = new SssCsvBenchmark('x.csv', `${head}0,8:8:8:8:8,11714,79.79\n`);
  assert.equal(ok.accuracy('8:8:8:8:8', 'cifar-10'), 79.79);
});
