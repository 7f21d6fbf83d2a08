/** The image batch a space's networks take, loaded from an image spec and checked against the network input. */
import type { ImageBatch } from '../backends/types.js';
import { type LoadProgress, loadImages } from '../data/index.js';
import type { BuildOptions, InputOptions, Space } from '../spaces/types.js';
import { SetupError } from './errors.js';

export interface ImageSpec {
  /** 'synthetic' (default), a dataset name to download, a file or a folder (see loadImages) */
  data?: string;
  /** images per network (default 3, as the reference) */
  batch?: number;
  /** random crop + flip, as the reference loader */
  augment?: boolean;
  /** where downloads are kept */
  cacheDir?: string;
  /** spaces with text input (nafbee-bert): WordPiece vocabulary file and text format */
  vocab?: string;
  textFormat?: InputOptions['textFormat'];
  onProgress?: (p: LoadProgress) => void;
  /** one line when images are resized or squashed to the networks' input size */
  onNote?: (line: string) => void;
}

/** Loads `spec` under `seed` for networks of `space` built with `build`; the shape must match their input. */
/** `probe`: an architecture whose input shape to use (spaces that are not enumerated, like nds), else the space's first. */
export async function imagesFor(space: Space, build: BuildOptions, spec: ImageSpec, seed: string, probe?: string): Promise<ImageBatch> {
  if (space.loadInputs) {
    return space.loadInputs({ data: spec.data ?? 'synthetic', n: spec.batch ?? 3, seed, ...(spec.vocab ? { vocab: spec.vocab } : {}), ...(spec.textFormat ? { textFormat: spec.textFormat } : {}) }, build);
  }
  const g = space.build(probe ?? space.archAt(0), build);
  const [c, h, w] = g.nodes[g.input]!.shape as [number, number, number];
  const dataset = build.dataset ? (space.imageDataset?.(build.dataset) ?? build.dataset) : 'none';
  const data = spec.data ?? 'synthetic';
  const images = await loadImages(data, {
    dataset,
    n: spec.batch ?? 3,
    seed,
    augment: spec.augment ?? false,
    resolution: h,
    ...(spec.cacheDir ? { cacheDir: spec.cacheDir } : {}),
    ...(spec.onProgress ? { onProgress: spec.onProgress } : {}),
    ...(spec.onNote ? { onNote: spec.onNote } : {}),
  });
  if (images.c !== c || images.h !== h || images.w !== w) {
    throw new SetupError(
      `--data ${data} gives ${images.c}x${images.h}x${images.w} images, but ${space.name} networks for ${build.dataset ?? 'this input'} take ${c}x${h}x${w}${
        space.name.startsWith('transnas') ? ' (set --resolution)' : ''
      }`,
    );
  }
  return images;
}

/**
 * The batch in words. Spaces with their own input (`text`: nafbee-bert's sentences) name the file the
 * batch was read from (its id is `<file>#<indices>:<format>`), not the --data value: their default
 * "synthetic" means the shared SST-2 sentences, not generated inputs.
 */
export function describeImages(spec: ImageSpec, images: ImageBatch, seed: string, text = false): string {
  if (text) {
    const hash = images.id.lastIndexOf('#');
    const file = hash > 0 ? images.id.slice(0, hash) : images.id;
    const format = hash > 0 ? /:([\w-]+)$/.exec(images.id)?.[1] : undefined;
    return `${images.n} sentences of ${images.w} tokens${format ? ` (${format} format)` : ''} from ${file}, seed ${seed}`;
  }
  return `${images.n} x ${images.c}x${images.h}x${images.w} from ${spec.data ?? 'synthetic'}${spec.augment ? ' (augmented)' : ''}, seed ${seed}`;
}
