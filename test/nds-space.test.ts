import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { ReferenceBackend } from '../src/backends/reference.js';
import { DataError, NdsBenchmark, openBenchmark } from '../src/benchmarks/index.js';
import { initWeights } from '../src/ir/init.js';
import { compareNdsRecords } from '../src/search/nds-check.js';
import { nds, parseNdsId } from '../src/spaces/nds.js';
import { Rng } from '../src/util/rng.js';
import { gaussianImages, relDiff } from './helpers/fixtures.js';
import { fixturePath } from './helpers/shared-data.js';

const BUILT = fixturePath('nds/built');

test('NDS records (cell and AnyNet spaces, CIFAR and ImageNet) build to the parameter counts and FLOPs they carry', () => {
  const files = readdirSync(BUILT).filter((f) => f.endsWith('.json'));
  assert.deepEqual(files.sort(), ['Amoeba_in.json', 'DARTS.json', 'ResNeXt-A.json', 'ResNet_in.json']);
  for (const f of files) {
    const b = openBenchmark(join(BUILT, f));
    assert.ok(b instanceof NdsBenchmark);
    assert.equal(b.datasets[0], f.includes('_in') ? 'imagenet' : 'cifar10');
    const r = compareNdsRecords(b, nds, {}, b.archs());
    assert.equal(r.checked, b.size, f);
    assert.equal(r.paramsMatch, b.size, `${f}: ${r.firstMismatch}`);
    assert.equal(r.flopsMatch, b.size, `${f}: ${r.firstMismatch}`);
    for (const a of b.archs()) assert.equal(nds.parse(a), a, 'ids are canonical');
  }
  const amoeba = openBenchmark(join(BUILT, 'Amoeba_in.json'));
  const g = nds.build(amoeba.archs()[0]!);
  assert.deepEqual(g.nodes[g.input]!.shape, [3, 224, 224]);
});

test('NDS ids: the older fixtures, repeats, record positions, bad records', () => {
  const darts = openBenchmark(fixturePath('nds/DARTS.json')) as NdsBenchmark;
  assert.ok(darts.archs().every((a) => a.startsWith('cell:cifar:')));
  assert.equal((darts.config('1') as { width: number }).width, 24);
  assert.equal(darts.accuracy('0'), darts.accuracy(darts.archs()[0]!));
  const text = readFileSync(fixturePath('nds/DARTS.json'), 'utf8');
  const recs = JSON.parse(text) as Record<string, unknown>[];
  const twice = new NdsBenchmark('DARTS_lr-wd.json', [recs[0], { ...recs[0], min_test_top1: 20 }]);
  assert.deepEqual(twice.archs().map((a) => a.replace(/^.*#/, '#')), [twice.archs()[0], '#1']);
  assert.equal(twice.accuracy(twice.archs()[1]!), 80);
  assert.equal(nds.parse(twice.archs()[1]!), twice.archs()[0]);
  const bad = { ...recs[0], net: { ...(recs[0]!.net as object), genotype: { normal: [['conv_9x9', 0], ['skip_connect', 1]], normal_concat: [2], reduce: [['skip_connect', 0], ['skip_connect', 1]], reduce_concat: [2] } } };
  assert.throws(() => new NdsBenchmark('DARTS.json', [recs[0], bad]), (e: unknown) => e instanceof DataError && /^DARTS\.json: record 1: nds: normal edge 0: unknown op "conv_9x9"/.test(e.message));
  const badNet = { ...recs[0], net: { block_type: 'res_bottleneck_block', ds: [1], ws: [16], ss: [3], stem_type: 'res_stem_cifar', stem_w: 16 } };
  assert.throws(() => new NdsBenchmark('ResNet.json', [badNet]), /record 0: nds: ss has a bad value 3/);
  assert.throws(() => nds.parse('anynet:cifar:res_basic_block'), /an anynet id is/);
  assert.throws(() => nds.archAt(0), /not enumerated/);
});

test('NDS cell ops beyond DARTS and an AnyNet bottleneck: both backends agree', async () => {
  const cell =
    "cell:cifar:w4:d3:Genotype(normal=[('dil_sep_conv_3x3', 0), ('conv_3x1_1x3', 1), ('conv_1x1', 0), ('conv_3x3', 2), ('max_pool_5x5', 1), ('max_pool_7x7', 3)], normal_concat=[2, 3, 4], reduce=[('conv_3x3', 0), ('max_pool_5x5', 1), ('conv_1x1', 2), ('skip_connect', 0)], reduce_concat=[2, 3])";
  const anynet = 'anynet:cifar:res_bottleneck_block:res_stem_cifar:8:ds=1,1:ws=16,32:ss=1,2:bms=0.5,0.5:gs=2,4:nc=10';
  const images = gaussianImages(3, 32, 'nds-agree');
  for (const id of [cell, anynet]) {
    const g = nds.build(id);
    const w = initWeights(g, id);
    const opts = { taps: ['reference', 'activations'] as const, bn: 'per-image' as const };
    const a = await new ReferenceBackend().forward(g, w, images, opts);
    const b = await new OnnxBackend().forward(g, w, images, opts);
    assert.ok(a.x.length > 0);
    for (let s = 0; s < a.x.length; s++) assert.ok(relDiff(a.x[s]!.data, b.x[s]!.data) <= 1e-4, `${id.slice(0, 30)} tap ${s}`);
    assert.ok(relDiff(a.y.data, b.y.data) <= 1e-4);
  }
  assert.equal(parseNdsId(anynet).kind, 'anynet');
  const rng = new Rng('nds-mutate');
  for (const id of [cell, anynet]) assert.notEqual(nds.mutate!(id, rng), id);
});

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
test('CLI: rbflex study --space nds takes the space and dataset from the file and checks the records', () => {
  const r = spawnSync(process.execPath, [CLI, 'study', '--space', 'nds', '--benchmark', join(BUILT, 'ResNeXt-A.json'), '--proxy', 'params', '--no-cache', '--all'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /ResNeXt-A: built networks match the file's parameter counts for 2\/2 and FLOPs for 2\/2 records/);
  assert.match(r.stdout, /nds cifar10: 2 architectures/);
});
