/** Runs HDA over M networks of a space (one batched forward each, BatchNorm over the batch). */
import type { Backend, BackendName, ImageBatch } from '../backends/types.js';
import { type Weights, initWeights } from '../ir/init.js';
import type { Graph, TapMode } from '../ir/types.js';
import { type HdaResult, type HdaVariant, hdaCandidates, hdaFromCandidates } from '../proxies/hda.js';
import { blocksFor } from '../proxies/index.js';
import { getSpace } from '../spaces/index.js';
import type { BuildOptions } from '../spaces/types.js';
import { defaultWorkers } from './pool.js';
import { makeBackend, weightSeed } from './scorer.js';

export interface HdaRun {
  space: string;
  build: BuildOptions;
  archs: string[];
  images: ImageBatch;
  backend: BackendName;
  seed: string;
  taps: TapMode;
  variant: HdaVariant;
  /** onnxruntime threads (default: one per core; HDA runs its networks one after another) */
  threads?: number;
}

/** The HDA candidates of one network: one batched forward pass (BatchNorm over the batch). */
export async function hdaNetworkCandidates(
  g: Graph,
  w: Weights,
  images: ImageBatch,
  backend: Backend,
  taps: TapMode,
  variant: HdaVariant,
): Promise<{ k: number[]; q: number[] }> {
  const f = await backend.forward(g, w, images, { taps: [taps], bn: 'batch' });
  return {
    k: hdaCandidates(blocksFor(f, taps), f.n, variant),
    q: hdaCandidates([{ data: f.y.data, size: f.y.size, count: 1 }], f.n, variant),
  };
}

export async function detectGammas(r: HdaRun): Promise<HdaResult & { archs: string[] }> {
  const space = getSpace(r.space);
  const backend = makeBackend(r.backend, r.threads ?? defaultWorkers());
  const candK: number[] = [];
  const candQ: number[] = [];
  const archs: string[] = [];
  for (const a of r.archs) {
    const arch = space.parse(a);
    archs.push(arch);
    const g = space.build(arch, r.build);
    const seed = weightSeed(r.seed, space.name, arch);
    const w = space.initWeights ? space.initWeights(g, seed, r.build) : initWeights(g, seed);
    const c = await hdaNetworkCandidates(g, w, r.images, backend, r.taps, r.variant);
    for (const v of c.k) candK.push(v);
    for (const v of c.q) candQ.push(v);
  }
  return { ...hdaFromCandidates(candK, candQ, r.variant), archs };
}
