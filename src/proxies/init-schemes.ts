/**
 * The weight initialisations the modern proxies' authors apply before scoring
 * (PyTorch's default init lives in src/ir/init.ts):
 * `normal`: Conv/Linear weight ~ N(0, 1), bias 0, BatchNorm weight 1, bias 0
 *   (`network_weight_gaussian_init` of Zen-NAS and SWAP);
 * `kaiming-normal-fan-in`: Conv/Linear weight ~ N(0, 2 / fan_in), bias 0, BatchNorm 1 / 0 (AZ-NAS default).
 * Seeded from its own stream, so the draw does not depend on what else ran.
 */
import { paramSpecs } from '../ir/analysis.js';
import type { Weights } from '../ir/init.js';
import type { Graph } from '../ir/types.js';
import { Rng } from '../util/rng.js';

export type InitScheme = 'normal' | 'kaiming-normal-fan-in';

export function initWeightsScheme(g: Graph, seed: string, scheme: InitScheme): Weights {
  const rng = new Rng(`${seed}/${scheme}`);
  const specs = paramSpecs(g);
  const byNode = new Map<number, { weight?: Float32Array; bias?: Float32Array }>();
  for (const p of specs) {
    const arr = new Float32Array(p.size);
    const op = g.nodes[p.node]!.op;
    if (op.kind === 'batchnorm') {
      arr.fill(p.role === 'weight' ? 1 : 0);
    } else if (p.role === 'weight') {
      const fanIn = p.size / p.shape[0]!;
      const std = scheme === 'normal' ? 1 : Math.sqrt(2 / fanIn);
      rng.fillNormal(arr, std);
    }
    const entry = byNode.get(p.node) ?? {};
    entry[p.role] = arr;
    byNode.set(p.node, entry);
  }
  return { specs, byNode, seed: `${seed}/${scheme}` };
}

/** N(0, 1) images, NCHW, seeded. */
export function gaussianImages(n: number, c: number, h: number, w: number, seed: string): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n * c * h * w);
  rng.fillNormal(out);
  return out;
}
