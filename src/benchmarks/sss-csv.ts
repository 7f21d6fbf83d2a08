/**
 * NATS-Bench SSS ground truth as CSV (`nats-sss-90ep-test.csv`): columns `index`, `arch`
 * (`c1:c2:c3:c4:c5`), `params-<dataset>` and `<dataset>-test` for cifar10, cifar100 and
 * ImageNet16-120; row i is NATS index i (base-8 channel digits, most significant first), which is
 * also the sss space's own order. Every row is checked: index matches the arch, numbers in range,
 * each arch once.
 */
import { basename } from 'node:path';
import { sss } from '../spaces/sss.js';
import { DataError, readText } from '../util/errors.js';
import { CsvRows } from './csv.js';
import { type Benchmark, IndexedArchs, canonicalDataset, pickDatasetMetric } from './types.js';

export const SSS_SIZE = 32768;

export function looksLikeSssCsv(header: string[]): boolean {
  const h = header.map((x) => x.trim());
  return h.includes('arch') && h.some((x) => /^params-/.test(x)) && h.some((x) => /-test$/.test(x));
}

export class SssCsvBenchmark extends IndexedArchs implements Benchmark {
  readonly space = 'sss';
  readonly format = 'NATS-Bench SSS CSV (90 epochs, test, one seed)';
  readonly source: string;
  readonly datasets: string[];
  readonly metrics = ['test'];
  private readonly acc = new Map<string, Float64Array>();
  private readonly paramCols = new Map<string, Float64Array>();

  constructor(path: string, text?: string) {
    super();
    this.source = path;
    const name = basename(path);
    const csv = new CsvRows(name, text ?? readText(path), { maxRows: SSS_SIZE, needRows: true, trimHeader: true, tooMany: (n) => `${n} rows; the SSS space has ${SSS_SIZE} architectures` });
    const n = csv.count;
    const header = csv.header;
    const archCol = header.indexOf('arch');
    const idxCol = header.indexOf('index');
    const accCols: [number, string][] = [];
    const parCols: [number, string][] = [];
    header.forEach((h, i) => {
      let m = /^(.+)-test$/.exec(h);
      if (m) accCols.push([i, canonicalDataset(m[1]!)]);
      m = /^params-(.+)$/.exec(h);
      if (m) parCols.push([i, canonicalDataset(m[1]!)]);
    });
    if (archCol < 0 || accCols.length === 0) throw new DataError(name, 'wrong format: expected an "arch" column and <dataset>-test columns');
    this.datasets = accCols.map((c) => c[1]);
    for (const [, ds] of accCols) this.acc.set(ds, new Float64Array(n));
    for (const [, ds] of parCols) this.paramCols.set(ds, new Float64Array(n));
    for (let r = 0; r < n; r++) {
      const lineNo = csv.lineNo(r);
      const cells = csv.cells(r);
      let arch: string;
      try {
        arch = sss.parse(cells[archCol]!);
      } catch (e) {
        throw new DataError(name, `line ${lineNo}: ${(e as Error).message}`);
      }
      if (idxCol >= 0 && cells[idxCol]!.trim() !== String(sss.indexOf(arch))) {
        throw new DataError(name, `line ${lineNo}: index ${cells[idxCol]} does not match ${arch} (NATS index ${sss.indexOf(arch)})`);
      }
      if (this.index.has(arch)) throw new DataError(name, `line ${lineNo}: ${arch} already on line ${this.index.get(arch)! + 2}`);
      this.addArch(arch);
      for (const [col, ds] of accCols) {
        const v = Number(cells[col]);
        if (cells[col]!.trim() === '' || !Number.isFinite(v) || v < 0 || v > 100) {
          throw new DataError(name, `line ${lineNo}: ${header[col]} is "${cells[col]}", expected an accuracy in 0..100`);
        }
        this.acc.get(ds)![r] = v;
      }
      for (const [col, ds] of parCols) {
        const v = Number(cells[col]);
        if (cells[col]!.trim() === '' || !Number.isInteger(v) || v <= 0) throw new DataError(name, `line ${lineNo}: ${header[col]} is "${cells[col]}", expected a parameter count`);
        this.paramCols.get(ds)![r] = v;
      }
    }
  }

  natsIndex(arch: string): number | undefined {
    return this.index.has(arch) ? sss.indexOf(arch) : undefined;
  }
  accuracy(arch: string, dataset?: string, metric?: string): number | undefined {
    const r = pickDatasetMetric(this, dataset, metric);
    const i = this.index.get(arch);
    return i === undefined ? undefined : this.acc.get(r.dataset)![i];
  }
  /** the file's parameter count of an arch for a dataset */
  params(arch: string, dataset: string): number | undefined {
    const i = this.index.get(arch);
    const col = this.paramCols.get(canonicalDataset(dataset));
    return i === undefined || !col ? undefined : col[i];
  }
}
