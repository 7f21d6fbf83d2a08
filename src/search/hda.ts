/** Runs HDA over M networks of a space (one batched forward each, BatchNorm over the batch). */
import type { BackendName, ImageBatch } from '../backends/types.js';
import { initWeights } from '../ir/init.js';
import type { TapMode } from '../ir/types.js';
import { type HdaResult, type HdaVariant, hdaCandidates, hdaFromCandidates } from '../proxies/hda.js';
import { blocksFor } from '../proxies/index.js';
import { getSpace } from '../spaces/index.js';
import type { BuildOptions } from '../spaces/types.js';
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
  threads?: number;
}

export async function detectGammas(r: HdaRun): Promise<HdaResult & { archs: string[] }> {
  const space = getSpace(r.space);
  const backend = makeBackend(r.backend, r.threads ?? 1);
  const candK: number[] = [];
  const candQ: number[] = [];
  const archs: string[] = [];
  for (const a of r.archs) {
    const arch = space.parse(a);
    archs.push(arch);
    const g = space.build(arch, r.build);
    const w = initWeights(g, weightSeed(r.seed, space.name, arch));
    const f = await backend.forward(g, w, r.images, { taps: [r.taps], bn: 'batch' });
    candK.push(...hdaCandidates(blocksFor(f, r.taps), f.n, r.variant));
    candQ.push(...hdaCandidates([{ data: f.y.data, size: f.y.size, count: 1 }], f.n, r.variant));
  }
  return { ...hdaFromCandidates(candK, candQ, r.variant), archs };
}
