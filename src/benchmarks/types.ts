import { DataError } from '../util/errors.js';

/**
 * Ground truth for one design space, whatever file it came from.
 *
 * Architecture ids are the space's canonical strings: NB201 arch strings
 * (`|nor_conv_3x3~0|+|...|`), SSS `c1:c2:c3:c4:c5`, TransNAS `64-41414-0_00_000` /
 * `64-1234-basic`, NAFBee activation names, NDS record indices ("0", "1", ...).
 */
export interface Benchmark {
  /** the design space of the ids: nb201 | sss | transnas-micro | transnas-macro | nafbee | nds */
  readonly space: string;
  /** what was read, e.g. "NB201 compact CSV (200 epochs)" */
  readonly format: string;
  /** the file or directory it was read from */
  readonly source: string;
  /** datasets (TransNAS: tasks) with ground truth; the first is the default */
  readonly datasets: readonly string[];
  /** metrics accepted by accuracy(); the first is the default */
  readonly metrics: readonly string[];
  /** number of architectures */
  readonly size: number;
  /** all ids, in the file's order (NATS: index order) */
  archs(): string[];
  has(arch: string): boolean;
  /**
   * The ground-truth value of `arch` (percent for accuracies), or undefined where the benchmark
   * holds no value for it. Throws DataError for an unknown dataset or metric, and where a lazily
   * read file turns out missing or corrupted.
   */
  accuracy(arch: string, dataset?: string, metric?: string): number | undefined;
  /** NATS-Bench index of an arch, where the file has one */
  natsIndex?(arch: string): number | undefined;
}

/** Canonical dataset names; accepts the spellings the files and users use. */
export function canonicalDataset(name: string): string {
  const k = name.toLowerCase().replace(/_/g, '-');
  if (k === 'cifar10' || k === 'cifar-10') return 'cifar10';
  if (k === 'cifar100' || k === 'cifar-100') return 'cifar100';
  if (k === 'cifar10-valid') return 'cifar10-valid';
  if (k === 'imagenet16-120' || k === 'imagenet16' || k === 'imagenet' || k === 'in16' || k === 'imagenet16120') return 'ImageNet16-120';
  return name;
}

/** Resolve the dataset and metric arguments of accuracy() against a benchmark's lists. */
export function pickDatasetMetric(
  b: Pick<Benchmark, 'datasets' | 'metrics' | 'source'>,
  dataset: string | undefined,
  metric: string | undefined,
  canon: (d: string) => string = canonicalDataset,
): { dataset: string; metric: string } {
  const ds = dataset === undefined ? b.datasets[0]! : canon(dataset);
  if (!b.datasets.includes(ds)) {
    throw new DataError(b.source, `no ground truth for dataset "${dataset}"; this benchmark has ${b.datasets.join(', ')}`);
  }
  const m = metric ?? b.metrics[0]!;
  if (!b.metrics.includes(m)) {
    throw new DataError(b.source, `no metric "${metric}"; this benchmark has ${b.metrics.join(', ')}`);
  }
  return { dataset: ds, metric: m };
}

/** Architectures in a file's order (NATS index order for NATS-Bench files), with a look-up index. */
export abstract class IndexedArchs {
  protected readonly ids: string[] = [];
  protected readonly index = new Map<string, number>();

  get size(): number {
    return this.ids.length;
  }
  archs(): string[] {
    return [...this.ids];
  }
  has(arch: string): boolean {
    return this.index.has(arch);
  }
  /** the arch at position i of the file */
  archAt(i: number): string | undefined {
    return this.ids[i];
  }
  protected addArch(arch: string): void {
    this.index.set(arch, this.ids.length);
    this.ids.push(arch);
  }
}
