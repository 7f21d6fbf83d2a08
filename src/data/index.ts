/**
 * Image batches for scoring: `loadImages(src, opts)`.
 *
 * `src` is one of
 * - `synthetic`: seeded standard-normal images (already "normalised"; no dataset file needed);
 * - a path: a CIFAR-10/100 binary or python batch or their official folder
 *   (cifar-10-batches-bin/, cifar-100-binary/, cifar-10-batches-py/, cifar-100-python/, or a root
 *   holding one), ImageNet16 batches (train_data_batch_N, val_data) or their folder, a row-packed
 *   PNG sprite (cifar10_batch_N.png) or a folder of them, an image folder (PNG/JPEG, class
 *   sub-folders optional, e.g. Taskonomy RGB), a single image, or an official .tar.gz archive;
 * - `cifar10` / `cifar100` with no such local path: the official binary archive, downloaded into
 *   the cache directory (checksum verified) the first time.
 *
 * Which images: N distinct indices drawn with `new Rng('images:' + seed).sample(count, N)` over the
 * source's images in their fixed order (see sources.ts), kept in sampling order. Same seed, same
 * source: same images, on every machine.
 *
 * Transforms, in torchvision order: resize to `resolution` (or the dataset's size) if the image
 * differs (antialiased bilinear, see image.ts), then when `augment` is set RandomCrop(size,
 * padding) with zero padding (4 for CIFAR, 2 for ImageNet16-120) and RandomHorizontalFlip(0.5)
 * drawn from `new Rng('augment:' + seed)` image by image, then ToTensor (/255) and Normalize with
 * the dataset's mean/std (see datasets.ts; taskonomy and none: ToTensor only).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ImageBatch } from '../backends/types.js';
import { DataError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { type DatasetInfo, datasetInfo } from './datasets.js';
import { type DownloadProgress, defaultCacheDir, ensureCifar, unpackInto } from './download.js';
import { drawAugmentation, type RawImage, resizeImage, writeNormalised } from './image.js';
import { type ImageSource, openImageSource, type Split } from './sources.js';
import { resizeNote } from './validate.js';

export { DATASETS, datasetInfo, type DatasetInfo } from './datasets.js';
export { CIFAR_ARCHIVES, defaultCacheDir, downloadFile, ensureCifar, md5File, type DownloadProgress } from './download.js';
export { decodeImage, resizeImage, type RawImage } from './image.js';
export { openImageSource, type ImageSource, type Split } from './sources.js';
export { checkImageFile, checkImageFiles, resizeNote, type ImageSize } from './validate.js';
export { DataError } from '../util/errors.js';

export type LoadProgress = DownloadProgress | { phase: 'read'; done: number; total: number; file: string };

export interface LoadImagesOptions {
  /** dataset whose conventions apply: cifar10, cifar100, ImageNet16-120, taskonomy or none */
  dataset: string;
  /** number of images */
  n: number;
  seed: string | number;
  /** RandomCrop + RandomHorizontalFlip (seeded); off by default */
  augment?: boolean;
  /** side of the output images (default: the dataset's size, or the images' own size) */
  resolution?: number;
  /** where downloads and unpacked archives go (default: defaultCacheDir()) */
  cacheDir?: string;
  /** train (default) or test images of a dataset folder */
  split?: Split;
  /** sprite / folder: force how a PNG folder is read */
  layout?: 'auto' | 'sprite' | 'folder';
  /** ImageNet16: keep labels 1..classes (default 120) */
  classes?: number;
  /** false: never download */
  download?: boolean;
  /** replace the official archive URL / checksum (mirrors, tests) */
  mirror?: { url: string; md5: string };
  onProgress?: (p: LoadProgress) => void;
  /** one line when images are resized or squashed to the target size (once per call, not per image) */
  onNote?: (line: string) => void;
}

/** An image batch plus where each image came from. */
export interface LoadedImages extends ImageBatch {
  /** index of each image in the source's order (synthetic: 0..n-1) */
  indices: number[];
  /** class label of each image where the source has one (0-based) */
  labels: (number | undefined)[];
  /** the source's format, e.g. cifar10-bin, sprite, folder, synthetic */
  kind: string;
}

const MAX_SIDE = 4096;

