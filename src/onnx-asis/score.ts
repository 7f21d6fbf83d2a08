/**
 * Proxies on a model run as it is: RBFleX and NASWOT read the forward pass's taps, params come
 * from the initializers, FLOPs from a per-op count. HDA candidates come from one batched pass.
 */
import type { ImageBatch } from '../backends/types.js';
import type { TapMode } from '../ir/types.js';
import { type HdaVariant, hdaCandidates } from '../proxies/hda.js';
import { type ProxyName, blocksFor } from '../proxies/index.js';
import { naswotScore } from '../proxies/naswot.js';
import { rbflexScore } from '../proxies/rbflex.js';
import type { AsisModel } from './model.js';

/** Proxies the as-is path computes itself; the others need the IR import. */
export const ASIS_PROXIES: readonly ProxyName[] = ['rbflex', 'naswot', 'params', 'flops'];

export interface AsisScoreSettings {
  gammaK: number;
  gammaQ: number;
  taps: TapMode;
}

export interface AsisScores {
  scores: Partial<Record<ProxyName, number>>;
  notes: Partial<Record<ProxyName, string>>;
}

/** Score the proxies of ASIS_PROXIES that are in `proxies` (one forward pass for all of them). */
export async function scoreAsis(model: AsisModel, images: ImageBatch, proxies: readonly ProxyName[], s: AsisScoreSettings): Promise<AsisScores> {
  const scores: AsisScores['scores'] = {};
  const notes: AsisScores['notes'] = {};
  const want = (p: ProxyName) => proxies.includes(p);
  const taps: TapMode[] = [];
  if (want('rbflex')) taps.push(s.taps);
  if (want('naswot') && !taps.includes('activations')) taps.push('activations');
  if (taps.length > 0 || want('flops')) {
    const r = await model.forward(images, { taps: taps.length ? taps : ['activations'], bn: 'per-image', flops: want('flops') });
    const f = r.features;
    if (want('rbflex')) {
      const parts = rbflexScore(blocksFor(f, s.taps), [{ data: f.y.data, size: f.y.size, count: 1 }], f.n, s.gammaK, s.gammaQ);
      scores.rbflex = parts.score;
      if (parts.degenerate) notes.rbflex = parts.degenerate;
      if (blocksFor(f, s.taps).length === 0) notes.rbflex = `the model has no ${s.taps} taps (activation outputs)`;
    }
    if (want('naswot')) scores.naswot = naswotScore(blocksFor(f, 'activations'), f.n);
    if (want('flops') && r.flops) {
      if (r.flops.flops !== undefined) scores.flops = r.flops.flops;
      else {
        notes.flops = `n/a: cannot count ${Object.entries(r.flops.uncounted)
          .map(([op, k]) => `${op} x${k}`)
          .join(', ')}`;
      }
    }
  }
  if (want('params')) scores.params = model.info.params;
  return { scores, notes };
}

/** HDA candidates of one model: one batched pass, BatchNorm over the batch (as the reference). */
export async function asisHdaCandidates(model: AsisModel, images: ImageBatch, taps: TapMode, variant: HdaVariant): Promise<{ k: number[]; q: number[] }> {
  const { features: f } = await model.forward(images, { taps: [taps], bn: 'batch' });
  return {
    k: hdaCandidates(blocksFor(f, taps), f.n, variant),
    q: hdaCandidates([{ data: f.y.data, size: f.y.size, count: 1 }], f.n, variant),
  };
}
