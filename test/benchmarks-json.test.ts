import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataError, NafbeeBenchmark, NdsBenchmark, openBenchmark, TransnasBenchmark } from '../src/benchmarks/index.js';
import { fixtureExpected, fixturePath, sharedDataPath } from './helpers/shared-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'rbflex-bench-json-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}
function expectDataError(fn: () => unknown, re: RegExp, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof DataError && re.test(e.message), what);
}

const MICRO = [
  ['64-41414-0_00_000', 14.5],
  ['64-41414-3_33_333', 50.25],
  ['64-41414-1_23_012', 30],
];

test('TransNAS json: one task file, a directory of them, tasks as datasets', () => {
  const f = write('micro_class_scene.json', JSON.stringify(MICRO));
  const b = openBenchmark(f);
  assert.ok(b instanceof TransnasBenchmark);
  assert.equal(b.space, 'transnas-micro');
  assert.deepEqual(b.datasets, ['class_scene']);
  assert.deepEqual(b.archs(), MICRO.map((r) => r[0]));
  assert.equal(b.accuracy('64-41414-3_33_333'), 50.25);
  assert.equal(b.accuracy('64-41414-3_33_333', 'class_scene', 'top1'), 50.25, 'the task metric name is accepted');
  assert.equal(b.accuracy('64-41414-2_22_222'), undefined);
  const dir = join(tmp, 'tn');
  mkdirSync(dir);
  writeFileSync(join(dir, 'micro_class_scene.json'), JSON.stringify(MICRO));
  writeFileSync(join(dir, 'micro_jigsaw.json'), JSON.stringify(MICRO.map(([a, v]) => [a, (v as number) + 1])));
  writeFileSync(join(dir, 'macro_jigsaw.json'), JSON.stringify([['64-1234-basic', 90]]));
  expectDataError(() => openBenchmark(dir), /holds both transnas-macro and transnas-micro files; choose one with space/, 'ambiguous directory');
  const d = openBenchmark(dir, { space: 'transnas-micro' }) as TransnasBenchmark;
  assert.deepEqual(d.datasets, ['class_scene', 'jigsaw']);
  assert.equal(d.accuracy('64-41414-1_23_012', 'jigsaw'), 31);
  assert.deepEqual(d.taskMetric, { class_scene: 'top1', jigsaw: 'top1' });
  const m = openBenchmark(dir, { space: 'transnas-macro' });
  assert.equal(m.space, 'transnas-macro');
  assert.equal(m.accuracy('64-1234-basic', 'jigsaw'), 90);
  expectDataError(() => d.accuracy('64-41414-1_23_012', 'normal'), /no ground truth for dataset "normal"; this benchmark has class_scene, jigsaw/, 'unknown task');
});

