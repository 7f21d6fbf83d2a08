import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { DataError, NatsBenchmark, type NatsFs, openBenchmark } from '../src/benchmarks/index.js';
import { fixtureExpected, fixturePath } from './helpers/shared-data.js';

interface NatsExpected {
  dir: string;
  archs: string[];
  present: number[];
  values: { index: number; arch: string; hp: string; dataset: string; metric: string; seed: 'mean' | number; value: number }[];
}
const expected = fixtureExpected<{ nats_tss: NatsExpected; nats_sss: NatsExpected }>();

const tmp = mkdtempSync(join(tmpdir(), 'rbflex-bench-nats-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** node fs, counting reads per file name */
function countingFs(): NatsFs & { reads: Map<string, number> } {
  const reads = new Map<string, number>();
  return {
    reads,
    readFile(p) {
      reads.set(basename(p), (reads.get(basename(p)) ?? 0) + 1);
      return readFileSync(p);
    },
    exists: (p) => existsSync(p),
  };
}

for (const [kind, exp, space, hp] of [
  ['TSS', expected.nats_tss, 'nb201', '200'],
  ['SSS', expected.nats_sss, 'sss', '90'],
] as const) {
  test(`NATS ${kind} -simple archive: every value equals what the NATS-Bench API semantics give`, () => {
    const b = openBenchmark(fixturePath(exp.dir));
    assert.ok(b instanceof NatsBenchmark);
    assert.equal(b.space, space);
    assert.equal(b.hp, hp, 'default hp');
    assert.deepEqual(b.archs(), exp.archs);
    exp.archs.forEach((a, i) => assert.equal(b.natsIndex(a), i));
    assert.ok(exp.values.length > 20);
    for (const v of exp.values) {
      const got = b.query(v.arch, { hp: v.hp, dataset: v.dataset, metric: v.metric, seed: v.seed });
      assert.equal(got, v.value, `${v.index} hp ${v.hp} ${v.dataset} ${v.metric} seed ${v.seed}`);
      if (v.hp === hp && v.seed === 'mean') assert.equal(b.accuracy(v.arch, v.dataset, v.metric), v.value, 'accuracy() defaults');
    }
    assert.equal(b.accuracy('not an arch'), undefined);
    assert.throws(() => b.query(exp.archs[0]!, { hp: '7' }), (e: unknown) => e instanceof DataError && /no hp "7"; this archive has/.test(e.message));
    assert.throws(() => b.accuracy(exp.archs[0]!, 'mnist'), /no ground truth for dataset "mnist"/);
    assert.throws(() => b.accuracy(exp.archs[0]!, 'cifar10', 'top5'), /no metric "top5"/);
  });
}

test('NATS: seeds, hp 12 vs 200, one seed vs the mean, raw set names', () => {
  const b = openBenchmark(fixturePath('NATS-tss-v1_0-3ffb9-simple'), { hp: 12, seed: 111 }) as NatsBenchmark;
  const a = expected.nats_tss.archs[1]!;
  assert.deepEqual(b.seeds(a, 'cifar10'), [111]);
  assert.deepEqual(b.seeds(a, 'cifar10', 200), [777, 888, 999]);
  assert.deepEqual(b.seeds(a, 'cifar10-valid'), [111, 777]);
  const mean200 = b.query(a, { hp: 200, seed: 'mean' })!;
  const seeds200 = [777, 888, 999].map((s) => b.query(a, { hp: 200, seed: s })!);
  assert.equal(mean200, (seeds200[0]! + seeds200[1]! + seeds200[2]!) / 3);
  assert.equal(b.query(a, { hp: 200, seed: 123 }), undefined, 'a seed the file does not have');
  assert.equal(b.accuracy(a, 'cifar10', 'ori-test'), b.accuracy(a, 'cifar10', 'test'));
  assert.notEqual(b.accuracy(a, 'cifar100', 'x-test'), b.accuracy(a, 'cifar100', 'ori-test'));
  assert.equal(b.accuracy(a, 'cifar100', 'valid'), b.accuracy(a, 'cifar100', 'x-valid'));
  // epoch 0 is in the fixture (first and last epoch are stored)
  assert.ok(b.query(a, { hp: 200, seed: 'mean', epoch: 0 })! < b.query(a, { hp: 200, seed: 'mean' })!);
  assert.equal(b.query(a, { hp: 200 }), undefined, 'the default seed 111 was not run for hp 200');
  assert.ok(b.query(a, { dataset: 'cifar10', metric: 'train' })! > 0);
});

test('NATS: opening reads only meta, one arch reads only its own file, once', () => {
  const fs = countingFs();
  const b = openBenchmark(fixturePath('NATS-tss-v1_0-3ffb9-simple'), { fs }) as NatsBenchmark;
  assert.deepEqual([...fs.reads], [['meta.pickle.pbz2', 1]]);
  const a = expected.nats_tss.archs[3]!;
  const v = b.accuracy(a, 'cifar100');
  assert.ok(v !== undefined);
  b.accuracy(a, 'cifar10');
  b.accuracy(a, 'ImageNet16-120', 'valid');
  assert.deepEqual([...fs.reads].sort(), [['000003.pickle.pbz2', 1], ['meta.pickle.pbz2', 1]]);
  assert.equal(b.loadedArchs, 1);

  // the same, proven with the files: a copy holding only meta and one architecture
  const dir = join(tmp, 'NATS-tss-v1_0-3ffb9-simple');
  cpSync(fixturePath('NATS-tss-v1_0-3ffb9-simple'), dir, { recursive: true });
  for (const f of ['000000.pickle.pbz2', '000001.pickle.pbz2']) unlinkSync(join(dir, f));
  const c = openBenchmark(dir);
  assert.equal(c.accuracy(a, 'cifar100'), v);
  assert.throws(() => c.accuracy(expected.nats_tss.archs[0]!), (e: unknown) => e instanceof DataError && /000000\.pickle\.pbz2: no such file or directory \(architecture 0's results are missing/.test(e.message));
});

test('NATS reader rejects missing, truncated, corrupted and wrong-format files', () => {
  const src = fixturePath('NATS-tss-v1_0-3ffb9-simple');
  const copy = (name: string) => {
    const d = join(tmp, name, 'NATS-tss-v1_0-3ffb9-simple');
    cpSync(src, d, { recursive: true });
    return d;
  };
  // architecture 2 is not in the fixture at all
  const b = openBenchmark(src);
  assert.throws(() => b.accuracy(expected.nats_tss.archs[2]!), /000002\.pickle\.pbz2: no such file or directory/);
  // truncated per-arch file: the error comes when that arch is asked for, naming the file
  const d1 = copy('trunc');
  const f1 = join(d1, '000001.pickle.pbz2');
  writeFileSync(f1, readFileSync(f1).subarray(0, 600));
  const b1 = openBenchmark(d1);
  assert.ok(b1.accuracy(expected.nats_tss.archs[0]!) !== undefined, 'other archs still fine');
  assert.throws(() => b1.accuracy(expected.nats_tss.archs[1]!), (e: unknown) => e instanceof DataError && e.file === f1 && /truncated bzip2 data/.test(e.message));
  // corrupted per-arch file
  const d2 = copy('corrupt');
  const f2 = join(d2, '000001.pickle.pbz2');
  const bytes = readFileSync(f2);
  for (let i = 200; i < 260; i++) bytes[i] = bytes[i]! ^ 0x5a;
  writeFileSync(f2, bytes);
  assert.throws(() => openBenchmark(d2).accuracy(expected.nats_tss.archs[1]!), /000001\.pickle\.pbz2: corrupted or truncated bzip2 data/);
  // a per-arch file that holds another architecture
  const d3 = copy('swapped');
  cpSync(join(d3, '000000.pickle.pbz2'), join(d3, '000001.pickle.pbz2'));
  assert.throws(() => openBenchmark(d3).accuracy(expected.nats_tss.archs[1]!), /000001\.pickle\.pbz2: corrupted: holds architecture 0 \|avg_pool_3x3~0\|.*, meta says 1/);
  // wrong format: meta is not a meta pickle, or not bz2 at all
  const d4 = copy('wrongmeta');
  cpSync(join(d4, '000000.pickle.pbz2'), join(d4, 'meta.pickle.pbz2'));
  assert.throws(() => openBenchmark(d4), /meta\.pickle\.pbz2: wrong format: no meta_archs list/);
  writeFileSync(join(d4, 'meta.pickle.pbz2'), 'meta_archs = [...]');
  assert.throws(() => openBenchmark(d4), /meta\.pickle\.pbz2: wrong format: not a bzip2 file/);
  const d5 = copy('truncmeta');
  const m5 = join(d5, 'meta.pickle.pbz2');
  writeFileSync(m5, readFileSync(m5).subarray(0, 100));
  assert.throws(() => openBenchmark(d5), /meta\.pickle\.pbz2: truncated bzip2 data/);
  // non-existent paths
  assert.throws(() => openBenchmark(join(tmp, 'NATS-tss-v1_0-3ffb9-nothere')), (e: unknown) => e instanceof DataError && /NATS-tss-v1_0-3ffb9-nothere: no such file or directory/.test(e.message));
  assert.throws(() => openBenchmark(join(src, '000000.pickle.pbz2')), /000000\.pickle\.pbz2: a single NATS-Bench file: pass the -simple directory/);
});
