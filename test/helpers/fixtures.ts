import type { ImageBatch } from '../../src/backends/types.js';
import { Rng } from '../../src/util/rng.js';

/** Seeded standard-normal images (already "normalised"), NCHW. */
export function gaussianImages(n: number, size: number, seed: string | number, c = 3): ImageBatch {
  const rng = new Rng(seed);
  const data = new Float32Array(n * c * size * size);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextNormal();
  return { n, c, h: size, w: size, data, id: `gauss:${seed}` };
}

/** max |a - b| / max |a| (0 when both are all zeros) */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let mx = 0;
  let md = 0;
  for (let i = 0; i < a.length; i++) {
    mx = Math.max(mx, Math.abs(a[i]!));
    md = Math.max(md, Math.abs(a[i]! - b[i]!));
  }
  return md === 0 ? 0 : md / mx;
}
