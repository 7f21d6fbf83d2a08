import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DataError, Nb201CsvBenchmark, openBenchmark } from '../src/benchmarks/index.js';
import { nb201 } from '../src/spaces/nb201.js';
import { sharedDataPath } from './helpers/shared-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'rbflex-bench-nb201-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A complete, valid CSV in the layout of nats-tss-200ep-test.csv, made from the space itself. */
function generatedCsv(): string {
  const rows = ['CIFAR10TestAccuracy200Epochs,CIFAR100TestAccuracy200Epochs,ImageNetTestAccuracy200Epochs,ArchitectureString,UniqueString'];
  for (let i = 0; i < 15625; i++) rows.push(`${(i % 9000) / 100},${(i % 7000) / 100},${(i % 5000) / 100},${nb201.archAt(i)},u${i}`);
  return rows.join('\n') + '\n';
}
const GEN = generatedCsv();

function expectDataError(fn: () => unknown, re: RegExp, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof DataError && re.test(e.message), what);
}

test('NB201 CSV reader: row i is index i, values per dataset (generated file)', () => {
  const p = join(tmp, 'nats-tss-200ep-test.csv');
  writeFileSync(p, GEN);
  const b = openBenchmark(p);
  assert.ok(b instanceof Nb201CsvBenchmark);
  assert.equal(b.space, 'nb201');
  assert.equal(b.size, 15625);
  assert.deepEqual(b.datasets, ['cifar10', 'cifar100', 'ImageNet16-120']);
  for (const i of [0, 1, 777, 15624]) {
    const a = nb201.archAt(i);
    assert.equal(b.archs()[i], a);
    assert.equal(b.natsIndex!(a), i);
    assert.equal(b.accuracy(a), (i % 9000) / 100, 'default dataset cifar10, metric test');
    assert.equal(b.accuracy(a, 'cifar100', 'test'), (i % 7000) / 100);
    assert.equal(b.accuracy(a, 'imagenet16-120'), (i % 5000) / 100, 'dataset spelling accepted');
  }
  assert.equal(b.accuracy('|none~0|+|none~0|none~1|+|none~0|none~1|nope~2|'), undefined);
  expectDataError(() => b.accuracy(nb201.archAt(0), 'mnist'), /no ground truth for dataset "mnist"; this benchmark has cifar10, cifar100, ImageNet16-120/, 'unknown dataset');
  expectDataError(() => b.accuracy(nb201.archAt(0), 'cifar10', 'valid'), /no metric "valid"; this benchmark has test/, 'unknown metric');
});

