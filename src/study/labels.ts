/** Human names for what a study correlates with: "CIFAR-10 test accuracy, %". */
import { TransnasBenchmark } from '../benchmarks/json-benchmarks.js';
import type { Benchmark } from '../benchmarks/types.js';

const DATASET_NAMES: Record<string, string> = {
  cifar10: 'CIFAR-10',
  'cifar10-valid': 'CIFAR-10 (train/valid split)',
  cifar100: 'CIFAR-100',
  'ImageNet16-120': 'ImageNet16-120',
  imagenet: 'ImageNet',
  sst2: 'SST-2',
};

const METRIC_NAMES: Record<string, string> = {
  test: 'test accuracy',
  valid: 'validation accuracy',
  train: 'train accuracy',
  final: 'final test accuracy',
  'ori-test': 'test accuracy (ori-test)',
  'x-test': 'test accuracy (x-test)',
  'x-valid': 'validation accuracy (x-valid)',
};

/** TransNAS task metrics: name and unit */
const TASK_METRICS: Record<string, [string, string | undefined]> = {
  top1: ['top-1 accuracy', '%'],
  mIoU: ['mIoU', '%'],
  ssim: ['SSIM', undefined],
  neg_l2_loss: ['negative L2 loss', undefined],
};

export function datasetName(dataset: string | undefined): string | undefined {
  return dataset === undefined ? undefined : (DATASET_NAMES[dataset] ?? dataset);
}

/** The metric a study correlates with, named with its dataset and unit, e.g. "CIFAR-10 test accuracy, %". */
export function truthLabel(bench: Benchmark, dataset: string | undefined, metric: string): string {
  if (bench instanceof TransnasBenchmark) {
    const task = dataset ?? bench.datasets[0]!;
    const m = bench.taskMetric[task] ?? metric;
    const [name, unit] = TASK_METRICS[m] ?? [m, undefined];
    return `${task} ${name}${unit ? `, ${unit}` : ''}`;
  }
  const ds = datasetName(dataset ?? bench.datasets[0]);
  return `${ds ? `${ds} ` : ''}${METRIC_NAMES[metric] ?? `${metric} accuracy`}, %`;
}
