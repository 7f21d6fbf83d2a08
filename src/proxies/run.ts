/**
 * Proxies that run their own passes (their authors' init, inputs, batch size and BatchNorm mode)
 * instead of reading the shared RBFleX forward pass: MeCo, SWAP, Zen-NAS. The scorer hands them
 * the network, its weight seed, the images and the backend; they return a value.
 */
import type { Backend, ImageBatch } from '../backends/types.js';
import type { Weights } from '../ir/init.js';
import type { Graph } from '../ir/types.js';

export interface RunContext {
  graph: Graph;
  /** the network's PyTorch-default weights, drawn from its weight seed */
  weights: () => Weights;
  /** the network's weight seed (`<seed>/<space>/<arch>`), for proxies that draw their own init */
  seed: string;
  /** the images this proxy reads (`input: 'data'`): at least `batch` of them */
  images: ImageBatch;
  backend: Backend;
  /** the batch to run with: the proxy's own `batch`, or RBFleX's N when every proxy shares its images */
  batch: number;
}

export interface ProxyRun {
  /** `data`: reads `batch` images from the data batch; `gaussian`: draws its own inputs from the seed */
  input: 'data' | 'gaussian';
  /** images per pass at the authors' settings */
  batch: number;
  exec(ctx: RunContext): Promise<{ value: number; note?: string }>;
}
