/**
 * grad_norm (NASLib / zero-cost-nas `grad_norm.py`): sum over conv / linear layers of the Euclidean
 * norm of dL/dW, L the cross-entropy of one batch, BatchNorm in training mode over the batch.
 */
import { prunableLayers, weightGrad } from './gradient-common.js';
import type { Proxy } from './index.js';
import { NASLIB_CE_NEED } from './snip.js';

export function gradNormProxy(): Proxy {
  return {
    name: 'grad_norm',
    taps: [],
    grad: NASLIB_CE_NEED,
    key: () => 'grad_norm:v1:naslib',
    score: (ctx) => {
      if (!ctx.grad) throw new Error('grad_norm needs a gradient pass');
      let s = 0;
      for (const n of prunableLayers(ctx.graph)) {
        const g = weightGrad(ctx.grad, n.id, 'grad_norm');
        let q = 0;
        for (let i = 0; i < g.length; i++) q += g[i]! * g[i]!;
        s += Math.sqrt(q);
      }
      return { value: s };
    },
  };
}
