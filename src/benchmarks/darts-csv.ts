/**
 * DARTS-space ground truth as CSV: a `genotype` column (standard genotype text, quoted) and
 * accuracy columns named `<dataset>-<metric>` (e.g. `cifar10-valid`), as in
 * `swap-darts-1000-cifar10.csv` (1,000 random DARTS genotypes, SWAP's release). Arch ids are the
 * canonical genotype texts of the darts space; each genotype must appear once.
 */
import { basename } from 'node:path';
import { parseDarts } from '../spaces/darts.js';
import { formatGenotype } from '../spaces/genotype.js';
import { DataError, readText } from '../util/errors.js';
import { CsvRows } from './csv.js';
import { type Benchmark, IndexedArchs, canonicalDataset, pickDatasetMetric } from './types.js';

/** most rows a DARTS CSV may hold (a bound on untrusted input) */
export const MAX_DARTS_ROWS = 1_000_000;

export function looksLikeDartsCsv(header: string[]): boolean {
  return header.map((h) => h.trim()).includes('genotype');
}

export class DartsCsvBenchmark extends IndexedArchs implements Benchmark {
  readonly space = 'darts';
  readonly format = 'DARTS genotype CSV';
  readonly source: string;
  readonly datasets: string[];
  readonly metrics: string[];
  private readonly columns = new Map<string, Float64Array>();

  constructor(path: string, text?: string) {
    super();
    this.source = path;
    const name = basename(path);
    const csv = new CsvRows(name, text ?? readText(path), { maxRows: MAX_DARTS_ROWS, needRows: true, trimHeader: true, tooMany: (n) => `${n} rows, over the limit of ${MAX_DARTS_ROWS}` });
    const header = csv.header;
    const gcol = header.indexOf('genotype');
    if (gcol < 0) throw new DataError(name, 'wrong format: no "genotype" column');
    const values: [number, string, string][] = [];
    header.forEach((h, i) => {
      const m = /^(.+?)[-_](test|valid|val|accuracy|acc)$/i.exec(h);
      if (i === gcol || !m) return;
      const metric = m[2]!.toLowerCase() === 'val' ? 'valid' : m[2]!.toLowerCase().startsWith('acc') ? 'test' : m[2]!.toLowerCase();
      values.push([i, canonicalDataset(m[1]!), metric]);
    });
    if (values.length === 0) throw new DataError(name, `wrong format: no accuracy column named <dataset>-<test|valid> in header "${header.join(',').slice(0, 100)}"`);
    this.datasets = [...new Set(values.map((v) => v[1]))];
    this.metrics = [...new Set(values.map((v) => v[2]))];
    const n = csv.count;
    for (const [, ds, m] of values) this.columns.set(`${ds}/${m}`, new Float64Array(n).fill(NaN));
    for (let r = 0; r < n; r++) {
      const lineNo = csv.lineNo(r);
      const cells = csv.cells(r);
      let arch: string;
      try {
        arch = formatGenotype(parseDarts(cells[gcol]!));
      } catch (e) {
        throw new DataError(name, `line ${lineNo}: ${(e as Error).message}`);
      }
      if (this.index.has(arch)) throw new DataError(name, `line ${lineNo}: genotype already on line ${this.index.get(arch)! + 2}`);
      this.addArch(arch);
      for (const [col, ds, m] of values) {
        const cell = cells[col]!.trim();
        if (cell === '') continue;
        const v = Number(cell);
        if (!Number.isFinite(v) || v < 0 || v > 100) throw new DataError(name, `line ${lineNo}: ${header[col]} is "${cell}", expected an accuracy in 0..100`);
        this.columns.get(`${ds}/${m}`)![r] = v;
      }
    }
  }

  accuracy(arch: string, dataset?: string, metric?: string): number | undefined {
    const r = pickDatasetMetric(this, dataset, metric);
    const i = this.index.get(arch);
    const v = i === undefined ? undefined : this.columns.get(`${r.dataset}/${r.metric}`)?.[i];
    return v === undefined || Number.isNaN(v) ? undefined : v;
  }
}