export async function loadImages(src: string, opts: LoadImagesOptions): Promise<LoadedImages> {
  const ds = datasetInfo(opts.dataset);
  if (!Number.isInteger(opts.n) || opts.n < 1) throw new RangeError(`loadImages: n must be a positive integer, got ${opts.n}`);
  if (opts.resolution !== undefined && (!Number.isInteger(opts.resolution) || opts.resolution < 1 || opts.resolution > MAX_SIDE)) {
    throw new RangeError(`loadImages: resolution must be an integer in 1..${MAX_SIDE}, got ${opts.resolution}`);
  }
  if (src === 'synthetic') return synthetic(ds, opts);
  const source = await resolveSource(src, opts);
  if (opts.n > source.count) {
    throw new DataError(source.path, `holds ${source.count} image${source.count === 1 ? '' : 's'}, fewer than the ${opts.n} asked for`);
  }
  const indices = new Rng(`images:${opts.seed}`).sample(source.count, opts.n);
  const raw = await source.read(indices);
  opts.onProgress?.({ phase: 'read', done: raw.length, total: raw.length, file: source.path });
  const out = assemble(raw, indices, source, ds, opts);
  if (opts.onNote) {
    // image files: the whole folder's sizes; record formats (CIFAR, ImageNet16, sprites): the images drawn
    const note = source.images
      ? resizeNote(source.path, source.images.files, source.images.sizes, out.h, out.w)
      : resizeNote(source.path, indices.map((i) => `image ${i}`), raw, out.h, out.w, 'drawn images');
    if (note) opts.onNote(note);
  }
  return out;
}

async function resolveSource(src: string, opts: LoadImagesOptions): Promise<ImageSource> {
  const detect = {
    ...(opts.split ? { split: opts.split } : {}),
    dataset: opts.dataset,
    ...(opts.layout ? { layout: opts.layout } : {}),
    ...(opts.classes ? { classes: opts.classes } : {}),
  };
  if (existsSync(src)) {
    if (/\.(tar\.gz|tgz)$/i.test(src)) return openImageSource(await unpackArchive(src, opts), detect);
    return openImageSource(src, detect);
  }
  const key = src.toLowerCase().replace(/-/g, '');
  if (key === 'cifar10' || key === 'cifar100') {
    const dir = await ensureCifar(key, {
      ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.download === false ? { download: false } : {}),
      ...(opts.mirror ? { url: opts.mirror.url, md5: opts.mirror.md5 } : {}),
    });
    return openImageSource(dir, { ...detect, dataset: key });
  }
  throw new DataError(src, 'no such file or directory (built-in sources are synthetic, cifar10 and cifar100)');
}

/** Unpack a user-supplied .tar.gz once into the cache and return the folder. */
async function unpackArchive(archive: string, opts: LoadImagesOptions): Promise<string> {
  const cache = opts.cacheDir ?? defaultCacheDir();
  const dir = join(cache, 'unpacked', basename(archive).replace(/\.(tar\.gz|tgz)$/i, ''));
  if (!existsSync(dir)) {
    await mkdir(dirname(dir), { recursive: true });
    await unpackInto(archive, dir, opts.onProgress ? { onProgress: opts.onProgress } : {});
  }
  return dir;
}

function targetSize(ds: DatasetInfo, opts: LoadImagesOptions, first: RawImage | undefined): [number, number] {
  if (opts.resolution !== undefined) return [opts.resolution, opts.resolution];
  if (ds.size !== undefined) return [ds.size, ds.size];
  if (first) return [first.h, first.w];
  return [ds.syntheticSize, ds.syntheticSize];
}

function assemble(raw: RawImage[], indices: number[], source: ImageSource, ds: DatasetInfo, opts: LoadImagesOptions): LoadedImages {
  const [h, w] = targetSize(ds, opts, raw[0]);
  const per = 3 * h * w;
  const data = new Float32Array(raw.length * per);
  const augRng = opts.augment ? new Rng(`augment:${opts.seed}`) : undefined;
  raw.forEach((img0, i) => {
    const img = resizeImage(img0, h, w);
    const aug = augRng ? { ...drawAugmentation(augRng, ds.cropPadding), padding: ds.cropPadding } : undefined;
    writeNormalised(img, ds, data, i * per, aug);
  });
  const id = batchId(source.kind, source.path, ds.name, opts, h, w, data);
  return { n: raw.length, c: 3, h, w, data, id, indices, labels: raw.map((r) => r.label), kind: source.kind };
}

function batchId(kind: string, path: string, dataset: string, opts: LoadImagesOptions, h: number, w: number, data: Float32Array): string {
  const hash = createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex').slice(0, 12);
  const split = opts.split && opts.split !== 'train' ? `:${opts.split}` : '';
  return `${kind}:${basename(path)}${split}:${dataset}:n=${opts.n}:seed=${opts.seed}${opts.augment ? ':aug' : ''}:${h}x${w}:${hash}`;
}

/** Seeded standard-normal images of the dataset's size (or `resolution`), NCHW. */
function synthetic(ds: DatasetInfo, opts: LoadImagesOptions): LoadedImages {
  const side = opts.resolution ?? ds.size ?? ds.syntheticSize;
  const n = opts.n;
  const data = new Float32Array(n * 3 * side * side);
  const rng = new Rng(`synthetic:${opts.seed}`);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextNormal();
  const id = `synthetic:${ds.name}:n=${n}:seed=${opts.seed}:${side}x${side}`;
  return { n, c: 3, h: side, w: side, data, id, indices: [...Array(n).keys()], labels: new Array(n).fill(undefined), kind: 'synthetic' };
}
