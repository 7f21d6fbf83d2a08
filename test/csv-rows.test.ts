/** The CSV prelude every ground-truth reader shares: header, row bound, cells per row. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CsvRows } from '../src/benchmarks/csv.js';
import { DartsCsvBenchmark } from '../src/benchmarks/darts-csv.js';
import { DataError } from '../src/util/errors.js';

const opts = { maxRows: 3, tooMany: (n: number) => `${n} rows, over 3` };
const fails = (f: () => unknown, re: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof DataError && re.test((e as Error).message) && /^t\.csv: /.test((e as Error).message));

test('CsvRows: header, quoted cells, line numbers; empty, header-only, too many and short rows are DataErrors', () => {
  const t = new CsvRows('t.csv', ' a , b\n1,"x,""y"""\r\n2,3\n', { ...opts, trimHeader: true });
  assert.deepEqual(t.header, ['a', 'b']);
  assert.equal(t.count, 2);
  assert.deepEqual(t.cells(0), ['1', 'x,"y"']);
  assert.equal(t.lineNo(1), 3);
  assert.deepEqual(new CsvRows('t.csv', ' a ,b\n', opts).header, [' a ', 'b']);
  fails(() => new CsvRows('t.csv', '', opts), /wrong format: empty file$/);
  fails(() => new CsvRows('t.csv', 'a,b\n', { ...opts, needRows: true }), /wrong format: no rows$/);
  fails(() => new CsvRows('t.csv', 'a\n1\n2\n3\n4\n', opts), /: 4 rows, over 3$/);
  const short = new CsvRows('t.csv', 'a,b\n1\n2,3\n4', opts);
  fails(() => short.cells(0), /: line 2: expected 2 columns, found 1$/);
  fails(() => short.cells(2), /: line 4: expected 2 columns, found 1 \(file truncated\?\)$/);
});

test('DARTS CSV through CsvRows: a truncated last row and a bad genotype name their lines', () => {
  const g = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])";
  const ok = new DartsCsvBenchmark('t.csv', `genotype,cifar10-valid\n"${g}",91.5\n`);
  assert.equal(ok.size, 1);
  assert.equal(ok.accuracy(ok.archs()[0]!, 'cifar10', 'valid'), 91.5);
  fails(() => new DartsCsvBenchmark('t.csv', `genotype,cifar10-valid\n"${g}",91.5\n"${g}"`), /: line 3: expected 2 columns, found 1 \(file truncated\?\)$/);
  fails(() => new DartsCsvBenchmark('t.csv', `genotype,cifar10-valid\nnonsense,91.5\n`), /: line 2: /);
});
