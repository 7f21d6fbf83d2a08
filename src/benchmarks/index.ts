/**
 * Ground-truth readers behind one interface. `openBenchmark(path)` looks at what `path` is and
 * picks the reader:
 *
 * | path                                            | reader                         | space            |
 * |-------------------------------------------------|--------------------------------|------------------|
 * | `*.csv` (NB201 compact CSVs)                    | Nb201CsvBenchmark              | nb201            |
 * | `*.csv` with a `genotype` column                | DartsCsvBenchmark              | darts            |
 * | `*.csv` with `arch`, `params-*`, `*-test`       | SssCsvBenchmark                | sss              |
 * | directory with `meta.pickle.pbz2`               | NatsBenchmark (lazy per arch)  | nb201 or sss     |
 * | `micro_<task>.json` / `macro_<task>.json` / dir | TransnasBenchmark              | transnas-micro/macro |
 * | `NAFBee_<net>.json` / dir                       | NafbeeBenchmark                | nafbee           |
 * | NDS json (list of records with `net`)           | NdsBenchmark                   | nds              |
 *
 * Every failure is a DataError naming the file and the problem.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { DataError, fsProblem, readText } from '../util/errors.js';
import {
  looksLikeNafbee,
  looksLikeNds,
  looksLikeTransnas,
  NdsBenchmark,
  openNafbeeDir,
  openNafbeeFile,
  openTransnasDir,
  openTransnasFile,
  parseJson,
} from './json-benchmarks.js';
import { isNatsDir, NatsBenchmark, type NatsFs, type NatsOptions } from './nats.js';
import { splitCsvLine } from './csv.js';
import { DartsCsvBenchmark, looksLikeDartsCsv } from './darts-csv.js';
import { Nb201CsvBenchmark } from './nb201-csv.js';
import { SssCsvBenchmark, looksLikeSssCsv } from './sss-csv.js';
import type { Benchmark } from './types.js';

export { DataError } from '../util/errors.js';
export type { Benchmark } from './types.js';
export { canonicalDataset } from './types.js';
export { Nb201CsvBenchmark, NB201_SIZE } from './nb201-csv.js';
export { DartsCsvBenchmark } from './darts-csv.js';
export { SssCsvBenchmark, SSS_SIZE } from './sss-csv.js';
export { NatsBenchmark, type NatsFs, type NatsOptions, type NatsQuery } from './nats.js';
export { NafbeeBenchmark, NdsBenchmark, TransnasBenchmark, TRANSNAS_TASK_METRIC } from './json-benchmarks.js';

export interface OpenBenchmarkOptions extends NatsOptions {
  /** pick a space where a directory holds more than one (transnas-micro / transnas-macro) */
  space?: string;
  fs?: NatsFs;
}

export function openBenchmark(path: string, opts: OpenBenchmarkOptions = {}): Benchmark {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw fsProblem(path, e);
  }
  if (isDir) {
    if (isNatsDir(path, opts.fs)) return new NatsBenchmark(path, opts);
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (e) {
      throw fsProblem(path, e);
    }
    const space = opts.space?.toLowerCase();
    const hasTransnas = names.some((n) => /^(micro|macro)_.+\.json$/i.test(n));
    const hasNafbee = names.some((n) => /^NAFBee_.+\.json$/i.test(n));
    if (hasNafbee && (space === 'nafbee' || !hasTransnas)) return openNafbeeDir(path);
    if (hasTransnas) return openTransnasDir(path, space?.startsWith('transnas') ? space : undefined);
    throw new DataError(
      path,
      'no benchmark files recognised in this directory (expected a NATS-Bench -simple archive with meta.pickle.pbz2, TransNAS micro_/macro_<task>.json files or NAFBee_<net>.json)',
    );
  }
  const ext = extname(path).toLowerCase();
  const name = basename(path);
  if (ext === '.csv') {
    // the header decides: DARTS genotypes, NATS-Bench SSS, or NAS-Bench-201
    const text = readText(path);
    const header = splitCsvLine(text.slice(0, Math.max(0, text.indexOf('\n')) || text.length).replace(/\r$/, ''));
    if (looksLikeDartsCsv(header)) return new DartsCsvBenchmark(path, text);
    if (looksLikeSssCsv(header)) return new SssCsvBenchmark(path, text);
    return new Nb201CsvBenchmark(path, text);
  }
  if (ext === '.json') {
    const data = parseJson(path);
    if (looksLikeTransnas(data)) return openTransnasFile(path, data);
    if (looksLikeNafbee(data)) return openNafbeeFile(path, data);
    if (looksLikeNds(data)) return new NdsBenchmark(path, data);
    throw new DataError(name, 'wrong format: not a TransNAS-Bench-101, NAFBee or NDS json file');
  }
  if (name.endsWith('.pickle.pbz2')) {
    throw new DataError(name, 'a single NATS-Bench file: pass the -simple directory that holds meta.pickle.pbz2 and the per-architecture files');
  }
  throw new DataError(name, 'wrong format: expected a .csv, a .json or a NATS-Bench -simple directory');
}