test('NB201 CSV reader rejects truncated, corrupted and wrong-format files and missing paths', () => {
  const lines = GEN.split('\n');
  const write = (name: string, text: string | Buffer) => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };
  // truncated in the middle of a line
  expectDataError(() => openBenchmark(write('cut.csv', GEN.slice(0, GEN.length - 30))), /^cut\.csv: line 15626: expected 5 columns, found \d \(file truncated\?\)$/, 'cut mid-line');
  // truncated at a line boundary
  expectDataError(() => openBenchmark(write('short.csv', lines.slice(0, 15000).join('\n') + '\n')), /^short\.csv: expected 15625 architectures, found 14999 \(file truncated\?\)$/, 'rows missing');
  // corrupted: a short row, a bad number, a bad arch string, a duplicate
  const l = [...lines];
  l[16] = '1,2,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|';
  expectDataError(() => openBenchmark(write('c1.csv', l.join('\n'))), /^c1\.csv: line 17: expected 5 columns, found 3$/, 'short row');
  const m = [...lines];
  m[100] = m[100]!.replace(/^[^,]*/, 'abc');
  expectDataError(() => openBenchmark(write('c2.csv', m.join('\n'))), /^c2\.csv: line 101: CIFAR10TestAccuracy200Epochs is "abc", expected an accuracy in 0\.\.100$/, 'bad number');
  const n = [...lines];
  n[5] = n[5]!.replace('~0|+', '~7|+');
  expectDataError(() => openBenchmark(write('c3.csv', n.join('\n'))), /^c3\.csv: line 6: nb201: edge .* must come from node 0, not 7$/, 'bad arch');
  const d = [...lines];
  d[9] = d[8]!;
  expectDataError(() => openBenchmark(write('c4.csv', d.join('\n'))), /^c4\.csv: line 10: architecture \|.*\| already on line 9$/, 'duplicate');
  // wrong format
  expectDataError(() => openBenchmark(write('w.csv', 'a,b,c\n1,2,3\n')), /^w\.csv: wrong format: header "a,b,c" is not a NAS-Bench-201 CSV/, 'unknown header');
  expectDataError(() => openBenchmark(write('bin.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe, 0x00]))), /bin\.csv: wrong format: not a UTF-8 text file/, 'binary');
  expectDataError(() => openBenchmark(write('empty.csv', '')), /empty\.csv: wrong format: empty file/, 'empty');
  // missing
  expectDataError(() => openBenchmark(join(tmp, 'missing.csv')), /missing\.csv: no such file or directory$/, 'missing');
  expectDataError(() => openBenchmark(join(tmp, 'nodir', 'x.csv')), /x\.csv: no such file or directory$/, 'missing dir');
});

test('shared NB201 CSVs: row order, known optima 94.37 / 73.51 / 47.31, the three files agree on the arch order', (t) => {
  const main = sharedDataPath('nb201/nats-tss-200ep-test.csv', t);
  const e12 = sharedDataPath('nb201/nb201-12ep-valid-test.csv', t);
  const v10 = sharedDataPath('nb201/nb201-v1_0-cifar10-200ep-naswot.csv', t);
  if (!main || !e12 || !v10) return;
  const t0 = performance.now();
  const b = openBenchmark(main);
  t.diagnostic(`opened nats-tss-200ep-test.csv in ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(b.size, 15625);
  const archs = b.archs();
  // row 1 of the file is NATS index 1
  assert.equal(archs[1], '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|');
  const text = readFileSync(main, 'utf8').split('\n');
  for (const i of [0, 1, 2, 5000, 15624]) {
    assert.equal(b.natsIndex!(archs[i]!), i);
    assert.equal(b.accuracy(archs[i]!, 'cifar10'), Number(text[i + 1]!.split(',')[0]), `row ${i}`);
  }
  const best: Record<string, number> = {};
  for (const ds of b.datasets) best[ds] = Math.max(...archs.map((a) => b.accuracy(a, ds)!));
  assert.deepEqual(
    Object.fromEntries(Object.entries(best).map(([k, v]) => [k, Math.round(v * 100) / 100])),
    { cifar10: 94.37, cifar100: 73.51, 'ImageNet16-120': 47.31 },
  );
  const b12 = openBenchmark(e12);
  const b10 = openBenchmark(v10) as Nb201CsvBenchmark;
  assert.deepEqual(b12.archs(), archs, '12-epoch file in the same order');
  assert.deepEqual(b10.archs(), archs, 'v1_0 file in the same order');
  assert.deepEqual(b12.metrics, ['test', 'valid']);
  assert.ok(b12.accuracy(archs[1]!, 'cifar10', 'valid')! < b.accuracy(archs[1]!, 'cifar10')!, '12 epochs < 200 epochs');
  assert.equal(b10.datasets.join(), 'cifar10');
  assert.equal(b10.accuracy(archs[0]!, 'cifar10', 'test'), b.accuracy(archs[0]!, 'cifar10'), 'v1_0 test = NATS 200-epoch test for index 0');
  assert.equal(b10.extra(archs[1]!, 'params_m'), 0.802426);
  assert.ok(Number.isNaN(b10.extra(archs.find((a) => Number.isNaN(b10.extra(a, 'naswot_score')))!, 'naswot_score')!), 'nan scores are kept as NaN');
});
