/**
 * snip (Lee et al. 2019; NASLib / zero-cost-nas `snip.py`): sum over conv / linear weights of
 * |w * dL/dw|, L the cross-entropy of one batch of 32 images,
 * BatchNorm in training mode over the batch.
 */
import type { GradNeed } from './needs.js';
import { prunableLayers, weightGrad, weightOf } from './gradient-common.js';
import type { Proxy } from './index.js';

/** NASLib's zero-cost settings: one batch of its train loader (batch_size 32), net.train(), cross-entropy. */
export const NASLIB_CE_NEED: GradNeed = {
  input: 'data',
  batch: 32,
  bn: 'batch',
  precision: 'float32',
  objective: 'cross-entropy',
  absWeights: false,
  wrt: { weights: true },
};

export function snipProxy(): Proxy {
  return {
    name: 'snip',
    taps: [],
    grad: NASLIB_CE_NEED,
    key: () => 'snip:v1:naslib',
    score: (ctx) => {
      if (!ctx.grad || !ctx.weights) throw new Error('snip needs a gradient pass');
      let s = 0;
      for (const n of prunableLayers(ctx.graph)) {
        const g = weightGrad(ctx.grad, n.id, 'snip');
        const w = weightOf(ctx.weights, n.id);
        for (let i = 0; i < g.length; i++) s += Math.abs(g[i]! * w[i]!);
      }
      return { value: s };
    },
  };
}