test('NDS json: list and top/mid layouts, accuracy = 100 - min_test_top1', () => {
  const exp = fixtureExpected<{ nds: Record<string, number[]> }>().nds;
  const darts = openBenchmark(fixturePath('nds/DARTS.json'));
  assert.ok(darts instanceof NdsBenchmark);
  assert.equal(darts.space, 'nds');
  assert.equal(darts.name, 'DARTS');
  // ids describe the network (src/spaces/nds.ts); record positions still work for look-ups
  assert.equal(darts.archs().length, 3);
  assert.match(darts.archs()[1]!, /^cell:cifar:w24:d12:Genotype\(normal=\[\('sep_conv_3x3', 0\)/);
  assert.deepEqual(darts.archs().map((a) => darts.accuracy(a)), exp['DARTS.json']);
  assert.deepEqual(['0', '1', '2'].map((a) => darts.accuracy(a)), exp['DARTS.json']);
  assert.equal((darts.config('1') as { width: number }).width, 24);
  const resnet = openBenchmark(fixturePath('nds/ResNet.json')) as NdsBenchmark;
  assert.equal(resnet.size, 4, 'top (2) + mid (2)');
  assert.deepEqual(resnet.archs().map((a) => resnet.accuracy(a)), exp['ResNet.json']);
  assert.deepEqual(resnet.archs().map((a) => resnet.accuracy(a, 'cifar10', 'final')), exp['ResNet.json:final']);
  assert.equal(resnet.accuracy('4'), undefined);
  assert.equal(resnet.accuracy('x'), undefined);
});

test('JSON readers reject truncated, corrupted and wrong-format files and missing paths', () => {
  const good = JSON.stringify(MICRO);
  expectDataError(() => openBenchmark(write('micro_normal.json', good.slice(0, 40))), /^micro_normal\.json: corrupted JSON: .*\(file truncated\?\)$/, 'truncated transnas');
  expectDataError(() => openBenchmark(write('micro_normal.json', JSON.stringify([...MICRO, ['64-41414-0_00_001', 'x']]))), /^micro_normal\.json: item 3: expected \[arch id, number\], found \["64-41414-0_00_001","x"\]$/, 'corrupted item');
  expectDataError(() => openBenchmark(write('micro_normal.json', JSON.stringify([...MICRO, ['64-41414-9_00_001', 1]]))), /item 3: "64-41414-9_00_001" is not a TransNAS-Bench-101 arch id/, 'bad id');
  expectDataError(() => openBenchmark(write('micro_normal.json', JSON.stringify([...MICRO, MICRO[0]]))), /item 3: 64-41414-0_00_000 appears twice/, 'duplicate');
  const naf = readFileSync(fixturePath('nds/DARTS.json'), 'utf8');
  expectDataError(() => openBenchmark(write('DARTS.json', naf.slice(0, naf.length / 2))), /^DARTS\.json: corrupted JSON: .*\(file truncated\?\)$/, 'truncated NDS');
  const recs = JSON.parse(naf) as Record<string, unknown>[];
  delete recs[1]!.min_test_top1;
  expectDataError(() => openBenchmark(write('DARTS.json', JSON.stringify(recs))), /^DARTS\.json: record 1: min_test_top1 is undefined, expected an error rate in 0\.\.100$/, 'corrupted NDS');
  expectDataError(
    () => openBenchmark(write('NAFBee_VGG19.json', JSON.stringify({ 1: { network: 'VGG19', activation: 'ReLU', accuracy: 91 }, 2: { network: 'VGG19', activation: 'GELU' } }))),
    /^NAFBee_VGG19\.json: record "2": expected \{network, activation, accuracy\}$/,
    'corrupted NAFBee',
  );
  expectDataError(() => openBenchmark(write('other.json', '{"a": 1}')), /^other\.json: wrong format: not a TransNAS-Bench-101, NAFBee or NDS json file$/, 'wrong format');
  expectDataError(() => openBenchmark(write('notes.txt', 'x')), /notes\.txt: wrong format: expected a \.csv, a \.json or a NATS-Bench -simple directory/, 'unknown extension');
  const empty = join(tmp, 'emptydir');
  mkdirSync(empty);
  expectDataError(() => openBenchmark(empty), /emptydir: no benchmark files recognised in this directory/, 'empty directory');
  expectDataError(() => openBenchmark(join(tmp, 'micro_missing.json')), /micro_missing\.json: no such file or directory/, 'missing');
});

test('shared TransNAS and NAFBee ground truth', (t) => {
  const tn = sharedDataPath('transnas', t);
  const nb = sharedDataPath('nafbee', t);
  if (!tn || !nb) return;
  const micro = openBenchmark(tn, { space: 'transnas-micro' });
  const macro = openBenchmark(tn, { space: 'transnas-macro' });
  assert.equal(micro.size, 4096);
  assert.equal(macro.size, 3255);
  assert.deepEqual(micro.datasets, ['autoencoder', 'class_object', 'class_scene', 'jigsaw', 'normal', 'room_layout', 'segmentsemantic']);
  const rows = JSON.parse(readFileSync(join(tn, 'micro_class_scene.json'), 'utf8')) as [string, number][];
  assert.deepEqual(micro.archs(), rows.map((r) => r[0]), 'file order');
  for (const i of [0, 1000, 4095]) assert.equal(micro.accuracy(rows[i]![0], 'class_scene'), rows[i]![1]);
  // one task file on its own
  const one = join(tmp, 'macro_room_layout.json');
  copyFileSync(join(tn, 'macro_room_layout.json'), one);
  const ml = openBenchmark(one) as TransnasBenchmark;
  assert.equal(ml.taskMetric.room_layout, 'neg_l2_loss');
  assert.ok(ml.archs().every((a) => ml.accuracy(a)! < 0), 'room layout values are negative losses');

  const naf = openBenchmark(nb);
  assert.ok(naf instanceof NafbeeBenchmark);
  assert.deepEqual(naf.datasets, ['cifar10', 'sst2']);
  const acts = ['ReLU', 'GELU', 'SiLU', 'LeakyReLU', 'ReLU6', 'Mish', 'Hardswish', 'CELU', 'ELU', 'Hardtanh', 'SELU'];
  assert.deepEqual(naf.archs(), acts);
  // SPEC section 3: published accuracies in that order
  assert.deepEqual(acts.map((a) => naf.accuracy(a)), [91.06, 91.03, 91.03, 90.75, 90.61, 90.54, 89.94, 88.36, 87.01, 86.74, 85.83]);
  assert.deepEqual(acts.map((a) => naf.accuracy(a, 'sst2')), [92.26, 92.97, 86.77, 91.76, 91.6, 84.51, 85.23, 49.92, 49.92, 49.92, 49.92]);
  const vgg = openBenchmark(join(nb, 'NAFBee_VGG19.json'));
  assert.deepEqual(vgg.datasets, ['cifar10']);
});
