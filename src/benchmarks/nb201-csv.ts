/**
 * NAS-Bench-201 / NATS-Bench TSS compact CSVs (one row per architecture, NATS index order).
 *
 * Recognised layouts (by header):
 * - `nats-tss-200ep-test.csv`: CIFAR10TestAccuracy200Epochs, CIFAR100TestAccuracy200Epochs,
 *   ImageNetTestAccuracy200Epochs, ArchitectureString, UniqueString; no index column, row i = index i.
 * - `nb201-12ep-valid-test.csv`: arch, cellstr, cifar10-test, cifar10-val, cifar100-test,
 *   cifar100-val, imagenet-test, imagenet-val (12-epoch).
 * - `nb201-v1_0-cifar10-200ep-naswot.csv`: arch, cellstr, params, score, test_top1, valid_top1,
 *   valid_test_top1 (CIFAR-10 only; params in M and the published NASWOT score are extras).
 * - generic: an arch-string column (cellstr / arch_str / ArchitectureString) and columns named
 *   `<dataset>-<test|valid>` (dataset cifar10, cifar100, ImageNet16-120 or imagenet).
 *
 * Every row is checked (column count, a valid arch string, numbers in range, index = row) and the
 * file must hold all 15,625 architectures, each once.
 */
import { basename } from 'node:path';
import { parseNb201 } from '../spaces/nb201.js';
import { DataError, readText } from '../util/errors.js';
import { CsvRows } from './csv.js';
import { type Benchmark, IndexedArchs, pickDatasetMetric } from './types.js';

export const NB201_SIZE = 15625;

interface ColumnMap {
  format: string;
  epochs?: number;
  arch: number;
  index?: number;
  /** value columns: [column, dataset, metric] */
  values: [number, string, string][];
  /** extra numeric columns: [column, name] */
  extras: [number, string][];
}

function findColumns(header: string[], file: string): ColumnMap {
  const at = (name: string) => header.indexOf(name);
  if (at('CIFAR10TestAccuracy200Epochs') >= 0 && at('ArchitectureString') >= 0) {
    const values: [number, string, string][] = [];
    for (const [col, ds] of [
      ['CIFAR10TestAccuracy200Epochs', 'cifar10'],
      ['CIFAR100TestAccuracy200Epochs', 'cifar100'],
      ['ImageNetTestAccuracy200Epochs', 'ImageNet16-120'],
    ] as const) {
      if (at(col) < 0) throw new DataError(file, `wrong format: header has no ${col} column`);
      values.push([at(col), ds, 'test']);
    }
    return { format: 'NB201 compact CSV (200 epochs, test, seed mean)', epochs: 200, arch: at('ArchitectureString'), values, extras: [] };
  }
  if (at('cellstr') >= 0 && at('test_top1') >= 0 && at('valid_top1') >= 0) {
    const values: [number, string, string][] = [
      [at('test_top1'), 'cifar10', 'test'],
      [at('valid_top1'), 'cifar10', 'valid'],
    ];
    if (at('valid_test_top1') >= 0) values.push([at('valid_test_top1'), 'cifar10', 'valid_test']);
    const extras: [number, string][] = [];
    if (at('params') >= 0) extras.push([at('params'), 'params_m']);
    if (at('score') >= 0) extras.push([at('score'), 'naswot_score']);
    return {
      format: 'NAS-Bench-201 v1_0 CIFAR-10 CSV (200 epochs) with NASWOT scores',
      epochs: 200,
      arch: at('cellstr'),
      ...(at('arch') >= 0 ? { index: at('arch') } : {}),
      values,
      extras,
    };
  }
  const archCol = ['cellstr', 'arch_str', 'ArchitectureString', 'arch_string'].map(at).find((i) => i >= 0);
  if (archCol !== undefined) {
    const values: [number, string, string][] = [];
    header.forEach((h, i) => {
      const m = /^(cifar10|cifar100|imagenet16-120|imagenet16|imagenet)[-_](test|valid|val)$/i.exec(h.trim());
      if (!m) return;
      const ds = m[1]!.toLowerCase().startsWith('imagenet') ? 'ImageNet16-120' : m[1]!.toLowerCase();
      values.push([i, ds, m[2]!.toLowerCase() === 'test' ? 'test' : 'valid']);
    });
    if (values.length) {
      const idx = ['arch', 'index', 'arch_index'].map(at).find((i) => i >= 0);
      const is12 = /12ep/i.test(file);
      return {
        format: `NB201 compact CSV${is12 ? ' (12 epochs)' : ''}`,
        ...(is12 ? { epochs: 12 } : {}),
        arch: archCol,
        ...(idx !== undefined ? { index: idx } : {}),
        values,
        extras: [],
      };
    }
  }
  throw new DataError(
    file,
    `wrong format: header "${header.join(',').slice(0, 120)}" is not a NAS-Bench-201 CSV (expected an arch-string column and accuracy columns)`,
  );
}

