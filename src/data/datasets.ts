/**
 * Per-dataset image conventions: normalisation (ToTensor then Normalize(mean, std), as the
 * reference runs use them), the native image size and the random-crop padding.
 */
import { DataError } from '../util/errors.js';

export interface DatasetInfo {
  /** canonical name */
  name: string;
  /** per-channel mean and std of Normalize, or null for ToTensor only (values in [0, 1]) */
  mean: readonly [number, number, number] | null;
  std: readonly [number, number, number] | null;
  /** native side length; undefined = the images' own size (taskonomy, none) */
  size: number | undefined;
  /** synthetic images' side when neither the dataset nor `resolution` fixes it */
  syntheticSize: number;
  /** zero padding of RandomCrop(size, padding) when augmenting */
  cropPadding: number;
  /** where the numbers come from */
  origin: string;
}

export const DATASETS: Record<string, DatasetInfo> = {
  cifar10: {
    name: 'cifar10',
    mean: [0.4914, 0.4822, 0.4465],
    std: [0.2023, 0.1994, 0.201],
    size: 32,
    syntheticSize: 32,
    cropPadding: 4,
    origin: 'RBFleX-NAS reference scripts (CIFAR-10 loader)',
  },
  cifar100: {
    name: 'cifar100',
    mean: [0.5070751592371323, 0.48654887331495095, 0.4409178433670343],
    std: [0.2673342858792401, 0.2564384629170883, 0.27615047132568404],
    size: 32,
    syntheticSize: 32,
    cropPadding: 4,
    origin: 'CIFAR-100 training-set statistics',
  },
  'ImageNet16-120': {
    name: 'ImageNet16-120',
    mean: [122.68 / 255, 116.66 / 255, 104.01 / 255],
    std: [63.22 / 255, 61.26 / 255, 65.09 / 255],
    size: 16,
    syntheticSize: 16,
    cropPadding: 2,
    origin: 'xautodl get_datasets (ImageNet16-120)',
  },
  taskonomy: {
    name: 'taskonomy',
    mean: null,
    std: null,
    size: undefined,
    syntheticSize: 512,
    cropPadding: 4,
    origin: 'TransNAS-Bench-101 / RBFleX-NAS: ToTensor only',
  },
  none: {
    name: 'none',
    mean: null,
    std: null,
    size: undefined,
    syntheticSize: 32,
    cropPadding: 4,
    origin: 'no normalisation',
  },
};

const ALIASES: Record<string, string> = {
  cifar10: 'cifar10',
  'cifar-10': 'cifar10',
  cifar100: 'cifar100',
  'cifar-100': 'cifar100',
  'imagenet16-120': 'ImageNet16-120',
  imagenet16: 'ImageNet16-120',
  imagenet: 'ImageNet16-120',
  in16: 'ImageNet16-120',
  taskonomy: 'taskonomy',
  none: 'none',
};

/** Look a dataset up by name (case-insensitive, common spellings accepted). */
export function datasetInfo(name: string): DatasetInfo {
  const key = ALIASES[name.toLowerCase().replace(/_/g, '-')];
  if (!key) throw new DataError(name, `unknown image dataset; choose one of ${Object.keys(DATASETS).join(', ')}`);
  return DATASETS[key]!;
}
