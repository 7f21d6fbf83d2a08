/**
 * Image sources: each knows how many images it holds (in a fixed, documented order) and reads the
 * ones asked for. Formats:
 *
 * - CIFAR-10 / CIFAR-100 binary batches (`data_batch_N.bin`, `test_batch.bin` / `train.bin`,
 *   `test.bin`): records of 1 label byte (CIFAR-100: coarse + fine) + 3072 pixel bytes (R, G, B
 *   planes of 32x32). Only the chosen records are read from disk.
 * - CIFAR-10 / CIFAR-100 python batches (`data_batch_N`, `test_batch` / `train`, `test`): pickled
 *   dicts with 'data' (uint8 N x 3072 numpy array) and 'labels' / 'fine_labels'.
 * - ImageNet16 batches (`train_data_batch_N`, `val_data`): pickled dicts with 'data' (uint8 N x 768,
 *   planes of 16x16) and 1-based 'labels'; like NATS-Bench (xautodl ImageNet16(..., 120)) only images
 *   with label <= 120 are kept, and labels become 0-based.
 * - row-packed PNG sprites (`cifar10_batch_N.png`, 1024 pixels wide): each row is one 32x32 RGB
 *   image, its pixels in row-major order.
 * - image folders: PNG / JPEG files, optionally in class sub-folders, any size.
 *
 * Order: files sorted (numbered batches by number, folders by path in code-point order), records in
 * file order. A directory's `train` split is the training batches, `test` the test batch.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, extname, join, relative, sep } from 'node:path';
import { DataError, fsProblem, readBytes, readHead } from '../util/errors.js';
import { NdArray, type PyDict, type PyValue, expectDict, pyNumber, unpickle } from '../util/pickle.js';
import { decodeImage, isPng, pngSize, type RawImage } from './image.js';
import { type ImageSize, checkImageFile, checkImageFiles } from './validate.js';

export type Split = 'train' | 'test';

export interface ImageSource {
  /** format, e.g. 'cifar10-bin' */
  readonly kind: string;
  /** the file or directory, for messages and ids */
  readonly path: string;
  readonly count: number;
  /** read images by index, in the order given */
  read(indices: readonly number[]): Promise<RawImage[]>;
  /** image files of their own size (folders, single images): each file and its size, all checked when opened */
  readonly images?: { files: readonly string[]; sizes: readonly ImageSize[] };
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    throw fsProblem(dir, e);
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** numbered files (prefix + number + suffix) sorted by number */
function numbered(dir: string, re: RegExp): string[] {
  return listDir(dir)
    .map((n) => ({ n, m: re.exec(n) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
    .map((x) => join(dir, x.n));
}

function checkIndices(src: { count: number; path: string }, indices: readonly number[]): void {
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= src.count) throw new RangeError(`${src.path}: image index ${i} out of range 0..${src.count - 1}`);
  }
}

/** map a global index onto (file, local index) given per-file counts */
function locate(counts: readonly number[], i: number): [number, number] {
  let f = 0;
  while (i >= counts[f]!) i -= counts[f++]!;
  return [f, i];
}

// ------------------------------------------------------------------------------------------
// CIFAR binary

export class CifarBinSource implements ImageSource {
  readonly kind: string;
  readonly count: number;
  private readonly counts: number[];
  private readonly recSize: number;

  constructor(
    readonly path: string,
    private readonly files: string[],
    readonly classes: 10 | 100,
  ) {
    this.kind = `cifar${classes}-bin`;
    this.recSize = classes === 10 ? 3073 : 3074;
    this.counts = files.map((f) => {
      let size: number;
      try {
        size = statSync(f).size;
      } catch (e) {
        throw fsProblem(f, e);
      }
      if (size === 0) throw new DataError(f, 'empty file');
      if (size % this.recSize !== 0) {
        throw new DataError(
          f,
          `size ${size} is not a multiple of the ${this.recSize}-byte CIFAR-${classes} record (truncated, or not a CIFAR-${classes} binary batch)`,
        );
      }
      return size / this.recSize;
    });
    this.count = this.counts.reduce((a, b) => a + b, 0);
  }

  async read(indices: readonly number[]): Promise<RawImage[]> {
    checkIndices(this, indices);
    const labelBytes = this.recSize - 3072;
    return indices.map((i) => {
      const [f, k] = locate(this.counts, i);
      const file = this.files[f]!;
      const rec = new Uint8Array(this.recSize);
      let fd: number | undefined;
      try {
        fd = openSync(file, 'r');
        const got = readSync(fd, rec, 0, this.recSize, k * this.recSize);
        if (got !== this.recSize) throw new DataError(file, `truncated: record ${k} is incomplete`);
      } catch (e) {
        throw fsProblem(file, e);
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
      const label = rec[labelBytes - 1]!;
      const coarse = rec[0]!;
      if ((this.classes === 10 && label > 9) || (this.classes === 100 && (label > 99 || coarse > 19))) {
        throw new DataError(file, `record ${k}: label ${this.classes === 10 ? label : `${coarse}/${label}`} out of range (corrupted, or not a CIFAR-${this.classes} binary batch)`);
      }
      return { h: 32, w: 32, chw: rec.subarray(labelBytes), label };
    });
  }
}

// ------------------------------------------------------------------------------------------
// pickled batches: CIFAR python and ImageNet16

interface PickledBatch {
  data: Uint8Array; // N x rowBytes
  labels: number[];
}

function readPickledBatch(file: string, rowBytes: number, labelKeys: string[], what: string): PickledBatch {
  const bytes = readBytes(file);
  if (bytes.length === 0) throw new DataError(file, 'empty file');
  if (bytes[0] !== 0x80 && bytes[0] !== 0x28 && bytes[0] !== 0x7d) {
    throw new DataError(file, `wrong format: not a pickle (expected a ${what})`);
  }
  const top = expectDict(unpickle(bytes, { name: file }), 'the pickled object', file);
  return batchFromDict(top, file, rowBytes, labelKeys, what);
}

function batchFromDict(top: PyDict, file: string, rowBytes: number, labelKeys: string[], what: string): PickledBatch {
  const data = top.getStr('data');
  if (!(data instanceof NdArray)) throw new DataError(file, `wrong format: no 'data' array (expected a ${what})`);
  if (data.dtype !== 'u1' || data.shape.length !== 2 || data.shape[1] !== rowBytes) {
    throw new DataError(file, `wrong format: 'data' is ${data.dtype} [${data.shape.join(', ')}], expected uint8 [N, ${rowBytes}] (a ${what})`);
  }
  let labelsV: PyValue | undefined;
  for (const k of labelKeys) {
    labelsV = top.getStr(k);
    if (labelsV !== undefined) break;
  }
  if (!Array.isArray(labelsV) && !(labelsV instanceof NdArray)) throw new DataError(file, `wrong format: no '${labelKeys[0]}' list`);
  const labels = Array.isArray(labelsV) ? labelsV.map((v) => pyNumber(v) ?? NaN) : Array.from(labelsV.data as ArrayLike<number>, Number);
  if (labels.length !== data.shape[0]) {
    throw new DataError(file, `corrupted: ${data.shape[0]} images but ${labels.length} labels`);
  }
  if (labels.some((l) => !Number.isInteger(l))) throw new DataError(file, 'corrupted: a label is not an integer');
  return { data: data.data as Uint8Array, labels };
}

export class PickleBatchSource implements ImageSource {
  readonly count: number;
  private readonly kept: number[][]; // per file: kept row indices
  private readonly counts: number[];
  private single?: PickledBatch;

  /**
   * @param keep which labels to keep (ImageNet16-120: 1..120) and how to map them (-1); all by default
   */
  constructor(
    readonly kind: string,
    readonly path: string,
    private readonly files: string[],
    private readonly size: 16 | 32,
    private readonly labelKeys: string[],
    private readonly what: string,
    private readonly keep?: { max: number },
  ) {
    // first pass: counts (and the kept rows) of every file; a lone file's batch is kept for read()
    this.kept = files.map((f) => {
      const b = this.load(f);
      if (files.length === 1) this.single = b;
      const rows: number[] = [];
      b.labels.forEach((l, i) => {
        if (this.keep) {
          if (l < 1 || l > 1000) throw new DataError(f, `corrupted: label ${l} outside 1..1000`);
          if (l <= this.keep.max) rows.push(i);
        } else rows.push(i);
      });
      return rows;
    });
    this.counts = this.kept.map((k) => k.length);
    this.count = this.counts.reduce((a, b) => a + b, 0);
  }

  private load(f: string): PickledBatch {
    return readPickledBatch(f, 3 * this.size * this.size, this.labelKeys, this.what);
  }

  async read(indices: readonly number[]): Promise<RawImage[]> {
    checkIndices(this, indices);
    const byFile = new Map<number, PickledBatch>();
    const row = 3 * this.size * this.size;
    return indices.map((i) => {
      const [f, k] = locate(this.counts, i);
      let b = byFile.get(f) ?? this.single;
      if (!b) {
        b = this.load(this.files[f]!);
        byFile.set(f, b);
      }
      const r = this.kept[f]![k]!;
      const label = b.labels[r]!;
      return {
        h: this.size,
        w: this.size,
        chw: b.data.slice(r * row, (r + 1) * row),
        label: this.keep ? label - 1 : label,
      };
    });
  }
}

// ------------------------------------------------------------------------------------------
// row-packed PNG sprites

export const SPRITE_NAME = /_batch_(\d+)\.png$/i;

export class SpriteSource implements ImageSource {
  readonly kind = 'sprite';
  readonly count: number;
  private readonly counts: number[];

  constructor(
    readonly path: string,
    private readonly files: string[],
  ) {
    this.counts = files.map((f) => {
      const head = readHead(f, 32);
      const s = pngSize(head);
      if (!s) throw new DataError(f, 'wrong format: not a PNG');
      checkImageFile(f); // the whole file, now: not when a seed first draws one of its rows
      if (s.w !== 1024) throw new DataError(f, `wrong format: a row-packed sprite is 1024 pixels wide (one 32x32 image per row), this is ${s.w}`);
      return s.h;
    });
    this.count = this.counts.reduce((a, b) => a + b, 0);
  }

  async read(indices: readonly number[]): Promise<RawImage[]> {
    checkIndices(this, indices);
    const decoded = new Map<number, RawImage>();
    return indices.map((i) => {
      const [f, row] = locate(this.counts, i);
      let img = decoded.get(f);
      if (!img) {
        img = decodeImage(readBytes(this.files[f]!), this.files[f]!);
        decoded.set(f, img);
      }
      // sprite CHW plane c, row `row`: 1024 pixels = the 32x32 image in row-major order
      const chw = new Uint8Array(3 * 1024);
      const plane = img.h * img.w;
      for (let c = 0; c < 3; c++) chw.set(img.chw.subarray(c * plane + row * 1024, c * plane + (row + 1) * 1024) as Uint8Array, c * 1024);
      return { h: 32, w: 32, chw };
    });
  }
}

// ------------------------------------------------------------------------------------------
// image folders

export class FolderSource implements ImageSource {
  readonly kind = 'folder';
  readonly count: number;
  readonly files: string[];
  readonly classes: string[];
  private readonly labels: (number | undefined)[];

  constructor(readonly path: string) {
    const files: string[] = [];
    const walk = (dir: string, depth: number): void => {
      for (const name of listDir(dir)) {
        if (name.startsWith('.')) continue;
        const p = join(dir, name);
        if (isDir(p)) {
          if (depth < 8) walk(p, depth + 1);
        } else if (IMAGE_EXT.has(extname(name).toLowerCase())) files.push(p);
      }
    };
    walk(path, 0);
    const rel = (p: string) => relative(path, p).split(sep).join('/');
    files.sort((a, b) => (rel(a) < rel(b) ? -1 : rel(a) > rel(b) ? 1 : 0));
    if (files.length === 0) throw new DataError(path, 'no PNG or JPEG images here (and no CIFAR / ImageNet16 batches)');
    this.files = files;
    const classOf = (p: string) => {
      const parts = rel(p).split('/');
      return parts.length > 1 ? parts[0]! : undefined;
    };
    this.classes = [...new Set(files.map(classOf).filter((c): c is string => c !== undefined))].sort();
    this.labels = files.map((f) => {
      const c = classOf(f);
      return c === undefined ? undefined : this.classes.indexOf(c);
    });
    this.count = files.length;
    // every file, before any scoring (not only those a seed draws)
    this.images = { files, sizes: checkImageFiles(files) };
  }

  readonly images: { files: readonly string[]; sizes: readonly ImageSize[] };

  async read(indices: readonly number[]): Promise<RawImage[]> {
    checkIndices(this, indices);
    return indices.map((i) => {
      const img = decodeImage(readBytes(this.files[i]!), this.files[i]!);
      const label = this.labels[i];
      return label === undefined ? img : { ...img, label };
    });
  }
}

/** A single image file as a source of one. */
export class SingleImageSource implements ImageSource {
  readonly kind = 'image';
  readonly count = 1;
  readonly images: { files: readonly string[]; sizes: readonly ImageSize[] };
  constructor(readonly path: string) {
    this.images = { files: [path], sizes: [checkImageFile(path)] };
  }
  async read(indices: readonly number[]): Promise<RawImage[]> {
    checkIndices(this, indices);
    return indices.map(() => decodeImage(readBytes(this.path), this.path));
  }
}

// ------------------------------------------------------------------------------------------
// detection

const C10_BIN_TRAIN = /^data_batch_(\d+)\.bin$/;
const C10_PY_TRAIN = /^data_batch_(\d+)$/;
const IN16_TRAIN = /^train_data_batch_(\d+)$/;

export interface DetectOptions {
  split?: Split;
  /** dataset the user named: decides ambiguous cases (a .bin of unknown name, a pickle) */
  dataset?: string;
  layout?: 'auto' | 'sprite' | 'folder';
  /** ImageNet16: keep labels 1..classes (default 120) */
  classes?: number;
}

function cifar10Py(path: string, files: string[]): PickleBatchSource {
  return new PickleBatchSource('cifar10-py', path, files, 32, ['labels'], 'CIFAR-10 python batch');
}
function cifar100Py(path: string, files: string[]): PickleBatchSource {
  return new PickleBatchSource('cifar100-py', path, files, 32, ['fine_labels', 'labels'], 'CIFAR-100 python batch');
}
function imagenet16(path: string, files: string[], classes: number): PickleBatchSource {
  return new PickleBatchSource('imagenet16', path, files, 16, ['labels'], 'ImageNet16 batch', { max: classes });
}

/** Known sub-directories of a dataset root (like torchvision's root folder). */
const KNOWN_SUBDIRS = ['cifar-10-batches-bin', 'cifar-100-binary', 'cifar-10-batches-py', 'cifar-100-python'];

/** Open the image source at an existing path. */
export function openImageSource(path: string, opts: DetectOptions = {}): ImageSource {
  const split = opts.split ?? 'train';
  const ds = (opts.dataset ?? '').toLowerCase();
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw fsProblem(path, e);
  }
  if (st.isDirectory()) return openDir(path, split, ds, opts);
  const name = basename(path);
  const ext = extname(name).toLowerCase();
  if (ext === '.png' || ext === '.jpg' || ext === '.jpeg') {
    const head = readHead(path, 32);
    const s = pngSize(head);
    const sprite = opts.layout === 'sprite' || (opts.layout !== 'folder' && isPng(head) && s?.w === 1024 && SPRITE_NAME.test(name));
    return sprite ? new SpriteSource(path, [path]) : new SingleImageSource(path);
  }
  if (ext === '.bin') {
    const classes = /^(train|test)\.bin$/.test(name) ? 100 : C10_BIN_TRAIN.test(name) || name === 'test_batch.bin' ? 10 : ds === 'cifar100' ? 100 : 10;
    return new CifarBinSource(path, [path], classes);
  }
  // a pickle: decide by name, then by content
  if (IN16_TRAIN.test(name) || name === 'val_data') return imagenet16(path, [path], opts.classes ?? 120);
  if (C10_PY_TRAIN.test(name) || name === 'test_batch') return cifar10Py(path, [path]);
  if (name === 'train' || name === 'test') return cifar100Py(path, [path]);
  const head = readBytes(path);
  if (head[0] === 0x80) {
    const top = expectDict(unpickle(head, { name: path }), 'the pickled object', path);
    const data = top.getStr('data');
    if (data instanceof NdArray && data.shape[1] === 768) return imagenet16(path, [path], opts.classes ?? 120);
    if (top.getStr('fine_labels') !== undefined) return cifar100Py(path, [path]);
    if (data instanceof NdArray) return cifar10Py(path, [path]);
    throw new DataError(path, "wrong format: a pickle without a 'data' array");
  }
  throw new DataError(path, 'wrong format: not an image, a CIFAR binary/python batch or an ImageNet16 batch');
}

function openDir(dir: string, split: Split, ds: string, opts: DetectOptions): ImageSource {
  const names = listDir(dir);
  const has = (n: string) => names.includes(n);
  const pick = (train: string[], test: string[], what: string): string[] => {
    const files = split === 'train' ? train : test;
    if (files.length === 0) throw new DataError(dir, `no ${split} files of the ${what} here`);
    return files;
  };
  // CIFAR-10 binary
  if (names.some((n) => C10_BIN_TRAIN.test(n)) || has('test_batch.bin')) {
    const train = numbered(dir, C10_BIN_TRAIN);
    return new CifarBinSource(dir, pick(train, has('test_batch.bin') ? [join(dir, 'test_batch.bin')] : [], 'CIFAR-10 binary batches'), 10);
  }
  // CIFAR-100 binary
  if (has('train.bin') || has('test.bin')) {
    return new CifarBinSource(dir, pick(has('train.bin') ? [join(dir, 'train.bin')] : [], has('test.bin') ? [join(dir, 'test.bin')] : [], 'CIFAR-100 binary batches'), 100);
  }
  // ImageNet16
  if (names.some((n) => IN16_TRAIN.test(n)) || has('val_data')) {
    const train = numbered(dir, IN16_TRAIN);
    return imagenet16(dir, pick(train, has('val_data') ? [join(dir, 'val_data')] : [], 'ImageNet16 batches'), opts.classes ?? 120);
  }
  // CIFAR-10 python
  if ((names.some((n) => C10_PY_TRAIN.test(n)) || has('test_batch')) && isFile(join(dir, names.find((n) => C10_PY_TRAIN.test(n)) ?? 'test_batch'))) {
    const train = numbered(dir, C10_PY_TRAIN);
    return cifar10Py(dir, pick(train, has('test_batch') ? [join(dir, 'test_batch')] : [], 'CIFAR-10 python batches'));
  }
  // CIFAR-100 python
  if ((has('train') && isFile(join(dir, 'train'))) || (has('test') && isFile(join(dir, 'test')) && has('meta'))) {
    return cifar100Py(dir, pick(has('train') ? [join(dir, 'train')] : [], has('test') ? [join(dir, 'test')] : [], 'CIFAR-100 python batches'));
  }
  // a dataset root holding one of the official folders
  const sub = KNOWN_SUBDIRS.filter((s) => has(s) && isDir(join(dir, s)));
  if (sub.length) {
    const want = ds === 'cifar100' ? sub.find((s) => s.includes('100')) : sub.find((s) => !s.includes('100'));
    return openDir(join(dir, want ?? sub[0]!), split, ds, opts);
  }
  // sprites
  const pngs = names.filter((n) => extname(n).toLowerCase() === '.png');
  if (opts.layout !== 'folder' && pngs.length && names.every((n) => !IMAGE_EXT.has(extname(n).toLowerCase()) || SPRITE_NAME.test(n))) {
    const files = numbered(dir, SPRITE_NAME);
    const wide = files.every((f) => pngSize(readHead(f, 32))?.w === 1024);
    if (wide || opts.layout === 'sprite') return new SpriteSource(dir, files);
  }
  // an image-folder root with split sub-folders (root/train/<class>/..., root/test or root/val)
  for (const name of split === 'train' ? ['train'] : ['test', 'val']) {
    if (has(name) && isDir(join(dir, name))) return new FolderSource(join(dir, name));
  }
  return new FolderSource(dir);
}
