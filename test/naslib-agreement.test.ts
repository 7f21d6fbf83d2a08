/**
 * Agreement with NASLib's published zero-cost values (../shared/data/naslib-zc/zc_nasbench201.json,
 * NB201 CIFAR-10): on a seeded sample of the file's archs, the Spearman between rbflex's value and
 * NASLib's is at least 0.9 for synflow, snip, grad_norm and jacov (the weights and the image batch
 * differ from NASLib's run, so the values are not equal; the full-file figures are in the issue note,
 * from bench/naslib-zc.ts). Also the file reader and its key mapping.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { agreement, naslibSample, scoreNaslibArchs } from '../bench/naslib-zc.js';
import { naslibKeyToArch, readNaslibZc } from '../src/benchmarks/naslib-zc.js';
import type { ProxyName } from '../src/proxies/index.js';
import { DataError } from '../src/util/errors.js';
import { sharedDataPath } from './helpers/shared-data.js';

/** archs in the sample: enough for a stable Spearman, few enough for the test budget */
const SAMPLE = 40;

test('NASLib keys map to NB201 strings in NASLib edge order; bad files are refused in one line', () => {
  assert.equal(naslibKeyToArch('(4, 3, 3, 3, 2, 3)'), '|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_3x3~1|nor_conv_1x1~2|');
  assert.equal(naslibKeyToArch('(0, 1, 2, 3, 4, 0)'), '|skip_connect~0|+|none~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|');
  assert.throws(() => naslibKeyToArch('(5, 0, 0, 0, 0, 0)'), /bad NASLib NB201 key/);
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-naslib-'));
  try {
    const f = join(dir, 'zc.json');
    writeFileSync(f, JSON.stringify({ nasbench201: { cifar10: { '(0, 0, 0, 0, 0, 0)': { snip: 1.5, val_accuracy: 80, bad: 'x' } } } }));
    assert.deepEqual(readNaslibZc(f, 'cifar10'), [{ arch: '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|', values: { snip: 1.5, val_accuracy: 80 } }]);
    assert.throws(() => readNaslibZc(f, 'cifar100'), (e: Error) => e instanceof DataError && /no nasbench201 \/ cifar100 section/.test(e.message) && !e.message.includes('\n'));
    writeFileSync(f, JSON.stringify({ nasbench201: { cifar10: { '(9, 9)': {} } } }));
    assert.throws(() => readNaslibZc(f, 'cifar10'), (e: Error) => e instanceof DataError && /bad NASLib NB201 key/.test(e.message));
    writeFileSync(f, '{"nasbench201": {');
    assert.throws(() => readNaslibZc(f, 'cifar10'), DataError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`NASLib agreement: Spearman >= 0.9 for synflow, snip, grad_norm, jacov on ${SAMPLE} NB201 archs`, async (t) => {
  const file = sharedDataPath('naslib-zc/zc_nasbench201.json', t);
  const png = sharedDataPath('images/cifar10/cifar10_batch_0.png', t);
  if (!file || !png) return;
  const rows = naslibSample(readNaslibZc(file, 'cifar10'), SAMPLE);
  const proxies: ProxyName[] = ['synflow', 'snip', 'grad_norm', 'jacov'];
  const scores = await scoreNaslibArchs({ archs: rows.map((r) => r.arch), proxies, dataset: 'cifar10', data: png, seed: '1', workers: 2, augment: true });
  const lines: string[] = [];
  const low: string[] = [];
  for (const p of proxies) {
    const r = agreement(
      rows.map((x) => scores.get(x.arch)!.scores[p] ?? NaN),
      rows.map((x) => x.values[p] ?? NaN),
    );
    lines.push(`${p} ${r.rho.toFixed(3)} (n=${r.n})`);
    if (!(r.rho >= 0.9) || r.n < SAMPLE - 5) low.push(p);
  }
  t.diagnostic(lines.join(', '));
  assert.deepEqual(low, [], `Spearman vs NASLib: ${lines.join(', ')}`);
});
