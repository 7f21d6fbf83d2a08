/**
 * The setup the run-only NB201 benches share (initializers.ts, reduce-cost.ts): `--archs K` archs drawn
 * from a seeded Rng, `--reps R`, 3 synthetic CIFAR-10-sized images as an onnxruntime input tensor, the
 * process's CPU clock in ms and the median of a list (upper middle for even counts).
 */
import * as ort from 'onnxruntime-node';
import { loadImages } from '../src/data/index.js';
import { nb201 } from '../src/spaces/nb201.js';
import { Rng } from '../src/util/rng.js';

export async function nb201RunSetup(o: { rngSeed: string; archs: number }) {
  const arg = (k: string, d: number): number => {
    const i = process.argv.indexOf(k);
    return i >= 0 ? Number(process.argv[i + 1]) : d;
  };
  const K = arg('--archs', o.archs);
  const images = await loadImages('synthetic', { dataset: 'cifar10', n: 3, seed: '1' } as never);
  return {
    K,
    reps: arg('--reps', 5),
    images,
    input: new ort.Tensor('float32', images.data, [3, 3, 32, 32]),
    archs: new Rng(o.rngSeed).sample(nb201.size, K).map((i) => nb201.archAt(i)),
  };
}

export const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