export class Nb201CsvBenchmark extends IndexedArchs implements Benchmark {
  readonly space = 'nb201';
  readonly format: string;
  readonly source: string;
  readonly datasets: string[];
  readonly metrics: string[];
  readonly epochs: number | undefined;
  /** names of extra numeric columns, read with extra() */
  readonly extras: string[];
  private readonly columns = new Map<string, Float64Array>();
  private readonly extraCols = new Map<string, Float64Array>();

  constructor(path: string, text?: string) {
    super();
    this.source = path;
    const name = basename(path);
    const tooMany = (n: number) => `expected ${NB201_SIZE} architectures, found ${n}`;
    const csv = new CsvRows(name, text ?? readText(path), { maxRows: NB201_SIZE, tooMany });
    const header = csv.header;
    const map = findColumns(header, name);
    this.format = map.format;
    this.epochs = map.epochs;
    this.datasets = [...new Set(map.values.map((v) => v[1]))];
    this.metrics = [...new Set(map.values.map((v) => v[2]))];
    this.extras = map.extras.map((e) => e[1]);
    const n = csv.count;
    for (const [, ds, m] of map.values) this.columns.set(`${ds}/${m}`, new Float64Array(n));
    for (const [, e] of map.extras) this.extraCols.set(e, new Float64Array(n));
    for (let r = 0; r < n; r++) {
      const lineNo = csv.lineNo(r);
      const cells = csv.cells(r);
      const arch = cells[map.arch]!.trim();
      try {
        parseNb201(arch);
      } catch (e) {
        throw new DataError(name, `line ${lineNo}: ${(e as Error).message}`);
      }
      if (this.index.has(arch)) {
        throw new DataError(name, `line ${lineNo}: architecture ${arch} already on line ${this.index.get(arch)! + 2}`);
      }
      if (map.index !== undefined && cells[map.index]!.trim() !== String(r)) {
        throw new DataError(name, `line ${lineNo}: index column says ${cells[map.index]}, expected ${r} (rows must be in NATS index order)`);
      }
      this.addArch(arch);
      for (const [col, ds, m] of map.values) {
        const v = Number(cells[col]);
        if (cells[col]!.trim() === '' || !Number.isFinite(v) || v < 0 || v > 100) {
          throw new DataError(name, `line ${lineNo}: ${header[col]} is "${cells[col]}", expected an accuracy in 0..100`);
        }
        this.columns.get(`${ds}/${m}`)![r] = v;
      }
      for (const [col, e] of map.extras) {
        const v = parseExtra(cells[col]!);
        if (v === undefined) {
          throw new DataError(name, `line ${lineNo}: ${header[col]} is "${cells[col]}", expected a number`);
        }
        this.extraCols.get(e)![r] = v;
      }
    }
    if (n !== NB201_SIZE) {
      throw new DataError(name, `expected ${NB201_SIZE} architectures, found ${n}${n < NB201_SIZE ? ' (file truncated?)' : ''}`);
    }
  }

  /** NATS-Bench index of an arch (its position in the file) */
  natsIndex(arch: string): number | undefined {
    return this.index.get(arch);
  }
  accuracy(arch: string, dataset?: string, metric?: string): number | undefined {
    const { dataset: ds, metric: m } = pickDatasetMetric(this, dataset, metric);
    const i = this.index.get(arch);
    const col = this.columns.get(`${ds}/${m}`);
    if (i === undefined || !col) return undefined;
    return col[i];
  }
  /** an extra numeric column (e.g. params_m, naswot_score); NaN where the file says nan */
  extra(arch: string, name: string): number | undefined {
    const i = this.index.get(arch);
    const col = this.extraCols.get(name);
    if (i === undefined || !col) return undefined;
    return col[i];
  }
}

/** a number as Python writes it: also nan, inf, -inf (the NASWOT score is nan for some cells) */
function parseExtra(cell: string): number | undefined {
  const t = cell.trim().toLowerCase();
  if (t === 'nan') return NaN;
  if (t === 'inf' || t === '+inf') return Infinity;
  if (t === '-inf') return -Infinity;
  const v = Number(t);
  return t === '' || Number.isNaN(v) ? undefined : v;
}
