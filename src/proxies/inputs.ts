/**
 * The input tensors and labels of a gradient pass: built from the need's kind and batch size, the
 * RBFleX images or the reference data batch, and the seed.
 */
import type { ImageBatch } from '../backends/types.js';
import type { GradInput } from '../grad/types.js';
import { Rng } from '../util/rng.js';
import { ProxyError } from './index.js';
import type { GradNeed, ProxyInputsMode } from './needs.js';

/** Images with a class label per image (undefined where the source has none). */
export interface LabelledBatch extends ImageBatch {
  labels?: readonly (number | undefined)[];
}

export interface InputSources {
  mode: ProxyInputsMode;
  /** RBFleX's N images */
  images: LabelledBatch;
  /** the reference data batch (mode `reference`, when some proxy reads images); at least the largest batch */
  data?: LabelledBatch;
  seed: string;
}

/**
 * The batch size a need runs with under a mode. A need of several batches (zico) splits RBFleX's N
 * images into that many equal parts under `shared`.
 */
export function batchOf(need: GradNeed, src: Pick<InputSources, 'mode' | 'images'>): number {
  const k = need.batches ?? 1;
  if (src.mode !== 'shared') return need.batch;
  const n = Math.floor(src.images.n / k);
  if (n < 1) throw new ProxyError(`a proxy needs ${k} batches but --proxy-inputs shared gives ${src.images.n} image${src.images.n === 1 ? '' : 's'} (use --batch ${k} or more)`);
  return n;
}

/**
 * The inputs of pass `k` (0-based) of a need: images [k·n, (k+1)·n) of the batch with their labels
 * (`from`), or seeded data-free tensors (pass k > 0 draws from its own stream).
 */
export function gradInput(need: GradNeed, src: InputSources, shape: readonly number[], k = 0): { x: GradInput; from?: LabelledBatch } {
  const [c, h, w] = shape as [number, number, number];
  const n = batchOf(need, src);
  const per = c * h * w;
  if (need.input === 'ones') return { x: { n, c, h, w, data: new Float32Array(n * per).fill(1) } };
  if (need.input === 'gaussian') {
    const rng = new Rng(k === 0 ? `gaussian-inputs:${src.seed}` : `gaussian-inputs:${src.seed}:${k}`);
    const data = new Float32Array(n * per);
    for (let i = 0; i < data.length; i++) data[i] = rng.nextNormal();
    return { x: { n, c, h, w, data } };
  }
  const b = src.mode === 'shared' ? src.images : src.data;
  if (!b) throw new Error('a proxy reads images but no data batch was given (ScorerConfig.data, or --proxy-inputs shared)');
  const end = (k + 1) * n;
  if (b.n < end) throw new ProxyError(`a proxy needs ${end} images but the data batch holds ${b.n}`);
  if (b.c !== c || b.h !== h || b.w !== w) throw new ProxyError(`gradient proxies: images are ${b.c}x${b.h}x${b.w}, the network expects ${c}x${h}x${w}`);
  if (k === 0) return { x: { n, c, h, w, data: b.data.subarray(0, n * per) }, from: b };
  const part: LabelledBatch = { ...b, n, data: b.data.subarray(k * n * per, end * per), id: `${b.id}[${k * n}:${end}]`, ...(b.labels ? { labels: b.labels.slice(k * n, end) } : {}) };
  return { x: { n, c, h, w, data: part.data }, from: part };
}

/**
 * Labels for a pass of n images into `classes` classes: the source's labels when every image has one
 * inside the range, else seeded random labels (synthetic images, unlabelled folders).
 */
export function labelsFor(from: LabelledBatch | undefined, n: number, classes: number, seed: string): Int32Array {
  const given = from?.labels?.slice(0, n);
  if (given && given.length === n && given.every((l) => l !== undefined && Number.isInteger(l) && l >= 0 && l < classes)) {
    return Int32Array.from(given as number[]);
  }
  const rng = new Rng(`labels:${seed}:${classes}`);
  return Int32Array.from({ length: n }, () => Math.min(classes - 1, Math.floor(rng.nextFloat24() * classes)));
}
